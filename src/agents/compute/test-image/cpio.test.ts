import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { writeCpio } from './cpio.js';
import { existsSync } from 'node:fs';

const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));

test('newc archive unpacks with a real cpio into the same tree', { skip: busybox ? false : 'busybox (for its cpio) not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpio-test-'));
  try {
    const archive = writeCpio([
      { type: 'dir', path: '/etc' },
      { type: 'file', path: '/etc/hello', data: 'hello world\n', mode: 0o600 },
      { type: 'file', path: '/init', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
      { type: 'symlink', path: '/sh', target: 'init' },
    ]);
    execFileSync(busybox!, ['cpio', '-i', '-d'], { cwd: dir, input: archive });
    assert.equal(readFileSync(join(dir, 'etc/hello'), 'utf8'), 'hello world\n');
    assert.equal(statSync(join(dir, 'etc/hello')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'init')).mode & 0o777, 0o755);
    assert.equal(readlinkSync(join(dir, 'sh')), 'init');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('archive ends with the TRAILER record and is 4-byte aligned', () => {
  const a = writeCpio([{ type: 'file', path: 'x', data: 'abc' }]);
  assert.equal(a.length % 4, 0);
  assert.ok(a.includes(Buffer.from('TRAILER!!!\0')));
  assert.equal(a.subarray(0, 6).toString(), '070701');
});
