import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/ports.js';
import { haveOpenstackCli, OPENSTACK_CLI } from './support/openstack-cli.js';

/**
 * `nimbus up` as a child process, as a user runs it: first start bootstraps and
 * writes openrc; `. openrc && openstack token issue` works; a restart reuses the
 * data (same admin password, no duplicate bootstrap records).
 */
const root = new URL('..', import.meta.url).pathname;

async function up(dataDir: string, port: number): Promise<{ child: ChildProcess; stop(): Promise<void>; output(): string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'up'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/tmp',
      NIMBUS_DATA_DIR: dataDir,
      NIMBUS_IDENTITY__PORT: String(port),
      NIMBUS_LOG__LEVEL: 'warn',
      // Cheap hashing keeps the test fast; the default is measured in bench/.
      NIMBUS_IDENTITY__PASSWORD_HASH__SCRYPT_N: '1024',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nimbus up exited early: ${out}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v3`);
      if (r.ok && existsSync(join(dataDir, 'openrc'))) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`nimbus up did not come up: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      assert.equal(code, 0, `clean shutdown on SIGTERM: ${out}`);
    },
  };
}

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
    const port = await freePort();
    const first = await up(dataDir, port);
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
      await first.stop();
    }

    const second = await up(dataDir, port);
    try {
      assert.doesNotMatch(second.output(), /admin password:/, 'the password is not generated again');
      assert.equal(readFileSync(join(dataDir, 'admin-password'), 'utf8').trim(), password);
      const r = await withOpenrc(dataDir, 'role list -f json');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).map((x: { Name: string }) => x.Name).sort(), ['admin', 'member', 'reader', 'service'], 'bootstrap is idempotent');
      const e = await withOpenrc(dataDir, 'endpoint list -f json');
      assert.equal(JSON.parse(e.stdout).filter((x: { 'Service Type': string }) => x['Service Type'] === 'identity').length, 3);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
