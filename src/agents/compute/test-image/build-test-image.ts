import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { haveCommand, type CommandRunner } from '../../../core/exec.js';
import { buildBootDisk, DISK_TOOLS, SYSLINUX_MBR } from './boot-disk.js';
import { candidateVersion, currentKernelPackage, extractDeb, fetchDeb } from './debian-packages.js';
import { ACPI_POWER_BUTTON, INIT_SCRIPT, MKFS_SHIM, SUDO_SHIM, UDHCPC_SCRIPT } from './guest-scripts.js';
import { buildInitramfs } from './initramfs.js';
import { GUEST_MODULES, resolveModules } from './kernel-modules.js';

/**
 * `nimbus image build-test`: the project's own CirrOS-like test image, built
 * from Debian packages (kernel, busybox, dropbear) and cached under the data
 * dir. A rebuild happens only when a package version or the guest scripts
 * change (or with `force`).
 */

/** Bump when the build itself changes in a way the inputs hash cannot see. */
const LAYOUT_VERSION = 2;
const DISK_MIB = 64;
/**
 * Guest kernel arguments. Under TCG, CPU-vulnerability mitigations (page
 * table isolation flushes the emulated TLB on every syscall) and zeroing
 * every allocated page cost seconds of boot for nothing a test VM needs.
 */
const KERNEL_ARGS = 'mitigations=off init_on_alloc=0';
/** CirrOS's well-known password, so habits and Tempest's defaults carry over. */
export const TEST_IMAGE_USER = 'cirros';
export const TEST_IMAGE_PASSWORD = 'gocubsgo';
/** Libraries dropbear links against that a minimal host may lack. */
const DROPBEAR_LIBS = ['libtomcrypt1', 'libtommath1'];
/** Host tools copied in when present: Tempest's volume checks call them. */
const OPTIONAL_HOST_BINARIES: Record<string, string[]> = {
  '/usr/bin/lsblk': ['/usr/bin/lsblk', '/bin/lsblk'],
  '/usr/sbin/blkid': ['/usr/sbin/blkid', '/sbin/blkid'],
};

export interface TestImageManifest {
  file: string;
  sha256: string;
  size: number;
  virtualSizeMiB: number;
  format: 'qcow2';
  kernelPackage: string;
  kernelVersion: string;
  packages: Record<string, string>;
  inputsHash: string;
  builtAt: string;
  buildSeconds: number;
}

export interface BuildTestImageOptions {
  dataDir: string;
  run: CommandRunner;
  force?: boolean;
  progress?: (message: string) => void;
}

export interface BuiltTestImage {
  path: string;
  manifest: TestImageManifest;
  cached: boolean;
}

export function testImageDir(dataDir: string): string {
  return join(dataDir, 'test-image');
}

/** The cached image, if one was built (no check that it is current). */
export function findTestImage(dataDir: string): BuiltTestImage | undefined {
  const dir = testImageDir(dataDir);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as TestImageManifest;
  const path = join(dir, manifest.file);
  return existsSync(path) ? { path, manifest, cached: true } : undefined;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function missingBuildTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const t of [...DISK_TOOLS, 'apt-get', 'apt-cache', 'dpkg']) if (!(await haveCommand(t))) missing.push(t);
  if (!existsSync(SYSLINUX_MBR)) missing.push(SYSLINUX_MBR);
  return missing;
}

export async function buildTestImage(opts: BuildTestImageOptions): Promise<BuiltTestImage> {
  const { run } = opts;
  const say = opts.progress ?? (() => {});
  const t0 = Date.now();
  const missing = await missingBuildTools();
  if (missing.length) {
    throw new Error(`missing tools: ${missing.join(', ')} (apt-get install syslinux syslinux-common mtools dosfstools qemu-utils)`);
  }
  const dir = testImageDir(opts.dataDir);
  mkdirSync(dir, { recursive: true });

  const kernelPackage = await currentKernelPackage(run);
  const packageNames = [kernelPackage, 'busybox-static', 'dropbear-bin', ...DROPBEAR_LIBS];
  const packages: Record<string, string> = {};
  for (const p of packageNames) packages[p] = await candidateVersion(run, p);
  const inputsHash = createHash('sha256')
    .update(JSON.stringify({ LAYOUT_VERSION, DISK_MIB, KERNEL_ARGS, packages, GUEST_MODULES }))
    .update(INIT_SCRIPT + UDHCPC_SCRIPT + ACPI_POWER_BUTTON + SUDO_SHIM + MKFS_SHIM)
    .digest('hex');

  const existing = findTestImage(opts.dataDir);
  if (!opts.force && existing?.manifest.inputsHash === inputsHash) {
    say(`up to date: ${existing.path}`);
    return existing;
  }

  const work = mkdtempSync(join(dir, 'build-'));
  try {
    const roots: Record<string, string> = {};
    for (const p of packageNames) {
      say(`fetching ${p} ${packages[p]}`);
      const deb = await fetchDeb(run, join(dir, 'debs'), p);
      roots[p] = join(work, 'pkg', p);
      await extractDeb(run, deb, roots[p]!);
    }
    const kroot = roots[kernelPackage]!;
    const kernelVersion = readdirSync(join(kroot, 'lib/modules'))[0];
    if (!kernelVersion) throw new Error(`${kernelPackage} has no lib/modules`);
    const vmlinuz = join(kroot, 'boot', `vmlinuz-${kernelVersion}`);
    const { ordered, missing: absent } = resolveModules(join(kroot, 'lib/modules', kernelVersion));
    say(`kernel ${kernelVersion}; modules: ${ordered.map((m) => m.name).join(' ')}${absent.length ? ` (built in: ${absent.join(' ')})` : ''}`);

    const busybox = join(roots['busybox-static']!, 'bin/busybox');
    const applets = (await run(busybox, ['--list'])).stdout.split('\n').filter(Boolean);
    const hash = (await run(busybox, ['mkpasswd', '-m', 'sha512', TEST_IMAGE_PASSWORD])).stdout.trim();

    const binaries: Record<string, string> = {
      '/usr/sbin/dropbear': join(roots['dropbear-bin']!, 'usr/sbin/dropbear'),
      '/usr/bin/dropbearkey': join(roots['dropbear-bin']!, 'usr/bin/dropbearkey'),
    };
    for (const [guest, candidates] of Object.entries(OPTIONAL_HOST_BINARIES)) {
      const found = candidates.find((c) => existsSync(c));
      if (found) binaries[guest] = found;
    }
    const libraryDirs = [
      ...DROPBEAR_LIBS.flatMap((p) => [join(roots[p]!, 'usr/lib/x86_64-linux-gnu'), join(roots[p]!, 'lib/x86_64-linux-gnu')]),
      '/lib/x86_64-linux-gnu',
      '/usr/lib/x86_64-linux-gnu',
      '/lib64',
    ];
    const initrd = buildInitramfs({ kernelVersion, busybox, applets, modules: ordered, binaries, libraryDirs, cirrosPasswordHash: hash });
    say(`initramfs: ${initrd.length} bytes`);

    const tmpOut = join(work, 'image.qcow2');
    await buildBootDisk(run, { workDir: work, vmlinuz, initrd, sizeMiB: DISK_MIB, kernelArgs: KERNEL_ARGS, output: tmpOut });
    const file = 'nimbus-test.qcow2';
    const manifest: TestImageManifest = {
      file,
      sha256: await sha256File(tmpOut),
      size: statSync(tmpOut).size,
      virtualSizeMiB: DISK_MIB,
      format: 'qcow2',
      kernelPackage,
      kernelVersion,
      packages,
      inputsHash,
      builtAt: new Date().toISOString(),
      buildSeconds: (Date.now() - t0) / 1000,
    };
    renameSync(tmpOut, join(dir, file));
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    say(`built ${join(dir, file)} (${manifest.size} bytes, ${manifest.buildSeconds.toFixed(1)} s)`);
    return { path: join(dir, file), manifest, cached: false };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
