import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authOf } from '../../../core/auth/auth-hook.js';
import { Errors, isApiError } from '../../../core/errors.js';
import { envelope, optString, queryString, reqString, requireObject, type Json } from '../../../core/http/input.js';
import { ec2CredentialId, requirePrimaryAuth, type Credential } from '../../service/credential-service.js';
import { collectionLinks, type IdentityApi } from '../context.js';
import { extraOf } from '../render.js';

type P = { Params: Record<string, string>; Querystring: Record<string, string | undefined> };
const KEYS = ['id', 'user_id', 'project_id', 'type', 'blob', 'links'];

/** /v3/credentials and /v3/users/{id}/credentials/OS-EC2. */
export function credentialRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { identity } = api;
  const svc = identity.credentials;
  const auth = { preHandler: api.authenticate };

  const render = (req: FastifyRequest, c: Credential): Json => ({
    ...c.extra,
    id: c.id,
    user_id: c.userId,
    project_id: c.projectId,
    type: c.type,
    blob: c.blob,
    links: { self: api.link(req, `/credentials/${c.id}`) },
  });
  const credTarget = (c: { userId: string; projectId: string | null; type: string }) => ({
    'target.credential.user_id': c.userId,
    'target.credential.project_id': c.projectId,
    'target.credential.type': c.type,
  });

  app.post('/v3/credentials', auth, async (req, reply) => {
    const c = envelope(req.body, 'credential');
    const userId = reqString(c, 'user_id', { min: 1, max: 64 });
    const type = reqString(c, 'type', { min: 1, max: 255 });
    const projectId = optString(c, 'project_id', { nullable: true, max: 64 });
    api.enforce(req, 'identity:create_credential', credTarget({ userId, projectId: projectId ?? null, type }));
    const created = await svc.create(authOf(req), api.isAdmin(req), {
      userId,
      type,
      projectId,
      blob: reqString(c, 'blob', { max: 65535 }),
      extra: extraOf(c, KEYS),
    });
    return reply.code(201).send({ credential: render(req, created) });
  });

  app.get<P>('/v3/credentials', auth, async (req) => {
    const caller = authOf(req);
    const userId = queryString(req.query['user_id']);
    const type = queryString(req.query['type']);
    api.enforce(req, 'identity:list_credentials', caller.system ? {} : { 'target.credential.user_id': caller.userId });
    // Like Keystone: list everything matching, then keep only what the caller may read.
    const all = await svc.list({ ...(userId !== undefined ? { userId } : {}), ...(type !== undefined ? { type } : {}) });
    const visible = all.filter((c) => {
      if (!identity.enforcer.enforce('identity:get_credential', api.credsOf(req), credTarget(c))) return false;
      try {
        requirePrimaryAuth(caller);
        return true;
      } catch {
        return false;
      }
    });
    return { credentials: visible.map((c) => render(req, c)), links: collectionLinks(api, req) };
  });

  /** Loads a credential after the policy check, so a denied caller learns nothing about existence. */
  const load = async (req: FastifyRequest<P>, rule: string) => {
    const id = req.params['id']!;
    let cred: Credential | undefined;
    try {
      cred = await svc.get(id);
    } catch (err) {
      if (!isApiError(err) || err.status !== 404) throw err;
    }
    api.enforce(req, rule, cred ? credTarget(cred) : {});
    if (!cred) throw Errors.notFound('credential', id);
    return cred;
  };

  app.get<P>('/v3/credentials/:id', auth, async (req) => {
    const cred = await load(req, 'identity:get_credential');
    requirePrimaryAuth(authOf(req));
    return { credential: render(req, cred) };
  });

  app.patch<P>('/v3/credentials/:id', auth, async (req) => {
    const cred = await load(req, 'identity:update_credential');
    const c = envelope(req.body, 'credential');
    if (c['id'] !== undefined && c['id'] !== cred.id) throw Errors.badRequest('Cannot change the id of a credential.');
    const updated = await svc.update(authOf(req), api.isAdmin(req), cred, {
      blob: optString(c, 'blob', { max: 65535 }) ?? undefined,
      projectId: optString(c, 'project_id', { nullable: true, max: 64 }),
      userId: optString(c, 'user_id', { min: 1, max: 64 }) ?? undefined,
      type: optString(c, 'type', { min: 1, max: 255 }) ?? undefined,
      extra: extraOf(c, KEYS),
    });
    return { credential: render(req, updated) };
  });

  app.delete<P>('/v3/credentials/:id', auth, async (req, reply) => {
    const cred = await load(req, 'identity:delete_credential');
    await svc.remove(authOf(req), cred.id);
    return reply.code(204).send();
  });

  // ---- OS-EC2
  const renderEc2 = (req: FastifyRequest, c: Credential): Json => {
    const blob = JSON.parse(c.blob) as Json;
    return {
      user_id: c.userId,
      tenant_id: c.projectId,
      access: blob['access'],
      secret: blob['secret'],
      trust_id: blob['trust_id'] ?? null,
      links: { self: api.link(req, `/users/${c.userId}/credentials/OS-EC2/${String(blob['access'])}`) },
    };
  };
  const user = async (id: string) => {
    if (!(await identity.repos.users.get(id))) throw Errors.notFound('user', id);
  };

  app.post<P>('/v3/users/:uid/credentials/OS-EC2', auth, async (req, reply) => {
    const uid = req.params['uid']!;
    api.enforce(req, 'identity:ec2_create_credential', { 'target.credential.user_id': uid });
    await user(uid);
    const body = requireObject(req.body ?? null, 'body');
    const tenantId = reqString(body, 'tenant_id', { min: 1, max: 64 });
    if (!(await identity.repos.projects.get(tenantId))) throw Errors.notFound('project', tenantId);
    const created = await svc.createEc2(authOf(req), api.isAdmin(req), uid, tenantId);
    return reply.code(201).send({ credential: renderEc2(req, created) });
  });

  app.get<P>('/v3/users/:uid/credentials/OS-EC2', auth, async (req) => {
    const uid = req.params['uid']!;
    api.enforce(req, 'identity:ec2_list_credentials', { user_id: uid });
    requirePrimaryAuth(authOf(req));
    await user(uid);
    const creds = await svc.list({ userId: uid, type: 'ec2' });
    return { credentials: creds.map((c) => renderEc2(req, c)), links: collectionLinks(api, req) };
  });

  const ec2 = async (req: FastifyRequest<P>, rule: string) => {
    const uid = req.params['uid']!;
    api.enforce(req, rule, { 'target.credential.user_id': uid });
    await user(uid);
    const cred = await svc.get(ec2CredentialId(req.params['access']!)).catch(() => undefined);
    if (!cred || cred.type !== 'ec2' || cred.userId !== uid) throw Errors.notFoundMessage('EC2 access key not found.');
    requirePrimaryAuth(authOf(req));
    return cred;
  };
  app.get<P>('/v3/users/:uid/credentials/OS-EC2/:access', auth, async (req) => ({ credential: renderEc2(req, await ec2(req, 'identity:ec2_get_credential')) }));
  app.delete<P>('/v3/users/:uid/credentials/OS-EC2/:access', auth, async (req, reply) => {
    const cred = await ec2(req, 'identity:ec2_delete_credential');
    await svc.remove(authOf(req), cred.id);
    return reply.code(204).send();
  });
}

