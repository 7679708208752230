import { mkdir, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { BackendError, GiB, type BackendCapacity, type ConnectionInfo, type ImageFormat, type VolumeBackend } from '../backend.js';
import { createQemuImg, type QemuImg } from '../qemu-img.js';

export interface FileBackendOptions {
  name: string;
  /** Directory holding the volume and snapshot files. */
  path: string;
  format: 'qcow2' | 'raw';
  /** Reported capacity cap in GiB (0: the file system's). */
  capacityGb?: number;
  qemuImg?: QemuImg;
}

/**
 * Volumes as qcow2 (or sparse raw) files in a directory, like Cinder's NFS
 * driver minus the mount: a hypervisor on this host opens the file directly.
 * Snapshots are full, independent copies, so volumes, snapshots and clones
 * can be deleted in any order.
 */
export function createFileBackend(options: FileBackendOptions): VolumeBackend {
  const qemuImg = options.qemuImg ?? createQemuImg();
  const fmt = options.format;
  const ext = fmt === 'qcow2' ? 'qcow2' : 'img';
  const volumePath = (id: string) => join(options.path, `volume-${id}.${ext}`);
  const snapshotPath = (id: string) => join(options.path, `snapshot-${id}.${ext}`);
  /** Virtual sizes of what we hold, so capacity needs no qemu-img per file. */
  const sizes = new Map<string, number>();

  const exists = async (p: string) => stat(p).then(() => true, () => false);
  const requireVolume = async (id: string) => {
    if (!(await exists(volumePath(id)))) throw new BackendError(`volume ${id} does not exist on backend ${options.name}`);
  };
  /** Produces a file via `make(tmp)` and moves it into place only when complete. */
  const atomically = async (target: string, make: (tmp: string) => Promise<void>) => {
    const tmp = join(options.path, `.tmp-${randomUUID()}.${ext}`);
    try {
      await make(tmp);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  };
  const growTo = async (path: string, sizeGb: number) => {
    const info = await qemuImg.info(path, fmt);
    if (info.virtualSize < sizeGb * GiB) await qemuImg.resize(path, fmt, sizeGb * GiB);
  };

  const backend: VolumeBackend = {
    name: options.name,
    driver: 'file',
    capabilities: { driverVersion: '1.0.0', storageProtocol: 'iSCSI', thinProvisioning: true, multiattach: true },

    async init() {
      await mkdir(options.path, { recursive: true, mode: 0o700 });
      for (const f of await readdir(options.path)) {
        if (f.startsWith('.tmp-')) {
          await rm(join(options.path, f), { force: true });
          continue;
        }
        const m = /^(volume|snapshot)-(.+)\.(qcow2|img)$/.exec(f);
        if (!m) continue;
        try {
          sizes.set(`${m[1]}:${m[2]}`, (await qemuImg.info(join(options.path, f), fmt, { forceShare: true })).virtualSize);
        } catch {
          // An unreadable file is not ours to judge here; it just does not count.
        }
      }
    },

    async capacity(): Promise<BackendCapacity> {
      const fs = await statfs(options.path);
      const fsTotal = (fs.blocks * fs.bsize) / GiB;
      const fsFree = (fs.bavail * fs.bsize) / GiB;
      let provisioned = 0;
      for (const s of sizes.values()) provisioned += s;
      const provisionedGb = provisioned / GiB;
      if (options.capacityGb) {
        const total = options.capacityGb;
        return { totalGb: total, freeGb: round(Math.max(0, Math.min(fsFree, total - provisionedGb))), provisionedGb: round(provisionedGb) };
      }
      return { totalGb: round(fsTotal), freeGb: round(fsFree), provisionedGb: round(provisionedGb) };
    },

    async createVolume(id, sizeGb) {
      await atomically(volumePath(id), (tmp) => qemuImg.create(tmp, fmt, sizeGb * GiB));
      sizes.set(`volume:${id}`, sizeGb * GiB);
    },

    async deleteVolume(id) {
      await rm(volumePath(id), { force: true });
      sizes.delete(`volume:${id}`);
    },

    hasVolume: (id) => exists(volumePath(id)),

    async extendVolume(id, newSizeGb, opts = {}) {
      await requireVolume(id);
      try {
        await qemuImg.resize(volumePath(id), fmt, newSizeGb * GiB);
      } catch (err) {
        // A running guest holds the image lock: the hypervisor grows it (block_resize) when told the volume was extended.
        if (!(opts.inUse && /lock/i.test((err as Error).message))) throw err;
      }
      sizes.set(`volume:${id}`, newSizeGb * GiB);
    },

    async cloneVolume(sourceId, id, sizeGb) {
      await requireVolume(sourceId);
      await atomically(volumePath(id), async (tmp) => {
        await qemuImg.convert(volumePath(sourceId), fmt, tmp, fmt, { forceShare: true });
        await growTo(tmp, sizeGb);
      });
      sizes.set(`volume:${id}`, sizeGb * GiB);
    },

    async createSnapshot(volumeId, snapshotId) {
      await requireVolume(volumeId);
      await atomically(snapshotPath(snapshotId), (tmp) => qemuImg.convert(volumePath(volumeId), fmt, tmp, fmt, { forceShare: true }));
      sizes.set(`snapshot:${snapshotId}`, sizes.get(`volume:${volumeId}`) ?? 0);
    },

    async deleteSnapshot(snapshotId) {
      await rm(snapshotPath(snapshotId), { force: true });
      sizes.delete(`snapshot:${snapshotId}`);
    },

    async createVolumeFromSnapshot(snapshotId, id, sizeGb) {
      if (!(await exists(snapshotPath(snapshotId)))) throw new BackendError(`snapshot ${snapshotId} does not exist on backend ${options.name}`);
      await atomically(volumePath(id), async (tmp) => {
        await qemuImg.convert(snapshotPath(snapshotId), fmt, tmp, fmt);
        await growTo(tmp, sizeGb);
      });
      sizes.set(`volume:${id}`, sizeGb * GiB);
    },

    async revertToSnapshot(volumeId, snapshotId, sizeGb) {
      await requireVolume(volumeId);
      await backend.createVolumeFromSnapshot(snapshotId, volumeId, sizeGb);
    },

    async importImage(id, path, format, sizeGb) {
      await atomically(volumePath(id), async (tmp) => {
        await qemuImg.convert(path, format, tmp, fmt);
        const info = await qemuImg.info(tmp, fmt);
        if (info.virtualSize > sizeGb * GiB) {
          throw new BackendError(`image virtual size ${Math.ceil(info.virtualSize / GiB)} GiB is larger than the volume (${sizeGb} GiB)`);
        }
        if (info.virtualSize < sizeGb * GiB) await qemuImg.resize(tmp, fmt, sizeGb * GiB);
      });
      sizes.set(`volume:${id}`, sizeGb * GiB);
    },

    async exportImage(id, path, format: ImageFormat) {
      await requireVolume(id);
      await qemuImg.convert(volumePath(id), fmt, path, format, { forceShare: true });
    },

    async connectionInfo(id, _connector, mode): Promise<ConnectionInfo> {
      await requireVolume(id);
      return {
        driver_volume_type: 'file',
        data: { volume_id: id, device_path: volumePath(id), format: fmt, access_mode: mode, multiattach: true },
      };
    },

    async terminateConnection() {
      // Nothing is exported: the file is opened in place.
    },
  };
  return backend;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
