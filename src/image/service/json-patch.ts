import { Errors } from '../../core/errors.js';
import { READ_ONLY, checkNotReserved, validateAttribute } from './image-schema.js';

/**
 * Glance's two PATCH dialects:
 * - `application/openstack-images-v2.1-json-patch` (RFC 6902 style, used by
 *   the SDK/CLI): `{"op": "add", "path": "/k", "value": v}`;
 * - `application/openstack-images-v2.0-json-patch` (draft 4, used by
 *   Tempest): `{"add": "/k", "value": v}`.
 * The difference that matters beyond syntax: a draft-4 `add` of something
 * that exists is a 409, a v2.1 `add` replaces it.
 */
export const PATCH_V20 = 'application/openstack-images-v2.0-json-patch';
export const PATCH_V21 = 'application/openstack-images-v2.1-json-patch';
export const PATCH_MEDIA_TYPES = [PATCH_V20, PATCH_V21];

export type PatchOp = 'add' | 'remove' | 'replace';
export interface PatchChange {
  op: PatchOp;
  /** Decoded pointer segments (`/k~1x` → `['k/x']`). */
  path: string[];
  value?: unknown;
  draft: 4 | 10;
}

const OPS: PatchOp[] = ['add', 'remove', 'replace'];

/** Parses and validates a PATCH body; `contentType` is the request's media type without parameters. */
export function parsePatch(contentType: string | undefined, body: unknown): PatchChange[] {
  const draft = contentType === PATCH_V20 ? 4 : contentType === PATCH_V21 ? 10 : undefined;
  if (draft === undefined) {
    throw Errors.unsupportedMediaType(`The request media type ${contentType ?? '(none)'} is not supported by this server.`, {
      headers: { 'accept-patch': PATCH_MEDIA_TYPES.join(', ') },
    });
  }
  if (body === undefined) throw Errors.badRequest('Body expected in request.');
  if (!Array.isArray(body)) throw Errors.badRequest('Request body must be a JSON array of operation objects.');
  return body.map((raw: unknown) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw Errors.badRequest('Operations must be JSON objects.');
    const o = raw as Record<string, unknown>;
    let op: PatchOp;
    let pointer: unknown;
    if (draft === 10) {
      if (o['op'] === undefined) {
        throw Errors.badRequest(`Unable to find \`op\` in JSON Schema change. It must be one of the following: ${OPS.join(', ')}.`);
      }
      if (!OPS.includes(o['op'] as PatchOp)) {
        throw Errors.badRequest(`Invalid operation: \`${String(o['op'])}\`. It must be one of the following: ${OPS.join(', ')}.`);
      }
      op = o['op'] as PatchOp;
      if (!('path' in o)) throw Errors.badRequest("Unable to find 'path' in JSON Schema change");
      pointer = o['path'];
    } else {
      const present = OPS.filter((k) => k in o);
      if (present.length > 1) throw Errors.badRequest('Operation objects must contain only one member named "add", "remove", or "replace".');
      if (present.length === 0) throw Errors.badRequest('Operation objects must contain exactly one member named "add", "remove", or "replace".');
      op = present[0]!;
      pointer = o[op];
    }
    if (typeof pointer !== 'string') throw Errors.badRequest(`Pointer \`${String(pointer)}\` does not start with "/".`);
    const path = decodePointer(pointer);
    const depth = path[0] === 'locations' ? (op === 'replace' ? 1 : 2) : 1;
    if (path.length !== depth) throw Errors.badRequest(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
    const change: PatchChange = { op, path, draft };
    if (op !== 'remove') {
      if (!('value' in o)) throw Errors.badRequest(`Operation "${op}" requires a member named "value".`);
      change.value = o['value'];
    }
    validateChange(change);
    return change;
  });
}

function decodePointer(pointer: string): string[] {
  if (!pointer.startsWith('/')) throw Errors.badRequest(`Pointer \`${pointer}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1))) throw Errors.badRequest(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/')) throw Errors.badRequest(`Pointer \`${pointer}\` end with "/".`);
  if (pointer.slice(1).trim() === '/' || pointer.slice(1).trim() === '') {
    throw Errors.badRequest(`Pointer \`${pointer}\` does not contains valid token.`);
  }
  if (/~[^01]/.test(pointer) || pointer.endsWith('~')) {
    throw Errors.badRequest(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  }
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~').trim());
}

function validateChange(change: PatchChange): void {
  const root = change.path[0]!;
  if (READ_ONLY.has(root)) throw Errors.forbidden(`Attribute '${root}' is read-only.`);
  checkNotReserved(root);
  if (change.op === 'remove' || root === 'locations') return;
  validateAttribute(root, change.value);
}
