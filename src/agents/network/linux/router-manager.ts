import type { IpTool } from './ip-tool.js';
import type { MetadataProxy } from './metadata-proxy.js';
import { isRouterGateway, type DesiredState, type DpNetwork, type DpPort, type DpRouter } from './model.js';
import { Names } from './names.js';
import type { ResourceJournal } from './resource-journal.js';

/**
 * Routers as Neutron's legacy L3 agent builds them: a `qrouter-` namespace
 * with IP forwarding, a `qr-` leg in each internal network's bridge, a `qg-`
 * leg in the external network's bridge, SNAT of internal traffic to the
 * gateway address, and per floating IP a DNAT/SNAT pair plus the address on
 * the `qg-` device. Instances behind the router reach the metadata proxy
 * through a redirect of 169.254.169.254:80 to a listener in the namespace.
 */

export const ROUTER_METADATA_PORT = 9697;

function prefixOf(net: DpNetwork | undefined, subnetId: string): string | undefined {
  return net?.subnets.find((s) => s.id === subnetId)?.cidr.split('/')[1];
}

/** The nat table of one router namespace (pure: unit tested). */
export function routerNatRules(router: DpRouter, gw: DpPort | undefined, withMetadata: boolean): string {
  const L = ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':nb-float-snat - [0:0]', ':nb-snat - [0:0]'];
  if (withMetadata) L.push(`-A PREROUTING -d 169.254.169.254/32 -i qr-+ -p tcp -m tcp --dport 80 -j REDIRECT --to-ports ${ROUTER_METADATA_PORT}`);
  for (const f of router.floatingIps) {
    L.push(`-A PREROUTING -d ${f.floatingIp}/32 -j DNAT --to-destination ${f.fixedIp}`);
    L.push(`-A OUTPUT -d ${f.floatingIp}/32 -j DNAT --to-destination ${f.fixedIp}`);
    L.push(`-A nb-float-snat -s ${f.fixedIp}/32 -j SNAT --to-source ${f.floatingIp}`);
  }
  L.push('-A POSTROUTING -j nb-float-snat', '-A POSTROUTING -j nb-snat');
  const gwIp = gw?.fixedIps.find((x) => !x.ip.includes(':'))?.ip;
  if (gw && gwIp && router.enableSnat) {
    const qg = Names.routerGateway(gw.id);
    // Only traffic leaving through the gateway is translated; east-west between internal subnets is routed as is.
    L.push(`-A nb-snat -o ${qg} -j SNAT --to-source ${gwIp}`);
  }
  L.push('COMMIT', '');
  return L.join('\n');
}

export class RouterManager {
  constructor(
    private readonly ip: IpTool,
    private readonly journal: ResourceJournal,
    private readonly proxy: MetadataProxy | undefined,
  ) {}

  private active(d: DesiredState): DpRouter[] {
    return d.routers.filter((r) => r.interfacePortIds.length > 0 || r.gatewayPortId);
  }

  wantedNamespaces(d: DesiredState): string[] {
    return this.active(d).map((r) => Names.routerNamespace(r.id));
  }

  wantedLinks(d: DesiredState): string[] {
    return this.active(d).flatMap((r) => [...r.interfacePortIds, ...(r.gatewayPortId ? [r.gatewayPortId] : [])].map((p) => Names.routerHostEnd(p)));
  }

  async apply(d: DesiredState): Promise<void> {
    const ports = new Map(d.ports.map((p) => [p.id, p]));
    const nets = new Map(d.networks.map((n) => [n.id, n]));
    for (const r of this.active(d)) await this.ensure(r, ports, nets);
  }

  private async leg(ns: string, port: DpPort, net: DpNetwork, inner: string): Promise<void> {
    const outer = Names.routerHostEnd(port.id);
    this.journal.add({ kind: 'link', name: outer });
    if (!(await this.ip.link(undefined, outer))) await this.ip.vethAdd(undefined, outer, inner, ns, net.mtu);
    await this.ip.linkSet(undefined, outer, { mtu: net.mtu, master: Names.bridge(net.id), up: true });
    await this.ip.linkSet(ns, inner, { address: port.mac, mtu: net.mtu, up: true });
    const want = new Set<string>();
    for (const f of port.fixedIps) {
      const len = prefixOf(net, f.subnetId);
      if (len && !f.ip.includes(':')) want.add(`${f.ip}/${len}`);
    }
    // Floating IPs (/32 on qg-) are managed by ensure(); keep them here.
    const keep = (await this.ip.addrs(ns, inner)).flatMap((a) => a.addr_info).filter((a) => a.prefixlen === 32).map((a) => `${a.local}/32`);
    await this.ip.addrSync(ns, inner, [...want], 'inet', keep);
  }

  private async ensure(r: DpRouter, ports: Map<string, DpPort>, nets: Map<string, DpNetwork>): Promise<void> {
    const ns = Names.routerNamespace(r.id);
    this.journal.add({ kind: 'netns', name: ns });
    await this.ip.netnsAdd(ns);
    await this.ip.sysctl(ns, 'net.ipv4.ip_forward', '1');
    const wantLegs = new Set<string>();
    for (const pid of r.interfacePortIds) {
      const p = ports.get(pid);
      const net = p && nets.get(p.networkId);
      if (!p || !net) continue;
      const qr = Names.routerInternal(p.id);
      wantLegs.add(qr);
      await this.leg(ns, p, net, qr);
    }
    const gw = r.gatewayPortId ? ports.get(r.gatewayPortId) : undefined;
    const gwNet = gw && nets.get(gw.networkId);
    if (gw && gwNet && isRouterGateway(gw)) {
      const qg = Names.routerGateway(gw.id);
      wantLegs.add(qg);
      await this.leg(ns, gw, gwNet, qg);
      // Floating IPs live on the gateway device so the external network's ARP finds them.
      const have = (await this.ip.addrs(ns, qg)).flatMap((a) => a.addr_info).filter((a) => a.prefixlen === 32).map((a) => a.local);
      const fips = new Set(r.floatingIps.map((f) => f.floatingIp));
      const gwIps = new Set(gw.fixedIps.map((f) => f.ip));
      for (const f of fips) if (!have.includes(f)) await this.ip.addrAdd(ns, qg, `${f}/32`);
      for (const a of have) if (!fips.has(a) && !gwIps.has(a)) await this.ip.addrDel(ns, qg, `${a}/32`);
      const sub = gwNet.subnets.find((s) => gw.fixedIps.some((f) => f.subnetId === s.id) && s.gatewayIp);
      if (sub?.gatewayIp) await this.ip.routeReplace(ns, 'default', { via: sub.gatewayIp, dev: qg });
    }
    // Legs of ports that left the router.
    for (const l of await this.ip.links(ns)) {
      if ((l.ifname.startsWith('qr-') || l.ifname.startsWith('qg-')) && !wantLegs.has(l.ifname)) await this.ip.linkDel(ns, l.ifname);
    }
    for (const rt of r.routes) await this.ip.routeReplace(ns, rt.destination, { via: rt.nexthop });
    await this.ip.exec(ns, 'iptables-restore', ['-w', '10'], { input: routerNatRules(r, gw, Boolean(this.proxy)) });
    if (this.proxy && r.interfacePortIds.length) {
      this.journal.add({ kind: 'listener', name: `router:${r.id}` });
      await this.proxy.listen(`router:${r.id}`, { kind: 'router', routerId: r.id }, { enter: this.ip.execPrefix(ns), host: '0.0.0.0', port: ROUTER_METADATA_PORT });
    }
  }
}
