import type { FastifyRequest } from 'fastify';
import { authOf, headerValue } from '../../core/auth/auth-hook.js';
import { checkAccessRules } from '../../core/auth/access-rules.js';
import { credsFromAuth } from '../../core/policy/enforcer.js';
import type { Creds, Target } from '../../core/policy/rule-parser.js';
import { Errors, isApiError } from '../../core/errors.js';
import type { Identity } from '../service/identity.js';

/** What identity route modules share: the service, auth, policy and link building. */
export interface IdentityApi {
  identity: Identity;
  /** preHandler: requires a valid X-Auth-Token (401 otherwise). */
  authenticate(req: FastifyRequest): Promise<void>;
  /** 403 unless the policy rule allows the caller on the target. */
  enforce(req: FastifyRequest, rule: string, target?: Target): void;
  /** Absolute URL under /v3 for links. */
  link(req: FastifyRequest, path: string): string;
  /** The caller's policy credentials. */
  credsOf(req: FastifyRequest): Creds;
  /** Whether the caller is admin per `admin_required`. */
  isAdmin(req: FastifyRequest): boolean;
}

export function createIdentityApi(identity: Identity): IdentityApi {
  return {
    identity,
    async authenticate(req) {
      const token = headerValue(req, 'x-auth-token');
      if (!token) throw Errors.unauthorized('The request you have made requires authentication.');
      let auth;
      try {
        auth = identity.tokens.toAuthContext(await identity.tokens.validate(token));
      } catch (err) {
        if (isApiError(err) && err.status === 404) throw Errors.unauthorized('The request you have made requires authentication.');
        throw err;
      }
      // Application credentials with access rules also bind calls to Keystone itself.
      checkAccessRules(auth.accessRules, { serviceType: 'identity', method: req.method, path: req.url.split('?')[0]! });
      req.auth = auth;
    },
    enforce(req, rule, target = {}) {
      identity.enforcer.authorize(rule, credsFromAuth(authOf(req)), target);
    },
    link(req, path) {
      return `${baseUrl(req)}/v3${path}`;
    },
    credsOf(req) {
      return credsFromAuth(authOf(req));
    },
    isAdmin(req) {
      return identity.enforcer.enforce('admin_required', credsFromAuth(authOf(req)));
    },
  };
}

export function baseUrl(req: FastifyRequest): string {
  const proto = headerValue(req, 'x-forwarded-proto') ?? req.protocol;
  const host = headerValue(req, 'x-forwarded-host') ?? req.headers.host ?? 'localhost';
  return `${proto}://${host}`;
}

/** Collection links as Keystone returns them. */
export function collectionLinks(api: IdentityApi, req: FastifyRequest) {
  return { self: `${baseUrl(req)}${req.url}`, previous: null, next: null };
}
