import { fromJson } from '../../core/db/columns.js';
import type { SubnetRow } from '../db/tables.js';
import { cidrLast, excludeFromRanges, formatIp, parseCidr, parseIp, type Cidr, type IpRange, type IpVersion } from '../ip/ip-address.js';

/** A subnet row with its addresses parsed, for IPAM decisions. */
export interface SubnetInfo {
  row: SubnetRow;
  version: IpVersion;
  cidr: Cidr;
  gateway: bigint | null;
  pools: IpRange[];
  /** SLAAC / DHCPv6-stateless: addresses are EUI-64, never from the pools. */
  autoAddress: boolean;
}

export const AUTO_MODES = ['slaac', 'dhcpv6-stateless'];

export function isAutoAddress(s: { ip_version: number; ipv6_address_mode: string | null; ipv6_ra_mode: string | null }): boolean {
  return s.ip_version === 6 && (AUTO_MODES.includes(s.ipv6_address_mode ?? '') || AUTO_MODES.includes(s.ipv6_ra_mode ?? ''));
}

export function parsePools(version: IpVersion, pools: Array<{ start: string; end: string }>): IpRange[] {
  return pools.map((p) => ({ start: parseIp(p.start)!.value, end: parseIp(p.end)!.value })).filter(() => version === 4 || version === 6);
}

export function subnetInfo(row: SubnetRow): SubnetInfo {
  const cidr = parseCidr(row.cidr)!;
  const version = cidr.version;
  return {
    row,
    version,
    cidr,
    gateway: row.gateway_ip ? parseIp(row.gateway_ip)!.value : null,
    pools: parsePools(version, fromJson<Array<{ start: string; end: string }>>(row.allocation_pools, [])),
    autoAddress: isAutoAddress(row),
  };
}

/** The addresses ports may be given automatically when no pools are set (neutron's generate_pools). */
export function defaultPoolBounds(cidr: Cidr): IpRange {
  const first = cidr.network;
  const last = cidrLast(cidr);
  if (first === last) return { start: first, end: last };
  if (cidr.version === 4) return cidr.prefix <= 30 ? { start: first + 1n, end: last - 1n } : { start: first, end: last };
  return { start: first + 1n, end: last };
}

export function generatePools(cidr: Cidr, gateway: bigint | null): IpRange[] {
  const bounds = defaultPoolBounds(cidr);
  return gateway === null ? [bounds] : excludeFromRanges([bounds], gateway);
}

export function formatPools(version: IpVersion, pools: IpRange[]): Array<{ start: string; end: string }> {
  return pools.map((p) => ({ start: formatIp(version, p.start), end: formatIp(version, p.end) }));
}

export function rangeText(version: IpVersion, r: IpRange): string {
  return `${formatIp(version, r.start)}-${formatIp(version, r.end)}`;
}
