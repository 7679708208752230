import { randomBytes, randomInt } from 'node:crypto';
import type { SubnetRow } from '../db/tables.js';
import { cidrContains, cidrLast, formatIp, parseIp, rangeSize, type IpRange } from '../ip/ip-address.js';
import { eui64Address } from '../ip/mac.js';
import type { Trx } from './deps.js';
import { bad, conflict, invalidInput, NotFound } from './faults.js';
import { subnetInfo, type SubnetInfo } from './subnet-info.js';

/**
 * IP address management. An address is taken by inserting its
 * (subnet, address) row — the primary key — with ON CONFLICT DO NOTHING, so
 * two requests can never get the same address, on any dialect, with no
 * lock held across the choice. Automatic picks are random inside the
 * allocation pools (spreading concurrent requests), falling back to a scan
 * of what is free when the pool is small or nearly full. Releasing is
 * deleting the row: the address is reusable at once.
 */

export interface FixedIpRequest {
  subnet_id?: string;
  ip_address?: string;
}

export interface Allocation {
  subnet_id: string;
  ip_address: string;
}

export interface PortIdentity {
  id: string;
  network_id: string;
  mac_address: string;
  device_owner: string;
}

export const ROUTER_OWNERS = ['network:router_interface', 'network:router_interface_distributed', 'network:ha_router_replicated_interface', 'network:router_centralized_snat', 'network:router_gateway'];

export function isRouterPort(deviceOwner: string): boolean {
  return ROUTER_OWNERS.includes(deviceOwner);
}

/** Tries to take one address; true when it is now this port's. */
async function claim(trx: Trx, subnet: SubnetRow, portId: string, ip: string, position: number): Promise<boolean> {
  const r = await trx
    .insertInto('net_ip_allocation')
    .values({ subnet_id: subnet.id, ip_address: ip, port_id: portId, network_id: subnet.network_id, position })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
}

function randomIn(pools: IpRange[]): bigint {
  const total = pools.reduce((n, p) => n + rangeSize(p), 0n);
  // A uniform 64-bit draw is plenty for picking inside even a /64 pool.
  let k = BigInt(`0x${randomBytes(8).toString('hex')}`) % total;
  for (const p of pools) {
    const size = rangeSize(p);
    if (k < size) return p.start + k;
    k -= size;
  }
  return pools[0]!.start;
}

/** Any free address of the subnet's pools, or null when the pools are full. */
async function allocateAny(trx: Trx, info: SubnetInfo, portId: string, position: number): Promise<string | null> {
  const pools = info.pools;
  if (pools.length === 0) return null;
  const total = pools.reduce((n, p) => n + rangeSize(p), 0n);
  const fmt = (v: bigint) => formatIp(info.version, v);
  // Random probes first (cheap, and spread concurrent requests); a small pool gets a few only.
  {
    for (let i = 0; i < (total > 1024n ? 12 : 3); i++) {
      const candidate = randomIn(pools);
      if (candidate === info.gateway) continue;
      if (await claim(trx, info.row, portId, fmt(candidate), position)) return fmt(candidate);
    }
  }
  // Small or crowded pool: look at what is taken and pick among the first free addresses.
  for (let round = 0; round < 6; round++) {
    const taken = new Set(
      (await trx.selectFrom('net_ip_allocation').select('ip_address').where('subnet_id', '=', info.row.id).execute()).map((r) => r.ip_address),
    );
    const free: bigint[] = [];
    for (const p of pools) {
      for (let v = p.start; v <= p.end && free.length < 32; v++) {
        if (v !== info.gateway && !taken.has(fmt(v))) free.push(v);
      }
      if (free.length >= 32) break;
    }
    if (free.length === 0) return null;
    const pick = free[randomInt(free.length)]!;
    if (await claim(trx, info.row, portId, fmt(pick), position)) return fmt(pick);
  }
  return null;
}

export function generationFailure(networkId: string): Error {
  return conflict('IpAddressGenerationFailure', `No more IP addresses available on network ${networkId}.`);
}

/** Whether an explicit address is acceptable on the subnet (pools are not required, as in Neutron). */
function validExplicit(info: SubnetInfo, value: bigint, version: number, routerPort: boolean): boolean {
  if (version !== info.version || !cidrContains(info.cidr, info.version, value)) return false;
  if (info.version === 4 && info.cidr.prefix <= 30 && (value === info.cidr.network || value === cidrLast(info.cidr))) return false;
  // The IPv6 subnet-router anycast address belongs to routers.
  if (info.version === 6 && value === info.cidr.network && !routerPort) return false;
  return true;
}

async function claimExplicit(trx: Trx, info: SubnetInfo, portId: string, ip: string, position: number): Promise<Allocation> {
  if (!(await claim(trx, info.row, portId, ip, position))) {
    throw conflict('IpAddressAlreadyAllocated', `IP address ${ip} already allocated in subnet ${info.row.id}`);
  }
  return { subnet_id: info.row.id, ip_address: ip };
}

async function eui64(trx: Trx, info: SubnetInfo, port: PortIdentity, position: number): Promise<Allocation> {
  const ip = formatIp(6, eui64Address(info.cidr.network, port.mac_address));
  return claimExplicit(trx, info, port.id, ip, position);
}

/**
 * Allocates a port's addresses on its network's subnets (in creation order).
 * `requested` undefined: one IPv4, one stateful IPv6 and the EUI-64 address
 * of every auto-address subnet. Otherwise each entry, plus the auto-address
 * subnets not mentioned. `keep` are addresses the port already holds.
 */
export async function allocateFixedIps(
  trx: Trx,
  subnets: SubnetRow[],
  port: PortIdentity,
  requested: FixedIpRequest[] | undefined,
  options: { keep?: Allocation[]; startPosition?: number; ipv4Only?: boolean } = {},
): Promise<Allocation[]> {
  const infos = subnets.map(subnetInfo);
  const byId = new Map(infos.map((i) => [i.row.id, i]));
  const routerPort = isRouterPort(port.device_owner);
  // Router and floating IP ports never get implicit SLAAC addresses.
  const noAuto = routerPort || port.device_owner === 'network:floatingip';
  const out: Allocation[] = [];
  let position = options.startPosition ?? 0;
  const next = () => position++;

  if (requested === undefined && options.ipv4Only) {
    // A floating IP: one IPv4 address from the first IPv4 subnet with room.
    const v4 = infos.filter((i) => i.version === 4);
    if (v4.length === 0) throw bad('BadRequest', `Bad floatingip request: Network ${port.network_id} does not contain any IPv4 subnet.`);
    for (const info of v4) {
      const got = await allocateAny(trx, info, port.id, next());
      if (got) return [{ subnet_id: info.row.id, ip_address: got }];
    }
    throw bad('ExternalIpAddressExhausted', `Unable to find any IP address on external network ${port.network_id}.`);
  }
  if (requested === undefined) {
    for (const version of [4, 6] as const) {
      const candidates = infos.filter((i) => i.version === version && !i.autoAddress);
      if (candidates.length === 0) continue;
      let got: string | null = null;
      for (const info of candidates) {
        got = await allocateAny(trx, info, port.id, next());
        if (got) {
          out.push({ subnet_id: info.row.id, ip_address: got });
          break;
        }
      }
      if (!got) throw generationFailure(port.network_id);
    }
    if (!noAuto) for (const info of infos.filter((i) => i.autoAddress)) out.push(await eui64(trx, info, port, next()));
    return out;
  }

  const seen = new Set<string>();
  const kept = new Set((options.keep ?? []).map((k) => `${k.subnet_id} ${k.ip_address}`));
  for (const req of requested) {
    const key = JSON.stringify(req);
    if (seen.has(key)) throw invalidInput(`Duplicate fixed_ips entry: ${key}`);
    seen.add(key);
    if (req.ip_address !== undefined) {
      const ip = parseIp(req.ip_address);
      if (!ip) throw invalidInput(`Invalid input for fixed_ips. Reason: '${req.ip_address}' is not a valid IP address.`);
      const text = formatIp(ip.version, ip.value);
      let info: SubnetInfo | undefined;
      if (req.subnet_id !== undefined) {
        info = byId.get(req.subnet_id);
        if (!info) throw await unknownSubnet(trx, port.network_id, req.subnet_id);
        if (!validExplicit(info, ip.value, ip.version, routerPort)) {
          throw bad('InvalidIpForSubnet', `IP address ${req.ip_address} is not a valid IP for the specified subnet.`);
        }
      } else {
        info = infos.find((i) => validExplicit(i, ip.value, ip.version, routerPort));
        if (!info) throw bad('InvalidIpForNetwork', `IP address ${req.ip_address} is not a valid IP for any of the subnets on the specified network.`);
      }
      if (info.autoAddress && !routerPort && text !== formatIp(6, eui64Address(info.cidr.network, port.mac_address))) {
        throw bad(
          'AllocationOnAutoAddressSubnet',
          `IPv6 address ${text} cannot be directly assigned to a port on subnet ${info.row.id} as the subnet is configured for automatic addresses`,
        );
      }
      if (kept.has(`${info.row.id} ${text}`)) {
        out.push({ subnet_id: info.row.id, ip_address: text });
        continue;
      }
      out.push(await claimExplicit(trx, info, port.id, text, next()));
      continue;
    }
    if (req.subnet_id !== undefined) {
      const info = byId.get(req.subnet_id);
      if (!info) throw await unknownSubnet(trx, port.network_id, req.subnet_id);
      const existing = (options.keep ?? []).find((k) => k.subnet_id === info.row.id && !out.some((o) => o.ip_address === k.ip_address && o.subnet_id === k.subnet_id));
      if (existing) {
        out.push(existing);
        continue;
      }
      if (info.autoAddress && !routerPort) {
        out.push(await eui64(trx, info, port, next()));
        continue;
      }
      const got = await allocateAny(trx, info, port.id, next());
      if (!got) throw conflict('IpAddressGenerationFailure', `No more IP addresses available for subnet ${info.row.id}.`);
      out.push({ subnet_id: info.row.id, ip_address: got });
      continue;
    }
    throw bad('InvalidInput', 'Invalid input for operation: IP allocation requires subnet_id or ip_address.');
  }
  if (!noAuto) {
    for (const info of infos.filter((i) => i.autoAddress)) {
      if (out.some((o) => o.subnet_id === info.row.id)) continue;
      const have = (options.keep ?? []).find((k) => k.subnet_id === info.row.id);
      out.push(have ?? (await eui64(trx, info, port, next())));
    }
  }
  return out;
}

async function unknownSubnet(trx: Trx, networkId: string, subnetId: string): Promise<Error> {
  const exists = await trx.selectFrom('net_subnet').select('id').where('id', '=', subnetId).executeTakeFirst();
  if (!exists) return NotFound.subnet(subnetId);
  return invalidInput(`Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${subnetId}`);
}
