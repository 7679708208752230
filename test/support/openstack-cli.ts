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

/**
 * Runs several commands in one `openstack` process (its interactive mode reads
 * them from stdin), which saves the CLI's start-up of several seconds each.
 * Commands given with `-f json` print one JSON value each; the values are
 * returned in order. Throws when any command fails.
 */
export async function openstackBatch(env: Record<string, string>, commands: string[][]): Promise<unknown[]> {
  const script = commands.map((c) => c.map(shellQuote).join(' ')).join('\n') + '\n';
  const r = await new Promise<CliResult>((resolve, reject) => {
    const child = spawn(OPENSTACK_CLI, [], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', LANG: 'C.UTF-8', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(script);
  });
  // Interactive mode keeps going after a failed command and reports it on stderr only.
  if (r.code !== 0 || r.stderr.trim() !== '') throw new Error(`openstack batch failed (${r.code}): ${r.stderr.trim()}\n${script}`);
  return splitJson(r.stdout);
}

function shellQuote(s: string): string {
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  // cliff's interactive mode splits a line with shlex twice (the second time after re-joining the
  // words with spaces), so an argument with spaces needs a second quoting level: '"a b"'.
  if (/['"\\]/.test(s)) throw new Error(`openstackBatch cannot pass quotes or backslashes: ${s}`);
  return `'"${s}"'`;
}

/** Parses a stream of concatenated JSON values. */
function splitJson(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i;
    } else if ((c === '}' || c === ']') && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
}
