import { execFile, type ExecFileOptions } from 'node:child_process';

/**
 * Runs host commands the safe way: `execFile` with an explicit argument
 * vector, never a shell, so no value (a name, an address, a MAC from an API
 * request) can be interpreted as shell syntax. Every call is bounded by a
 * timeout so a wedged tool cannot hang an agent.
 */

export interface RunOptions {
  /** Milliseconds before the command is killed (SIGKILL). Default 30 s. */
  timeoutMs?: number;
  /** Written to the command's standard input. */
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Exit codes that are not failures (default only 0). */
  okCodes?: number[];
  /** false: never throw for an exit code, return it (a missing command still throws). */
  check?: boolean;
  /** Max bytes of stdout/stderr kept. Default 64 MiB. */
  maxBuffer?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly stdout: string,
    readonly timedOut: boolean,
  ) {
    const what = timedOut ? 'timed out' : `exited ${code ?? 'by signal'}`;
    const detail = stderr.trim().split('\n').slice(-3).join(' | ');
    super(`${command} ${args.join(' ')} ${what}${detail ? `: ${detail}` : ''}`);
    this.name = 'CommandError';
  }
}

/** A function that runs a command: the real one, or a recorder in unit tests. */
export type CommandRunner = (command: string, args: readonly string[], options?: RunOptions) => Promise<RunResult>;

export const runCommand: CommandRunner = (command, args, options = {}) =>
  new Promise((resolve, reject) => {
    const execOptions: ExecFileOptions = {
      timeout: options.timeoutMs ?? 30_000,
      killSignal: 'SIGKILL',
      maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024,
      env: options.env ?? process.env,
      cwd: options.cwd,
      encoding: 'utf8',
    };
    const child = execFile(command, [...args], execOptions, (error, stdout, stderr) => {
      const out = String(stdout ?? '');
      const err = String(stderr ?? '');
      if (!error) return resolve({ stdout: out, stderr: err, code: 0 });
      const e = error as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      const code = typeof e.code === 'number' ? e.code : null;
      if (code !== null && (options.check === false || (options.okCodes ?? []).includes(code))) return resolve({ stdout: out, stderr: err, code });
      if (e.code === 'ENOENT') return reject(new CommandError(command, args, null, `${command}: command not found`, out, false));
      if (options.check === false && code === null) return resolve({ stdout: out, stderr: err, code: e.killed ? 124 : 128 });
      reject(new CommandError(command, args, code, err, out, Boolean(e.killed) && code === null));
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });

/** Whether an executable is on PATH (or an absolute path that exists and is executable). */
export async function haveCommand(command: string): Promise<boolean> {
  const { access, constants } = await import('node:fs/promises');
  const { delimiter, join, isAbsolute } = await import('node:path');
  const candidates = isAbsolute(command)
    ? [command]
    : (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).concat(['/usr/sbin', '/sbin']).map((d) => join(d, command));
  for (const p of candidates) {
    try {
      await access(p, constants.X_OK);
      return true;
    } catch {
      /* try the next */
    }
  }
  return false;
}
