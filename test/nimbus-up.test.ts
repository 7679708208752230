import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNimbusProcess } from './support/nimbus-process.js';
import { haveOpenstackCli, OPENSTACK_CLI } from './support/openstack-cli.js';

/**
 * `nimbus up` as a child process, as a user runs it: first start bootstraps and
 * writes openrc; `. openrc && openstack token issue` works; a restart reuses the
 * data (same admin password, no duplicate bootstrap records).
 */
// Cheap hashing keeps the test fast; the default cost is measured in bench/. No password given: one is generated.
const ENV = { NIMBUS_ADMIN_PASSWORD: '', NIMBUS_IDENTITY__PASSWORD_HASH__SCRYPT_N: '1024' };

/** `. $NIMBUS_DATA_DIR/openrc && openstack <args>` in a clean shell. */
function withOpenrc(dataDir: string, args: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/bash', ['-c', `. "$NIMBUS_DATA_DIR/openrc" && ${OPENSTACK_CLI} ${args}`], {
      env: { PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', LANG: 'C.UTF-8', NIMBUS_DATA_DIR: dataDir },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('nimbus up: first start, openrc + openstack token issue, restart reuses the data', { skip: !haveOpenstackCli && 'python3-openstackclient is not installed', timeout: 300_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-up-'));
  try {
    const first = await startNimbusProcess({ dataDir, env: ENV });
    let password: string;
    try {
      password = readFileSync(join(dataDir, 'admin-password'), 'utf8').trim();
      assert.ok(password.length >= 16, 'a generated admin password is saved');
      assert.match(first.output(), /admin password/, 'and shown once');
      assert.ok(existsSync(join(dataDir, 'clouds.yaml')));
      const t = await withOpenrc(dataDir, 'token issue -f json');
      assert.equal(t.code, 0, t.stderr);
      assert.ok(JSON.parse(t.stdout).project_id);
    } finally {
      assert.equal(await first.stop(), 0, 'clean shutdown on SIGTERM');
    }

    const second = await startNimbusProcess({ dataDir, env: ENV, ports: first.ports });
    try {
      assert.doesNotMatch(second.output(), /admin password:/, 'the password is not generated again');
      assert.equal(readFileSync(join(dataDir, 'admin-password'), 'utf8').trim(), password);
      const r = await withOpenrc(dataDir, 'role list -f json');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).map((x: { Name: string }) => x.Name).sort(), ['admin', 'member', 'reader', 'service'], 'bootstrap is idempotent');
      const e = await withOpenrc(dataDir, 'endpoint list -f json');
      assert.equal(JSON.parse(e.stdout).filter((x: { 'Service Type': string }) => x['Service Type'] === 'identity').length, 3);
    } finally {
      assert.equal(await second.stop(), 0);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
