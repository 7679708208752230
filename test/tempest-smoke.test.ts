import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { startNimbusProcess } from './support/nimbus-process.js';

const RUNNER = resolve(import.meta.dirname, '../../shared/tools/tempest/run-tempest.sh');
const haveTempest = existsSync('/usr/bin/tempest') && existsSync(RUNNER);

/**
 * Tempest's smoke tests against a freshly started `nimbus up`, so that API
 * compatibility cannot regress unnoticed. Services not in the catalog are
 * skipped by the runner. Known gaps are excluded by name, each with its reason
 * in docs/compat.md.
 */
const KNOWN_GAPS: string[] = [
  // Identity features still being completed (docs/compat.md, Identity).
  'test_trusts', 'test_policies', 'test_endpoints.EndPointsTestJSON.test_update_endpoint', 'test_credentials',
];

test('tempest smoke passes against a fresh cloud', { skip: haveTempest ? false : 'tempest or ../shared/tools/tempest not installed', timeout: 30 * 60_000 }, async () => {
  const nimbus = await startNimbusProcess();
  try {
    const args = ['--results', `${nimbus.dataDir}/tempest`, ...(KNOWN_GAPS.length ? ['--exclude', KNOWN_GAPS.join('|')] : []), 'smoke'];
    const { code, out } = await run(RUNNER, args, {
      AUTH_URL: nimbus.authUrl,
      ADMIN_PASSWORD: nimbus.adminPassword,
      IDENTITY_TRUST: 'true',
      IDENTITY_APPLICATION_CREDENTIALS: 'true',
    });
    const last = out.trim().split('\n').pop() ?? '';
    const m = /tempest: (\d+) passed, (\d+) failed, (\d+) skipped/.exec(last);
    assert.ok(m, `no tempest summary (exit ${code}):\n${out.slice(-3000)}`);
    process.stdout.write(`${last}\n`);
    assert.equal(Number(m[2]), 0, `tempest smoke failures:\n${out.slice(-4000)}`);
    assert.ok(Number(m[1]) > 0);
  } finally {
    await nimbus.stop();
    rmSync(nimbus.dataDir, { recursive: true, force: true });
  }
});

function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, { env: { ...(process.env as Record<string, string>), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolveRun({ code: code ?? -1, out }));
  });
}
