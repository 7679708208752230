import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { writeCpio, type CpioEntry } from './cpio.js';
import { dynamicInfo } from './elf.js';
import type { KernelModule } from './kernel-modules.js';
import { ACPI_POWER_BUTTON, INIT_SCRIPT, MKFS_SHIM, PROFILE, SUDO_SHIM, UDHCPC_SCRIPT } from './guest-scripts.js';

/**
 * The guest's root file system: busybox (static), the kernel modules, the
 * init scripts, dropbear and the shared libraries it needs, and a few
 * optional tools from the host (lsblk, blkid) that Tempest's checks call.
 */

export interface InitramfsInputs {
  kernelVersion: string;
  busybox: string;
  applets: string[];
  modules: KernelModule[];
  /** Executables to copy in with their libraries: guest path -> host file. */
  binaries: Record<string, string>;
  /** Where to look for shared libraries, first match wins (unpacked packages, then the host). */
  libraryDirs: string[];
  /** crypt(3) hash of the `cirros` user's password. */
  cirrosPasswordHash: string;
}

const LIB_DIR = '/lib/x86_64-linux-gnu';

class Tree {
  private readonly entries = new Map<string, CpioEntry>();
  dir(path: string, mode = 0o755): void {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = `/${parts.slice(0, i).join('/')}`;
      if (!this.entries.has(p)) this.entries.set(p, { type: 'dir', path: p, mode: i === parts.length ? mode : 0o755 });
    }
  }
  file(path: string, data: Buffer | string, mode = 0o644): void {
    this.dir(path.slice(0, path.lastIndexOf('/')) || '/');
    this.entries.set(path, { type: 'file', path, data, mode });
  }
  symlink(path: string, target: string): void {
    this.dir(path.slice(0, path.lastIndexOf('/')) || '/');
    if (!this.entries.has(path)) this.entries.set(path, { type: 'symlink', path, target });
  }
  has(path: string): boolean {
    return this.entries.has(path);
  }
  toCpio(): Buffer {
    // Parents before children: sort by path depth then name.
    const list = [...this.entries.values()].sort((a, b) => a.path.split('/').length - b.path.split('/').length || a.path.localeCompare(b.path));
    return writeCpio(list);
  }
}

function findLibrary(name: string, dirs: string[]): string | undefined {
  for (const d of dirs) {
    const p = join(d, name);
    if (existsSync(p)) return realpathSync(p);
  }
  return undefined;
}

/** Adds an executable and, transitively, the libraries it needs. */
function addExecutable(tree: Tree, guestPath: string, hostPath: string, libraryDirs: string[]): void {
  const data = readFileSync(hostPath);
  tree.file(guestPath, data, 0o755);
  const pending = [data];
  while (pending.length) {
    const info = dynamicInfo(pending.pop()!);
    if (info.interpreter && !tree.has(info.interpreter)) {
      const interp = findLibrary(info.interpreter.split('/').pop()!, libraryDirs);
      if (!interp) throw new Error(`program interpreter ${info.interpreter} not found`);
      tree.file(info.interpreter, readFileSync(interp), 0o755);
    }
    for (const lib of info.needed) {
      const guestLib = `${LIB_DIR}/${lib}`;
      if (tree.has(guestLib)) continue;
      const host = findLibrary(lib, libraryDirs);
      if (!host) throw new Error(`${guestPath} needs ${lib}, not found in ${libraryDirs.join(', ')}`);
      const libData = readFileSync(host);
      tree.file(guestLib, libData, 0o755);
      pending.push(libData);
    }
  }
}

export function buildInitramfs(inputs: InitramfsInputs): Buffer {
  const t = new Tree();
  for (const d of ['/dev', '/proc', '/sys', '/run', '/tmp', '/mnt', '/usr/bin', '/usr/sbin', '/etc/acpi/PWRF', '/var/run', '/var/log', LIB_DIR]) t.dir(d);
  t.dir('/root', 0o700);
  t.dir('/root/.ssh', 0o700);
  t.dir('/home/cirros', 0o755);
  t.dir('/home/cirros/.ssh', 0o700);
  t.dir('/tmp', 0o1777);
  t.symlink('/sbin', 'bin');
  t.file('/bin/busybox', readFileSync(inputs.busybox), 0o755);
  for (const applet of inputs.applets) if (applet !== 'busybox') t.symlink(`/bin/${applet}`, 'busybox');

  const modDir = `/lib/modules/${inputs.kernelVersion}`;
  for (const m of inputs.modules) t.file(`${modDir}/${m.relPath}`, readFileSync(m.absPath));
  t.file('/etc/modules.order', inputs.modules.map((m) => `${inputs.kernelVersion}/${m.relPath}\n`).join(''));

  for (const [guestPath, hostPath] of Object.entries(inputs.binaries)) addExecutable(t, guestPath, hostPath, inputs.libraryDirs);

  t.file('/init', INIT_SCRIPT, 0o755);
  t.file('/etc/udhcpc.script', UDHCPC_SCRIPT, 0o755);
  t.file('/etc/acpi/PWRF/00000080', ACPI_POWER_BUTTON, 0o755);
  t.file('/usr/bin/sudo', SUDO_SHIM, 0o755);
  t.file('/usr/sbin/mkfs', MKFS_SHIM, 0o755);
  t.file('/etc/profile', PROFILE);
  // Every user is root (like a throwaway test VM); `cirros` keeps CirrOS's name and password.
  t.file('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\ncirros:x:0:0:cirros:/home/cirros:/bin/sh\n');
  t.file('/etc/shadow', `root:*:19000:0:99999:7:::\ncirros:${inputs.cirrosPasswordHash}:19000:0:99999:7:::\n`, 0o600);
  t.file('/etc/group', 'root:x:0:\n');
  t.file('/etc/shells', '/bin/sh\n/bin/ash\n');
  t.file('/etc/hostname', 'nimbus-guest\n');
  t.file('/etc/hosts', '127.0.0.1 localhost\n');
  t.file('/root/.ssh/authorized_keys', '', 0o600);
  t.file('/home/cirros/.ssh/authorized_keys', '', 0o600);
  return gzipSync(t.toCpio(), { level: 9 });
}
