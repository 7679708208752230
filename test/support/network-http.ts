import type { TestCloud } from './cloud.js';
import { newProjectUser, passwordToken, type TestUser } from './image-http.js';

/** Small HTTP helpers for network tests: tokens, projects with a member user, and a Neutron client. */

export interface Reply<T = Record<string, any>> {
  status: number;
  body: T;
}

/** A project-scoped token for a user (Keystone password auth). */
export async function tokenFor(authUrl: string, user: string, password: string, project: string): Promise<string> {
  return (await passwordToken(authUrl, user, password, project)).token;
}

/** A new project with a `member` user on it (random names from the prefix). */
export const createProjectUser = newProjectUser;
export type ProjectUser = TestUser;

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
