import { sql } from 'kysely';
import type { NetworkRow } from '../db/tables.js';
import { rangeSize } from '../ip/ip-address.js';
import type { NetworkDeps } from './deps.js';
import { NotFound } from './faults.js';
import { allowed, type Caller } from './policy.js';
import { subnetInfo } from './subnet-info.js';

/** network-ip-availabilities: how many addresses each network's pools hold and how many are used (admin only). */

export type Dict = Record<string, unknown>;

/** Pool sizes can pass 2^53 (IPv6); JSON numbers then lose precision, as they do for most clients anyway. */
const num = (n: bigint) => Number(n);

async function availability(deps: NetworkDeps, nets: NetworkRow[], ipVersion?: number): Promise<Dict[]> {
  const out: Dict[] = [];
  for (const n of nets) {
    let q = deps.db.selectFrom('net_subnet').selectAll().where('network_id', '=', n.id).orderBy('seq');
    if (ipVersion !== undefined) q = q.where('ip_version', '=', ipVersion);
    const subnets = await q.execute();
    const used = new Map(
      (
        await deps.db
          .selectFrom('net_ip_allocation')
          .select(['subnet_id', sql<number>`count(*)`.as('n')])
          .where('network_id', '=', n.id)
          .groupBy('subnet_id')
          .execute()
      ).map((r) => [r.subnet_id, Number(r.n)]),
    );
    const per = subnets.map((s) => {
      const total = subnetInfo(s).pools.reduce((t, p) => t + rangeSize(p), 0n);
      return { subnet_id: s.id, subnet_name: s.name, cidr: s.cidr, ip_version: s.ip_version, total_ips: num(total), used_ips: used.get(s.id) ?? 0 };
    });
    out.push({
      network_id: n.id,
      network_name: n.name,
      tenant_id: n.project_id,
      project_id: n.project_id,
      total_ips: per.reduce((t, s) => t + s.total_ips, 0),
      used_ips: per.reduce((t, s) => t + s.used_ips, 0),
      subnet_ip_availability: per,
    });
  }
  return out;
}

export async function listAvailability(deps: NetworkDeps, caller: Caller, filters: Record<string, string[]>): Promise<Dict[]> {
  if (!allowed(deps.enforcer, caller, 'get_network_ip_availability')) return [];
  let q = deps.db.selectFrom('net_network').selectAll();
  if (filters['network_id']?.length) q = q.where('id', 'in', filters['network_id']!);
  if (filters['network_name']?.length) q = q.where('name', 'in', filters['network_name']!);
  const projects = filters['project_id'] ?? filters['tenant_id'];
  if (projects?.length) q = q.where('project_id', 'in', projects);
  const ipVersion = filters['ip_version']?.[0];
  const nets = await q.orderBy('id').execute();
  const views = await availability(deps, nets, ipVersion ? Number(ipVersion) : undefined);
  return ipVersion ? views.filter((v) => (v['subnet_ip_availability'] as unknown[]).length > 0) : views;
}

export async function showAvailability(deps: NetworkDeps, caller: Caller, networkId: string): Promise<Dict> {
  if (!allowed(deps.enforcer, caller, 'get_network_ip_availability')) throw NotFound.network(networkId);
  const net = await deps.db.selectFrom('net_network').selectAll().where('id', '=', networkId).executeTakeFirst();
  if (!net) throw NotFound.network(networkId);
  return (await availability(deps, [net]))[0]!;
}
