import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authOf } from '../../../core/auth/auth-hook.js';
import { fromJson, isTrue } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import { envelope, optBool, optString, queryString, reqString, type Json } from '../../../core/http/input.js';
import type { AccessRuleRow, AppCredentialRow } from '../../db/tables.js';
import { blockDelegated, type AccessRuleInput, type StoredRole } from '../../service/app-credential-service.js';
import { naiveIso } from '../../service/iso-time.js';
import { collectionLinks, type IdentityApi } from '../context.js';

type P = { Params: Record<string, string>; Querystring: Record<string, string | undefined> };

/** /v3/users/{id}/application_credentials and /v3/users/{id}/access_rules. */
export function appCredentialRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { identity } = api;
  const { repos } = identity;
  const svc = identity.appCredentials;
  const auth = { preHandler: api.authenticate };

  const renderRule = (r: AccessRuleRow) => ({ id: r.external_id, service: r.service, path: r.path, method: r.method });
  const render = (req: FastifyRequest, row: AppCredentialRow, rules: AccessRuleRow[], secret?: string): Json => {
    const out: Json = {
      id: row.id,
      name: row.name,
      description: row.description,
      user_id: row.user_id,
      project_id: row.project_id,
      system: row.system,
      roles: fromJson<StoredRole[]>(row.roles, []),
      // oslo's JSON encoder writes Keystone's naive UTC datetimes with microseconds and no zone.
      expires_at: naiveIso(row.expires_at),
      unrestricted: isTrue(row.unrestricted),
      access_rules: rules.map(renderRule),
      links: { self: api.link(req, `/users/${row.user_id}/application_credentials/${row.id}`) },
    };
    if (secret !== undefined) out['secret'] = secret;
    return out;
  };
  const target = (uid: string) => ({ user_id: uid, 'target.user.id': uid });

  app.post<P>('/v3/users/:uid/application_credentials', auth, async (req, reply) => {
    const uid = req.params['uid']!;
    api.enforce(req, 'identity:create_application_credential', target(uid));
    const a = envelope(req.body, 'application_credential');
    const { row, secret, rules } = await svc.create(authOf(req), uid, {
      name: reqString(a, 'name', { min: 1, max: 255 }),
      description: optString(a, 'description', { nullable: true, max: 65535 }),
      secret: optString(a, 'secret', { min: 1, max: 4096 }) ?? undefined,
      expiresAt: a['expires_at'],
      roles: roleRefs(a['roles']),
      unrestricted: optBool(a, 'unrestricted'),
      accessRules: accessRules(a['access_rules']),
    });
    return reply.code(201).send({ application_credential: render(req, row, rules, secret) });
  });

  app.get<P>('/v3/users/:uid/application_credentials', auth, async (req) => {
    const uid = req.params['uid']!;
    api.enforce(req, 'identity:list_application_credentials', target(uid));
    blockDelegated(authOf(req), 'application credentials');
    const name = queryString(req.query['name']);
    const rows = await repos.appCredentials.list(uid, name !== undefined ? { name } : {});
    const out = [];
    for (const row of rows) out.push(render(req, row, await repos.appCredentials.rulesOf(row.id)));
    return { application_credentials: out, links: collectionLinks(api, req) };
  });

  app.get<P>('/v3/users/:uid/application_credentials/:id', auth, async (req) => {
    const uid = req.params['uid']!;
    api.enforce(req, 'identity:get_application_credential', target(uid));
    blockDelegated(authOf(req), 'application credentials');
    const row = await svc.get(uid, req.params['id']!);
    return { application_credential: render(req, row, await repos.appCredentials.rulesOf(row.id)) };
  });

  app.delete<P>('/v3/users/:uid/application_credentials/:id', auth, async (req, reply) => {
    const uid = req.params['uid']!;
    api.enforce(req, 'identity:delete_application_credential', target(uid));
    await svc.remove(authOf(req), await svc.get(uid, req.params['id']!));
    return reply.code(204).send();
  });

  // ---- access rules
  app.get<P>('/v3/users/:uid/access_rules', auth, async (req) => {
    const uid = req.params['uid']!;
    api.enforce(req, 'identity:list_access_rules', target(uid));
    blockDelegated(authOf(req), 'access rules');
    const f: { service?: string; path?: string; method?: string } = {};
    for (const k of ['service', 'path', 'method'] as const) {
      const v = queryString(req.query[k]);
      if (v !== undefined) f[k] = v;
    }
    const rows = await repos.appCredentials.listRules(uid, f);
    return { access_rules: rows.map((r) => ({ ...renderRule(r), links: { self: api.link(req, `/users/${uid}/access_rules/${r.external_id}`) } })), links: collectionLinks(api, req) };
  });

  const rule = async (uid: string, id: string) => {
    const r = await repos.appCredentials.getRule(id);
    if (!r || r.user_id !== uid) throw Errors.notFound('access rule', id);
    return r;
  };
  app.get<P>('/v3/users/:uid/access_rules/:id', auth, async (req) => {
    const uid = req.params['uid']!;
    api.enforce(req, 'identity:get_access_rule', target(uid));
    blockDelegated(authOf(req), 'access rules');
    const r = await rule(uid, req.params['id']!);
    return { access_rule: { ...renderRule(r), links: { self: api.link(req, `/users/${uid}/access_rules/${r.external_id}`) } } };
  });
  app.delete<P>('/v3/users/:uid/access_rules/:id', auth, async (req, reply) => {
    const uid = req.params['uid']!;
    api.enforce(req, 'identity:delete_access_rule', target(uid));
    blockDelegated(authOf(req), 'access rules');
    const r = await rule(uid, req.params['id']!);
    if (await repos.appCredentials.ruleInUse(r.id)) {
      throw Errors.forbidden(`Cannot delete access rule ${r.external_id}: it is used by an application credential.`);
    }
    await repos.appCredentials.deleteRule(r.id);
    return reply.code(204).send();
  });
}

function roleRefs(value: unknown): Array<{ id?: string; name?: string }> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw Errors.badRequest("Invalid input for field 'roles': expected a list of {id} or {name}.");
  return value.map((v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw Errors.badRequest("Invalid input for field 'roles': expected a list of {id} or {name}.");
    const o = v as Json;
    const id = optString(o, 'id', { min: 1, max: 64 });
    const name = optString(o, 'name', { min: 1, max: 255 });
    if (!id && !name) throw Errors.badRequest("Invalid input for field 'roles': each role needs an 'id' or a 'name'.");
    return { ...(id ? { id } : {}), ...(name ? { name } : {}) };
  });
}

function accessRules(value: unknown): AccessRuleInput[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw Errors.badRequest("Invalid input for field 'access_rules': expected a list.");
  return value.map((v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw Errors.badRequest("Invalid input for field 'access_rules': expected a list of objects.");
    const o = v as Json;
    const out: AccessRuleInput = {};
    for (const k of ['id', 'service', 'path', 'method'] as const) {
      const s = optString(o, k, { min: 1, max: k === 'path' ? 1024 : k === 'id' ? 64 : 255 });
      if (s) out[k] = s;
    }
    for (const k of Object.keys(o)) if (!['id', 'service', 'path', 'method'].includes(k)) throw Errors.badRequest(`Invalid input for field 'access_rules': unknown key '${k}'.`);
    return out;
  });
}
