import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authOf } from '../../../core/auth/auth-hook.js';
import { isTrue } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import { envelope, optBool, optInt, optString, queryString, reqString, type Json } from '../../../core/http/input.js';
import type { RoleRow, TrustRow } from '../../db/tables.js';
import { blockDelegatedForTrusts } from '../../service/trust-service.js';
import { collectionLinks, type IdentityApi } from '../context.js';
import { extraOf, renderRole } from '../render.js';

type P = { Params: Record<string, string>; Querystring: Record<string, string | undefined> };
const KEYS = ['id', 'trustor_user_id', 'trustee_user_id', 'project_id', 'impersonation', 'expires_at', 'remaining_uses', 'roles', 'allow_redelegation', 'redelegation_count', 'links'];

/** /v3/OS-TRUST/trusts. */
export function trustRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { identity } = api;
  const svc = identity.trusts;
  const auth = { preHandler: api.authenticate };

  const render = (req: FastifyRequest, t: TrustRow, roles?: RoleRow[]): Json => {
    const out: Json = {
      ...JSON.parse(t.extra || '{}'),
      id: t.id,
      trustor_user_id: t.trustor_user_id,
      trustee_user_id: t.trustee_user_id,
      project_id: t.project_id,
      impersonation: isTrue(t.impersonation),
      expires_at: t.expires_at,
      remaining_uses: t.remaining_uses,
      redelegated_trust_id: t.redelegated_trust_id,
      redelegation_count: t.redelegation_count,
      links: { self: api.link(req, `/OS-TRUST/trusts/${t.id}`) },
    };
    if (roles) {
      out['roles'] = roles.map((r) => renderRole(api, req, r));
      out['roles_links'] = { self: api.link(req, `/OS-TRUST/trusts/${t.id}/roles`), previous: null, next: null };
    }
    return out;
  };
  const target = (t: { trustor_user_id?: unknown; trustee_user_id?: unknown }) => ({
    'target.trust.trustor_user_id': t.trustor_user_id ?? null,
    'target.trust.trustee_user_id': t.trustee_user_id ?? null,
  });

  app.post('/v3/OS-TRUST/trusts', auth, async (req, reply) => {
    const t = envelope(req.body, 'trust');
    api.enforce(req, 'identity:create_trust', target(t));
    if (typeof t['impersonation'] !== 'boolean') throw Errors.badRequest("Invalid input for field 'impersonation': a boolean is required.");
    const roles = t['roles'] ?? [];
    if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
      throw Errors.badRequest("Invalid input for field 'roles': expected a list of {id} or {name}.");
    }
    const row = await svc.create(authOf(req), {
      trustorUserId: reqString(t, 'trustor_user_id', { min: 1, max: 64 }),
      trusteeUserId: reqString(t, 'trustee_user_id', { min: 1, max: 64 }),
      projectId: optString(t, 'project_id', { nullable: true, max: 64 }),
      roles: (roles as Json[]).map((r) => ({
        ...(typeof r['id'] === 'string' ? { id: r['id'] } : {}),
        ...(typeof r['name'] === 'string' ? { name: r['name'] } : {}),
      })),
      impersonation: t['impersonation'],
      expiresAt: t['expires_at'],
      remainingUses: optInt(t, 'remaining_uses', { nullable: true, min: 1, max: 0x7fffffff }),
      allowRedelegation: optBool(t, 'allow_redelegation'),
      redelegationCount: optInt(t, 'redelegation_count', { nullable: true, min: 0, max: 0x7fffffff }),
      extra: extraOf(t, KEYS),
    });
    return reply.code(201).send({ trust: render(req, row, await svc.roles(row)) });
  });

  app.get<P>('/v3/OS-TRUST/trusts', auth, async (req) => {
    const trustor = queryString(req.query['trustor_user_id']);
    const trustee = queryString(req.query['trustee_user_id']);
    if (trustor !== undefined) api.enforce(req, 'identity:list_trusts_for_trustor', target({ trustor_user_id: trustor }));
    else if (trustee !== undefined) api.enforce(req, 'identity:list_trusts_for_trustee', target({ trustee_user_id: trustee }));
    else api.enforce(req, 'identity:list_trusts');
    blockDelegatedForTrusts(authOf(req));
    const rows = await identity.repos.trusts.list({
      ...(trustor !== undefined ? { trustorUserId: trustor } : {}),
      ...(trustee !== undefined ? { trusteeUserId: trustee } : {}),
    });
    const now = Date.now();
    const live = rows.filter((t) => (t.expires_at === null || Date.parse(t.expires_at) > now) && (t.remaining_uses === null || t.remaining_uses > 0));
    return { trusts: live.map((t) => render(req, t)), links: collectionLinks(api, req) };
  });

  /** The trust for a per-trust call: 404 first (as Keystone builds the policy target from it), then policy. */
  const load = async (req: FastifyRequest<P>, rule: string) => {
    const t = await svc.get(req.params['id']!);
    api.enforce(req, rule, target(t));
    blockDelegatedForTrusts(authOf(req));
    return t;
  };

  app.get<P>('/v3/OS-TRUST/trusts/:id', auth, async (req) => {
    const t = await load(req, 'identity:get_trust');
    return { trust: render(req, t, await svc.roles(t)) };
  });
  app.head<P>('/v3/OS-TRUST/trusts/:id', auth, async (req, reply) => {
    await load(req, 'identity:get_trust');
    return reply.code(200).send();
  });

  app.delete<P>('/v3/OS-TRUST/trusts/:id', auth, async (req, reply) => {
    const t = await load(req, 'identity:delete_trust');
    await svc.remove(t);
    return reply.code(204).send();
  });

  app.get<P>('/v3/OS-TRUST/trusts/:id/roles', auth, async (req) => {
    const t = await load(req, 'identity:list_roles_for_trust');
    return { roles: (await svc.roles(t)).map((r) => renderRole(api, req, r)), links: collectionLinks(api, req) };
  });

  const trustRole = async (req: FastifyRequest<P>) => {
    const t = await load(req, 'identity:get_role_for_trust');
    const role = (await svc.roles(t)).find((r) => r.id === req.params['role']);
    if (!role) throw Errors.notFound('role', req.params['role']);
    return role;
  };
  app.get<P>('/v3/OS-TRUST/trusts/:id/roles/:role', auth, async (req) => ({ role: renderRole(api, req, await trustRole(req)) }));
  app.head<P>('/v3/OS-TRUST/trusts/:id/roles/:role', auth, async (req, reply) => {
    await trustRole(req);
    return reply.code(200).send();
  });
}
