import { execFile } from 'node:child_process';
import { BackendError } from './backend.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a program (never through a shell) and returns its output; a non-zero exit is a BackendError carrying stderr. */
export type RunCommand = (program: string, args: string[], options?: { timeoutMs?: number }) => Promise<CommandResult>;

export const runCommand: RunCommand = (program, args, options = {}) =>
  new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      { timeout: options.timeoutMs ?? 600_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        if (err) {
          const detail = String(stderr || err.message).trim().split('\n').slice(-3).join(' | ');
          reject(new BackendError(`${program} ${args[0] ?? ''} failed: ${detail}`, { cause: err }));
          return;
        }
        resolve({ stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
