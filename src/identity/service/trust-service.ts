import type { AuthContext } from '../../core/auth/context.js';
import { isTrue, toJson } from '../../core/db/columns.js';
import { Errors } from '../../core/errors.js';
import { isoMicro, newHexId } from '../../core/ids.js';
import type { RoleRow, TrustRow } from '../db/tables.js';
import { GLOBAL_ROLE_DOMAIN } from '../db/tables.js';
import type { Identity } from './identity.js';
import { parseExpiration } from './iso-time.js';
import { assignmentsForScope } from './role-resolver.js';
import type { TokenTrust } from './token-service.js';

type Json = Record<string, unknown>;

/** Keystone's [trust] max_redelegation_count default. */
export const MAX_REDELEGATION_COUNT = 3;

export interface TrustInput {
  trustorUserId: string;
  trusteeUserId: string;
  projectId?: string | null | undefined;
  roles: Array<{ id?: string; name?: string }>;
  impersonation: boolean;
  expiresAt?: unknown;
  remainingUses?: number | null | undefined;
  allowRedelegation?: boolean | undefined;
  redelegationCount?: number | null | undefined;
  extra?: Json | undefined;
}

/** Delegated tokens (app credentials, OAuth1, EC2) cannot manage trusts; trust tokens can (redelegation). */
export function blockDelegatedForTrusts(caller: AuthContext): void {
  if (caller.methods.some((m) => m === 'application_credential' || m === 'oauth1' || m === 'ec2credential')) {
    throw Errors.forbidden('You are not authorized to perform the requested action: Delegated tokens cannot manage trusts.');
  }
}

/**
 * OS-TRUST: a trustor delegates some of their roles on a project to a
 * trustee, optionally with impersonation, an expiry, a number of uses and
 * further redelegation. Tokens scoped to a trust carry those roles while the
 * trustor still holds them.
 */
export function createTrustService(identity: Identity) {
  const { repos } = identity;

  const expired = (t: TrustRow) => t.expires_at !== null && Date.parse(t.expires_at) <= Date.now();
  const exhausted = (t: TrustRow) => t.remaining_uses !== null && t.remaining_uses <= 0;

  /** A usable trust (not deleted, expired or used up), else 404, as Keystone's get_trust. */
  async function get(id: string): Promise<TrustRow> {
    const t = await repos.trusts.get(id);
    if (!t || expired(t) || exhausted(t)) throw Errors.notFound('trust', id);
    return t;
  }

  async function roles(t: TrustRow): Promise<RoleRow[]> {
    const graph = await identity.roleGraph();
    return (await repos.trusts.roleIds(t.id)).map((id) => graph.byId.get(id)).filter((r): r is RoleRow => r !== undefined);
  }

  /** The trust chain from `t` up to the original trust (redelegation). */
  async function pedigree(t: TrustRow): Promise<TrustRow[]> {
    const chain = [t];
    let cur = t;
    while (cur.redelegated_trust_id && chain.length <= MAX_REDELEGATION_COUNT + 1) {
      const parent = await repos.trusts.get(cur.redelegated_trust_id);
      if (!parent) throw Errors.forbidden('A trust this trust was redelegated from is gone.');
      chain.push(parent);
      cur = parent;
    }
    return chain;
  }

  /** Role ids (implied included) the user effectively holds on a project. */
  async function effectiveRoleIds(userId: string, projectId: string): Promise<Set<string>> {
    const graph = await identity.roleGraph();
    const assigned = await assignmentsForScope(repos, userId, { projectId });
    return new Set(graph.expand(assigned.map((a) => a.role_id)).map((r) => r.id).concat(assigned.map((a) => a.role_id)));
  }

  async function normalizeRoles(refs: TrustInput['roles']): Promise<RoleRow[]> {
    const graph = await identity.roleGraph();
    const out: RoleRow[] = [];
    for (const ref of refs) {
      const role =
        typeof ref.id === 'string'
          ? graph.byId.get(ref.id)
          : [...graph.byId.values()].find((r) => r.name === ref.name && r.domain_id === GLOBAL_ROLE_DOMAIN);
      if (!role) throw Errors.notFound('role', ref.id ?? ref.name ?? '');
      if (!out.some((r) => r.id === role.id)) out.push(role);
    }
    return out;
  }

  async function create(caller: AuthContext, input: TrustInput): Promise<TrustRow> {
    blockDelegatedForTrusts(caller);
    if (input.projectId && input.roles.length === 0) throw Errors.forbidden('At least one role should be specified.');
    if (caller.userId !== input.trustorUserId) throw Errors.forbidden('The authenticated user should match the trustor.');
    const trustee = await repos.users.get(input.trusteeUserId);
    if (!trustee) throw Errors.notFound('user', input.trusteeUserId);
    const roleRows = await normalizeRoles(input.roles);
    const expires = parseExpiration(input.expiresAt);

    // Redelegation: a trust-scoped token creates a narrower trust from its own.
    const parent = caller.trustId ? await get(caller.trustId) : undefined;
    const original = parent ? (await pedigree(parent)).at(-1)! : undefined;
    if (input.projectId) {
      if (!(await repos.projects.get(input.projectId))) throw Errors.notFound('project', input.projectId);
      const holder = original?.trustor_user_id ?? input.trustorUserId;
      const held = await effectiveRoleIds(holder, original?.project_id ?? input.projectId);
      for (const r of roleRows) if (!held.has(r.id)) throw Errors.notFound('role', r.id);
    }

    // Keystone's trust manager rules for redelegation depth, uses and expiry.
    const requested = input.redelegationCount ?? null;
    const redelegatable = input.allowRedelegation === true && requested !== 0;
    const uses = input.remainingUses ?? null;
    if (!redelegatable) {
      if (uses !== null && uses <= 0) throw Errors.badRequest('remaining_uses must be a positive integer or null.');
    } else {
      if (requested !== null && requested > MAX_REDELEGATION_COUNT) {
        throw Errors.forbidden(`Requested redelegation depth of ${requested} is greater than allowed ${MAX_REDELEGATION_COUNT}`);
      }
      if (uses !== null) throw Errors.badRequest('remaining_uses must not be set if redelegation is allowed');
    }
    let redelegationCount = !redelegatable ? 0 : (requested ?? (parent ? (parent.redelegation_count ?? 0) - 1 : MAX_REDELEGATION_COUNT));
    let expiresText = expires?.text ?? null;
    if (parent) {
      const remaining = (parent.redelegation_count ?? 0) - 1;
      if (redelegatable && requested !== null && requested !== remaining) {
        throw Errors.forbidden('Modifying "redelegation_count" upon redelegation is forbidden. Omitting this parameter is advised.');
      }
      for (const t of await pedigree(parent)) {
        const depth = t.redelegation_count ?? 0;
        if (!(depth > 0 && depth <= MAX_REDELEGATION_COUNT)) {
          throw Errors.forbidden(`Remaining redelegation depth of ${depth} out of allowed range of [0..${MAX_REDELEGATION_COUNT}]`);
        }
        if (uses !== null) throw Errors.forbidden(`Field "remaining_uses" is set to ${uses} while it must not be set in order to redelegate a trust`);
        if (t.expires_at) {
          if (expiresText === null) expiresText = t.expires_at;
          else if (Date.parse(expiresText) > Date.parse(t.expires_at)) throw Errors.forbidden('Requested expiration time is more than redelegated trust can provide');
        }
        const parentRoles = new Set(await repos.trusts.roleIds(t.id));
        if (!roleRows.every((r) => parentRoles.has(r.id))) throw Errors.forbidden('Some of requested roles are not in redelegated trust');
        if (!isTrue(t.impersonation) && input.impersonation) {
          throw Errors.forbidden(`Impersonation is not allowed because redelegated trust does not specify impersonation. Redelegated trust id: ${t.id}`);
        }
      }
      redelegationCount = Math.max(0, redelegationCount);
    }

    const row: TrustRow = {
      id: newHexId(),
      trustor_user_id: input.trustorUserId,
      trustee_user_id: input.trusteeUserId,
      project_id: input.projectId ?? null,
      impersonation: input.impersonation ? 1 : 0,
      expires_at: expiresText,
      remaining_uses: uses,
      redelegated_trust_id: parent?.id ?? null,
      redelegation_count: redelegationCount,
      deleted_at: null,
      extra: toJson(input.extra),
    };
    await repos.trusts.insert(row, roleRows.map((r) => r.id));
    return row;
  }

  /** Deletes a trust and the trusts redelegated from it; their tokens are revoked. */
  async function remove(t: TrustRow): Promise<void> {
    for (const child of await repos.trusts.list({ trustorUserId: t.trustee_user_id, redelegatedTrustId: t.id })) await remove(child);
    await repos.trusts.softDelete(t.id, isoMicro(new Date()));
    await identity.revocations.revoke({ trustId: t.id });
    identity.changed();
  }

  async function removeInvolving(userId: string): Promise<void> {
    for (const t of await repos.trusts.listInvolving(userId)) await remove(t);
  }

  /** `scope: {"OS-TRUST:trust": {"id": …}}` at authentication: checks the trustee and takes one use. */
  async function scopeForAuth(ref: Json, trusteeUserId: string): Promise<{ trustId: string; projectId?: string; userId: string }> {
    if (typeof ref['id'] !== 'string') throw Errors.badRequest("Invalid input for field 'scope/OS-TRUST:trust/id': expected a string.");
    const t = await repos.trusts.get(ref['id']);
    if (!t || expired(t) || exhausted(t)) throw Errors.unauthorized(`Could not find trust: ${ref['id']}.`);
    if (t.trustee_user_id !== trusteeUserId) throw Errors.forbidden('The user is not the trustee of this trust.');
    const trustor = await repos.users.get(t.trustor_user_id);
    if (!trustor || !isTrue(trustor.enabled)) throw Errors.forbidden('The trustor is disabled.');
    if (t.project_id) await checkTrustorStillHolds(t, (await pedigree(t)).at(-1)!);
    if (t.remaining_uses !== null && !(await repos.trusts.consumeUse(t.id))) throw Errors.forbidden(`No remaining uses for trust: ${t.id}.`);
    const out: { trustId: string; projectId?: string; userId: string } = {
      trustId: t.id,
      userId: isTrue(t.impersonation) ? t.trustor_user_id : t.trustee_user_id,
    };
    if (t.project_id) out.projectId = t.project_id;
    return out;
  }

  async function checkTrustorStillHolds(t: TrustRow, original: TrustRow): Promise<void> {
    const graph = await identity.roleGraph();
    const wanted = graph.expand(await repos.trusts.roleIds(t.id)).map((r) => r.id);
    const held = await effectiveRoleIds(original.trustor_user_id, original.project_id ?? t.project_id!);
    if (!wanted.every((id) => held.has(id))) throw Errors.forbidden('Trustee has no delegated roles.');
  }

  /** What a trust-scoped token carries; throws (token invalid) once the trust is gone or broken. */
  async function resolveForToken(trustId: string): Promise<TokenTrust> {
    const invalid = () => Errors.notFound('token', undefined);
    const t = await repos.trusts.get(trustId);
    // Tokens already issued stay valid when the last use is taken (Keystone would drop them at once).
    if (!t || expired(t)) throw invalid();
    const chain = await pedigree(t).catch(() => {
      throw invalid();
    });
    for (const link of chain) {
      const trustee = await repos.users.get(link.trustee_user_id);
      if (!trustee || !isTrue(trustee.enabled)) throw invalid();
    }
    const original = chain.at(-1)!;
    if (t.project_id) await checkTrustorStillHolds(t, original).catch(() => {
      throw invalid();
    });
    return {
      id: t.id,
      trustorUserId: t.trustor_user_id,
      trusteeUserId: t.trustee_user_id,
      impersonation: isTrue(t.impersonation),
      roleIds: await repos.trusts.roleIds(t.id),
      holderUserId: original.trustor_user_id,
    };
  }

  return { get, roles, create, remove, removeInvolving, scopeForAuth, resolveForToken };
}

export type TrustService = ReturnType<typeof createTrustService>;
