import type { TestCloud } from './cloud.js';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface KsResponse {
  status: number;
  body: Json;
  headers: Headers;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (for malformed bodies). */
  raw?: string;
  headers?: Record<string, string>;
}

export interface UserRef {
  id: string;
  name: string;
  password: string;
}

/**
 * A small Keystone v3 client for tests: raw calls, token issue, and
 * shortcuts to make users with roles. Every call goes over real HTTP.
 */
export function keystone(cloud: TestCloud) {
  const base = cloud.url('identity');

  async function call(method: string, path: string, o: CallOptions = {}): Promise<KsResponse> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers['x-auth-token'] = o.token;
    let body: string | undefined;
    if (o.raw !== undefined) body = o.raw;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: Json = {};
    if (text) {
      try {
        parsed = JSON.parse(text) as Json;
      } catch {
        parsed = { text };
      }
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  /** POST /v3/auth/tokens with a password; scope: a project id, `{domain: id}`, `'system'` or none. */
  async function passwordToken(user: { id?: string; name?: string; password: string }, scope?: string | { domain: string } | 'system' | Json): Promise<KsResponse & { token: string }> {
    const identity = {
      methods: ['password'],
      password: { user: user.id ? { id: user.id, password: user.password } : { name: user.name, domain: { id: 'default' }, password: user.password } },
    };
    return issue({ identity }, scope);
  }

  async function issue(auth: Json, scope?: string | { domain: string } | 'system' | Json): Promise<KsResponse & { token: string }> {
    const body: Json = { auth: { ...auth } };
    if (typeof scope === 'string') body['auth']['scope'] = scope === 'system' ? { system: { all: true } } : { project: { id: scope } };
    else if (scope && 'domain' in scope && typeof scope['domain'] === 'string') body['auth']['scope'] = { domain: { id: scope['domain'] } };
    else if (scope) body['auth']['scope'] = scope;
    const r = await call('POST', '/v3/auth/tokens', { body });
    return { ...r, token: r.headers.get('x-subject-token') ?? '' };
  }

  async function adminToken(): Promise<string> {
    const admin = await call('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: cloud.adminPassword } } },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      },
    });
    if (admin.status !== 201) throw new Error(`admin token: ${admin.status} ${JSON.stringify(admin.body)}`);
    return admin.headers.get('x-subject-token')!;
  }

  /** Whether a token is (still) valid, asked as admin. */
  async function valid(adminTok: string, token: string): Promise<boolean> {
    const r = await call('GET', '/v3/auth/tokens', { token: adminTok, headers: { 'x-subject-token': token } });
    if (r.status !== 200 && r.status !== 404) throw new Error(`validate: ${r.status} ${JSON.stringify(r.body)}`);
    return r.status === 200;
  }

  async function roleId(adminTok: string, name: string): Promise<string> {
    const r = await call('GET', `/v3/roles?name=${encodeURIComponent(name)}`, { token: adminTok });
    const role = (r.body['roles'] as Json[]).find((x) => x['domain_id'] === null);
    if (!role) throw new Error(`no role ${name}`);
    return role['id'] as string;
  }

  async function createProject(adminTok: string, name: string, extra: Json = {}): Promise<string> {
    const r = await call('POST', '/v3/projects', { token: adminTok, body: { project: { name, domain_id: 'default', ...extra } } });
    if (r.status !== 201) throw new Error(`project ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body['project']['id'] as string;
  }

  /** A user in the default domain, with the given role names on each project. */
  async function createUser(adminTok: string, name: string, grants: Record<string, string[]> = {}, extra: Json = {}): Promise<UserRef> {
    const password = `${name}-Passw0rd!`;
    const r = await call('POST', '/v3/users', { token: adminTok, body: { user: { name, password, domain_id: 'default', ...extra } } });
    if (r.status !== 201) throw new Error(`user ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    const id = r.body['user']['id'] as string;
    for (const [projectId, roles] of Object.entries(grants)) {
      for (const role of roles) {
        const g = await call('PUT', `/v3/projects/${projectId}/users/${id}/roles/${await roleId(adminTok, role)}`, { token: adminTok });
        if (g.status !== 204) throw new Error(`grant ${role}: ${g.status}`);
      }
    }
    return { id, name, password };
  }

  return { base, call, issue, passwordToken, adminToken, valid, roleId, createProject, createUser };
}

export type Keystone = ReturnType<typeof keystone>;
