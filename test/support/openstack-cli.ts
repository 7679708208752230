import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export const OPENSTACK_CLI = '/usr/bin/openstack';

/** Whether Debian's python3-openstackclient is installed (tests that drive it skip otherwise). */
export const haveOpenstackCli = existsSync(OPENSTACK_CLI);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `openstack` CLI with the given OS_* environment. */
export function openstack(env: Record<string, string>, args: string[], options: { timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(OPENSTACK_CLI, args, {
      // The CLI must see only our cloud's variables, not the developer's.
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', LANG: 'C.UTF-8', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Runs a command with `-f json` and parses the output; throws with stderr when it fails. */
export async function openstackJson<T = Record<string, unknown>>(env: Record<string, string>, args: string[]): Promise<T> {
  const r = await openstack(env, [...args, '-f', 'json']);
  if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as T;
}

/** Runs a command and throws with stderr when it fails. */
export async function openstackOk(env: Record<string, string>, args: string[]): Promise<string> {
  const r = await openstack(env, args);
  if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}
