import type { ServiceSession } from '../../core/clients/service-auth.js';
import type { NetworkDeps } from './deps.js';
import { createNetworks } from './networks.js';
import type { Caller } from './policy.js';
import { createSubnets } from './subnets.js';

/**
 * At first start (no network at all), an external flat network `public`
 * with one subnet, owned by the `admin` project as devstack makes it — on a
 * physical network of its own (`public`) so that an install guide's
 * `network create --provider-physical-network external
 * --provider-network-type flat` still finds `external` free.
 * Switched off with network.publicNetwork.create = false.
 */
export async function ensurePublicNetwork(deps: NetworkDeps, session: Pick<ServiceSession, 'request'>): Promise<string | undefined> {
  const cfg = deps.config.publicNetwork;
  if (!cfg.create) return undefined;
  const any = await deps.db.selectFrom('net_network').select('id').limit(1).executeTakeFirst();
  if (any) return undefined;
  const projectId = await adminProjectId(session);
  const caller: Caller = {
    projectId,
    userId: '',
    isAdmin: true,
    creds: { roles: ['admin'], project_id: projectId, tenant_id: projectId },
    token: '',
  };
  let networkId: string;
  try {
    const [net] = await createNetworks(
      deps,
      caller,
      [
        {
          name: cfg.name,
          'router:external': true,
          shared: cfg.shared,
          'provider:network_type': 'flat',
          'provider:physical_network': cfg.physicalNetwork,
          description: 'External network made at first start (network.publicNetwork)',
        },
      ],
      { system: true },
    );
    networkId = String(net!['id']);
  } catch (err) {
    // Another process of the cloud made it first (the flat segment is unique).
    deps.log.info({ err: (err as Error).message }, 'public network not created');
    return undefined;
  }
  const pools = cfg.allocationPools.map((p) => {
    const [start, end] = p.split('-');
    return { start: start!.trim(), end: end!.trim() };
  });
  await createSubnets(deps, caller, [
    {
      network_id: networkId,
      name: cfg.subnetName,
      ip_version: 4,
      cidr: cfg.cidr,
      gateway_ip: cfg.gateway || null,
      enable_dhcp: false,
      dns_nameservers: cfg.dnsNameservers,
      ...(pools.length ? { allocation_pools: pools } : {}),
    },
  ]);
  if (cfg.ipv6Cidr) {
    await createSubnets(deps, caller, [{ network_id: networkId, name: `${cfg.subnetName}-v6`, ip_version: 6, cidr: cfg.ipv6Cidr, enable_dhcp: false }]);
  }
  deps.log.info({ network: networkId, cidr: cfg.cidr, physnet: cfg.physicalNetwork }, 'created the public network');
  return networkId;
}

async function adminProjectId(session: Pick<ServiceSession, 'request'>): Promise<string> {
  try {
    const res = await session.request('identity', '/projects?name=admin');
    if (res.ok) {
      const body = (await res.json()) as { projects?: Array<{ id: string; domain_id: string }> };
      const p = body.projects?.find((x) => x.domain_id === 'default') ?? body.projects?.[0];
      if (p) return p.id;
    }
  } catch {
    // Identity unreachable: fall through.
  }
  return '';
}
