import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { TestCloud } from './cloud.js';

/** A project-scoped user of a test cloud, with its token. */
export interface TestUser {
  projectId: string;
  projectName: string;
  userName: string;
  password: string;
  token: string;
  /** OS_* variables for the real CLI as this user. */
  env: Record<string, string>;
}

export async function passwordToken(authUrl: string, user: string, password: string, project: string): Promise<{ token: string; projectId: string }> {
  const res = await fetch(`${authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, password, domain: { id: 'default' } } } },
        scope: { project: { name: project, domain: { id: 'default' } } },
      },
    }),
  });
  if (res.status !== 201) throw new Error(`login ${user} failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { token: { project: { id: string } } };
  return { token: res.headers.get('x-subject-token')!, projectId: body.token.project.id };
}

export async function adminUser(cloud: TestCloud): Promise<TestUser> {
  const { token, projectId } = await passwordToken(cloud.authUrl, 'admin', cloud.adminPassword, 'admin');
  return { projectId, projectName: 'admin', userName: 'admin', password: cloud.adminPassword, token, env: cloud.env };
}

/** Creates a project and a user with the `member` role on it (through Keystone's API, as an admin would). */
export async function newProjectUser(cloud: TestCloud, prefix: string): Promise<TestUser> {
  const admin = await adminUser(cloud);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${cloud.authUrl}${path}`, {
      method,
      headers: { 'x-auth-token': admin.token, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? {} : ((await res.json()) as Record<string, any>);
  };
  const suffix = randomBytes(3).toString('hex');
  const projectName = `${prefix}-${suffix}`;
  const userName = `${prefix}-user-${suffix}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const project = (await call('POST', '/projects', { project: { name: projectName, domain_id: 'default' } }))['project'];
  const user = (await call('POST', '/users', { user: { name: userName, password, domain_id: 'default', default_project_id: project.id } }))['user'];
  const roles = (await call('GET', '/roles?name=member'))['roles'];
  await call('PUT', `/projects/${project.id}/users/${user.id}/roles/${roles[0].id}`);
  const { token } = await passwordToken(cloud.authUrl, userName, password, projectName);
  return {
    projectId: project.id,
    projectName,
    userName,
    password,
    token,
    env: { ...cloud.env, OS_USERNAME: userName, OS_PASSWORD: password, OS_PROJECT_NAME: projectName },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json<T = any>(): T;
}

/**
 * A plain HTTP call to the image API. `body` may be a Buffer (sent with
 * Content-Length), an async iterable of chunks (sent chunked), or JSON.
 */
export function imageCall(
  cloud: TestCloud,
  token: string | undefined,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...(token ? { 'x-auth-token': token } : {}), ...options.headers };
  let payload: Buffer | AsyncIterable<Buffer> | undefined;
  const b = options.body;
  if (Buffer.isBuffer(b)) payload = b;
  else if (b && typeof b === 'object' && Symbol.asyncIterator in b) payload = b as AsyncIterable<Buffer>;
  else if (b !== undefined) {
    payload = Buffer.from(JSON.stringify(b));
    headers['content-type'] ??= 'application/json';
  }
  const url = new URL(cloud.url('image', path));
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString()) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (payload === undefined) req.end();
    else if (Buffer.isBuffer(payload)) req.end(payload);
    else {
      void (async () => {
        try {
          for await (const chunk of payload as AsyncIterable<Buffer>) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
          req.end();
        } catch (err) {
          req.destroy(err as Error);
        }
      })();
    }
  });
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
