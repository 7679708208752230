import { LRUCache } from 'lru-cache';
import { Errors } from '../errors.js';
import type { AuthContext } from './context.js';
import type { TokenValidator } from './token-validator.js';
import type { ServiceSession } from '../clients/service-auth.js';

interface TokenBody {
  token: {
    methods: string[];
    expires_at: string;
    issued_at: string;
    audit_ids: string[];
    user: { id: string; name: string; domain: { id: string; name: string } };
    project?: { id: string; name: string; domain: { id: string; name: string } };
    domain?: { id: string; name: string };
    system?: { all: boolean };
    roles?: Array<{ id: string; name: string }>;
    is_admin_project?: boolean;
    'OS-TRUST:trust'?: { id: string };
    application_credential?: { id: string; access_rules?: Array<{ service: string; method: string; path: string }> };
  };
}

/** Turns a Keystone token body into the caller's context. */
export function authContextFromTokenBody(token: string, body: TokenBody): AuthContext {
  const t = body.token;
  const ctx: AuthContext = {
    token,
    userId: t.user.id,
    userName: t.user.name,
    userDomainId: t.user.domain.id,
    userDomainName: t.user.domain.name,
    roles: (t.roles ?? []).map((r) => r.name.toLowerCase()),
    roleIds: (t.roles ?? []).map((r) => r.id),
    isAdminProject: t.is_admin_project ?? false,
    expiresAt: new Date(t.expires_at),
    issuedAt: new Date(t.issued_at),
    methods: t.methods,
    auditIds: t.audit_ids,
  };
  if (t.project) {
    ctx.projectId = t.project.id;
    ctx.projectName = t.project.name;
    ctx.projectDomainId = t.project.domain.id;
    ctx.projectDomainName = t.project.domain.name;
  }
  if (t.domain) {
    ctx.domainId = t.domain.id;
    ctx.domainName = t.domain.name;
  }
  if (t.system?.all) ctx.system = true;
  if (t['OS-TRUST:trust']) ctx.trustId = t['OS-TRUST:trust'].id;
  if (t.application_credential) {
    ctx.appCredentialId = t.application_credential.id;
    const rules = t.application_credential.access_rules;
    if (rules) ctx.accessRules = rules.map((r) => ({ service: r.service, method: r.method, path: r.path }));
  }
  return ctx;
}

/**
 * keystonemiddleware's job for a service that runs apart from identity:
 * validate with GET /v3/auth/tokens as the service user, cache for
 * `cacheSeconds` (a revoked token may live that long here, as with
 * keystonemiddleware's cache).
 */
export function createRemoteTokenValidator(options: { identityUrl: string; session: ServiceSession; cacheSeconds: number; cacheEntries: number }): TokenValidator {
  const cache = new LRUCache<string, AuthContext>({ max: Math.max(1, options.cacheEntries), ttl: Math.max(1, options.cacheSeconds) * 1000 });
  return {
    async validate(token, opts = {}) {
      const hit = cache.get(token);
      if (hit && (opts.allowExpired || hit.expiresAt.getTime() > Date.now())) return hit;
      const url = `${options.identityUrl.replace(/\/$/, '')}/auth/tokens?nocatalog${opts.allowExpired ? '&allow_expired=1' : ''}`;
      const res = await fetch(url, { headers: { 'x-auth-token': await options.session.token(), 'x-subject-token': token } });
      if (res.status === 404 || res.status === 401) throw Errors.unauthorized('The request you have made requires authentication.');
      if (res.status !== 200) throw Errors.serviceUnavailable(`identity service answered ${res.status} validating a token`);
      const ctx = authContextFromTokenBody(token, (await res.json()) as TokenBody);
      if (options.cacheSeconds > 0) cache.set(token, ctx);
      return ctx;
    },
  };
}
