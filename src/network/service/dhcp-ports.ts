import { isTrue } from '../../core/db/columns.js';
import { write, type NetworkDeps } from './deps.js';
import type { Caller } from './policy.js';
import { deletePortRow, insertPort, portViewById, updatePortIn } from './ports.js';
import { networkSubnets } from './subnets.js';

/**
 * DHCP ports for a data plane that serves DHCP (what Neutron's DHCP agent
 * asks for over RPC): one `network:dhcp` port per (network, host) with an
 * address on every DHCP-enabled subnet. They belong to no project (tenants
 * do not see them, quotas do not count them) and go away with their
 * network or subnets.
 */

const SERVICE: Caller = { projectId: '', userId: '', isAdmin: true, creds: { roles: ['admin'] }, token: '' };

export function dhcpDeviceId(host: string, networkId: string): string {
  return `dhcp-${host}-${networkId}`;
}

/** Creates or refreshes the DHCP port of a network on a host; undefined when the network has no DHCP subnet. */
export async function ensureDhcpPort(deps: NetworkDeps, networkId: string, host: string): Promise<Record<string, unknown> | undefined> {
  return write(
    deps,
    async (trx, sink) => {
      const net = await trx.selectFrom('net_network').select('id').where('id', '=', networkId).executeTakeFirst();
      if (!net) return undefined;
      const subnets = (await networkSubnets(trx, networkId)).filter((s) => isTrue(s.enable_dhcp));
      const deviceId = dhcpDeviceId(host, networkId);
      const existing = await trx.selectFrom('net_port').select('id').where('network_id', '=', networkId).where('device_id', '=', deviceId).executeTakeFirst();
      if (subnets.length === 0) return undefined;
      const wanted = subnets.map((s) => ({ subnet_id: s.id }));
      if (!existing) {
        return insertPort(
          deps,
          trx,
          sink,
          SERVICE,
          { network_id: networkId, device_owner: 'network:dhcp', device_id: deviceId, project_id: '', name: '', fixed_ips: wanted, 'binding:host_id': host },
          { system: true },
        );
      }
      const current = await portViewById(trx, existing.id);
      const have = new Set((current['fixed_ips'] as Array<{ subnet_id: string }>).map((f) => f.subnet_id));
      if (subnets.every((s) => have.has(s.id)) && have.size === subnets.length) return current;
      return updatePortIn(deps, trx, sink, SERVICE, existing.id, { fixed_ips: wanted }, undefined, { system: true });
    },
    { uniqueRetries: 3 },
  );
}

/** Removes the DHCP port of a network on a host (the host stopped serving it). */
export async function releaseDhcpPort(deps: NetworkDeps, networkId: string, host: string): Promise<void> {
  await write(deps, async (trx, sink) => {
    const row = await trx.selectFrom('net_port').selectAll().where('network_id', '=', networkId).where('device_id', '=', dhcpDeviceId(host, networkId)).executeTakeFirst();
    if (row) await deletePortRow(deps, trx, sink, row);
  });
}
