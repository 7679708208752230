import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authOf, headerValue } from '../../../core/auth/auth-hook.js';
import { isTrue } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import { queryBool } from '../../../core/http/input.js';
import { collectionLinks, type IdentityApi } from '../context.js';
import { renderDomain, renderProject } from '../render.js';
import { assignmentsForScope } from '../../service/role-resolver.js';

type Q = { Querystring: Record<string, string | undefined> };

/** /v3/auth/*: issue, validate, check and revoke tokens; what a token may access. */
export function authRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { identity } = api;
  const auth = { preHandler: api.authenticate };

  app.post<Q>('/v3/auth/tokens', async (req, reply) => {
    // When the client hangs up, a password check still waiting for its turn is dropped.
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    const validated = await identity.auth.authenticate(req.body, headerValue(req, 'x-auth-token'), gone.signal);
    const noCatalog = queryBool(req.query['nocatalog']) ?? false;
    const body = await identity.tokens.render(validated, { catalog: !noCatalog });
    return reply.code(201).header('x-subject-token', validated.token).send(body);
  });

  const subject = async (req: FastifyRequest<Q>) => {
    const token = headerValue(req, 'x-subject-token');
    if (!token) throw Errors.badRequest('X-Subject-Token header is required.');
    const allowExpired = queryBool(req.query['allow_expired']) ?? false;
    return identity.tokens.validate(token, { allowExpired });
  };

  app.get<Q>('/v3/auth/tokens', auth, async (req, reply) => {
    const token = headerValue(req, 'x-subject-token');
    const v = await subject(req);
    api.enforce(req, 'identity:validate_token', { 'target.token.user_id': v.user.id });
    const noCatalog = queryBool(req.query['nocatalog']) ?? false;
    return reply
      .header('x-subject-token', token)
      .header('content-type', 'application/json')
      .send(await identity.tokens.renderJson(v, { catalog: !noCatalog }));
  });

  app.head<Q>('/v3/auth/tokens', auth, async (req, reply) => {
    const v = await subject(req);
    api.enforce(req, 'identity:check_token', { 'target.token.user_id': v.user.id });
    return reply.code(200).header('x-subject-token', v.token).send();
  });

  app.delete<Q>('/v3/auth/tokens', auth, async (req, reply) => {
    const v = await subject(req);
    api.enforce(req, 'identity:revoke_token', { 'target.token.user_id': v.user.id });
    await identity.tokens.revoke(v);
    return reply.code(204).send();
  });

  app.get('/v3/auth/catalog', auth, async (req) => {
    const caller = authOf(req);
    api.enforce(req, 'identity:get_auth_catalog');
    if (!caller.projectId && !caller.domainId && !caller.system) {
      throw Errors.forbidden('A scoped token is required to read the catalog.');
    }
    const v = await identity.tokens.validate(caller.token);
    const rendered = await identity.tokens.render(v, { catalog: true });
    return { catalog: rendered.token['catalog'] ?? [], links: collectionLinks(api, req) };
  });

  app.get('/v3/auth/projects', auth, async (req) => {
    const caller = authOf(req);
    api.enforce(req, 'identity:get_auth_projects');
    const projects = await accessibleProjects(api, caller.userId);
    const tags = await identity.repos.projects.tagsFor(projects.map((p) => p.id));
    return { projects: projects.map((p) => renderProject(api, req, p, tags.get(p.id))), links: collectionLinks(api, req) };
  });

  app.get('/v3/auth/domains', auth, async (req) => {
    const caller = authOf(req);
    api.enforce(req, 'identity:get_auth_domains');
    const domains = await identity.repos.projects.listDomains({ enabled: true });
    const out = [];
    for (const d of domains) {
      if ((await assignmentsForScope(identity.repos, caller.userId, { domainId: d.id })).length > 0) out.push(renderDomain(api, req, d));
    }
    return { domains: out, links: collectionLinks(api, req) };
  });

  app.get('/v3/auth/system', auth, async (req) => {
    const caller = authOf(req);
    api.enforce(req, 'identity:get_auth_system');
    const has = (await assignmentsForScope(identity.repos, caller.userId, { system: true })).length > 0;
    return { system: has ? [{ all: true }] : [], links: collectionLinks(api, req) };
  });
}

/** Enabled projects the user has some role on (directly, by group, or inherited). */
export async function accessibleProjects(api: IdentityApi, userId: string) {
  const { repos } = api.identity;
  const all = await repos.projects.list({ enabled: true, isDomain: false });
  const out = [];
  for (const p of all) {
    const domain = await repos.projects.getDomain(p.domain_id);
    if (!domain || !isTrue(domain.enabled)) continue;
    if ((await assignmentsForScope(repos, userId, { projectId: p.id })).length > 0) out.push(p);
  }
  return out;
}
