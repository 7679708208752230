import { Type, type TProperties } from '@sinclair/typebox';

/**
 * Helpers for declaring config sections. Every object is closed
 * (`additionalProperties: false`) so that unknown keys are rejected, and every
 * property has a default so an empty file is a valid configuration.
 */
export function section<P extends TProperties>(properties: P, description?: string) {
  return Type.Object(properties, {
    additionalProperties: false,
    default: {},
    ...(description ? { description } : {}),
  });
}

export const Port = (defaultPort: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: defaultPort, description });
