/**
 * Just enough of ELF64 (little endian, x86-64) to build the test image
 * without binutils or kmod: the `.modinfo` section of kernel modules (their
 * `depends=`), and the program interpreter and DT_NEEDED libraries of
 * dynamically linked executables (dropbear and its libraries).
 */

export interface ElfSection {
  name: string;
  type: number;
  offset: number;
  size: number;
  addr: number;
  link: number;
}

const SHT_DYNAMIC = 6;
const SHT_STRTAB = 3;
const PT_INTERP = 3;
const DT_NEEDED = 1;

function checkElf64(buf: Buffer): void {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('only little-endian ELF64 is supported');
}

export function elfSections(buf: Buffer): ElfSection[] {
  checkElf64(buf);
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    raw.push({
      nameOff: buf.readUInt32LE(o),
      type: buf.readUInt32LE(o + 4),
      addr: Number(buf.readBigUInt64LE(o + 0x10)),
      offset: Number(buf.readBigUInt64LE(o + 0x18)),
      size: Number(buf.readBigUInt64LE(o + 0x20)),
      link: buf.readUInt32LE(o + 0x28),
    });
  }
  const strtab = raw[shstrndx];
  return raw.map((s) => ({
    name: strtab ? cString(buf, strtab.offset + s.nameOff) : '',
    type: s.type,
    offset: s.offset,
    size: s.size,
    addr: s.addr,
    link: s.link,
  }));
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('utf8', at, end < 0 ? buf.length : end);
}

/** key=value pairs of a kernel module's .modinfo section (a key may repeat, e.g. alias). */
export function moduleInfo(buf: Buffer): Map<string, string[]> {
  const sec = elfSections(buf).find((s) => s.name === '.modinfo');
  const out = new Map<string, string[]>();
  if (!sec) return out;
  for (const entry of buf.toString('utf8', sec.offset, sec.offset + sec.size).split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const k = entry.slice(0, eq);
    out.set(k, [...(out.get(k) ?? []), entry.slice(eq + 1)]);
  }
  return out;
}

/** Modules a .ko depends on (names with '-' normalised to '_'). */
export function moduleDepends(buf: Buffer): string[] {
  const deps = moduleInfo(buf).get('depends')?.[0] ?? '';
  return deps
    .split(',')
    .map((d) => d.trim().replace(/-/g, '_'))
    .filter(Boolean);
}

export interface DynamicInfo {
  /** PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2; undefined for static binaries. */
  interpreter: string | undefined;
  needed: string[];
}

export function dynamicInfo(buf: Buffer): DynamicInfo {
  checkElf64(buf);
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  let interpreter: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (buf.readUInt32LE(o) === PT_INTERP) interpreter = cString(buf, Number(buf.readBigUInt64LE(o + 8)));
  }
  const sections = elfSections(buf);
  const dyn = sections.find((s) => s.type === SHT_DYNAMIC);
  const needed: string[] = [];
  if (dyn) {
    const strtab = sections[dyn.link];
    if (!strtab || strtab.type !== SHT_STRTAB) throw new Error('dynamic section without string table');
    for (let o = dyn.offset; o + 16 <= dyn.offset + dyn.size; o += 16) {
      const tag = Number(buf.readBigInt64LE(o));
      if (tag === 0) break;
      if (tag === DT_NEEDED) needed.push(cString(buf, strtab.offset + Number(buf.readBigUInt64LE(o + 8))));
    }
  }
  return { interpreter, needed };
}
