import { randomInt } from 'node:crypto';
import type { NetworkConfig, Trx } from './deps.js';
import { conflict, invalidInput } from './faults.js';
import { Errors } from '../../core/errors.js';

/**
 * Network segments, as ML2's type drivers manage them: flat networks take a
 * whole physical network, VLANs an id on a physical network, VXLANs a VNI.
 * Each segment is a unique `segment_key` on the network row, so a segment
 * can never be given twice even by concurrent requests; tenant networks get
 * a random free id from the configured ranges.
 */

export interface SegmentSpec {
  network_type: string;
  physical_network: string | null;
  segmentation_id: number | null;
}

interface Range {
  min: number;
  max: number;
}

export interface SegmentConfig {
  flat: (physnet: string) => boolean;
  vlanPhysnets: Map<string, Range[]>;
  vni: Range[];
  tenantTypes: string[];
  mtu(type: string): number;
}

export function segmentConfig(config: NetworkConfig): SegmentConfig {
  const mapped = new Set(Object.keys(config.physicalInterfaceMappings));
  const vlanPhysnets = new Map<string, Range[]>();
  for (const entry of config.networkVlanRanges) {
    const [physnet, min, max] = entry.split(':');
    if (!physnet) continue;
    const ranges = vlanPhysnets.get(physnet) ?? [];
    if (min !== undefined && max !== undefined) ranges.push({ min: Number(min), max: Number(max) });
    vlanPhysnets.set(physnet, ranges);
  }
  const vni = config.vniRanges.map((r) => {
    const [min, max] = r.split(':').map(Number);
    return { min: min!, max: max ?? min! };
  });
  return {
    flat: (physnet) => config.flatNetworks.includes(physnet) || (config.flatNetworks.includes('*') && mapped.has(physnet)),
    vlanPhysnets,
    vni,
    tenantTypes: config.tenantNetworkTypes,
    mtu: (type) => (type === 'vxlan' || type === 'geneve' ? config.physicalMtu - config.overlayOverhead : config.physicalMtu),
  };
}

export function segmentKey(s: SegmentSpec): string | null {
  if (s.network_type === 'local') return null;
  if (s.network_type === 'flat') return `flat:${s.physical_network}:`;
  return `${s.network_type}:${s.physical_network ?? ''}:${s.segmentation_id}`;
}

const MAX_VLAN = 4094;
const MAX_VNI = 2 ** 24 - 1;

/** Validates provider attributes given by an admin (ML2 type drivers' validate_provider_segment). */
export function validateProviderSegment(cfg: SegmentConfig, s: { network_type?: unknown; physical_network?: unknown; segmentation_id?: unknown }): SegmentSpec {
  const type = s.network_type;
  const physnet = (s.physical_network ?? null) as string | null;
  const segId = (s.segmentation_id ?? null) as number | null;
  if (type === undefined || type === null) throw invalidInput('network_type required');
  switch (type) {
    case 'flat':
      if (!physnet) throw invalidInput('physical_network required for flat provider network');
      if (segId !== null) throw invalidInput('segmentation_id specified for flat provider network');
      if (!cfg.flat(physnet)) throw invalidInput(`physical_network '${physnet}' unknown for flat provider network`);
      return { network_type: 'flat', physical_network: physnet, segmentation_id: null };
    case 'vlan':
      if (physnet !== null && !cfg.vlanPhysnets.has(physnet)) throw invalidInput(`physical_network '${physnet}' unknown for VLAN provider network`);
      if (segId !== null && (segId < 1 || segId > MAX_VLAN)) throw invalidInput(`segmentation_id out of range (1 through ${MAX_VLAN})`);
      if (physnet === null && segId !== null) throw invalidInput('segmentation_id requires physical_network for VLAN provider network');
      return { network_type: 'vlan', physical_network: physnet, segmentation_id: segId };
    case 'vxlan':
      if (physnet !== null) throw invalidInput('provider:physical_network specified for VXLAN network');
      if (segId !== null && (segId < 1 || segId > MAX_VNI)) throw invalidInput(`segmentation_id out of range (1 through ${MAX_VNI})`);
      return { network_type: 'vxlan', physical_network: null, segmentation_id: segId };
    case 'local':
      if (physnet !== null || segId !== null) throw invalidInput('provider:physical_network or provider:segmentation_id specified for local network');
      return { network_type: 'local', physical_network: null, segmentation_id: null };
    default:
      throw invalidInput(`network_type value '${String(type)}' not supported`);
  }
}

/** The conflict a taken segment is reported as. */
export function segmentInUse(s: SegmentSpec): Error {
  if (s.network_type === 'flat') return conflict('FlatNetworkInUse', `Unable to create the flat network. Physical network ${s.physical_network} is in use.`);
  if (s.network_type === 'vlan') {
    return conflict('VlanIdInUse', `Unable to create the network. The VLAN ${s.segmentation_id} on physical network ${s.physical_network} is in use.`);
  }
  return conflict('TunnelIdInUse', `Unable to create the network. The tunnel ID ${s.segmentation_id} is in use.`);
}

async function usedIds(trx: Trx, type: string, physnet: string | null): Promise<Set<number>> {
  let q = trx.selectFrom('net_network').select('segmentation_id').where('network_type', '=', type);
  q = physnet === null ? q.where('physical_network', 'is', null) : q.where('physical_network', '=', physnet);
  const rows = await q.execute();
  return new Set(rows.map((r) => r.segmentation_id).filter((x): x is number => x !== null));
}

/** A random free id in the ranges; null when all are taken. */
function randomId(ranges: Range[], total: number): number {
  let k = randomInt(total);
  for (const r of ranges) {
    const size = r.max - r.min + 1;
    if (k < size) return r.min + k;
    k -= size;
  }
  return ranges[0]!.min;
}

async function pickFree(trx: Trx, type: string, physnet: string | null, ranges: Range[]): Promise<number | null> {
  const total = ranges.reduce((n, r) => n + (r.max - r.min + 1), 0);
  if (total <= 0) return null;
  if (total > 4096) {
    // A wide range: probe random ids by their unique key instead of reading every network.
    for (let i = 0; i < 8; i++) {
      const id = randomId(ranges, total);
      const key = segmentKey({ network_type: type, physical_network: physnet, segmentation_id: id });
      if (!(await trx.selectFrom('net_network').select('id').where('segment_key', '=', key!).executeTakeFirst())) return id;
    }
  }
  const used = await usedIds(trx, type, physnet);
  // Random picks spread concurrent allocations; a full scan settles nearly-full ranges.
  for (let i = 0; i < 8; i++) {
    const id = randomId(ranges, total);
    if (!used.has(id)) return id;
  }
  const free: number[] = [];
  for (const r of ranges) for (let id = r.min; id <= r.max && free.length < 64; id++) if (!used.has(id)) free.push(id);
  return free.length ? free[randomInt(free.length)]! : null;
}

/** Fills in a segmentation id for a partial provider segment (vlan/vxlan without an id). */
export async function completeSegment(trx: Trx, cfg: SegmentConfig, s: SegmentSpec): Promise<SegmentSpec> {
  if (s.segmentation_id !== null || s.network_type === 'flat' || s.network_type === 'local') return s;
  if (s.network_type === 'vxlan') {
    const id = await pickFree(trx, 'vxlan', null, cfg.vni);
    if (id === null) throw noNetworkAvailable();
    return { ...s, segmentation_id: id };
  }
  const candidates = s.physical_network ? [s.physical_network] : [...cfg.vlanPhysnets.keys()];
  for (const physnet of candidates) {
    const id = await pickFree(trx, 'vlan', physnet, cfg.vlanPhysnets.get(physnet) ?? []);
    if (id !== null) return { ...s, physical_network: physnet, segmentation_id: id };
  }
  throw noNetworkAvailable();
}

/** A segment for a tenant network: the first configured type with room. */
export async function allocateTenantSegment(trx: Trx, cfg: SegmentConfig): Promise<SegmentSpec> {
  for (const type of cfg.tenantTypes) {
    if (type === 'local') return { network_type: 'local', physical_network: null, segmentation_id: null };
    try {
      return await completeSegment(trx, cfg, { network_type: type, physical_network: null, segmentation_id: null });
    } catch (err) {
      if ((err as { code?: string }).code !== 'NoNetworkAvailable') throw err;
    }
  }
  throw noNetworkAvailable();
}

function noNetworkAvailable(): Error {
  return Errors.serviceUnavailable('Unable to create the network. No tenant network is available for allocation.', { code: 'NoNetworkAvailable' });
}
