import { BackendError, GiB, type BackendCapacity, type ConnectionInfo, type VolumeBackend } from '../backend.js';
import { runCommand, type RunCommand } from '../command.js';
import { createQemuImg, type QemuImg } from '../qemu-img.js';

export interface LvmBackendOptions {
  name: string;
  volumeGroup: string;
  /** `thin`: volumes are thin LVs in the pool `<vg>-pool` (created when missing). */
  lvmType?: 'default' | 'thin';
  capacityGb?: number;
  run?: RunCommand;
  qemuImg?: QemuImg;
}

/**
 * Logical volumes in a volume group, like Cinder's LVM driver with the
 * install guide's `cinder-volumes` group. The hypervisor on this host opens
 * /dev/<vg>/volume-<id> as a raw block device (no iSCSI target needed for a
 * local attach). Snapshots are LVM copy-on-write snapshots (thin snapshots
 * in a thin pool).
 */
export function createLvmBackend(options: LvmBackendOptions): VolumeBackend {
  const run = options.run ?? runCommand;
  const qemuImg = options.qemuImg ?? createQemuImg(run);
  const vg = options.volumeGroup;
  const thin = options.lvmType === 'thin';
  const pool = `${vg}-pool`;
  const volumeLv = (id: string) => `volume-${id}`;
  const snapshotLv = (id: string) => `_snapshot-${id}`;
  const dev = (lv: string) => `/dev/${vg}/${lv}`;
  const lvm = (cmd: string, args: string[]) => run(cmd, args, { timeoutMs: 120_000 });

  const lvExists = async (lv: string) => {
    try {
      await lvm('lvs', ['--noheadings', '-o', 'lv_name', `${vg}/${lv}`]);
      return true;
    } catch {
      return false;
    }
  };
  const requireLv = async (lv: string) => {
    if (!(await lvExists(lv))) throw new BackendError(`logical volume ${vg}/${lv} does not exist`);
  };
  const lvSizeGb = async (lv: string) => {
    const { stdout } = await lvm('lvs', ['--noheadings', '--units', 'b', '--nosuffix', '-o', 'lv_size', `${vg}/${lv}`]);
    return Number(stdout.trim()) / GiB;
  };
  const createLv = async (lv: string, sizeGb: number) => {
    if (thin) await lvm('lvcreate', ['-y', '-T', `${vg}/${pool}`, '-V', `${sizeGb}g`, '-n', lv]);
    else await lvm('lvcreate', ['-y', '-W', 'y', '-Z', 'y', '-L', `${sizeGb}g`, '-n', lv, vg]);
  };
  const removeLv = async (lv: string) => {
    if (await lvExists(lv)) await lvm('lvremove', ['-f', `${vg}/${lv}`]);
  };
  /** Copies block data between two devices (the target keeps its size). */
  const copyDevice = (src: string, dst: string) => qemuImg.convert(src, 'raw', dst, 'raw', { existingTarget: true, sparse: thin });
  /** A new LV of `sizeGb` filled from `srcDev`; removed again if the copy fails. */
  const createCopy = async (srcDev: string, lv: string, sizeGb: number) => {
    await createLv(lv, sizeGb);
    try {
      await copyDevice(srcDev, dev(lv));
    } catch (err) {
      await removeLv(lv).catch(() => undefined);
      throw err;
    }
  };

  return {
    name: options.name,
    driver: 'lvm',
    capabilities: { driverVersion: '3.0.0', storageProtocol: 'iSCSI', thinProvisioning: thin, multiattach: true },

    async init() {
      try {
        await lvm('vgs', ['--noheadings', '-o', 'vg_name', vg]);
      } catch (err) {
        throw new BackendError(`volume group ${vg} is not available: ${(err as Error).message}`);
      }
      if (thin && !(await lvExists(pool))) {
        await lvm('lvcreate', ['-y', '-T', '-l', '95%FREE', `${vg}/${pool}`]);
      }
    },

    async capacity(): Promise<BackendCapacity> {
      const { stdout } = await lvm('vgs', ['--noheadings', '--units', 'b', '--nosuffix', '-o', 'vg_size,vg_free', vg]);
      const [size, free] = stdout.trim().split(/\s+/).map(Number);
      const lvs = await lvm('lvs', ['--noheadings', '--units', 'b', '--nosuffix', '-o', 'lv_name,lv_size,data_percent', vg]);
      let provisioned = 0;
      let poolSize = 0;
      let poolUsed = 0;
      for (const line of lvs.stdout.trim().split('\n').filter(Boolean)) {
        const [name, lvSize, dataPercent] = line.trim().split(/\s+/);
        if (name === pool) {
          poolSize = Number(lvSize);
          poolUsed = (Number(lvSize) * Number(dataPercent || 0)) / 100;
        } else if (name?.startsWith('volume-') || name?.startsWith('_snapshot-')) provisioned += Number(lvSize);
      }
      const totalGb = thin ? poolSize / GiB : size! / GiB;
      const freeGb = thin ? (poolSize - poolUsed) / GiB : free! / GiB;
      const cap = options.capacityGb || totalGb;
      return { totalGb: round(Math.min(cap, totalGb)), freeGb: round(Math.min(freeGb, cap)), provisionedGb: round(provisioned / GiB) };
    },

    createVolume: (id, sizeGb) => createLv(volumeLv(id), sizeGb),
    deleteVolume: (id) => removeLv(volumeLv(id)),
    hasVolume: (id) => lvExists(volumeLv(id)),

    async extendVolume(id, newSizeGb) {
      await requireLv(volumeLv(id));
      if ((await lvSizeGb(volumeLv(id))) < newSizeGb) await lvm('lvextend', ['-L', `${newSizeGb}g`, `${vg}/${volumeLv(id)}`]);
    },

    async cloneVolume(sourceId, id, sizeGb) {
      await requireLv(volumeLv(sourceId));
      await createCopy(dev(volumeLv(sourceId)), volumeLv(id), sizeGb);
    },

    async createSnapshot(volumeId, snapshotId) {
      await requireLv(volumeLv(volumeId));
      if (thin) {
        await lvm('lvcreate', ['-y', '-s', '-n', snapshotLv(snapshotId), `${vg}/${volumeLv(volumeId)}`]);
        // Thin snapshots are created inactive-on-activation; make the device node exist.
        await lvm('lvchange', ['-ay', '-K', `${vg}/${snapshotLv(snapshotId)}`]);
      } else {
        const size = await lvSizeGb(volumeLv(volumeId));
        await lvm('lvcreate', ['-y', '-s', '-L', `${size}g`, '-n', snapshotLv(snapshotId), `${vg}/${volumeLv(volumeId)}`]);
      }
    },

    deleteSnapshot: (snapshotId) => removeLv(snapshotLv(snapshotId)),

    async createVolumeFromSnapshot(snapshotId, id, sizeGb) {
      await requireLv(snapshotLv(snapshotId));
      await createCopy(dev(snapshotLv(snapshotId)), volumeLv(id), sizeGb);
    },

    async revertToSnapshot(volumeId, snapshotId) {
      await requireLv(snapshotLv(snapshotId));
      await copyDevice(dev(snapshotLv(snapshotId)), dev(volumeLv(volumeId)));
    },

    async importImage(id, path, format, sizeGb) {
      const info = await qemuImg.info(path, format);
      if (info.virtualSize > sizeGb * GiB) {
        throw new BackendError(`image virtual size ${Math.ceil(info.virtualSize / GiB)} GiB is larger than the volume (${sizeGb} GiB)`);
      }
      if (!(await lvExists(volumeLv(id)))) await createLv(volumeLv(id), sizeGb);
      await qemuImg.convert(path, format, dev(volumeLv(id)), 'raw', { existingTarget: true, sparse: false });
    },

    async exportImage(id, path, format) {
      await requireLv(volumeLv(id));
      await qemuImg.convert(dev(volumeLv(id)), 'raw', path, format, { forceShare: true });
    },

    async connectionInfo(id, _connector, mode): Promise<ConnectionInfo> {
      await requireLv(volumeLv(id));
      return { driver_volume_type: 'local', data: { volume_id: id, device_path: dev(volumeLv(id)), format: 'raw', access_mode: mode, multiattach: true } };
    },

    async terminateConnection() {
      // Local attach: nothing was exported.
    },
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
