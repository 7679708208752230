import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VolumeBackend } from './backend.js';

export interface ConformanceTarget {
  /** Makes the backend under test (called once, before the cases). */
  make(): Promise<VolumeBackend>;
  /** Undoes whatever make() set up. */
  cleanup?(): Promise<void>;
  /** A reason to skip every case (e.g. no device-mapper in this kernel). */
  skip?: string | false;
}

/** The first 4 KiB of a volume as exported to a raw file. */
async function head(backend: VolumeBackend, volumeId: string, dir: string): Promise<Buffer> {
  const out = join(dir, `export-${randomUUID()}.raw`);
  await backend.exportImage(volumeId, out, 'raw');
  const fh = await open(out, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, 4096, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
    rmSync(out, { force: true });
  }
}

/**
 * One suite every backend passes (convention 1): create, content import and
 * export, clone, snapshot, volume from snapshot, revert, extend, delete in
 * any order, and capacity that follows what is stored.
 */
export function backendConformance(label: string, target: ConformanceTarget): void {
  describe(`volume backend conformance: ${label}`, { skip: target.skip || false }, () => {
    let backend: VolumeBackend;
    let dir: string;
    const patternA = randomBytes(4096);
    const patternB = randomBytes(4096);
    let imageA: string;
    let imageB: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'nimbus-backend-'));
      imageA = join(dir, 'a.raw');
      imageB = join(dir, 'b.raw');
      await writeFile(imageA, patternA);
      await writeFile(imageB, patternB);
      backend = await target.make();
      await backend.init();
    });
    after(async () => {
      await target.cleanup?.();
      rmSync(dir, { recursive: true, force: true });
    });

    it('creates a volume, reports it in capacity, deletes it', async () => {
      const id = randomUUID();
      const before = await backend.capacity();
      await backend.createVolume(id, 1);
      assert.equal(await backend.hasVolume(id), true);
      const during = await backend.capacity();
      assert.ok(during.provisionedGb >= before.provisionedGb + 1 - 0.01, `provisioned ${during.provisionedGb} after creating 1 GiB on ${before.provisionedGb}`);
      assert.ok(during.totalGb > 0 && during.freeGb <= during.totalGb);
      await backend.deleteVolume(id);
      assert.equal(await backend.hasVolume(id), false);
      assert.ok(Math.abs((await backend.capacity()).provisionedGb - before.provisionedGb) < 0.01);
      await backend.deleteVolume(id); // deleting what is gone is not an error
    });

    it('imports and exports content, clones it, snapshots it and reverts to the snapshot', async () => {
      const vol = randomUUID();
      const snap = randomUUID();
      const clone = randomUUID();
      const fromSnap = randomUUID();
      await backend.createVolume(vol, 1);
      await backend.importImage(vol, imageA, 'raw', 1);
      assert.deepEqual(await head(backend, vol, dir), patternA);

      await backend.createSnapshot(vol, snap);
      await backend.importImage(vol, imageB, 'raw', 1);
      assert.deepEqual(await head(backend, vol, dir), patternB);

      await backend.cloneVolume(vol, clone, 2);
      assert.deepEqual(await head(backend, clone, dir), patternB, 'clone has the source content');
      await backend.createVolumeFromSnapshot(snap, fromSnap, 1);
      assert.deepEqual(await head(backend, fromSnap, dir), patternA, 'volume from snapshot has the snapshot content');

      await backend.revertToSnapshot(vol, snap, 1);
      assert.deepEqual(await head(backend, vol, dir), patternA, 'revert restores the snapshot content');

      // Delete the source first: snapshots and clones do not depend on it.
      await backend.deleteVolume(vol);
      assert.deepEqual(await head(backend, clone, dir), patternB);
      await backend.deleteSnapshot(snap);
      assert.deepEqual(await head(backend, fromSnap, dir), patternA);
      await backend.deleteVolume(clone);
      await backend.deleteVolume(fromSnap);
    });

    it('extends a volume and keeps its content', async () => {
      const id = randomUUID();
      await backend.createVolume(id, 1);
      await backend.importImage(id, imageA, 'raw', 1);
      const before = await backend.capacity();
      await backend.extendVolume(id, 2);
      const after = await backend.capacity();
      assert.ok(after.provisionedGb >= before.provisionedGb + 1 - 0.01, 'capacity follows the extension');
      assert.deepEqual(await head(backend, id, dir), patternA);
      await backend.deleteVolume(id);
    });

    it('gives connection info a hypervisor on this host can open', async () => {
      const id = randomUUID();
      await backend.createVolume(id, 1);
      const info = await backend.connectionInfo(id, { host: 'h1', initiator: 'iqn.test' }, 'rw');
      assert.equal(info.data.volume_id, id);
      assert.equal(info.data.access_mode, 'rw');
      assert.ok(info.data.device_path.length > 0);
      await backend.terminateConnection(id, { host: 'h1' });
      await backend.deleteVolume(id);
    });

    it('rejects an image larger than the volume', async () => {
      const id = randomUUID();
      const big = join(dir, 'big.qcow2');
      const { createQemuImg } = await import('./qemu-img.js');
      await createQemuImg().create(big, 'qcow2', 3 * 1024 ** 3);
      await backend.createVolume(id, 1);
      await assert.rejects(backend.importImage(id, big, 'qcow2', 1), /larger than the volume/);
      await backend.deleteVolume(id);
    });
  });
}
