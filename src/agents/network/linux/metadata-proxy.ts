import { createServer, request, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Server } from 'node:net';
import type { Log } from '../../../core/log.js';
import { signInstanceId } from '../../../metadata/signature.js';
import { listenInNamespace } from './netns-listener.js';

/**
 * The metadata proxy (Neutron's haproxy + metadata agent in one): listens at
 * 169.254.169.254:80 inside each DHCP (or router) namespace, works out which
 * instance is asking from where the request came (the namespace tells the
 * network, the TCP source address the port), and forwards to the metadata
 * API with the instance id signed by a shared secret. Whatever identity
 * headers the guest sends are dropped: a guest can only ever get its own
 * metadata, and anti-spoofing rules keep its source address honest.
 */

export type ProxyScope = { kind: 'network'; networkId: string } | { kind: 'router'; routerId: string };

export interface InstanceIdentity {
  instanceId: string;
  projectId: string;
}

export type InstanceResolver = (scope: ProxyScope, sourceIp: string) => Promise<InstanceIdentity | undefined> | InstanceIdentity | undefined;

export interface MetadataProxyOptions {
  log: Log;
  upstream: { host: string; port: number };
  sharedSecret: string;
  resolve: InstanceResolver;
}


const HOP_AND_IDENTITY_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'forwarded',
]);

/** Headers passed on from the guest: everything except hop-by-hop and any X-* (identity) header. */
export function safeGuestHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const key = k.toLowerCase();
    if (v === undefined || HOP_AND_IDENTITY_HEADERS.has(key) || key.startsWith('x-')) continue;
    out[key] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

interface Listener {
  server: Server;
  http: HttpServer;
}

export class MetadataProxy {
  private readonly listeners = new Map<string, Listener>();

  constructor(private readonly opts: MetadataProxyOptions) {}

  has(key: string): boolean {
    return this.listeners.has(key);
  }

  keys(): string[] {
    return [...this.listeners.keys()];
  }

  /** Starts serving `scope` on host:port inside the namespace entered by `enter`. */
  async listen(key: string, scope: ProxyScope, where: { enter: string[]; host: string; port: number }): Promise<void> {
    if (this.listeners.has(key)) return;
    const server = await listenInNamespace(where);
    const http = createServer((req, res) => void this.handle(scope, req, res));
    http.keepAliveTimeout = 5_000;
    server.on('connection', (sock) => http.emit('connection', sock));
    server.on('error', (err) => this.opts.log.warn({ key, err: err.message }, 'metadata listener error'));
    this.listeners.set(key, { server, http });
  }

  async close(key: string): Promise<void> {
    const l = this.listeners.get(key);
    if (!l) return;
    this.listeners.delete(key);
    l.http.closeAllConnections();
    await new Promise<void>((resolve) => l.server.close(() => resolve()));
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.keys().map((k) => this.close(k)));
  }

  private async handle(scope: ProxyScope, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.socket.remoteAddress ?? '';
    const sourceIp = raw.startsWith('::ffff:') ? raw.slice(7) : raw;
    try {
      if (!['GET', 'HEAD', 'POST'].includes(req.method ?? '')) {
        res.writeHead(405, { 'content-type': 'text/plain' }).end('405 Method Not Allowed\n');
        return;
      }
      const who = await this.opts.resolve(scope, sourceIp);
      if (!who) {
        this.opts.log.info({ scope, sourceIp, url: req.url }, 'metadata request from an unknown address');
        res.writeHead(404, { 'content-type': 'text/plain' }).end('404 Not Found\n');
        return;
      }
      const headers: Record<string, string> = {
        ...safeGuestHeaders(req.headers),
        'x-forwarded-for': sourceIp,
        'x-instance-id': who.instanceId,
        'x-tenant-id': who.projectId,
        'x-instance-id-signature': signInstanceId(this.opts.sharedSecret, who.instanceId),
      };
      const up = request({ host: this.opts.upstream.host, port: this.opts.upstream.port, method: req.method, path: req.url, headers, timeout: 30_000 }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, safeGuestHeaders(upRes.headers));
        upRes.pipe(res);
      });
      up.on('error', (err) => {
        this.opts.log.warn({ err: err.message }, 'metadata upstream failed');
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('502 Bad Gateway\n');
        else res.destroy();
      });
      up.on('timeout', () => up.destroy(new Error('upstream timeout')));
      req.pipe(up);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'metadata proxy error');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('500 Internal Server Error\n');
    }
  }
}
