import { spawn } from 'node:child_process';
import type { Server } from 'node:net';

/**
 * A TCP listening socket inside another network namespace, served by this
 * process. Node cannot enter a namespace itself, so a short-lived helper
 * (this same Node binary, run with `ip netns exec`) binds the socket there and
 * hands it back over the IPC channel (SCM_RIGHTS), then exits. The socket
 * stays in its namespace; accepted connections carry the guest's real source
 * address. This replaces Neutron's haproxy-per-namespace with no extra
 * long-lived process.
 */

const HELPER = `
const net = require('net');
const [host, port] = process.argv.slice(-2);
const s = net.createServer();
s.on('error', (e) => { process.send({ ok: false, error: e.message }, () => process.exit(1)); });
s.listen({ host, port: Number(port), exclusive: true }, () => {
  process.send({ ok: true }, s, () => process.exit(0));
});
`;

export interface NetnsListenOptions {
  /** argv prefix that enters the namespace, e.g. ['ip','netns','exec','qdhcp-…']; empty: this namespace. */
  enter: string[];
  host: string;
  port: number;
  timeoutMs?: number;
}

export function listenInNamespace(opts: NetnsListenOptions): Promise<Server> {
  const [cmd, ...pre] = opts.enter.length ? opts.enter : [process.execPath];
  const argv = opts.enter.length ? [...pre, process.execPath, '-e', HELPER, '--', opts.host, String(opts.port)] : ['-e', HELPER, '--', opts.host, String(opts.port)];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, argv, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let settled = false;
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`listener helper for ${opts.host}:${opts.port} timed out`));
    }, opts.timeoutMs ?? 10_000);
    child.on('message', (msg: { ok: boolean; error?: string }, handle: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (msg.ok && handle) resolve(handle as Server);
      else reject(new Error(`cannot listen on ${opts.host}:${opts.port}: ${msg.error ?? 'no socket received'}`));
    });
    child.on('exit', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`listener helper exited ${code}: ${stderr.trim()}`));
    });
    child.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(e);
    });
  });
}
