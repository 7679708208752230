import { Errors } from '../errors.js';

/** The service user's credentials, like [keystone_authtoken] in every OpenStack service's config. */
export interface ServiceCredentials {
  authUrl: string;
  username: string;
  password: string;
  userDomainName: string;
  projectName: string;
  projectDomainName: string;
  region: string;
}

export interface CatalogEndpoint {
  interface: string;
  region: string | null;
  url: string;
}

export interface ServiceSession {
  /** A valid service token (renewed before it expires). */
  token(): Promise<string>;
  /** The endpoint URL of a service type from the token's catalog. */
  endpoint(type: string, iface?: string): Promise<string>;
  /** fetch() against a service type, with the service token (and the user's token in X-Auth-Token when given). */
  request(type: string, path: string, init?: RequestInit & { userToken?: string; json?: unknown }): Promise<Response>;
}

/**
 * A keystoneauth-like session for service-to-service calls over HTTP. It
 * works the same whether the other service runs in this process or another.
 */
export function createServiceSession(creds: ServiceCredentials): ServiceSession {
  let cached: { token: string; expiresAt: number; catalog: Array<{ type: string; endpoints: CatalogEndpoint[] }> } | undefined;
  let pending: Promise<NonNullable<typeof cached>> | undefined;

  async function authenticate(): Promise<NonNullable<typeof cached>> {
    const res = await fetch(`${creds.authUrl.replace(/\/$/, '')}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: creds.username, password: creds.password, domain: { name: creds.userDomainName } } },
          },
          scope: { project: { name: creds.projectName, domain: { name: creds.projectDomainName } } },
        },
      }),
    });
    if (res.status !== 201) throw Errors.serviceUnavailable(`service authentication failed (${res.status})`);
    const body = (await res.json()) as { token: { expires_at: string; catalog: Array<{ type: string; endpoints: CatalogEndpoint[] }> } };
    return { token: res.headers.get('x-subject-token')!, expiresAt: Date.parse(body.token.expires_at), catalog: body.token.catalog };
  }

  async function current() {
    if (cached && cached.expiresAt - Date.now() > 120_000) return cached;
    pending ??= authenticate().finally(() => (pending = undefined));
    cached = await pending;
    return cached;
  }

  const session: ServiceSession = {
    async token() {
      return (await current()).token;
    },
    async endpoint(type, iface = 'internal') {
      const c = await current();
      const svc = c.catalog.find((s) => s.type === type);
      const ep =
        svc?.endpoints.find((e) => e.interface === iface && (e.region === creds.region || e.region === null)) ??
        svc?.endpoints.find((e) => e.interface === 'public');
      if (!ep) throw Errors.serviceUnavailable(`no ${type} endpoint in the catalog`);
      return ep.url.replace(/\/$/, '');
    },
    async request(type, path, init = {}) {
      const base = await session.endpoint(type);
      const serviceToken = await session.token();
      const headers = new Headers(init.headers);
      headers.set('x-auth-token', init.userToken ?? serviceToken);
      if (init.userToken) headers.set('x-service-token', serviceToken);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      const { userToken: _u, json: _j, ...rest } = init;
      return fetch(`${base}${path}`, { ...rest, headers, body: body ?? null });
    },
  };
  return session;
}
