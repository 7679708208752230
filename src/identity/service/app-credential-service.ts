import type { AuthContext } from '../../core/auth/context.js';
import { fromJson, isTrue, toJson } from '../../core/db/columns.js';
import { isUniqueViolation } from '../../core/db/database.js';
import { Errors } from '../../core/errors.js';
import { isoMicro, newHexId, randomUrlSafe } from '../../core/ids.js';
import type { AccessRuleRow, AppCredentialRow, UserRow } from '../db/tables.js';
import { GLOBAL_ROLE_DOMAIN } from '../db/tables.js';
import { obj, type MethodResult } from './auth-service.js';
import type { Identity } from './identity.js';
import { parseExpiration } from './iso-time.js';
import type { TokenAppCredential } from './token-service.js';

type Json = Record<string, unknown>;

export interface StoredRole {
  id: string;
  name: string;
  domain_id: string | null;
}

export interface AccessRuleInput {
  id?: string;
  service?: string;
  path?: string;
  method?: string;
}

export interface AppCredentialInput {
  name: string;
  description?: string | null | undefined;
  secret?: string | undefined;
  expiresAt?: unknown;
  roles?: Array<{ id?: string; name?: string }> | undefined;
  unrestricted?: boolean | undefined;
  accessRules?: AccessRuleInput[] | undefined;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const unauthorized = (msg = 'The request you have made requires authentication.') => Errors.unauthorized(msg);

/** Delegated tokens (trusts, OAuth1, EC2) may not manage application credentials (Keystone LP#2150089). */
export function blockDelegated(caller: AuthContext, what: string): void {
  if (caller.methods.includes('application_credential')) return;
  if (caller.trustId || caller.methods.some((m) => m === 'oauth1' || m === 'ec2credential')) {
    throw Errors.forbidden(`Cannot manage ${what} with a token issued via delegation.`);
  }
}

/**
 * Application credentials: a secret bound to one user on one project with a
 * subset of the user's roles, optionally limited to some API calls (access
 * rules) and an expiry. Also the `application_credential` auth method.
 */
export function createAppCredentialService(identity: Identity) {
  const { repos, hasher } = identity;

  async function get(userId: string, id: string): Promise<AppCredentialRow> {
    const row = await repos.appCredentials.get(id);
    if (!row || row.user_id !== userId) throw Errors.notFound('application credential', id);
    return row;
  }

  /** An app-credential token may manage app credentials only when its credential is unrestricted. */
  async function checkUnrestricted(caller: AuthContext): Promise<void> {
    if (!caller.methods.includes('application_credential')) return;
    const own = caller.appCredentialId ? await repos.appCredentials.get(caller.appCredentialId) : undefined;
    if (!own || !isTrue(own.unrestricted)) {
      throw Errors.forbidden("Using method 'application_credential' is not allowed for managing additional application credentials.");
    }
  }

  async function resolveRoles(requested: AppCredentialInput['roles'], caller: AuthContext): Promise<StoredRole[]> {
    const graph = await identity.roleGraph();
    const tokenRoles = new Set(caller.roleIds);
    if (!requested || requested.length === 0) {
      return caller.roleIds.map((id) => graph.byId.get(id)).filter((r) => r !== undefined).map(storedRole);
    }
    const out: StoredRole[] = [];
    for (const ref of requested) {
      let role = ref.id !== undefined ? graph.byId.get(ref.id) : undefined;
      if (ref.id === undefined && ref.name !== undefined) {
        role = [...graph.byId.values()].find((r) => r.name === ref.name && r.domain_id === GLOBAL_ROLE_DOMAIN);
      }
      if (!role) throw Errors.notFound('role', ref.id ?? ref.name ?? '');
      if (!tokenRoles.has(role.id)) throw Errors.badRequest('Invalid application credential: Cannot create an application credential with unassigned role');
      if (!out.some((r) => r.id === role!.id)) out.push(storedRole(role));
    }
    return out;
  }

  async function resolveAccessRules(userId: string, rules: AccessRuleInput[]): Promise<AccessRuleRow[]> {
    const out: AccessRuleRow[] = [];
    for (const r of rules) {
      if (r.id !== undefined && r.service === undefined && r.path === undefined && r.method === undefined) {
        const existing = await repos.appCredentials.getRule(r.id);
        if (!existing || existing.user_id !== userId) throw Errors.notFound('access rule', r.id);
        out.push(existing);
        continue;
      }
      if (typeof r.service !== 'string' || r.service === '' || typeof r.path !== 'string' || !r.path.startsWith('/') || typeof r.method !== 'string') {
        throw Errors.badRequest("Invalid input for field 'access_rules': each rule needs 'service', 'path' (starting with '/') and 'method'.");
      }
      if (!METHODS.includes(r.method)) throw Errors.badRequest(`Invalid input for field 'access_rules/method': '${r.method}' is not one of ${METHODS.join(', ')}`);
      const spec = { service: r.service, path: r.path, method: r.method };
      const existing = await repos.appCredentials.findRule(userId, spec);
      if (existing) {
        out.push(existing);
        continue;
      }
      const id = r.id ?? newHexId();
      const row: AccessRuleRow = { id, external_id: id, user_id: userId, ...spec };
      await repos.appCredentials.insertRule(row);
      out.push(row);
    }
    return out;
  }

  async function create(caller: AuthContext, userId: string, input: AppCredentialInput): Promise<{ row: AppCredentialRow; secret: string; rules: AccessRuleRow[] }> {
    blockDelegated(caller, 'application credentials');
    await checkUnrestricted(caller);
    if (caller.userId !== userId) throw Errors.forbidden('Cannot create an application credential for another user.');
    if (!caller.projectId) throw Errors.badRequest('Invalid application credential: a project-scoped token is required to create an application credential.');
    const roles = await resolveRoles(input.roles, caller);
    const expires = parseExpiration(input.expiresAt);
    const secret = input.secret ?? randomUrlSafe(64);
    const rules = input.accessRules ? await resolveAccessRules(userId, input.accessRules) : [];
    const row: AppCredentialRow = {
      id: newHexId(),
      name: input.name,
      description: input.description ?? null,
      user_id: userId,
      project_id: caller.projectId,
      system: null,
      secret_hash: await hasher.hash(secret),
      expires_at: expires?.text ?? null,
      unrestricted: input.unrestricted ? 1 : 0,
      roles: toJson(roles),
      created_at: isoMicro(new Date()),
    };
    try {
      await repos.appCredentials.insert(row, rules.map((r) => r.id));
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`Conflict occurred attempting to store application_credential - Duplicate entry found with name ${input.name}.`);
      throw err;
    }
    return { row, secret, rules };
  }

  async function remove(caller: AuthContext, row: AppCredentialRow): Promise<void> {
    blockDelegated(caller, 'application credentials');
    await checkUnrestricted(caller);
    await deleteRows([row.id]);
  }

  /** Deletes app credentials and revokes every token made from them. */
  async function deleteRows(ids: string[]): Promise<void> {
    for (const id of ids) {
      await repos.appCredentials.delete(id);
      await identity.revocations.revoke({ appCredId: id });
    }
    if (ids.length) identity.changed();
  }

  /** Keystone deletes a user's app credentials on a project when one of their roles there is removed. */
  async function onAssignmentRemoved(userId: string, projectId: string): Promise<void> {
    await deleteRows(await repos.appCredentials.idsFor({ userId, projectId }));
  }

  async function findForAuth(body: Json): Promise<AppCredentialRow> {
    if (typeof body['id'] === 'string') {
      const row = await repos.appCredentials.get(body['id']);
      if (!row) throw unauthorized(`Could not find Application Credential: ${body['id']}.`);
      return row;
    }
    if (typeof body['name'] !== 'string') throw Errors.badRequest('An application credential must be given by id, or by name and user.');
    const userRef = obj(body['user'], 'application_credential/user');
    let user: UserRow | undefined;
    if (typeof userRef['id'] === 'string') user = await repos.users.get(userRef['id']);
    else if (typeof userRef['name'] === 'string') {
      const domainRef = obj(userRef['domain'], 'application_credential/user/domain');
      const domain =
        typeof domainRef['id'] === 'string'
          ? await repos.projects.getDomain(domainRef['id'])
          : typeof domainRef['name'] === 'string'
            ? await repos.projects.getDomainByName(domainRef['name'])
            : undefined;
      if (domain) user = await repos.users.getByName(domain.id, userRef['name']);
    } else throw Errors.badRequest('A user must be given by id or by name and domain.');
    const row = user ? await repos.appCredentials.getByName(user.id, body['name']) : undefined;
    if (!row) throw unauthorized(`Could not find Application Credential: ${body['name']}.`);
    return row;
  }

  /** The `application_credential` auth method. */
  async function authenticate(body: Json): Promise<MethodResult> {
    const secret = body['secret'];
    if (typeof secret !== 'string') throw Errors.badRequest("Invalid input for field 'application_credential/secret': expected a string.");
    const row = await findForAuth(body);
    if (!(await hasher.verify(secret, row.secret_hash))) throw unauthorized('Invalid application credential: the secret is wrong.');
    const now = Date.now();
    const expiresMs = row.expires_at ? Date.parse(row.expires_at) : undefined;
    if (expiresMs !== undefined && expiresMs <= now) throw unauthorized(`Application credential ${row.id} has expired.`);
    const user = await repos.users.get(row.user_id);
    if (!user || !isTrue(user.enabled)) throw unauthorized(`User ${row.user_id} is disabled.`);
    const tokenExpiry = now + identity.deps.config.identity.tokenExpirationSeconds * 1000;
    const result: MethodResult = {
      userId: row.user_id,
      appCredId: row.id,
      fixedScope: row.project_id ? { scope: 'project', scopeId: row.project_id } : { scope: 'system' },
    };
    // A token never outlives the credential it came from.
    if (expiresMs !== undefined && expiresMs < tokenExpiry) result.expiresAtMs = expiresMs;
    return result;
  }

  /** What a token made from an app credential carries; throws (token invalid) once it is gone or expired. */
  async function resolveForToken(id: string): Promise<TokenAppCredential> {
    const row = await repos.appCredentials.get(id);
    if (!row || (row.expires_at && Date.parse(row.expires_at) <= Date.now())) throw Errors.notFound('token', undefined);
    const rules = await repos.appCredentials.rulesOf(id);
    const out: TokenAppCredential = {
      id: row.id,
      name: row.name,
      restricted: !isTrue(row.unrestricted),
      roleIds: fromJson<StoredRole[]>(row.roles, []).map((r) => r.id),
    };
    if (rules.length) out.accessRules = rules.map((r) => ({ id: r.external_id, service: r.service, path: r.path, method: r.method }));
    return out;
  }

  return { get, create, remove, deleteRows, onAssignmentRemoved, authenticate, resolveForToken };
}

export type AppCredentialService = ReturnType<typeof createAppCredentialService>;

function storedRole(r: { id: string; name: string; domain_id: string }): StoredRole {
  return { id: r.id, name: r.name, domain_id: r.domain_id === GLOBAL_ROLE_DOMAIN ? null : r.domain_id };
}
