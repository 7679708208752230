import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Starting and finding QEMU processes. QEMU runs with `-daemonize`: the
 * launch returns once the monitor and VNC sockets exist, and the process is
 * not a child of the agent, so guests outlive an agent restart. The pidfile
 * plus the instance uuid on the command line identify it again later.
 */

export interface LaunchOptions {
  binary: string;
  args: string[];
  /** File that receives QEMU's stderr (appended). */
  logFile: string;
  pidFile: string;
  /** Prefix for the command, e.g. ['ip', 'netns', 'exec', 'ns1'] so QEMU opens taps in that namespace. */
  wrap?: string[];
  timeoutMs?: number;
}

export class QemuLaunchError extends Error {
  constructor(message: string, readonly log: string) {
    super(message);
    this.name = 'QemuLaunchError';
  }
}

function tail(path: string, bytes = 2000): string {
  try {
    const size = statSync(path).size;
    const buf = readFileSync(path);
    return buf.subarray(Math.max(0, size - bytes)).toString('utf8').trim();
  } catch {
    return '';
  }
}

/** Launches QEMU and returns its pid (from the pidfile). */
export async function launchQemu(opts: LaunchOptions): Promise<number> {
  const logSizeBefore = existsSync(opts.logFile) ? statSync(opts.logFile).size : 0;
  const fd = openSync(opts.logFile, 'a');
  const [cmd, ...pre] = opts.wrap?.length ? opts.wrap : [opts.binary];
  const argv = opts.wrap?.length ? [...pre, opts.binary, ...opts.args] : opts.args;
  let code: number | null;
  try {
    code = await new Promise<number | null>((resolve, reject) => {
      // stderr to a file, not a pipe: the daemonized QEMU keeps it open.
      const child = spawn(cmd!, argv, { stdio: ['ignore', fd, fd], detached: true });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new QemuLaunchError(`QEMU did not daemonize within ${opts.timeoutMs ?? 30_000} ms`, tail(opts.logFile)));
      }, opts.timeoutMs ?? 30_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  } finally {
    closeSync(fd);
  }
  if (code !== 0) {
    const log = readFileSync(opts.logFile).subarray(logSizeBefore).toString('utf8').trim();
    throw new QemuLaunchError(`QEMU failed to start (exit ${code}): ${log.split('\n').slice(-3).join(' | ')}`, log);
  }
  const pid = readPid(opts.pidFile);
  if (!pid) throw new QemuLaunchError('QEMU started but wrote no pidfile', tail(opts.logFile));
  return pid;
}

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a live (not zombie) QEMU for instance `uuid`. A daemonized
 * QEMU is reaped by PID 1, which may take seconds: `kill -0` succeeds on a
 * zombie, so read the process state instead.
 */
export function qemuAlive(pid: number | undefined, uuid: string): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(uuid);
  } catch {
    return false;
  }
}

/** SIGKILLs the process and waits (bounded) until it is gone or a zombie. */
export async function killQemu(pid: number, uuid: string, timeoutMs = 10_000): Promise<void> {
  if (!qemuAlive(pid, uuid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const until = Date.now() + timeoutMs;
  while (qemuAlive(pid, uuid) && Date.now() < until) await sleep(20);
}

/** Waits until the process is gone (or a zombie). Returns false on timeout. */
export async function waitForExit(pid: number, uuid: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (qemuAlive(pid, uuid)) {
    if (Date.now() >= until) return false;
    await sleep(25);
  }
  return true;
}
