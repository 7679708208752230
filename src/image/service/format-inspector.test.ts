import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HEAD_BYTES, formatMismatch, inspectImage } from './format-inspector.js';

const haveQemuImg = existsSync('/usr/bin/qemu-img');

/** Makes an image with the real qemu-img (always with an explicit format) and inspects its head. */
function made(dir: string, name: string, args: string[]) {
  const path = join(dir, name);
  execFileSync('qemu-img', ['create', ...args.slice(0, -1), path, args[args.length - 1]!], { stdio: 'ignore', cwd: dir });
  const data = readFileSync(path);
  return inspectImage(data.subarray(0, HEAD_BYTES), data.length);
}

test('format inspector on images made by qemu-img', { skip: !haveQemuImg && 'qemu-img not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-fmt-'));
  try {
    const q = made(dir, 'base.qcow2', ['-f', 'qcow2', '64M']);
    assert.deepEqual(q, { format: 'qcow2', virtualSize: 64 * 1024 * 1024 });

    const child = made(dir, 'child.qcow2', ['-f', 'qcow2', '-b', join(dir, 'base.qcow2'), '-F', 'qcow2', '64M']);
    assert.equal(child.format, 'qcow2');
    assert.match(child.unsafe ?? '', /backing file/);

    const ext = made(dir, 'ext.qcow2', ['-f', 'qcow2', '-o', `data_file=${join(dir, 'ext.raw')}`, '16M']);
    assert.match(ext.unsafe ?? '', /external data file/);

    assert.deepEqual(made(dir, 's.vmdk', ['-f', 'vmdk', '32M']), { format: 'vmdk', virtualSize: 32 * 1024 * 1024 });
    assert.deepEqual(made(dir, 'so.vmdk', ['-f', 'vmdk', '-o', 'subformat=streamOptimized', '32M']), {
      format: 'vmdk',
      virtualSize: 32 * 1024 * 1024,
    });
    const flat = made(dir, 'flat.vmdk', ['-f', 'vmdk', '-o', 'subformat=monolithicFlat', '32M']);
    assert.match(flat.unsafe ?? '', /external extents/);
    const split = made(dir, 'split.vmdk', ['-f', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse', '32M']);
    assert.ok(split.unsafe, 'a descriptor naming other files is refused');

    assert.equal(made(dir, 'v.vhd', ['-f', 'vpc', '32M']).format, 'vhd');
    const vhdx = made(dir, 'v.vhdx', ['-f', 'vhdx', '32M']);
    assert.deepEqual(vhdx, { format: 'vhdx', virtualSize: 32 * 1024 * 1024 });
    assert.deepEqual(made(dir, 'v.vdi', ['-f', 'vdi', '32M']), { format: 'vdi', virtualSize: 32 * 1024 * 1024 });
    assert.ok(made(dir, 'q.qed', ['-f', 'qed', '32M']).unsafe);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('raw, iso and random data', () => {
  assert.deepEqual(inspectImage(Buffer.alloc(0), 0), { format: 'raw', virtualSize: null });
  const rnd = randomBytes(1024);
  rnd.writeUInt32BE(0, 0);
  assert.deepEqual(inspectImage(rnd, 1024), { format: 'raw', virtualSize: 1024 });

  const iso = Buffer.alloc(40 * 1024);
  iso[32768] = 1;
  iso.write('CD001', 32769, 'latin1');
  iso.writeUInt32LE(20, 32768 + 80);
  iso.writeUInt16LE(2048, 32768 + 128);
  assert.deepEqual(inspectImage(iso, iso.length), { format: 'iso', virtualSize: 40960 });

  // A header that says qcow2 but is cut short is refused rather than guessed at.
  assert.ok(inspectImage(Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]), 8).unsafe);
});

test('format mismatch rule', () => {
  const raw = { format: 'raw' as const, virtualSize: 10 };
  const qcow2 = { format: 'qcow2' as const, virtualSize: 10 };
  const iso = { format: 'iso' as const, virtualSize: 10 };
  // Unrecognisable bytes pass under any label (Tempest uploads random bytes as qcow2) unless strict.
  assert.equal(formatMismatch('qcow2', raw, false), undefined);
  assert.match(formatMismatch('qcow2', raw, true) ?? '', /not a qcow2/);
  assert.equal(formatMismatch('ami', raw, true), undefined);
  // Recognisably another format: refused (a qcow2 labelled raw is the format-confusion attack).
  assert.match(formatMismatch('raw', qcow2, false) ?? '', /qcow2 image, but disk_format is raw/);
  assert.match(formatMismatch('vmdk', qcow2, false) ?? '', /disk_format is vmdk/);
  assert.equal(formatMismatch('raw', iso, false), undefined);
  assert.equal(formatMismatch('qcow2', qcow2, true), undefined);
});
