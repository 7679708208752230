import { randomBytes } from 'node:crypto';
import { closeSync, openSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../command.js';

export interface LoopVolumeGroup {
  name: string;
  device: string;
  destroy(): Promise<void>;
}

/** Why LVM cannot be used on this machine, or false when it can (root, lvm2 installed, device-mapper in the kernel). */
export async function lvmUnavailableReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'LVM needs root';
  for (const tool of ['lvcreate', 'losetup', 'dmsetup', 'qemu-img']) {
    try {
      await runCommand('sh', ['-c', `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed (apt-get install lvm2 thin-provisioning-tools qemu-utils)`;
    }
  }
  try {
    await runCommand('dmsetup', ['version']);
  } catch {
    return 'the kernel has no device-mapper driver (dmsetup version fails), so logical volumes cannot be activated';
  }
  return false;
}

/** A throwaway volume group on a loop device backed by a sparse file in `dir`. */
export async function createLoopVolumeGroup(dir: string, sizeGb: number): Promise<LoopVolumeGroup> {
  const file = join(dir, 'pv.img');
  const fd = openSync(file, 'w');
  ftruncateSync(fd, sizeGb * 1024 ** 3);
  closeSync(fd);
  const device = (await runCommand('losetup', ['-f', '--show', file])).stdout.trim();
  const name = `nimbus-test-${randomBytes(4).toString('hex')}`;
  try {
    await runCommand('pvcreate', ['-y', device]);
    await runCommand('vgcreate', ['-y', name, device]);
  } catch (err) {
    await runCommand('losetup', ['-d', device]).catch(() => undefined);
    throw err;
  }
  return {
    name,
    device,
    async destroy() {
      await runCommand('vgremove', ['-f', '-y', name]).catch(() => undefined);
      await runCommand('pvremove', ['-y', device]).catch(() => undefined);
      await runCommand('losetup', ['-d', device]).catch(() => undefined);
    },
  };
}
