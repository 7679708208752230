import { createHash, randomUUID } from 'node:crypto';
import type { AuthContext } from '../../core/auth/context.js';
import { fromJson, toJson } from '../../core/db/columns.js';
import { isUniqueViolation } from '../../core/db/database.js';
import { Errors } from '../../core/errors.js';
import { newHexId } from '../../core/ids.js';
import type { CredentialRow } from '../db/tables.js';
import type { FernetKey } from './fernet-keys.js';
import { fernetDecrypt, fernetEncrypt } from './fernet.js';
import type { Identity } from './identity.js';
import { assignmentsForScope } from './role-resolver.js';

type Json = Record<string, unknown>;

/** A credential as the API shows it: the blob decrypted. */
export interface Credential {
  id: string;
  userId: string;
  projectId: string | null;
  type: string;
  blob: string;
  extra: Json;
}

export interface CredentialInput {
  userId: string;
  projectId?: string | null | undefined;
  type: string;
  blob: string;
  extra?: Json;
}

const EC2_FIXED_KEYS = ['trust_id', 'app_cred_id', 'access_token_id', 'access_id'];

/** Keystone hashes the EC2 access key to make the credential id. */
export const ec2CredentialId = (access: string) => createHash('sha256').update(access, 'utf8').digest('hex');

/**
 * Delegated tokens (trusts, application credentials, OAuth1, EC2) may not
 * touch credentials directly (Keystone LP#2159643): a credential outlives the
 * delegation that would have created it.
 */
export function requirePrimaryAuth(caller: AuthContext): void {
  if (caller.trustId || caller.methods.some((m) => m === 'application_credential' || m === 'oauth1' || m === 'ec2credential')) {
    throw Errors.forbidden('You are not authorized to perform the requested action: Delegated tokens cannot access credentials directly.');
  }
}

/**
 * Credentials (/v3/credentials and OS-EC2). Blobs are encrypted at rest with
 * their own Fernet key repository, as Keystone's credential provider does.
 * Unlike the Keystone that CVE-2026-43001 was found in, a non-admin may only
 * store a credential for themselves and for a project they hold a role on.
 */
export function createCredentialService(identity: Identity, keys: () => FernetKey[]) {
  const { repos } = identity;

  function encrypt(blob: string): { blob: string; keyHash: string } {
    const key = keys()[0]!;
    return {
      blob: fernetEncrypt(key, Buffer.from(blob, 'utf8')),
      keyHash: createHash('sha1').update(key.signing).update(key.encryption).digest('hex'),
    };
  }

  function decrypt(row: CredentialRow): Credential {
    const plain = fernetDecrypt(keys(), row.blob);
    if (!plain) throw Errors.internal('A stored credential cannot be decrypted with the current credential keys.');
    return { id: row.id, userId: row.user_id, projectId: row.project_id, type: row.type, blob: plain.toString('utf8'), extra: fromJson<Json>(row.extra, {}) };
  }

  /** The ownership check: admins may store any credential; others only their own, on projects where they have a role. */
  async function checkOwnership(caller: AuthContext, isAdmin: boolean, userId: string, projectId: string | null): Promise<void> {
    if (isAdmin) return;
    if (userId !== caller.userId) throw Errors.forbidden('You are not authorized to perform the requested action: a credential may only be stored for yourself.');
    if (projectId !== null && (await assignmentsForScope(repos, caller.userId, { projectId })).length === 0) {
      throw Errors.forbidden(`You are not authorized to perform the requested action: you have no role on project ${projectId}.`);
    }
  }

  function ec2Blob(blob: string): Json {
    let parsed: unknown;
    try {
      parsed = JSON.parse(blob);
    } catch {
      throw Errors.badRequest('Invalid blob in credential');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
      throw Errors.badRequest("Invalid input for field 'blob': an ec2 credential blob must be a JSON object.");
    }
    if (typeof (parsed as Json)['access'] !== 'string') throw Errors.badRequest("Invalid input for field 'blob': 'access' is a required property of an ec2 credential.");
    return parsed as Json;
  }

  async function get(id: string): Promise<Credential> {
    const row = await repos.credentials.get(id);
    if (!row) throw Errors.notFound('credential', id);
    return decrypt(row);
  }

  async function list(filters: { userId?: string; type?: string }): Promise<Credential[]> {
    return (await repos.credentials.list(filters)).map(decrypt);
  }

  async function create(caller: AuthContext, isAdmin: boolean, input: CredentialInput): Promise<Credential> {
    requirePrimaryAuth(caller);
    const projectId = input.projectId ?? null;
    if (input.type === 'ec2' && projectId === null) throw Errors.badRequest("'project_id' is a required property of an ec2 credential");
    if (!(await repos.users.get(input.userId))) throw Errors.notFound('user', input.userId);
    if (projectId !== null && !(await repos.projects.get(projectId))) throw Errors.notFound('project', projectId);
    await checkOwnership(caller, isAdmin, input.userId, projectId);
    let id = newHexId();
    let blob = input.blob;
    if (input.type === 'ec2') {
      const parsed = ec2Blob(blob);
      id = ec2CredentialId(parsed['access'] as string);
      // Remember the delegation the credential was made under, as Keystone does.
      if (caller.trustId) blob = JSON.stringify({ ...parsed, trust_id: caller.trustId });
    }
    const enc = encrypt(blob);
    const row: CredentialRow = { id, user_id: input.userId, project_id: projectId, type: input.type, blob: enc.blob, key_hash: enc.keyHash, extra: toJson(input.extra) };
    try {
      await repos.credentials.insert(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`Conflict occurred attempting to store credential - Duplicate ID, ${id}.`);
      throw err;
    }
    return { id, userId: row.user_id, projectId, type: row.type, blob, extra: input.extra ?? {} };
  }

  async function update(
    caller: AuthContext,
    isAdmin: boolean,
    current: Credential,
    changes: { blob?: string | undefined; projectId?: string | null | undefined; userId?: string | undefined; type?: string | undefined; extra?: Json | undefined },
  ): Promise<Credential> {
    requirePrimaryAuth(caller);
    const next: Credential = {
      ...current,
      ...(changes.blob !== undefined ? { blob: changes.blob } : {}),
      ...(changes.projectId !== undefined ? { projectId: changes.projectId } : {}),
      ...(changes.userId !== undefined ? { userId: changes.userId } : {}),
      ...(changes.type !== undefined ? { type: changes.type } : {}),
      extra: { ...current.extra, ...(changes.extra ?? {}) },
    };
    if (next.userId !== current.userId && !(await repos.users.get(next.userId))) throw Errors.notFound('user', next.userId);
    if (next.projectId !== null && next.projectId !== current.projectId && !(await repos.projects.get(next.projectId))) throw Errors.notFound('project', next.projectId);
    // Checked on the result, so nobody can move a credential onto another user or a project of theirs they have no role on.
    await checkOwnership(caller, isAdmin, next.userId, next.projectId);
    if (next.type === 'ec2') {
      if (next.projectId === null) throw Errors.badRequest("'project_id' is a required property of an ec2 credential");
      const after = ec2Blob(next.blob);
      if (current.type === 'ec2') {
        const before = fromJson<Json>(current.blob, {});
        for (const k of EC2_FIXED_KEYS) {
          if (before[k] !== after[k]) throw Errors.badRequest(`${k} can not be updated for credential`);
        }
      }
    }
    const enc = encrypt(next.blob);
    await repos.credentials.update(current.id, {
      blob: enc.blob,
      key_hash: enc.keyHash,
      user_id: next.userId,
      project_id: next.projectId,
      type: next.type,
      extra: toJson(next.extra),
    });
    return next;
  }

  async function remove(caller: AuthContext, id: string): Promise<void> {
    requirePrimaryAuth(caller);
    await repos.credentials.delete(id);
  }

  /** POST /v3/users/{id}/credentials/OS-EC2: a fresh access/secret pair for a project. */
  async function createEc2(caller: AuthContext, isAdmin: boolean, userId: string, projectId: string): Promise<Credential> {
    const access = randomUUID().replaceAll('-', '');
    const secret = randomUUID().replaceAll('-', '');
    const blob = JSON.stringify({ access, secret, trust_id: caller.trustId ?? null });
    return create(caller, isAdmin, { userId, projectId, type: 'ec2', blob });
  }

  return { get, list, create, update, remove, createEc2, checkOwnership, ec2Blob };
}

export type CredentialService = ReturnType<typeof createCredentialService>;
