import type { FastifyRequest } from 'fastify';

/** `scheme://host[:port]` the client used (honours X-Forwarded-Proto/Host from a proxy), for absolute links. */
export function requestBaseUrl(req: FastifyRequest): string {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim() || undefined;
  const proto = first(req.headers['x-forwarded-proto']) ?? req.protocol;
  const host = first(req.headers['x-forwarded-host']) ?? req.headers.host ?? 'localhost';
  return `${proto}://${host}`;
}
