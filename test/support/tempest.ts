import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** ../shared beside the project (as CI has it); NIMBUS_TEMPEST_RUNNER points elsewhere (e.g. from a git worktree). */
export const TEMPEST_RUNNER = process.env['NIMBUS_TEMPEST_RUNNER'] ?? resolve(import.meta.dirname, '../../../shared/tools/tempest/run-tempest.sh');
export const haveTempest = existsSync('/usr/bin/tempest') && existsSync(TEMPEST_RUNNER);

export interface TempestSummary {
  code: number;
  out: string;
  passed: number;
  failed: number;
  skipped: number;
  /** The runner's last line: `tempest: N passed, M failed, K skipped`. */
  last: string;
}

/** Runs ../shared/tools/tempest/run-tempest.sh with extra environment and reads its summary line. */
export function runTempest(args: string[], env: Record<string, string>): Promise<TempestSummary> {
  return new Promise((resolveRun) => {
    const child = spawn(TEMPEST_RUNNER, args, { env: { ...(process.env as Record<string, string>), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      const m = /tempest: (\d+) passed, (\d+) failed, (\d+) skipped/.exec(last);
      resolveRun({ code: code ?? -1, out, last, passed: m ? Number(m[1]) : -1, failed: m ? Number(m[2]) : -1, skipped: m ? Number(m[3]) : -1 });
    });
  });
}
