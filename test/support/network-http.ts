import type { TestCloud } from './cloud.js';

/** Small HTTP helpers for network tests: tokens, projects with a member user, and a Neutron client. */

export interface Reply<T = Record<string, any>> {
  status: number;
  body: T;
}

export async function tokenFor(authUrl: string, user: string, password: string, project: string): Promise<string> {
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
  if (res.status !== 201) throw new Error(`token for ${user}: ${res.status} ${await res.text()}`);
  return res.headers.get('x-subject-token')!;
}

export interface ProjectUser {
  projectId: string;
  projectName: string;
  user: string;
  password: string;
  token: string;
  /** OS_* variables for the openstack CLI as this user. */
  env: Record<string, string>;
}

/** Creates a project and a user with the `member` role on it (as admin, through Keystone's API). */
export async function createProjectUser(cloud: TestCloud, name: string): Promise<ProjectUser> {
  const admin = await tokenFor(cloud.authUrl, 'admin', cloud.adminPassword, 'admin');
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${cloud.authUrl}${path}`, {
      method,
      headers: { 'x-auth-token': admin, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, any>) : {};
  };
  const project = (await call('POST', '/projects', { project: { name, domain_id: 'default' } }))['project'];
  const password = `${name}-password`;
  const user = (await call('POST', '/users', { user: { name, password, domain_id: 'default', default_project_id: project.id } }))['user'];
  const role = (await call('GET', '/roles?name=member'))['roles'][0];
  await call('PUT', `/projects/${project.id}/users/${user.id}/roles/${role.id}`);
  return {
    projectId: project.id,
    projectName: name,
    user: name,
    password,
    token: await tokenFor(cloud.authUrl, name, password, name),
    env: { ...cloud.env, OS_USERNAME: name, OS_PASSWORD: password, OS_PROJECT_NAME: name },
  };
}

export interface Neutron {
  get<T = Record<string, any>>(path: string): Promise<Reply<T>>;
  post<T = Record<string, any>>(path: string, body: unknown): Promise<Reply<T>>;
  put<T = Record<string, any>>(path: string, body: unknown): Promise<Reply<T>>;
  del(path: string): Promise<Reply>;
}

export function neutron(cloud: TestCloud, token: string): Neutron {
  return neutronAt(cloud.url('network', '/v2.0'), token);
}

/** A Neutron client for the API at `base` (`http://host:port/v2.0`). */
export function neutronAt(base: string, token: string): Neutron {
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'x-auth-token': token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  };
  return {
    get: (p) => call('GET', p) as never,
    post: (p, b) => call('POST', p, b) as never,
    put: (p, b) => call('PUT', p, b) as never,
    del: (p) => call('DELETE', p),
  };
}

export async function adminNeutron(cloud: TestCloud): Promise<Neutron> {
  return neutron(cloud, await tokenFor(cloud.authUrl, 'admin', cloud.adminPassword, 'admin'));
}
