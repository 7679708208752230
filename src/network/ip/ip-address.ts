/**
 * IPv4/IPv6 addresses and CIDRs as BigInts, with the textual forms Neutron
 * (netaddr) produces: dotted quads, and RFC 5952 compressed lower-case IPv6
 * (a single zero group is never shortened to `::`). Clients and Tempest
 * compare these strings for equality, so the canonical form matters.
 */

export type IpVersion = 4 | 6;

export interface IpAddress {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  /** The network address (host bits cleared). */
  network: bigint;
  prefix: number;
  /** The address as written, host bits kept (`10.0.0.5/24` → 10.0.0.5). */
  address: bigint;
}

const V4_MAX = (1n << 32n) - 1n;
const V6_MAX = (1n << 128n) - 1n;

export function bits(version: IpVersion): number {
  return version === 4 ? 32 : 128;
}

export function maxValue(version: IpVersion): bigint {
  return version === 4 ? V4_MAX : V6_MAX;
}

function parseV4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseV6(text: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return null;
  let head = text;
  let tailV4: bigint | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    tailV4 = parseV4(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const doubleColons = head.split('::').length - 1;
  if (doubleColons > 1) return null;
  let groups: string[];
  if (doubleColons === 1) {
    const [left, right] = head.split('::') as [string, string];
    const l = left === '' ? [] : left.split(':');
    const r = right === '' ? [] : right.split(':');
    const missing = 8 - l.length - r.length;
    if (missing < 1) return null;
    groups = [...l, ...Array<string>(missing).fill('0'), ...r];
  } else {
    groups = head.split(':');
  }
  if (groups.length !== 8) return null;
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** Parses an IPv4 or IPv6 address; null when it is not one. */
export function parseIp(text: string): IpAddress | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) return null;
  if (text.includes(':')) {
    const v = parseV6(text);
    return v === null ? null : { version: 6, value: v };
  }
  const v = parseV4(text);
  return v === null ? null : { version: 4, value: v };
}

export function formatIp(version: IpVersion, value: bigint): string {
  if (version === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // IPv4-mapped addresses keep their dotted tail, as inet_ntop prints them.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIp(4, value & 0xffffffffn)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

/** Canonical text of an address, or null when it does not parse. */
export function canonicalIp(text: string): string | null {
  const ip = parseIp(text);
  return ip ? formatIp(ip.version, ip.value) : null;
}

export function prefixMask(version: IpVersion, prefix: number): bigint {
  const total = BigInt(bits(version));
  const p = BigInt(prefix);
  return ((1n << p) - 1n) << (total - p);
}

/** Parses `addr/prefix` (a bare address is a host route: /32 or /128). */
export function parseCidr(text: string, options: { requirePrefix?: boolean } = {}): Cidr | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  if (slash < 0 && options.requirePrefix) return null;
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return null;
  let prefix = bits(ip.version);
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > bits(ip.version)) return null;
  }
  return { version: ip.version, network: ip.value & prefixMask(ip.version, prefix), prefix, address: ip.value };
}

export function formatCidr(c: Pick<Cidr, 'version' | 'network' | 'prefix'>): string {
  return `${formatIp(c.version, c.network)}/${c.prefix}`;
}

export function cidrSize(c: Pick<Cidr, 'version' | 'prefix'>): bigint {
  return 1n << BigInt(bits(c.version) - c.prefix);
}

export function cidrLast(c: Pick<Cidr, 'version' | 'network' | 'prefix'>): bigint {
  return c.network + cidrSize(c) - 1n;
}

export function cidrContains(c: Pick<Cidr, 'version' | 'network' | 'prefix'>, version: IpVersion, value: bigint): boolean {
  return version === c.version && value >= c.network && value <= cidrLast(c);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.network <= cidrLast(b) && b.network <= cidrLast(a);
}

/** Whether `inner` lies entirely inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.version === outer.version && inner.prefix >= outer.prefix && cidrContains(outer, inner.version, inner.network);
}

/** An inclusive range of addresses, as allocation pools are. */
export interface IpRange {
  start: bigint;
  end: bigint;
}

export function rangeSize(r: IpRange): bigint {
  return r.end - r.start + 1n;
}

/** Removes `value` from a list of ranges (splitting the one that holds it). */
export function excludeFromRanges(ranges: IpRange[], value: bigint): IpRange[] {
  const out: IpRange[] = [];
  for (const r of ranges) {
    if (value < r.start || value > r.end) {
      out.push(r);
      continue;
    }
    if (r.start < value) out.push({ start: r.start, end: value - 1n });
    if (value < r.end) out.push({ start: value + 1n, end: r.end });
  }
  return out;
}

/** Compacts a set of CIDRs into the fewest covering CIDRs (like netaddr.cidr_merge). */
export function mergeCidrs(cidrs: Cidr[]): Cidr[] {
  const ranges = cidrs
    .map((c) => ({ version: c.version, start: c.network, end: cidrLast(c) }))
    .sort((a, b) => (a.version !== b.version ? a.version - b.version : a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: Array<{ version: IpVersion; start: bigint; end: bigint }> = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && last.version === r.version && r.start <= last.end + 1n) {
      if (r.end > last.end) last.end = r.end;
    } else merged.push({ ...r });
  }
  return merged.flatMap((r) => rangeToCidrs(r.version, r.start, r.end));
}

/** The minimal CIDRs exactly covering [start, end]. */
export function rangeToCidrs(version: IpVersion, start: bigint, end: bigint): Cidr[] {
  const out: Cidr[] = [];
  const total = bits(version);
  let cur = start;
  while (cur <= end) {
    let prefix = total;
    while (prefix > 0) {
      const size = 1n << BigInt(total - prefix + 1);
      if (cur % size !== 0n || cur + size - 1n > end) break;
      prefix--;
    }
    out.push({ version, network: cur, prefix, address: cur });
    cur += 1n << BigInt(total - prefix);
  }
  return out;
}
