import { closeSync, openSync, readFileSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandRunner } from '../../../core/exec.js';

/**
 * A BIOS-bootable disk without loop devices, mounts or root: an MBR with
 * SYSLINUX's boot code and one active FAT16 partition holding the kernel,
 * the initramfs and SYSLINUX, which `mkfs.vfat`, `mcopy` and the mtools-based
 * `syslinux` installer all write straight into an image file. Guests boot
 * like any cloud image (no `-kernel`), so the driver treats it as one.
 */

export const SYSLINUX_MBR = '/usr/lib/syslinux/mbr/mbr.bin';
export const DISK_TOOLS = ['mkfs.vfat', 'mcopy', 'syslinux', 'qemu-img'] as const;

const SECTOR = 512;
const PART_START = 2048; // 1 MiB gap, as partitioning tools leave

export interface BootDiskInputs {
  workDir: string;
  vmlinuz: string;
  initrd: Buffer;
  /** Virtual disk size in MiB. */
  sizeMiB: number;
  kernelArgs: string;
  output: string;
}

export function syslinuxConfig(kernelArgs: string): string {
  // ttyS0 last: /dev/console is then the serial port the console log records.
  return [
    'SERIAL 0 115200',
    'DEFAULT nimbus',
    'PROMPT 0',
    'TIMEOUT 0',
    'LABEL nimbus',
    '  LINUX /vmlinuz',
    '  INITRD /initrd.gz',
    `  APPEND console=tty0 console=ttyS0,115200n8 ${kernelArgs}`.trimEnd(),
    '',
  ].join('\n');
}

/** The 16-byte partition entry: active, type 0x0e (FAT16 LBA), CHS fields saturated. */
export function partitionEntry(startLba: number, sectors: number): Buffer {
  const e = Buffer.alloc(16);
  e[0] = 0x80;
  e.set([0xfe, 0xff, 0xff], 1);
  e[4] = 0x0e;
  e.set([0xfe, 0xff, 0xff], 5);
  e.writeUInt32LE(startLba, 8);
  e.writeUInt32LE(sectors, 12);
  return e;
}

export async function buildBootDisk(run: CommandRunner, inputs: BootDiskInputs): Promise<void> {
  const { workDir } = inputs;
  const partSectors = inputs.sizeMiB * 2048 - PART_START;
  const part = join(workDir, 'part.img');
  const initrd = join(workDir, 'initrd.gz');
  const cfg = join(workDir, 'syslinux.cfg');
  writeFileSync(initrd, inputs.initrd);
  writeFileSync(cfg, syslinuxConfig(inputs.kernelArgs));
  // -h: hidden sectors = partition offset; SYSLINUX's boot sector needs it to find ldlinux.sys.
  await run('mkfs.vfat', ['-F', '16', '-n', 'NIMBUS', '-h', String(PART_START), '-C', part, String(partSectors / 2)]);
  await run('mcopy', ['-i', part, inputs.vmlinuz, '::/vmlinuz']);
  await run('mcopy', ['-i', part, initrd, cfg, '::/']);
  await run('syslinux', ['--install', part]);

  const raw = join(workDir, 'disk.raw');
  const mbr = Buffer.alloc(SECTOR);
  readFileSync(SYSLINUX_MBR).copy(mbr, 0, 0, 440);
  partitionEntry(PART_START, partSectors).copy(mbr, 446);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  const fd = openSync(raw, 'w');
  try {
    ftruncateSync(fd, inputs.sizeMiB * 1024 * 1024);
    writeSync(fd, mbr, 0, SECTOR, 0);
    const partData = readFileSync(part);
    writeSync(fd, partData, 0, partData.length, PART_START * SECTOR);
  } finally {
    closeSync(fd);
  }
  // Formats always explicit: never let qemu-img guess.
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, inputs.output], { timeoutMs: 120_000 });
}
