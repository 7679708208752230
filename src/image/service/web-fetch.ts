import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { Errors } from '../../core/errors.js';

export interface WebDownloadPolicy {
  allowedSchemes: string[];
  allowedPorts: number[];
  /** Hosts (names or addresses) allowed even when they are loopback/private. */
  allowedHosts: string[];
  timeoutSeconds: number;
}

/** Addresses a web-download must never reach unless explicitly allowed (SSRF into the cloud's own network). */
const FORBIDDEN = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['::ffff:0:0', 96],
] as const) {
  FORBIDDEN.addSubnet(net, bits, 'ipv6');
}

function forbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return FORBIDDEN.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Static checks of a web-download URI at request time (Glance's
 * `validate_import_uri`): scheme, port, and literal addresses. Names are
 * resolved later, by the import task, which pins the address it checked
 * (so DNS rebinding cannot redirect the download).
 */
export function checkImportUri(uri: string, policy: WebDownloadPolicy): URL {
  let url: URL;
  const refuse = () => Errors.badRequest(`URI for web-download does not pass filtering: ${uri}`);
  try {
    url = new URL(uri);
  } catch {
    throw refuse();
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!policy.allowedSchemes.includes(scheme) || (scheme !== 'http' && scheme !== 'https')) throw refuse();
  const port = Number(url.port || (scheme === 'https' ? 443 : 80));
  if (policy.allowedPorts.length && !policy.allowedPorts.includes(port)) throw refuse();
  if (url.username || url.password) throw refuse();
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && forbiddenAddress(host) && !policy.allowedHosts.includes(host)) throw refuse();
  return url;
}

const MAX_REDIRECTS = 5;

/**
 * GETs an http(s) URL for web-download: resolves the name, refuses
 * forbidden addresses, connects to the checked address (TLS still verifies
 * the name), follows a few redirects with the same checks.
 */
export async function fetchImage(uri: string, policy: WebDownloadPolicy, signal: AbortSignal): Promise<IncomingMessage> {
  let current = uri;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const url = checkImportUri(current, policy);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let address = host;
    if (!isIP(host)) {
      const found = await lookup(host, { all: true }).catch(() => []);
      if (!found.length) throw new Error(`cannot resolve ${host}`);
      const usable = found.filter((a) => policy.allowedHosts.includes(host) || !forbiddenAddress(a.address));
      if (!usable.length) throw new Error(`${host} resolves to an address web-download may not reach`);
      address = usable[0]!.address;
    }
    const res = await get(url, address, signal);
    if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
      res.resume();
      current = new URL(res.headers.location, url).toString();
      continue;
    }
    if (res.statusCode !== 200) {
      res.resume();
      throw new Error(`${url.origin}${url.pathname} answered ${res.statusCode}`);
    }
    return res;
  }
  throw new Error('too many redirects');
}

function get(url: URL, address: string, signal: AbortSignal): Promise<IncomingMessage> {
  const https = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)({
      host: address,
      port: url.port || (https ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { host: url.host, 'user-agent': 'nimbus-image-import' },
      ...(https ? { servername: url.hostname } : {}),
      signal,
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}
