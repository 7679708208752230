import { Errors } from '../../core/errors.js';
import { credsFromAuth, Enforcer } from '../../core/policy/enforcer.js';
import type { AuthContext } from '../../core/auth/context.js';
import type { ImageRow } from '../db/tables.js';
import type { Caller } from './caller.js';
import { imagePolicyDefaults } from './image-policy.js';

/** Glance policy checks, with Glance's message: `You are not authorized to complete <action> action.` */
export function createImagePolicy(overrides: Record<string, string>) {
  const enforcer = new Enforcer({ defaults: imagePolicyDefaults, overrides });
  const target = (image: ImageRow | null) =>
    image ? { owner: image.owner, project_id: image.owner, visibility: image.visibility, id: image.id } : {};
  return {
    isAdmin(auth: AuthContext): boolean {
      return enforcer.enforce('context_is_admin', credsFromAuth(auth));
    },
    allows(caller: Caller, rule: string, image: ImageRow | null): boolean {
      return enforcer.enforce(rule, credsFromAuth(caller.auth), target(image));
    },
    authorize(caller: Caller, rule: string, image: ImageRow | null): void {
      if (!enforcer.enforce(rule, credsFromAuth(caller.auth), target(image))) {
        throw Errors.forbidden(`You are not authorized to complete ${rule} action.`);
      }
    },
  };
}

export type ImagePolicy = ReturnType<typeof createImagePolicy>;
