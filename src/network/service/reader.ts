import type { NetworkReader } from '../backend/backend.js';
import type { NetworkDeps } from './deps.js';
import { floatingIpViewsByRouter } from './floating-ips.js';
import { networkViews } from './networks.js';
import { portViews } from './ports.js';
import { interfacePorts, routerViews } from './routers.js';
import { ruleView } from './security-groups.js';
import { subnetViews } from './subnets.js';

/**
 * What the data plane may read (Neutron's agent RPC: get_device_details,
 * sync_routers, security_group_info_for_devices), as admin views.
 */
export function createNetworkReader(deps: NetworkDeps): NetworkReader {
  const db = deps.db;
  return {
    async portDetails(portId) {
      const row = await db.selectFrom('net_port').selectAll().where('id', '=', portId).executeTakeFirst();
      if (!row) return undefined;
      const [port] = await portViews(db, [row]);
      const net = await db.selectFrom('net_network').selectAll().where('id', '=', row.network_id).executeTakeFirstOrThrow();
      const [network] = await networkViews(db, deps, [net], '');
      const subnets = await subnetViews(db, await db.selectFrom('net_subnet').selectAll().where('network_id', '=', row.network_id).orderBy('seq').execute());
      return { port: port!, network: network!, subnets };
    },
    async portsOnHost(host) {
      return portViews(db, await db.selectFrom('net_port').selectAll().where('binding_host_id', '=', host).execute());
    },
    async routerDetails(routerId) {
      const row = await db.selectFrom('net_router').selectAll().where('id', '=', routerId).executeTakeFirst();
      if (!row) return undefined;
      const [router] = await routerViews(db, deps, [row]);
      const gw = row.gw_port_id ? await db.selectFrom('net_port').selectAll().where('id', '=', row.gw_port_id).executeTakeFirst() : undefined;
      const gatewayPort = gw ? (await portViews(db, [gw]))[0]! : null;
      const interfaces = await portViews(db, await interfacePorts(db, routerId));
      const subnetIds = [...interfaces, ...(gatewayPort ? [gatewayPort] : [])].flatMap((p) => (p['fixed_ips'] as Array<{ subnet_id: string }>).map((f) => f.subnet_id));
      const subnets = subnetIds.length ? await subnetViews(db, await db.selectFrom('net_subnet').selectAll().where('id', 'in', [...new Set(subnetIds)]).execute()) : [];
      return { router: router!, gatewayPort, interfaces, subnets, floatingips: await floatingIpViewsByRouter(db, routerId) };
    },
    async securityGroupInfo(groupIds) {
      if (groupIds.length === 0) return { rules: [], members: {} };
      const rules = (await db.selectFrom('net_security_group_rule').selectAll().where('security_group_id', 'in', groupIds).execute()).map(ruleView);
      const remoteIds = [...new Set(rules.map((r) => r['remote_group_id']).filter((x): x is string => typeof x === 'string'))];
      const members: Record<string, string[]> = {};
      if (remoteIds.length) {
        const rows = await db
          .selectFrom('net_port_security_group as g')
          .innerJoin('net_ip_allocation as a', 'a.port_id', 'g.port_id')
          .select(['g.security_group_id', 'a.ip_address'])
          .where('g.security_group_id', 'in', remoteIds)
          .execute();
        for (const r of rows) (members[r.security_group_id] ??= []).push(r.ip_address);
      }
      return { rules, members };
    },
    async networks() {
      return networkViews(db, deps, await db.selectFrom('net_network').selectAll().execute(), '');
    },
    async subnets(networkId) {
      let q = db.selectFrom('net_subnet').selectAll();
      if (networkId) q = q.where('network_id', '=', networkId);
      return subnetViews(db, await q.orderBy('seq').execute());
    },
  };
}
