import { isTrue } from '../../core/db/columns.js';
import { Errors } from '../../core/errors.js';
import { isoMicro } from '../../core/ids.js';
import type { NimbusConfig } from '../../runtime/config-schema.js';
import type { UserRow } from '../db/tables.js';
import type { PasswordHasher } from './password-hasher.js';
import type { IdentityRepos } from './repos.js';
import type { IssueRequest, TokenService, ValidatedToken } from './token-service.js';
import type { TokenScope } from './token-payload.js';
import { assignmentsForScope } from './role-resolver.js';

type Json = Record<string, unknown>;

/** Result of checking one auth method: who, and constraints on the token to issue. */
export interface MethodResult {
  userId: string;
  /** Set by token rescoping: keep expiry and audit chain of the original token. */
  expiresAtMs?: number;
  parentAuditId?: string;
  /** Set when the original token was itself scoped by a trust or app credential. */
  trustId?: string;
  appCredId?: string;
  /** Methods of the token being rescoped, which the new token keeps (Keystone lists them all). */
  methods?: string[];
  /** Application credentials fix the scope. */
  fixedScope?: { scope: TokenScope; scopeId?: string };
}

/** Pluggable methods and scopes (application credentials, trusts) live in their own modules. */
export interface AuthExtensions {
  applicationCredential?(body: Json): Promise<MethodResult>;
  /** Validates `scope["OS-TRUST:trust"]` for the trustee and returns what to issue. */
  trustScope?(trustRef: Json, trusteeUserId: string): Promise<{ trustId: string; projectId?: string; userId: string }>;
}

export interface AuthServiceOptions {
  repos: IdentityRepos;
  tokens: TokenService;
  hasher: PasswordHasher;
  security: NimbusConfig['identity']['securityCompliance'];
  extensions?: AuthExtensions;
}

const unauthorized = (msg?: string) => Errors.unauthorized(msg ?? 'The request you have made requires authentication.');

/** POST /v3/auth/tokens: authenticate by the requested methods, resolve the scope, issue. */
export class AuthService {
  constructor(private readonly o: AuthServiceOptions) {}

  /** `signal` aborts when the client goes away: a password check still queued is then skipped. */
  async authenticate(body: unknown, headerToken: string | undefined, signal?: AbortSignal): Promise<ValidatedToken> {
    const auth = obj(obj(body, 'request body')['auth'], 'auth');
    const identity = obj(auth['identity'], 'identity');
    const methods = identity['methods'];
    if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string')) {
      throw Errors.badRequest("Invalid input for field 'identity/methods': expected a non-empty list of strings.");
    }
    const results: MethodResult[] = [];
    for (const method of methods as string[]) {
      const payload = identity[method];
      switch (method) {
        case 'password':
          results.push(await this.password(obj(payload, 'password'), signal));
          break;
        case 'token':
          results.push(await this.token(payload === undefined ? {} : obj(payload, 'token'), headerToken));
          break;
        case 'application_credential':
          if (!this.o.extensions?.applicationCredential) throw unauthorized('Attempted to authenticate with an unsupported method.');
          results.push(await this.o.extensions.applicationCredential(obj(payload, 'application_credential')));
          break;
        default:
          throw unauthorized('Attempted to authenticate with an unsupported method.');
      }
    }
    const userIds = new Set(results.map((r) => r.userId));
    if (userIds.size !== 1) throw unauthorized('Authentication methods identify different users.');
    const first = results[0]!;
    const merged: MethodResult = Object.assign({}, ...results) as MethodResult;
    const allMethods = [...new Set([...(methods as string[]), ...results.flatMap((r) => r.methods ?? [])])];
    const req: IssueRequest = { userId: first.userId, methods: allMethods, scope: 'unscoped' };
    if (merged.expiresAtMs !== undefined) req.expiresAtMs = merged.expiresAtMs;
    if (merged.parentAuditId !== undefined) req.parentAuditId = merged.parentAuditId;
    if (merged.appCredId !== undefined) req.appCredId = merged.appCredId;

    const scopeBody = auth['scope'];
    if (merged.fixedScope) {
      if (scopeBody !== undefined && scopeBody !== null) {
        throw unauthorized('Application credentials cannot request a scope.');
      }
      req.scope = merged.fixedScope.scope;
      if (merged.fixedScope.scopeId) req.scopeId = merged.fixedScope.scopeId;
    } else {
      await this.resolveScope(scopeBody, req, first.userId);
    }
    return this.o.tokens.issue(req);
  }

  private async resolveScope(scopeBody: unknown, req: IssueRequest, userId: string): Promise<void> {
    const { repos } = this.o;
    if (scopeBody === undefined || scopeBody === null || scopeBody === 'unscoped') {
      // Keystone scopes to the user's default project when none is asked for and it is usable.
      const user = await repos.users.get(userId);
      if (user?.default_project_id) {
        const project = await repos.projects.get(user.default_project_id);
        if (project && isTrue(project.enabled) && (await this.hasRoles(userId, { projectId: project.id }))) {
          req.scope = 'project';
          req.scopeId = project.id;
          return;
        }
      }
      req.scope = 'unscoped';
      return;
    }
    const scope = obj(scopeBody, 'scope');
    const keys = Object.keys(scope);
    if (keys.length !== 1) throw Errors.badRequest('Specify exactly one of project, domain, system or OS-TRUST:trust as scope.');
    if (scope['project'] !== undefined) {
      const project = await this.findProject(obj(scope['project'], 'scope/project'));
      if (!isTrue(project.enabled)) throw unauthorized(`Project is disabled: ${project.id}`);
      const domain = await repos.projects.getDomain(project.domain_id);
      if (!domain || !isTrue(domain.enabled)) throw unauthorized(`Domain is disabled: ${project.domain_id}`);
      if (!(await this.hasRoles(userId, { projectId: project.id }))) {
        throw unauthorized(`User ${userId} has no access to project ${project.id}`);
      }
      req.scope = 'project';
      req.scopeId = project.id;
    } else if (scope['domain'] !== undefined) {
      const domain = await this.findDomain(obj(scope['domain'], 'scope/domain'));
      if (!isTrue(domain.enabled)) throw unauthorized(`Domain is disabled: ${domain.id}`);
      if (!(await this.hasRoles(userId, { domainId: domain.id }))) {
        throw unauthorized(`User ${userId} has no access to domain ${domain.id}`);
      }
      req.scope = 'domain';
      req.scopeId = domain.id;
    } else if (scope['system'] !== undefined) {
      const system = obj(scope['system'], 'scope/system');
      if (system['all'] !== true) throw Errors.badRequest("Invalid input for field 'scope/system': expected {\"all\": true}.");
      if (!(await this.hasRoles(userId, { system: true }))) throw unauthorized(`User ${userId} has no access to the system`);
      req.scope = 'system';
    } else if (scope['OS-TRUST:trust'] !== undefined) {
      if (!this.o.extensions?.trustScope) throw unauthorized('Trusts are not enabled.');
      const trust = await this.o.extensions.trustScope(obj(scope['OS-TRUST:trust'], 'scope/OS-TRUST:trust'), userId);
      req.trustId = trust.trustId;
      req.userId = trust.userId;
      if (trust.projectId) {
        req.scope = 'project';
        req.scopeId = trust.projectId;
      } else {
        req.scope = 'unscoped';
      }
    } else {
      throw Errors.badRequest(`Unknown scope: ${keys[0]}`);
    }
  }

  private async hasRoles(userId: string, scope: { projectId: string } | { domainId: string } | { system: true }): Promise<boolean> {
    const found = await assignmentsForScope(this.o.repos, userId, scope);
    return found.length > 0;
  }

  private async findDomain(ref: Json) {
    const { repos } = this.o;
    if (typeof ref['id'] === 'string') {
      const d = await repos.projects.getDomain(ref['id']);
      if (!d) throw unauthorized(`Could not find domain: ${ref['id']}.`);
      return d;
    }
    if (typeof ref['name'] === 'string') {
      const d = await repos.projects.getDomainByName(ref['name']);
      if (!d) throw unauthorized(`Could not find domain: ${ref['name']}.`);
      return d;
    }
    throw Errors.badRequest('A domain must be given by id or name.');
  }

  private async findProject(ref: Json) {
    const { repos } = this.o;
    if (typeof ref['id'] === 'string') {
      const p = await repos.projects.get(ref['id']);
      if (!p) throw unauthorized(`Could not find project: ${ref['id']}.`);
      return p;
    }
    if (typeof ref['name'] === 'string') {
      const domain = await this.findDomain(obj(ref['domain'], 'project/domain'));
      const p = await repos.projects.getByName(domain.id, ref['name']);
      if (!p) throw unauthorized(`Could not find project: ${ref['name']}.`);
      return p;
    }
    throw Errors.badRequest('A project must be given by id or by name and domain.');
  }

  private async findUser(ref: Json): Promise<UserRow> {
    const { repos } = this.o;
    if (typeof ref['id'] === 'string') {
      const u = await repos.users.get(ref['id']);
      if (!u) throw unauthorized();
      return u;
    }
    if (typeof ref['name'] === 'string') {
      const domain = await this.findDomain(obj(ref['domain'], 'user/domain'));
      const u = await repos.users.getByName(domain.id, ref['name']);
      if (!u) throw unauthorized();
      return u;
    }
    throw Errors.badRequest('A user must be given by id or by name and domain.');
  }

  private async password(payload: Json, signal?: AbortSignal): Promise<MethodResult> {
    const userRef = obj(payload['user'], 'password/user');
    const password = userRef['password'];
    if (typeof password !== 'string') throw Errors.badRequest("Invalid input for field 'password/user/password': expected a string.");
    const user = await this.findUser(userRef);
    return { userId: (await this.checkPassword(user, password, signal)).id };
  }

  /** Verifies a password with Keystone's security-compliance rules (lockout, expiry, enabled). */
  async checkPassword(user: UserRow, password: string, signal?: AbortSignal): Promise<UserRow> {
    const sec = this.o.security;
    const { repos } = this.o;
    const options = JSON.parse(user.options || '{}') as Json;
    const now = Date.now();
    const lockout = sec.lockoutFailureAttempts > 0 && options['ignore_lockout_failure_attempts'] !== true;
    if (lockout) {
      // Every attempt counts as a failure before the slow check and is forgiven on success, so
      // concurrent guesses cannot outrun the lockout: at most N checks run per lockout period.
      const staleBefore = isoMicro(new Date(now - sec.lockoutDurationSeconds * 1000));
      const count = await repos.users.chargeAttempt(user.id, isoMicro(new Date(now)), staleBefore);
      if (count > sec.lockoutFailureAttempts) throw unauthorized(`The account is locked for user: ${user.id}.`);
    }
    let ok: boolean;
    try {
      ok = user.password_hash !== null && (await this.o.hasher.verify(password, user.password_hash, { signal }));
    } catch (err) {
      // The client left before its turn: neither a failure nor a success for lockout purposes.
      if (lockout) await repos.users.refundAttempt(user.id);
      if (err instanceof Error && err.name === 'AbortError') throw unauthorized('The request was abandoned.');
      throw err;
    }
    if (!ok) {
      if (!lockout) await repos.users.recordFailedAuth(user.id, isoMicro(new Date(now)), false);
      throw unauthorized();
    }
    // The right password ends a series of failures, whatever the checks below decide (as Keystone).
    if (lockout || user.failed_auth_count !== 0 || user.failed_auth_at !== null) {
      await repos.users.update(user.id, { failed_auth_count: 0, failed_auth_at: null });
    }
    if (!isTrue(user.enabled)) throw unauthorized(`User ${user.id} is disabled.`);
    if (sec.disableUserAccountDaysInactive > 0 && options['ignore_user_inactivity'] !== true) {
      const lastActive = Date.parse(user.last_active_at ?? user.created_at);
      if (lastActive + sec.disableUserAccountDaysInactive * 86_400_000 < now) throw unauthorized(`User ${user.id} is disabled (inactive).`);
    }
    const domain = await repos.projects.getDomain(user.domain_id);
    if (!domain || !isTrue(domain.enabled)) throw unauthorized(`Domain ${user.domain_id} is disabled.`);
    if (user.password_expires_at && options['ignore_password_expiry'] !== true && Date.parse(user.password_expires_at) <= now) {
      throw unauthorized(`The password is expired and needs to be changed for user: ${user.id}.`);
    }
    // Hashes made with older parameters are upgraded on the next good login.
    if (user.password_hash && this.o.hasher.needsRehash(user.password_hash)) {
      await repos.users.update(user.id, { password_hash: await this.o.hasher.hash(password) });
    }
    if (sec.disableUserAccountDaysInactive > 0) await repos.users.update(user.id, { last_active_at: isoMicro(new Date(now)) });
    return user;
  }

  private async token(payload: Json, headerToken: string | undefined): Promise<MethodResult> {
    const id = typeof payload['id'] === 'string' ? payload['id'] : headerToken;
    if (!id) throw Errors.badRequest("Invalid input for field 'identity/token/id'.");
    let v: ValidatedToken;
    try {
      v = await this.o.tokens.validate(id);
    } catch {
      // Keystone answers an invalid, expired or revoked token here with TokenNotFound (404), as Tempest expects.
      throw Errors.notFoundMessage('Could not find token: the token is invalid, expired or revoked.');
    }
    if (v.payload.trustId) throw Errors.forbidden('Trust tokens cannot be used to obtain new tokens.');
    if (v.payload.appCredId) throw unauthorized('Application credential tokens cannot be rescoped.');
    return { userId: v.user.id, expiresAtMs: v.payload.expiresAtMs, parentAuditId: v.payload.parentAuditId ?? v.payload.auditId, methods: v.payload.methods };
  }
}

export function obj(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw Errors.badRequest(`Invalid input for field '${field}': expected an object.`);
  }
  return value as Json;
}
