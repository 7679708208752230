import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { isTrue } from '../../core/db/columns.js';
import { Errors } from '../../core/errors.js';
import { isoMicro } from '../../core/ids.js';
import type { AuthContext } from '../../core/auth/context.js';
import type { FernetKey } from './fernet-keys.js';
import { fernetDecrypt, fernetEncrypt } from './fernet.js';
import { decodePayload, encodePayload, type TokenPayload, type TokenScope } from './token-payload.js';
import type { RevocationList } from './revocations.js';
import type { Generation } from './generation.js';
import type { CatalogEntry } from './catalog-builder.js';
import type { IdentityRepos } from './repos.js';
import { assignmentsForScope, type RoleGraph } from './role-resolver.js';
import type { ProjectRow, UserRow } from '../db/tables.js';

export interface NamedRef {
  id: string;
  name: string;
}

export interface TokenUser extends NamedRef {
  domain: NamedRef;
  password_expires_at: string | null;
}

export interface TokenProject extends NamedRef {
  domain: NamedRef;
  isDomain: boolean;
}

/** Extra facts that trusts and application credentials contribute (filled by their resolvers). */
export interface TokenTrust {
  id: string;
  trustorUserId: string;
  trusteeUserId: string;
  impersonation: boolean;
  roleIds: string[];
  /** Whose roles the trust delegates: the original trustor of a redelegated chain (default trustorUserId). */
  holderUserId?: string;
}

export interface TokenAppCredential {
  id: string;
  name: string;
  restricted: boolean;
  roleIds: string[];
  accessRules?: Array<{ id: string; service: string; path: string; method: string }>;
}

/** Everything a validated token means right now. */
export interface ValidatedToken {
  token: string;
  payload: TokenPayload;
  user: TokenUser;
  project?: TokenProject;
  domain?: NamedRef;
  system: boolean;
  roles: NamedRef[];
  isAdminProject: boolean;
  trust?: TokenTrust;
  appCredential?: TokenAppCredential;
}

/** Hooks for the trust and application-credential features, which live in their own modules. */
export interface TokenExtensions {
  resolveTrust?(trustId: string, payload: TokenPayload): Promise<TokenTrust>;
  resolveAppCredential?(appCredId: string, payload: TokenPayload): Promise<TokenAppCredential>;
}

export interface TokenServiceOptions {
  repos: IdentityRepos;
  keys: () => FernetKey[];
  revocations: RevocationList;
  generation: Generation;
  roleGraph: () => Promise<RoleGraph>;
  catalog: () => Promise<CatalogEntry[]>;
  expirationSeconds: number;
  allowExpiredWindowSeconds: number;
  /** Name of the admin project, for `is_admin_project` (Keystone's admin_project_name). */
  adminProject: { name: string; domainName: string };
  extensions?: TokenExtensions;
  cacheEntries?: number;
}

export interface IssueRequest {
  userId: string;
  methods: string[];
  scope: TokenScope;
  scopeId?: string;
  trustId?: string;
  appCredId?: string;
  /** For rescoping: the new token keeps the old one's expiry and audit chain. */
  expiresAtMs?: number;
  parentAuditId?: string;
}

interface CacheEntry {
  generation: number;
  validated: ValidatedToken;
}

const unauthorizedToken = () => Errors.notFound('token', undefined);

/**
 * Issues and validates Fernet tokens. Validation is the hot path of the whole
 * cloud: a decrypt plus a cache lookup once a token has been seen. The cache is
 * dropped whenever identity data changes (see Generation), so revocations,
 * disabled users and removed roles take effect at once.
 */
export class TokenService {
  private readonly cache: LRUCache<string, CacheEntry>;
  private readonly rendered = new WeakMap<ValidatedToken, { catalog?: string; bare?: string }>();

  constructor(private readonly o: TokenServiceOptions) {
    this.cache = new LRUCache({ max: o.cacheEntries ?? 50_000 });
    o.generation.onBump(() => this.cache.clear());
  }

  async issue(req: IssueRequest): Promise<ValidatedToken> {
    const now = Date.now();
    const expiresAtMs = req.expiresAtMs ?? now + this.o.expirationSeconds * 1000;
    const payload: TokenPayload = {
      userId: req.userId,
      methods: req.methods,
      scope: req.scope,
      issuedAtMs: now,
      expiresAtMs,
      auditId: randomBytes(16).toString('base64url'),
    };
    if (req.scopeId !== undefined) payload.scopeId = req.scopeId;
    if (req.parentAuditId !== undefined) payload.parentAuditId = req.parentAuditId;
    if (req.trustId !== undefined) payload.trustId = req.trustId;
    if (req.appCredId !== undefined) payload.appCredId = req.appCredId;
    const keys = this.o.keys();
    const token = fernetEncrypt(keys[0]!, encodePayload(payload), now);
    const validated = await this.resolve(token, payload);
    this.cache.set(token, { generation: this.o.generation.current, validated });
    return validated;
  }

  /**
   * Validates a token. Throws 404 (Keystone's answer for an invalid subject
   * token); callers that authenticate the *caller* turn that into 401.
   */
  async validate(token: string, options: { allowExpired?: boolean } = {}): Promise<ValidatedToken> {
    const hit = this.cache.get(token);
    if (hit && hit.generation === this.o.generation.current) {
      this.checkExpiry(hit.validated.payload, options.allowExpired ?? false);
      return hit.validated;
    }
    const raw = fernetDecrypt(this.o.keys(), token);
    const payload = raw ? decodePayload(raw) : undefined;
    if (!payload) throw unauthorizedToken();
    this.checkExpiry(payload, options.allowExpired ?? false);
    const generation = this.o.generation.current;
    const validated = await this.resolve(token, payload);
    if (this.o.revocations.isRevoked(revocable(validated))) throw unauthorizedToken();
    this.cache.set(token, { generation, validated });
    return validated;
  }

  private checkExpiry(payload: TokenPayload, allowExpired: boolean): void {
    const now = Date.now();
    const limit = allowExpired ? payload.expiresAtMs + this.o.allowExpiredWindowSeconds * 1000 : payload.expiresAtMs;
    if (now >= limit) throw unauthorizedToken();
  }

  /** Looks up what the payload refers to and checks it is all still valid. */
  private async resolve(token: string, payload: TokenPayload): Promise<ValidatedToken> {
    const { repos } = this.o;
    const user = await repos.users.get(payload.userId);
    if (!user || !isTrue(user.enabled)) throw unauthorizedToken();
    const userDomain = await repos.projects.getDomain(user.domain_id);
    if (!userDomain || !isTrue(userDomain.enabled)) throw unauthorizedToken();

    const validated: ValidatedToken = {
      token,
      payload,
      user: {
        id: user.id,
        name: user.name,
        domain: { id: userDomain.id, name: userDomain.name },
        password_expires_at: passwordExpiresAt(user),
      },
      system: payload.scope === 'system',
      roles: [],
      isAdminProject: false,
    };

    let trust: TokenTrust | undefined;
    if (payload.trustId) {
      if (!this.o.extensions?.resolveTrust) throw unauthorizedToken();
      trust = await this.o.extensions.resolveTrust(payload.trustId, payload);
      validated.trust = trust;
    }
    if (payload.appCredId) {
      if (!this.o.extensions?.resolveAppCredential) throw unauthorizedToken();
      validated.appCredential = await this.o.extensions.resolveAppCredential(payload.appCredId, payload);
    }

    const graph = await this.o.roleGraph();
    if (payload.scope === 'project') {
      const project = await repos.projects.get(payload.scopeId ?? '');
      if (!project || !isTrue(project.enabled)) throw unauthorizedToken();
      const domain = await this.enabledDomain(project);
      validated.project = {
        id: project.id,
        name: project.name,
        domain: { id: domain.id, name: domain.name },
        isDomain: isTrue(project.is_domain),
      };
      validated.isAdminProject = project.name === this.o.adminProject.name && domain.name === this.o.adminProject.domainName;
    } else if (payload.scope === 'domain') {
      const domain = await repos.projects.getDomain(payload.scopeId ?? '');
      if (!domain || !isTrue(domain.enabled)) throw unauthorizedToken();
      validated.domain = { id: domain.id, name: domain.name };
    }

    if (payload.scope !== 'unscoped') {
      // A trust token carries the trust's roles (held by the trustor); otherwise the user's own.
      const holder = trust ? (trust.holderUserId ?? trust.trustorUserId) : user.id;
      const scope =
        payload.scope === 'system'
          ? ({ system: true } as const)
          : payload.scope === 'project'
            ? { projectId: validated.project!.id }
            : { domainId: validated.domain!.id };
      const assigned = await assignmentsForScope(repos, holder, scope);
      let roles = graph.expand(assigned.map((a) => a.role_id));
      if (trust) {
        const allowed = new Set(graph.expand(trust.roleIds).map((r) => r.id));
        roles = roles.filter((r) => allowed.has(r.id));
      }
      if (validated.appCredential) {
        const allowed = new Set(graph.expand(validated.appCredential.roleIds).map((r) => r.id));
        roles = roles.filter((r) => allowed.has(r.id));
      }
      if (roles.length === 0) throw unauthorizedToken();
      validated.roles = roles.map((r) => ({ id: r.id, name: r.name }));
    }
    return validated;
  }

  private async enabledDomain(project: ProjectRow): Promise<ProjectRow> {
    if (isTrue(project.is_domain)) return project;
    const domain = await this.o.repos.projects.getDomain(project.domain_id);
    if (!domain || !isTrue(domain.enabled)) throw unauthorizedToken();
    return domain;
  }

  /**
   * The token body as JSON text, kept with the validated token: validation of
   * a known token (the hot path) then costs no rendering or serialising. The
   * cache entry, and so this text, is dropped whenever identity data changes.
   */
  async renderJson(v: ValidatedToken, options: { catalog: boolean }): Promise<string> {
    let texts = this.rendered.get(v);
    if (!texts) this.rendered.set(v, (texts = {}));
    const key = options.catalog ? 'catalog' : 'bare';
    return (texts[key] ??= JSON.stringify(await this.render(v, options)));
  }

  /** Keystone's token body (`{"token": {...}}`). */
  async render(v: ValidatedToken, options: { catalog: boolean }): Promise<{ token: Record<string, unknown> }> {
    const p = v.payload;
    const token: Record<string, unknown> = {
      methods: p.methods,
      user: { ...v.user },
      audit_ids: p.parentAuditId ? [p.auditId, p.parentAuditId] : [p.auditId],
      expires_at: isoMicro(new Date(p.expiresAtMs)),
      issued_at: isoMicro(new Date(p.issuedAtMs)),
    };
    if (v.project) {
      token['project'] = { id: v.project.id, name: v.project.name, domain: v.project.domain };
      token['is_domain'] = v.project.isDomain;
      token['is_admin_project'] = v.isAdminProject;
    } else if (v.domain) {
      token['domain'] = v.domain;
    } else if (v.system) {
      token['system'] = { all: true };
    }
    if (p.scope !== 'unscoped') token['roles'] = v.roles;
    if (v.trust) {
      token['OS-TRUST:trust'] = {
        id: v.trust.id,
        impersonation: v.trust.impersonation,
        trustor_user: { id: v.trust.trustorUserId },
        trustee_user: { id: v.trust.trusteeUserId },
      };
    }
    if (v.appCredential) {
      const ac: Record<string, unknown> = { id: v.appCredential.id, name: v.appCredential.name, restricted: v.appCredential.restricted };
      if (v.appCredential.accessRules) ac['access_rules'] = v.appCredential.accessRules;
      token['application_credential'] = ac;
    }
    if (options.catalog && p.scope !== 'unscoped') {
      token['catalog'] = substituteCatalog(await this.o.catalog(), v.project?.id);
    }
    return { token };
  }

  /** The caller's view for other services (what keystonemiddleware puts in headers). */
  toAuthContext(v: ValidatedToken): AuthContext {
    const ctx: AuthContext = {
      token: v.token,
      userId: v.user.id,
      userName: v.user.name,
      userDomainId: v.user.domain.id,
      userDomainName: v.user.domain.name,
      roles: v.roles.map((r) => r.name.toLowerCase()),
      roleIds: v.roles.map((r) => r.id),
      isAdminProject: v.isAdminProject,
      expiresAt: new Date(v.payload.expiresAtMs),
      issuedAt: new Date(v.payload.issuedAtMs),
      methods: v.payload.methods,
      auditIds: v.payload.parentAuditId ? [v.payload.auditId, v.payload.parentAuditId] : [v.payload.auditId],
    };
    if (v.project) {
      ctx.projectId = v.project.id;
      ctx.projectName = v.project.name;
      ctx.projectDomainId = v.project.domain.id;
      ctx.projectDomainName = v.project.domain.name;
    }
    if (v.domain) {
      ctx.domainId = v.domain.id;
      ctx.domainName = v.domain.name;
    }
    if (v.system) ctx.system = true;
    if (v.trust) ctx.trustId = v.trust.id;
    if (v.appCredential) {
      ctx.appCredentialId = v.appCredential.id;
      if (v.appCredential.accessRules) ctx.accessRules = v.appCredential.accessRules.map((r) => ({ service: r.service, method: r.method, path: r.path }));
    }
    return ctx;
  }

  /** Revokes one token (DELETE /v3/auth/tokens): its audit id, so rescoped children stay valid. */
  async revoke(v: ValidatedToken): Promise<void> {
    await this.o.revocations.revoke({ auditId: v.payload.auditId });
  }
}

export function revocable(v: ValidatedToken) {
  return {
    userId: v.user.id,
    otherUserIds: v.trust ? [v.trust.trustorUserId, v.trust.trusteeUserId] : [],
    ...(v.project ? { projectId: v.project.id } : {}),
    ...(v.domain ? { domainId: v.domain.id } : {}),
    domainIds: [v.user.domain.id, ...(v.project ? [v.project.domain.id] : [])],
    roleIds: v.roles.map((r) => r.id),
    ...(v.trust ? { trustId: v.trust.id } : {}),
    ...(v.appCredential ? { appCredId: v.appCredential.id } : {}),
    auditId: v.payload.auditId,
    auditChainId: v.payload.parentAuditId ?? v.payload.auditId,
    issuedAtMs: v.payload.issuedAtMs,
  };
}

export function passwordExpiresAt(user: UserRow): string | null {
  const options = JSON.parse(user.options || '{}') as Record<string, unknown>;
  if (options['ignore_password_expiry'] === true) return null;
  return user.password_expires_at;
}

function substituteCatalog(catalog: CatalogEntry[], projectId: string | undefined): CatalogEntry[] {
  if (!projectId) return catalog.map((s) => ({ ...s, endpoints: s.endpoints.filter((e) => !/[$%]\(\w+\)s/.test(e.url)) }));
  return catalog.map((s) => ({
    ...s,
    endpoints: s.endpoints.map((e) =>
      /[$%]\(\w+\)s/.test(e.url) ? { ...e, url: e.url.replace(/[$%]\((project_id|tenant_id)\)s/g, projectId) } : e,
    ),
  }));
}
