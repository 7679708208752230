/**
 * Recognises disk image formats from their first bytes, reads the virtual
 * size and flags dangerous features, without any external tool (Glance's
 * format_inspector does the same; we never run qemu-img on untrusted data).
 *
 * Only a head of the data is needed: every header and descriptor we read
 * lies in the first HEAD_BYTES bytes of images made by qemu-img and the
 * usual tools (a VHDX whose metadata region lies further only loses its
 * virtual size).
 */

export const HEAD_BYTES = 4 * 1024 * 1024;

export type DetectedFormat = 'raw' | 'qcow2' | 'qed' | 'vmdk' | 'vhd' | 'vhdx' | 'vdi' | 'iso';

export interface Inspection {
  /** `raw` when nothing was recognised. */
  format: DetectedFormat;
  /** Guest-visible size, when the format says. */
  virtualSize: number | null;
  /** Why this image must not be accepted (backing file, external data/extents, …). */
  unsafe?: string;
}

const QCOW2_MAGIC = 0x514649fb;
/** Incompatible feature bits qemu 7 knows: dirty, corrupt, external data file, compression type, extended L2. */
const QCOW2_KNOWN_INCOMPATIBLE = 0x1fn;
const QCOW2_DATA_FILE_BIT = 0x4n;
const VMDK_SAFE_TYPES = new Set(['monolithicSparse', 'streamOptimized']);

export function inspectImage(head: Buffer, totalSize: number): Inspection {
  return (
    inspectQcow2(head) ??
    inspectQed(head) ??
    inspectVmdk(head) ??
    inspectVmdkDescriptor(head) ??
    inspectVhd(head) ??
    inspectVhdx(head) ??
    inspectVdi(head) ??
    inspectIso(head) ?? { format: 'raw', virtualSize: totalSize > 0 ? totalSize : null }
  );
}

function inspectQcow2(b: Buffer): Inspection | undefined {
  if (b.length < 4 || b.readUInt32BE(0) !== QCOW2_MAGIC) return undefined;
  // A header that is not complete is not a qcow2 image anyone can use; still refuse it, it claims to be one.
  if (b.length < 104) return { format: 'qcow2', virtualSize: null, unsafe: 'truncated qcow2 header' };
  const version = b.readUInt32BE(4);
  const backingOffset = b.readBigUInt64BE(8);
  const virtualSize = Number(b.readBigUInt64BE(24));
  if (version !== 2 && version !== 3) return { format: 'qcow2', virtualSize: null, unsafe: `unsupported qcow2 version ${version}` };
  if (backingOffset !== 0n) return { format: 'qcow2', virtualSize, unsafe: 'qcow2 image has a backing file' };
  if (version === 3) {
    const incompatible = b.readBigUInt64BE(72);
    if (incompatible & QCOW2_DATA_FILE_BIT) return { format: 'qcow2', virtualSize, unsafe: 'qcow2 image has an external data file' };
    if (incompatible & ~QCOW2_KNOWN_INCOMPATIBLE) return { format: 'qcow2', virtualSize, unsafe: 'qcow2 image has unknown incompatible features' };
  }
  return { format: 'qcow2', virtualSize };
}

function inspectQed(b: Buffer): Inspection | undefined {
  if (b.length < 4 || b.toString('latin1', 0, 4) !== 'QED\0') return undefined;
  // QED can name a backing file and qemu probes formats behind it; nothing needs it any more.
  return { format: 'qed', virtualSize: null, unsafe: 'QED images are not accepted' };
}

function inspectVmdk(b: Buffer): Inspection | undefined {
  if (b.length < 4 || b.toString('latin1', 0, 4) !== 'KDMV') return undefined;
  if (b.length < 64) return { format: 'vmdk', virtualSize: null, unsafe: 'truncated vmdk header' };
  const version = b.readUInt32LE(4);
  const capacity = b.readBigUInt64LE(12);
  const descSector = b.readBigUInt64LE(28);
  const descSectors = b.readBigUInt64LE(36);
  const gdOffset = b.readBigUInt64LE(56);
  if (![1, 2, 3].includes(version)) return { format: 'vmdk', virtualSize: null, unsafe: `unsupported vmdk version ${version}` };
  if (gdOffset === 0xffffffffffffffffn) return { format: 'vmdk', virtualSize: null, unsafe: 'vmdk with a footer is not supported' };
  if (descSector === 0n || descSectors === 0n) return { format: 'vmdk', virtualSize: null, unsafe: 'vmdk without an embedded descriptor' };
  const start = Number(descSector) * 512;
  const length = Math.min(Number(descSectors) * 512, 1024 * 1024 - 1);
  if (start + length > b.length) return { format: 'vmdk', virtualSize: null, unsafe: 'vmdk descriptor lies outside the inspected data' };
  const text = b.subarray(start, start + length).toString('latin1').replace(/\0+$/g, '');
  const problem = checkVmdkDescriptor(text, true);
  if (problem) return { format: 'vmdk', virtualSize: null, unsafe: problem };
  return { format: 'vmdk', virtualSize: Number(capacity) * 512 };
}

/** A text-only VMDK (descriptor file) always points at other files: refuse it. */
function inspectVmdkDescriptor(b: Buffer): Inspection | undefined {
  const start = b.subarray(0, 64).toString('latin1');
  if (!start.startsWith('# Disk DescriptorFile')) return undefined;
  return { format: 'vmdk', virtualSize: null, unsafe: 'vmdk descriptor file refers to external extents' };
}

function checkVmdkDescriptor(text: string, embedded: boolean): string | undefined {
  if (!/^[\x09\x0a\x0d\x20-\x7e]*$/.test(text)) return 'vmdk descriptor is not plain text';
  let createType: string | undefined;
  const extents: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (/^(RW|RDONLY|NOACCESS)\s/i.test(line)) {
      extents.push(line);
      continue;
    }
    if (line.startsWith('ddb.')) continue;
    const m = /^([^\s=]+)\s*=\s*(.*)$/.exec(line);
    if (!m) return 'vmdk descriptor has an invalid line';
    if (m[1] === 'createType') createType = m[2]!.replace(/^"|"$/g, '');
  }
  if (!createType || !VMDK_SAFE_TYPES.has(createType)) return `vmdk type ${createType ?? '(none)'} is not accepted`;
  if (extents.length === 0) return 'vmdk has no extents';
  if (embedded && extents.length !== 1) return 'vmdk refers to external extents';
  for (const e of extents) {
    const file = /"([^"]*)"/.exec(e)?.[1] ?? '';
    if (file.includes('/') || file.includes('\\')) return 'vmdk refers to external extents';
    if (!/\sSPARSE\s/i.test(` ${e} `)) return 'vmdk refers to external extents';
  }
  return undefined;
}

function inspectVhd(b: Buffer): Inspection | undefined {
  if (b.length < 8 || b.toString('latin1', 0, 8) !== 'conectix') return undefined;
  if (b.length < 56) return { format: 'vhd', virtualSize: null };
  return { format: 'vhd', virtualSize: Number(b.readBigUInt64BE(40)) };
}

const VHDX_REGION_TABLE = 192 * 1024;
const VHDX_METADATA_REGION = guidBytes('8B7CA206-4790-4B9A-B8FE-575F050F886E');
const VHDX_VIRTUAL_DISK_SIZE = guidBytes('2FA54224-CD1B-4876-B211-5DBED83BF4B8');

function inspectVhdx(b: Buffer): Inspection | undefined {
  if (b.length < 8 || b.toString('latin1', 0, 8) !== 'vhdxfile') return undefined;
  return { format: 'vhdx', virtualSize: vhdxVirtualSize(b) };
}

function vhdxVirtualSize(b: Buffer): number | null {
  const rt = VHDX_REGION_TABLE;
  if (b.length < rt + 16 || b.readUInt32LE(rt) !== 0x69676572) return null;
  const count = b.readUInt32LE(rt + 8);
  if (count >= 2048) return null;
  for (let i = 0; i < count; i++) {
    const e = rt + 16 + i * 32;
    if (e + 32 > b.length) return null;
    if (!b.subarray(e, e + 16).equals(VHDX_METADATA_REGION)) continue;
    const meta = Number(b.readBigUInt64LE(e + 16));
    if (meta + 32 > b.length || b.toString('latin1', meta, meta + 8) !== 'metadata') return null;
    const items = b.readUInt16LE(meta + 10);
    if (items >= 2048) return null;
    for (let j = 0; j < items; j++) {
      const it = meta + 32 + j * 32;
      if (it + 32 > b.length) return null;
      if (!b.subarray(it, it + 16).equals(VHDX_VIRTUAL_DISK_SIZE)) continue;
      const at = meta + b.readUInt32LE(it + 16);
      if (at + 8 > b.length) return null;
      return Number(b.readBigUInt64LE(at));
    }
  }
  return null;
}

/** A GUID in its on-disk (mixed-endian) encoding. */
function guidBytes(guid: string): Buffer {
  const hex = guid.replaceAll('-', '');
  const out = Buffer.from(hex, 'hex');
  out.subarray(0, 4).reverse();
  out.subarray(4, 6).reverse();
  out.subarray(6, 8).reverse();
  return out;
}

function inspectVdi(b: Buffer): Inspection | undefined {
  if (b.length < 0x44 || b.readUInt32LE(0x40) !== 0xbeda107f) return undefined;
  if (b.length < 0x178) return { format: 'vdi', virtualSize: null };
  return { format: 'vdi', virtualSize: Number(b.readBigUInt64LE(0x170)) };
}

const ISO_DESCRIPTOR = 32 * 1024;

function inspectIso(b: Buffer): Inspection | undefined {
  if (b.length < ISO_DESCRIPTOR + 136) return undefined;
  const id = b.toString('latin1', ISO_DESCRIPTOR + 1, ISO_DESCRIPTOR + 6);
  if (id !== 'CD001' && id !== 'NSR02' && id !== 'NSR03') return undefined;
  if (b[ISO_DESCRIPTOR] !== 1 || id !== 'CD001') return { format: 'iso', virtualSize: null };
  const blocks = b.readUInt32LE(ISO_DESCRIPTOR + 80);
  const blockSize = b.readUInt16LE(ISO_DESCRIPTOR + 128);
  return { format: 'iso', virtualSize: blocks * blockSize || null };
}

/** disk_format values whose bytes are plain disk contents (anything not recognised is fine for them). */
const RAW_LIKE = new Set(['raw', 'ami', 'ari', 'aki']);

/**
 * Nimbus' rule for data that does not look like its disk_format (documented
 * in docs/compat.md): data recognisably of *another* format is refused (a
 * qcow2 labelled raw is the format-confusion attack); data that is not
 * recognisable at all is accepted whatever the label, because Glance accepts
 * it and Tempest uploads random bytes labelled qcow2, vhd or iso. With
 * `strict`, a claimed structured format must also be recognised.
 */
export function formatMismatch(claimed: string, found: Inspection, strict: boolean): string | undefined {
  if (found.format === claimed) return undefined;
  if (found.format === 'raw') {
    if (!strict || RAW_LIKE.has(claimed) || !['qcow2', 'vmdk', 'vhd', 'vhdx', 'vdi', 'iso'].includes(claimed)) return undefined;
    return `Image data is not a ${claimed} image.`;
  }
  // An ISO is a plain byte image, fine to use as raw.
  if (found.format === 'iso' && RAW_LIKE.has(claimed)) return undefined;
  return `Image data is a ${found.format} image, but disk_format is ${claimed}.`;
}

/** Whether an inspection's virtual size describes an image labelled `claimed` (Glance only trusts a match). */
export function sizeApplies(claimed: string | null, found: Inspection): boolean {
  return claimed !== null && found.format === claimed;
}
