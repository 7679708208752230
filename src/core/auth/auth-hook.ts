import type { FastifyRequest } from 'fastify';
import { Errors } from '../errors.js';
import type { AuthContext } from './context.js';
import { checkAccessRules } from './access-rules.js';
import type { TokenValidator } from './token-validator.js';

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthContext;
  }
}

/**
 * Returns a preHandler that requires a valid `X-Auth-Token` and puts the
 * caller on `req.auth`. A valid `X-Service-Token` (a service user's token sent
 * alongside, as Nova sends to Cinder) adds `serviceRoles`. Tokens made from an
 * application credential with access rules are only accepted for the calls the
 * rules allow, which needs the service's catalog type (`options.serviceType`);
 * without it such tokens are refused, as keystonemiddleware does.
 */
export function requireToken(validator: TokenValidator, options: { serviceType?: string } = {}) {
  return async function authenticate(req: FastifyRequest): Promise<void> {
    const token = headerValue(req, 'x-auth-token');
    if (!token) throw Errors.unauthorized('The request you have made requires authentication.');
    const auth = await validator.validate(token);
    let serviceRoles: string[] | undefined;
    const serviceToken = headerValue(req, 'x-service-token');
    if (serviceToken) {
      try {
        serviceRoles = (await validator.validate(serviceToken)).roles;
      } catch {
        // An invalid service token is ignored, like keystonemiddleware does when the user token is valid.
      }
    }
    checkAccessRules(auth.accessRules, {
      serviceType: options.serviceType,
      method: req.method,
      path: req.url.split('?')[0]!,
      hasServiceToken: serviceRoles !== undefined,
    });
    req.auth = serviceRoles !== undefined ? { ...auth, serviceRoles } : auth;
  };
}

export function headerValue(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s && s.trim() !== '' ? s.trim() : undefined;
}

/** The caller, for handlers behind `requireToken` (throws if the hook did not run). */
export function authOf(req: FastifyRequest): AuthContext {
  if (!req.auth) throw Errors.unauthorized();
  return req.auth;
}
