import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { moduleDepends } from './elf.js';

/**
 * Kernel modules the guest loads at boot, in dependency order. Debian's
 * unpacked kernel package has no modules.dep (depmod never ran on it), so
 * dependencies come from each module's own `.modinfo depends=`.
 */

export interface KernelModule {
  name: string;
  /** Path relative to lib/modules/<version>/. */
  relPath: string;
  absPath: string;
}

/** virtio disk and NIC, ext4 for volumes, ACPI power button for soft power-off. */
export const GUEST_MODULES = ['virtio_pci', 'virtio_net', 'virtio_blk', 'virtio_console', 'ext4', 'crc32c_generic', 'button', 'evdev'];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ko')) out.push(p);
  }
  return out;
}

/** Modules of `want` and everything they depend on, dependencies first. */
export function resolveModules(moduleRoot: string, want: string[] = GUEST_MODULES): { ordered: KernelModule[]; missing: string[] } {
  const index = new Map<string, string>();
  for (const p of walk(join(moduleRoot, 'kernel'))) index.set(basename(p, '.ko').replace(/-/g, '_'), p);
  const ordered: KernelModule[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  const visit = (raw: string) => {
    const name = raw.replace(/-/g, '_');
    if (seen.has(name)) return;
    seen.add(name);
    const abs = index.get(name);
    // Not a module file: built into this kernel (fine) or really absent.
    if (!abs) return void missing.push(name);
    for (const dep of moduleDepends(readFileSync(abs))) visit(dep);
    ordered.push({ name, relPath: relative(moduleRoot, abs), absPath: abs });
  };
  for (const m of want) visit(m);
  return { ordered, missing };
}
