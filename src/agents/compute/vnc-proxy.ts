import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Log } from '../../core/log.js';

/**
 * The noVNC proxy (Nova's nova-novncproxy, port 6080): a browser opens
 * `vnc_lite.html?path=%3Ftoken%3D<token>`; the page connects a WebSocket
 * back here with the token; the proxy asks who the token belongs to (the
 * compute service's console auth tokens) and pipes the WebSocket to that
 * guest's VNC server, which listens on the compute host's loopback only.
 * noVNC's static files come from Debian's `novnc` package when installed.
 */

export interface VncTarget {
  host: string;
  port: number;
}

export interface VncProxyOptions {
  log: Log;
  /** The guest's VNC endpoint for a console token, or undefined if the token is unknown or expired. */
  resolve(token: string): Promise<VncTarget | undefined>;
  /** noVNC's web files (default /usr/share/novnc). */
  staticDir?: string;
}

const MIME: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json' };

/** The token from `?token=` or from noVNC's `?path=?token=…`. */
export function tokenOf(url: string): string | undefined {
  const u = new URL(url, 'http://x');
  const direct = u.searchParams.get('token');
  if (direct) return direct;
  const path = u.searchParams.get('path');
  if (path) return new URL(path, 'http://x').searchParams.get('token') ?? undefined;
  return undefined;
}

export function createVncProxy(opts: VncProxyOptions): Server {
  const staticDir = opts.staticDir ?? '/usr/share/novnc';
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(staticDir, path === '/' ? 'vnc_lite.html' : path));
    if (!file.startsWith(normalize(staticDir)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(existsSync(staticDir) ? 'not found\n' : 'noVNC is not installed on this host (apt-get install novnc)\n');
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  // noVNC asks for the "binary" subprotocol; plain clients ask for none.
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false) });
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    void (async () => {
      const token = tokenOf(req.url ?? '/');
      const target = token ? await opts.resolve(token).catch(() => undefined) : undefined;
      if (!target) {
        opts.log.info({ url: req.url?.replace(/token=[^&]+/, 'token=***') }, 'VNC proxy: unknown or missing console token');
        socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => pipe(ws, target, opts.log));
    })();
  });
  server.on('close', () => wss.close());
  return server;
}

function pipe(ws: WebSocket, target: VncTarget, log: Log): void {
  const tcp = connect(target.port, target.host);
  tcp.setNoDelay(true);
  const pending: Buffer[] = [];
  let connected = false;
  tcp.on('connect', () => {
    connected = true;
    for (const b of pending.splice(0)) tcp.write(b);
  });
  tcp.on('data', (d: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(d, { binary: true });
  });
  ws.on('message', (d: Buffer | ArrayBuffer | Buffer[]) => {
    const b = Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d);
    if (connected) tcp.write(b);
    else pending.push(b);
  });
  const closeBoth = () => {
    tcp.destroy();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
  };
  tcp.on('error', (err) => {
    log.warn({ err: err.message, target }, 'VNC proxy: cannot reach the guest console');
    closeBoth();
  });
  tcp.on('close', closeBoth);
  ws.on('close', closeBoth);
  ws.on('error', closeBoth);
}
