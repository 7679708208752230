import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { authOf, requireToken } from '../../core/auth/auth-hook.js';
import type { AuthContext } from '../../core/auth/context.js';
import type { TokenValidator } from '../../core/auth/token-validator.js';
import { Errors } from '../../core/errors.js';
import { requestBaseUrl } from '../../core/http/base-url.js';
import { atLeast, type Microversion } from '../../core/http/microversion.js';
import { credsFromAuth } from '../../core/policy/enforcer.js';
import type { VolumeCore } from '../service/core.js';

export type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string | string[] | undefined>; Body: unknown }>;
export type Handler = (req: Req, reply: FastifyReply) => Promise<unknown>;

export interface Caller {
  auth: AuthContext;
  projectId: string;
  userId: string;
  admin: boolean;
}

/** What every route module gets: the core, auth and policy helpers, and a router that serves both URL forms. */
export interface VolumeApi {
  core: VolumeCore;
  caller(req: Req): Caller;
  /** 403 unless the rule allows the caller on a resource of `projectId` (default: the caller's project). */
  enforce(req: Req, rule: string, projectId?: string): void;
  allowed(req: Req, rule: string, projectId?: string): boolean;
  mv(req: Req): Microversion;
  atLeast(req: Req, version: string): boolean;
  /** Methods added by a microversion are 404 below it, as in Cinder. */
  requireMv(req: Req, version: string): void;
  /** `http://host:port/v3[/{project}]` as the client addressed us. */
  base(req: Req): string;
  /** self and bookmark links of a resource. */
  links(req: Req, collection: string, id: string): Array<{ rel: string; href: string }>;
  route(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, handler: Handler): void;
}

/**
 * Service roles of a request: those of a valid X-Service-Token (how Nova calls
 * for a user), or the caller's own when a service user calls with its own
 * token alone.
 */
export function serviceRolesOf(auth: AuthContext): string[] {
  const own = auth.roles.includes('service') ? ['service'] : [];
  return [...(auth.serviceRoles ?? []), ...own];
}

/** Cinder's URL forms: `/v3/{project_id}/…` and (3.67, but served at every version) `/v3/…`. */
export function createVolumeApi(app: FastifyInstance, core: VolumeCore, validator: TokenValidator): VolumeApi {
  const authenticate = requireToken(validator);

  const checkProject = async (req: FastifyRequest) => {
    const urlProject = (req.params as Record<string, string>)['project_id'];
    if (urlProject === undefined) return;
    const auth = authOf(req);
    if (!/^[0-9a-f-]+$/i.test(urlProject)) throw Errors.notFoundMessage('The resource could not be found.');
    // A service (compute) acting for a user addresses the endpoint its own token's catalog names.
    if (urlProject !== auth.projectId && !serviceRolesOf(auth).includes('service')) throw Errors.badRequest('Malformed request url');
  };

  const caller = (req: Req): Caller => {
    const auth = authOf(req);
    if (!auth.projectId) throw Errors.forbidden('Volume API calls need a project-scoped token.');
    return { auth, projectId: auth.projectId, userId: auth.userId, admin: auth.roles.includes('admin') };
  };

  const allowed = (req: Req, rule: string, projectId?: string) => {
    const c = caller(req);
    return core.enforcer.enforce(rule, credsFromAuth(c.auth), { project_id: projectId ?? c.projectId });
  };

  const base = (req: Req) => {
    const project = (req.params as Record<string, string>)['project_id'];
    return `${requestBaseUrl(req)}/v3${project ? `/${project}` : ''}`;
  };

  const api: VolumeApi = {
    core,
    caller,
    allowed,
    enforce(req, rule, projectId) {
      if (!allowed(req, rule, projectId)) throw Errors.forbidden(`Policy doesn't allow ${rule} to be performed.`);
    },
    mv: (req) => req.microversion!,
    atLeast: (req, v) => atLeast(req.microversion!, v),
    requireMv(req, v) {
      if (!atLeast(req.microversion!, v)) throw Errors.notFoundMessage('The resource could not be found.');
    },
    base,
    links(req, collection, id) {
      const self = `${base(req)}/${collection}/${id}`;
      return [
        { rel: 'self', href: self },
        { rel: 'bookmark', href: self.replace(/\/v3(?=\/)/, '') },
      ];
    },
    route(method, path, handler) {
      for (const prefix of ['/v3/:project_id', '/v3']) {
        app.route({ method, url: `${prefix}${path}`, preHandler: [authenticate, checkProject], handler: handler as unknown as RouteHandlerMethod });
      }
    },
  };
  return api;
}
