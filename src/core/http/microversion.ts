import type { FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from '../errors.js';

/** A microversion such as 2.79, comparable with `compare`/`atLeast`. */
export interface Microversion {
  major: number;
  minor: number;
}

export interface MicroversionSpec {
  /** Service type in `OpenStack-API-Version: <type> X.Y` (compute, volume, placement). */
  serviceType: string;
  min: Microversion;
  max: Microversion;
  /** Legacy header some clients send instead (Nova: X-OpenStack-Nova-API-Version). */
  legacyHeader?: string;
}

export function parseVersion(text: string): Microversion | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

export function formatVersion(v: Microversion): string {
  return `${v.major}.${v.minor}`;
}

export function compare(a: Microversion, b: Microversion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

export function atLeast(v: Microversion, text: string): boolean {
  return compare(v, parseVersion(text)!) >= 0;
}

export function atMost(v: Microversion, text: string): boolean {
  return compare(v, parseVersion(text)!) <= 0;
}

declare module 'fastify' {
  interface FastifyRequest {
    microversion?: Microversion;
  }
}

/**
 * Reads the requested microversion: `OpenStack-API-Version: <type> X.Y` (may
 * list several services, comma separated) or the legacy header; `latest`
 * means the max; none means the min. Out of range is 406, malformed 400.
 */
export function requestedVersion(req: FastifyRequest, spec: MicroversionSpec): { version: Microversion; header: string | undefined } {
  let raw: string | undefined;
  let header: string | undefined;
  const generic = req.headers['openstack-api-version'];
  const values = (Array.isArray(generic) ? generic.join(',') : generic ?? '').split(',');
  for (const v of values) {
    const [type, ver] = v.trim().split(/\s+/);
    if (type && ver && type.toLowerCase() === spec.serviceType) {
      raw = ver;
      header = 'openstack-api-version';
    }
  }
  if (raw === undefined && spec.legacyHeader) {
    const legacy = req.headers[spec.legacyHeader.toLowerCase()];
    const s = Array.isArray(legacy) ? legacy[0] : legacy;
    if (s) {
      raw = s.trim();
      header = spec.legacyHeader;
    }
  }
  if (raw === undefined) return { version: spec.min, header: undefined };
  if (raw.toLowerCase() === 'latest') return { version: spec.max, header };
  const v = parseVersion(raw);
  if (!v) throw Errors.badRequest(`API Version String ${raw} is of invalid format. Must be of format MajorNum.MinorNum.`);
  if (compare(v, spec.min) < 0 || compare(v, spec.max) > 0) {
    throw Errors.notAcceptable(`Version ${raw} is not supported by the API. Minimum is ${formatVersion(spec.min)} and maximum is ${formatVersion(spec.max)}.`);
  }
  return { version: v, header };
}

/** Sets the response headers for the negotiated version (echoed in both forms the client may read). */
export function echoVersion(reply: FastifyReply, spec: MicroversionSpec, v: Microversion): void {
  reply.header('openstack-api-version', `${spec.serviceType} ${formatVersion(v)}`);
  const vary = ['OpenStack-API-Version'];
  if (spec.legacyHeader) {
    reply.header(spec.legacyHeader, formatVersion(v));
    vary.push(spec.legacyHeader);
  }
  reply.header('vary', vary.join(', '));
}

/** Fastify onRequest hook: negotiate, put the version on req.microversion, echo it. */
export function microversionHook(spec: MicroversionSpec) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    // Set the fallback first so that a fault for a bad header is still rendered with a version.
    req.microversion = spec.min;
    const { version } = requestedVersion(req, spec);
    req.microversion = version;
    echoVersion(reply, spec, version);
  };
}
