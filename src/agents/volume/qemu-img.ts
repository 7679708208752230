import type { ImageFormat } from './backend.js';
import { runCommand, type RunCommand } from './command.js';

/** qemu-img's name for a Glance disk format (VHD is `vpc`; ISO and AMI images are raw bytes). */
export function qemuFormat(format: string): string {
  if (format === 'vhd') return 'vpc';
  if (format === 'iso' || format === 'ami' || format === 'ari' || format === 'aki') return 'raw';
  return format;
}

export interface ImageInfo {
  format: string;
  virtualSize: number;
  actualSize: number;
}

/**
 * qemu-img with explicit formats everywhere: probing the format of a file a
 * user supplied would let a raw image that looks like qcow2 name a backing
 * file on the host (CVE-2015-5162 family). `-U` (force share) reads images a
 * running guest holds open.
 */
export function createQemuImg(run: RunCommand = runCommand) {
  const qemuImg = (args: string[]) => run('qemu-img', args);
  return {
    async create(path: string, format: 'raw' | 'qcow2', sizeBytes: number): Promise<void> {
      await qemuImg(['create', '-q', '-f', format, path, String(sizeBytes)]);
    },
    async convert(
      src: string,
      srcFormat: ImageFormat,
      dst: string,
      dstFormat: ImageFormat,
      options: { forceShare?: boolean; existingTarget?: boolean; sparse?: boolean } = {},
    ): Promise<void> {
      const args = ['convert', '-q', '-f', qemuFormat(srcFormat), '-O', qemuFormat(dstFormat)];
      if (options.forceShare) args.push('-U');
      if (options.existingTarget) args.push('-n');
      // Write zeroes explicitly on block devices that may hold old data.
      if (options.sparse === false) args.push('-S', '0');
      if (dstFormat === 'qcow2' && !options.existingTarget) args.push('-o', 'preallocation=off');
      args.push(src, dst);
      await qemuImg(args);
    },
    async resize(path: string, format: 'raw' | 'qcow2', sizeBytes: number): Promise<void> {
      await qemuImg(['resize', '-q', '-f', format, path, String(sizeBytes)]);
    },
    async info(path: string, format: ImageFormat, options: { forceShare?: boolean } = {}): Promise<ImageInfo> {
      const args = ['info', '--output=json', '-f', qemuFormat(format)];
      if (options.forceShare) args.push('-U');
      args.push(path);
      const { stdout } = await qemuImg(args);
      const j = JSON.parse(stdout) as { format: string; 'virtual-size': number; 'actual-size'?: number };
      return { format: j.format, virtualSize: j['virtual-size'], actualSize: j['actual-size'] ?? 0 };
    },
  };
}
export type QemuImg = ReturnType<typeof createQemuImg>;
