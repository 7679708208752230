import { isUniqueViolation } from '../../core/db/database.js';
import { toJson, isTrue } from '../../core/db/columns.js';
import { Errors } from '../../core/errors.js';
import { isoMicro, newHexId } from '../../core/ids.js';
import type { GroupRow, UserRow } from '../db/tables.js';
import type { Identity } from './identity.js';

type Json = Record<string, unknown>;

export interface UserInput {
  name: string;
  domainId: string;
  password?: string | null | undefined;
  enabled?: boolean | undefined;
  defaultProjectId?: string | null | undefined;
  description?: string | null | undefined;
  options?: Json | undefined;
  extra?: Json | undefined;
}

export interface UserUpdate {
  name?: string | undefined;
  password?: string | null | undefined;
  enabled?: boolean | undefined;
  defaultProjectId?: string | null | undefined;
  description?: string | null | undefined;
  options?: Json | undefined;
  extra?: Json | undefined;
}

const USER_OPTIONS = new Set([
  'ignore_change_password_upon_first_use',
  'ignore_password_expiry',
  'ignore_lockout_failure_attempts',
  'lock_password',
  'ignore_user_inactivity',
  'multi_factor_auth_enabled',
  'multi_factor_auth_rules',
]);

/** Users, passwords (with security compliance) and groups. */
export function createUserService(identity: Identity) {
  const { repos, hasher } = identity;
  const sec = identity.deps.config.identity.securityCompliance;
  const DAY = 86_400_000;

  function checkOptions(options: Json | undefined): void {
    for (const k of Object.keys(options ?? {})) {
      if (!USER_OPTIONS.has(k)) throw Errors.badRequest(`Invalid input for field 'options': '${k}' is not a valid option.`);
    }
  }

  function checkPasswordRules(password: string): void {
    if (sec.passwordRegex && !new RegExp(sec.passwordRegex).test(password)) {
      throw Errors.badRequest(
        `Password validation error: The password does not meet the requirements: ${sec.passwordRegexDescription || sec.passwordRegex}.`,
      );
    }
  }

  function expiresAt(now: number, options: Json, adminSet: boolean): string | null {
    if (adminSet && sec.changePasswordUponFirstUse && options['ignore_change_password_upon_first_use'] !== true) {
      return isoMicro(new Date(now));
    }
    if (sec.passwordExpiresDays > 0 && options['ignore_password_expiry'] !== true) {
      return isoMicro(new Date(now + sec.passwordExpiresDays * DAY));
    }
    return null;
  }

  async function get(id: string): Promise<UserRow> {
    const u = await repos.users.get(id);
    if (!u) throw Errors.notFound('user', id);
    return u;
  }

  async function create(input: UserInput): Promise<UserRow> {
    checkOptions(input.options);
    if (!(await repos.projects.getDomain(input.domainId))) throw Errors.notFound('domain', input.domainId);
    if (input.password) checkPasswordRules(input.password);
    const now = Date.now();
    const hash = input.password ? await hasher.hash(input.password) : null;
    const row: UserRow = {
      id: newHexId(),
      domain_id: input.domainId,
      name: input.name,
      enabled: input.enabled === false ? 0 : 1,
      default_project_id: input.defaultProjectId ?? null,
      description: input.description ?? null,
      extra: toJson(input.extra),
      options: toJson(input.options),
      created_at: isoMicro(new Date(now)),
      last_active_at: null,
      password_hash: hash,
      password_created_at: hash ? isoMicro(new Date(now)) : null,
      password_expires_at: hash ? expiresAt(now, input.options ?? {}, true) : null,
      password_self_service: 0,
      failed_auth_count: 0,
      failed_auth_at: null,
    };
    try {
      await repos.users.insert(row);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw Errors.conflict(`Conflict occurred attempting to store user - Duplicate entry found with name ${input.name} at domain ID ${input.domainId}.`);
      }
      throw err;
    }
    if (hash) await repos.users.addPasswordHistory(newHexId(), row.id, hash, row.created_at);
    return row;
  }

  async function update(row: UserRow, changes: UserUpdate): Promise<UserRow> {
    checkOptions(changes.options);
    const set: Partial<UserRow> = {};
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.enabled !== undefined) set.enabled = changes.enabled ? 1 : 0;
    if (changes.defaultProjectId !== undefined) set.default_project_id = changes.defaultProjectId;
    if (changes.description !== undefined) set.description = changes.description;
    const options = { ...(JSON.parse(row.options || '{}') as Json), ...(changes.options ?? {}) };
    for (const [k, v] of Object.entries(changes.options ?? {})) if (v === null) delete options[k];
    if (changes.options !== undefined) set.options = toJson(options);
    if (changes.extra !== undefined) set.extra = toJson({ ...(JSON.parse(row.extra || '{}') as Json), ...changes.extra });
    const now = Date.now();
    if (changes.password !== undefined) {
      if (changes.password === null) {
        set.password_hash = null;
      } else {
        checkPasswordRules(changes.password);
        set.password_hash = await hasher.hash(changes.password);
        set.password_created_at = isoMicro(new Date(now));
        set.password_expires_at = expiresAt(now, options, true);
        set.password_self_service = 0;
        await repos.users.addPasswordHistory(newHexId(), row.id, set.password_hash, set.password_created_at);
      }
      set.failed_auth_count = 0;
      set.failed_auth_at = null;
    } else if (changes.options !== undefined && 'ignore_password_expiry' in changes.options && row.password_hash) {
      set.password_expires_at = expiresAt(Date.parse(row.password_created_at ?? isoMicro(new Date(now))), options, false);
    }
    if (Object.keys(set).length > 0) {
      try {
        await repos.users.update(row.id, set);
      } catch (err) {
        if (isUniqueViolation(err)) throw Errors.conflict(`Conflict occurred attempting to store user - Duplicate entry found with name ${changes.name}.`);
        throw err;
      }
    }
    const disabled = changes.enabled === false && isTrue(row.enabled);
    if (disabled || changes.password !== undefined) await identity.revocations.revoke({ userId: row.id });
    identity.changed();
    return (await repos.users.get(row.id))!;
  }

  /** The user changes their own password, proving the old one (POST /v3/users/{id}/password). */
  async function changeOwnPassword(row: UserRow, original: string, password: string): Promise<void> {
    try {
      await identity.auth.checkPassword(row, original);
    } catch (err) {
      // An expired password may still be changed; anything else is a failed authentication.
      if (!(err instanceof Error && /expired/.test(err.message))) throw Errors.unauthorized('The request you have made requires authentication.');
    }
    const options = JSON.parse(row.options || '{}') as Json;
    if (options['lock_password'] === true) throw Errors.forbidden('You are not allowed to change the password of this user.');
    const now = Date.now();
    // Minimum age applies to passwords the user chose, not to ones an admin set (Keystone's self_service flag).
    if (sec.minimumPasswordAgeDays > 0 && row.password_self_service === 1 && row.password_created_at) {
      const allowedAt = Date.parse(row.password_created_at) + sec.minimumPasswordAgeDays * DAY;
      if (allowedAt > now) {
        const daysLeft = Math.floor((allowedAt - now) / DAY);
        throw Errors.badRequest(`Password validation error: You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for ${sec.minimumPasswordAgeDays} day(s) before it can be changed. Please try again in ${daysLeft} day(s) or contact your administrator to reset your password.`);
      }
    }
    checkPasswordRules(password);
    // Keystone 22: the new password may not be any of the last N (the current one included).
    if (sec.uniqueLastPasswordCount > 0) {
      for (const old of await repos.users.passwordHistory(row.id, sec.uniqueLastPasswordCount)) {
        if (await hasher.verify(password, old)) {
          throw Errors.badRequest(`Password validation error: The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${sec.uniqueLastPasswordCount}.`);
        }
      }
    }
    const hash = await hasher.hash(password);
    const createdAt = isoMicro(new Date(now));
    await repos.users.update(row.id, {
      password_hash: hash,
      password_created_at: createdAt,
      password_expires_at: expiresAt(now, options, false),
      password_self_service: 1,
      failed_auth_count: 0,
      failed_auth_at: null,
    });
    await repos.users.addPasswordHistory(newHexId(), row.id, hash, createdAt);
    await identity.revocations.revoke({ userId: row.id });
    identity.changed();
  }

  async function remove(row: UserRow): Promise<void> {
    await repos.assignments.removeForActor(row.id);
    // What belongs to the user goes with it, as Keystone's user-deleted callbacks do.
    await identity.appCredentials.deleteRows(await repos.appCredentials.idsFor({ userId: row.id }));
    await repos.appCredentials.deleteRulesOfUser(row.id);
    await repos.credentials.deleteFor({ userId: row.id });
    await identity.trusts.removeInvolving(row.id);
    await repos.users.delete(row.id);
    await identity.revocations.revoke({ userId: row.id });
    identity.changed();
  }

  async function getGroup(id: string): Promise<GroupRow> {
    const g = await repos.groups.get(id);
    if (!g) throw Errors.notFound('group', id);
    return g;
  }

  async function createGroup(input: { name: string; domainId: string; description?: string | undefined; extra?: Json }): Promise<GroupRow> {
    if (!(await repos.projects.getDomain(input.domainId))) throw Errors.notFound('domain', input.domainId);
    const row: GroupRow = { id: newHexId(), domain_id: input.domainId, name: input.name, description: input.description ?? '', extra: toJson(input.extra) };
    try {
      await repos.groups.insert(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`Conflict occurred attempting to store group - Duplicate entry found with name ${input.name}.`);
      throw err;
    }
    return row;
  }

  async function removeGroup(row: GroupRow): Promise<void> {
    const members = await repos.groups.memberIds(row.id);
    await repos.assignments.removeForActor(row.id);
    await repos.groups.delete(row.id);
    for (const userId of members) await identity.revocations.revoke({ userId });
    identity.changed();
  }

  return { get, create, update, changeOwnPassword, remove, getGroup, createGroup, removeGroup };
}

export type UserService = ReturnType<typeof createUserService>;
