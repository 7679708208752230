import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Log } from '../../../core/log.js';
import { Dnsmasq, METADATA_IP, type DhcpConfig } from './dnsmasq.js';
import type { IpTool, Ns } from './ip-tool.js';
import { MetadataProxy, type InstanceIdentity, type ProxyScope } from './metadata-proxy.js';
import { isComputePort, isDhcpPort, isRouterGateway, isRouterInterface, type DesiredState, type DpNetwork, type DpPort } from './model.js';
import { Names } from './names.js';
import { ResourceJournal } from './resource-journal.js';
import { RouterManager } from './router-manager.js';
import { SecurityGroupFirewall } from './security-groups.js';

/**
 * The Linux data plane of one host, in the manner of Neutron's linuxbridge,
 * DHCP, L3 and metadata agents: a bridge per network (VXLAN, flat or VLAN
 * uplink), a tap per VM port, a `qdhcp-` namespace with dnsmasq and the
 * metadata proxy per network, `qrouter-` namespaces with NAT, and per-port
 * security-group chains. `apply(desired)` is idempotent and removes whatever
 * it created that is no longer desired, so it is also the reconcile run at
 * agent start.
 */

export interface LinuxDataPlaneOptions {
  ip: IpTool;
  log: Log;
  /** Files: dnsmasq configs, journal. */
  stateDir: string;
  /** VXLAN underlay: local address, device, and flooding peers (unicast) or a multicast group. */
  vxlan?: { localIp?: string; dev?: string; peers?: string[]; group?: string; port?: number };
  /** Provider networks: physical network name -> host interface. */
  physicalInterfaces?: Record<string, string>;
  /** Metadata proxy; when absent no metadata listener is started. */
  metadata?: { upstream: { host: string; port: number }; sharedSecret: string };
  dhcpDomain?: string;
  /** Enforce security groups (iptables/ipset). Default true. */
  firewall?: boolean;
}

export class LinuxDataPlane {
  readonly ip: IpTool;
  readonly dnsmasq: Dnsmasq;
  readonly journal: ResourceJournal;
  readonly proxy: MetadataProxy | undefined;
  readonly firewall: SecurityGroupFirewall | undefined;
  readonly routers: RouterManager;
  private desired: DesiredState = { networks: [], ports: [], securityGroups: [], routers: [] };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: LinuxDataPlaneOptions) {
    this.ip = opts.ip;
    this.dnsmasq = new Dnsmasq(opts.ip, join(opts.stateDir, 'dhcp'));
    this.journal = new ResourceJournal(join(opts.stateDir, 'journal.json'));
    this.proxy = opts.metadata
      ? new MetadataProxy({ log: opts.log, upstream: opts.metadata.upstream, sharedSecret: opts.metadata.sharedSecret, resolve: (s, ip) => this.resolveInstance(s, ip) })
      : undefined;
    this.firewall = opts.firewall === false ? undefined : new SecurityGroupFirewall(opts.ip);
    this.routers = new RouterManager(opts.ip, this.journal, this.proxy);
  }

  /** Which instance owns `sourceIp` in the network (or behind the router) a metadata request came from. */
  resolveInstance(scope: ProxyScope, sourceIp: string): InstanceIdentity | undefined {
    let networks: Set<string>;
    if (scope.kind === 'network') networks = new Set([scope.networkId]);
    else {
      const r = this.desired.routers.find((x) => x.id === scope.routerId);
      const ports = new Set(r?.interfacePortIds ?? []);
      networks = new Set(this.desired.ports.filter((p) => ports.has(p.id)).map((p) => p.networkId));
    }
    const port = this.desired.ports.find((p) => isComputePort(p) && networks.has(p.networkId) && p.fixedIps.some((f) => f.ip === sourceIp));
    return port ? { instanceId: port.deviceId, projectId: port.projectId } : undefined;
  }

  /** Makes the host match `desired`, serialised with every other change. */
  apply(desired: DesiredState): Promise<void> {
    const run = async () => {
      this.desired = desired;
      await this.applyNow(desired);
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }

  /** Removes everything this data plane created. */
  teardown(): Promise<void> {
    return this.apply({ networks: [], ports: [], securityGroups: [], routers: [] });
  }

  async close(): Promise<void> {
    await this.proxy?.closeAll();
  }

  // ---------------------------------------------------------------- apply

  private async applyNow(d: DesiredState): Promise<void> {
    const nets = new Map(d.networks.map((n) => [n.id, n]));
    // Host-wide: bridged traffic goes through iptables (security groups); routing for NAT happens in router namespaces.
    if (this.firewall && d.ports.some((p) => isComputePort(p))) await this.ip.sysctl(undefined, 'net.bridge.bridge-nf-call-iptables', '1').catch(() => undefined);
    for (const n of d.networks) await this.ensureNetwork(n);
    for (const p of d.ports.filter(isComputePort)) {
      const net = nets.get(p.networkId);
      if (net) await this.plugTap(p.id, Names.bridge(net.id), net.mtu, p.mac);
    }
    for (const n of d.networks) {
      const dhcpPort = d.ports.find((p) => p.networkId === n.id && isDhcpPort(p));
      if (dhcpPort && n.subnets.some((s) => s.enableDhcp)) await this.ensureDhcp(n, dhcpPort, d.ports);
      else await this.removeDhcp(n.id);
    }
    await this.firewall?.apply(d);
    await this.routers.apply(d);
    await this.removeLeftovers(d);
  }

  // ---------------------------------------------------------------- networks

  async ensureNetwork(n: DpNetwork): Promise<void> {
    const br = Names.bridge(n.id);
    this.journal.add({ kind: 'link', name: br });
    await this.ip.bridgeAdd(undefined, br, n.mtu);
    let uplink: string | undefined;
    if (n.type === 'vxlan') {
      if (n.segmentationId === undefined) throw new Error(`vxlan network ${n.id} has no VNI`);
      const vx = this.opts.vxlan ?? {};
      uplink = Names.vxlan(n.segmentationId);
      this.journal.add({ kind: 'link', name: uplink });
      await this.ip.vxlanAdd(undefined, uplink, { vni: n.segmentationId, mtu: n.mtu, ...(vx.localIp ? { local: vx.localIp } : {}), ...(vx.dev ? { dev: vx.dev } : {}), ...(vx.group ? { group: vx.group } : {}), ...(vx.port ? { port: vx.port } : {}) });
      // Unicast flooding to every peer (l2population-style) when there is no multicast group; peers may come and go.
      if (!vx.group) {
        const have = await this.ip.fdbFloodDsts(undefined, uplink);
        const want = vx.peers ?? [];
        for (const peer of want) if (!have.includes(peer)) await this.ip.fdbAppend(undefined, '00:00:00:00:00:00', uplink, peer);
        for (const old of have) if (!want.includes(old)) await this.ip.fdbDel(undefined, '00:00:00:00:00:00', uplink, old);
      }
    } else if (n.type === 'flat' || n.type === 'vlan') {
      const phys = n.physicalNetwork ? this.opts.physicalInterfaces?.[n.physicalNetwork] : undefined;
      if (phys && n.type === 'flat') uplink = phys;
      if (phys && n.type === 'vlan') {
        if (n.segmentationId === undefined) throw new Error(`vlan network ${n.id} has no VLAN id`);
        uplink = Names.vlan(phys, n.segmentationId);
        this.journal.add({ kind: 'link', name: uplink });
        await this.ip.vlanAdd(undefined, uplink, phys, n.segmentationId);
      }
    }
    if (uplink) await this.ip.linkSet(undefined, uplink, { master: br, up: true });
    if (n.hostAddress) await this.ip.addrAdd(undefined, br, n.hostAddress);
  }

  /** The host side of a VM NIC: a persistent tap in the network's bridge. */
  async plugTap(portId: string, bridge: string, mtu: number | undefined, mac?: string): Promise<string> {
    const tap = Names.tap(portId);
    this.journal.add({ kind: 'link', name: tap });
    await this.ip.tapAdd(undefined, tap);
    // The host end's MAC must differ from the guest's; libvirt uses fe: for the same purpose.
    const hostMac = mac ? `fe${mac.toLowerCase().slice(2)}` : undefined;
    await this.ip.linkSet(undefined, tap, { ...(hostMac ? { address: hostMac } : {}), ...(mtu ? { mtu } : {}), master: bridge, up: true });
    return tap;
  }

  async unplugTap(portId: string): Promise<void> {
    const tap = Names.tap(portId);
    await this.ip.linkDel(undefined, tap);
    this.journal.remove({ kind: 'link', name: tap });
  }

  // ---------------------------------------------------------------- DHCP + metadata

  private async ensureDhcp(n: DpNetwork, dhcpPort: DpPort, ports: DpPort[]): Promise<void> {
    const ns = Names.dhcpNamespace(n.id);
    this.journal.add({ kind: 'netns', name: ns });
    await this.ip.netnsAdd(ns);
    const hostEnd = Names.dhcpHostEnd(dhcpPort.id);
    const nsEnd = Names.dhcpNsEnd(dhcpPort.id);
    this.journal.add({ kind: 'link', name: hostEnd });
    if (!(await this.ip.link(undefined, hostEnd))) await this.ip.vethAdd(undefined, hostEnd, nsEnd, ns, n.mtu);
    await this.ip.linkSet(undefined, hostEnd, { mtu: n.mtu, master: Names.bridge(n.id), up: true });
    await this.ip.linkSet(ns, nsEnd, { address: dhcpPort.mac, mtu: n.mtu, up: true });
    const subnets = new Map(n.subnets.map((s) => [s.id, s]));
    const cidrs = dhcpPort.fixedIps.flatMap((f) => {
      const s = subnets.get(f.subnetId);
      return s && s.ipVersion === 4 ? [`${f.ip}/${s.cidr.split('/')[1]}`] : [];
    });
    const isolatedMetadata = Boolean(this.proxy);
    // The port's addresses exactly (a changed fixed IP replaces the old one), plus the metadata address.
    await this.ip.addrSync(ns, nsEnd, isolatedMetadata ? [...cidrs, `${METADATA_IP}/32`] : cidrs, 'inet');
    const cfg: DhcpConfig = {
      networkId: n.id,
      mtu: n.mtu,
      domain: this.opts.dhcpDomain ?? 'openstacklocal',
      leaseSeconds: 86400,
      isolatedMetadata,
      subnets: n.subnets.map((s) => ({
        id: s.id,
        cidr: s.cidr,
        gatewayIp: s.gatewayIp ?? null,
        enableDhcp: s.enableDhcp,
        dnsNameservers: s.dnsNameservers ?? [],
        hostRoutes: s.hostRoutes ?? [],
        ...(dhcpPort.fixedIps.find((f) => f.subnetId === s.id) ? { dhcpServerIp: dhcpPort.fixedIps.find((f) => f.subnetId === s.id)!.ip } : {}),
      })),
      hosts: ports
        .filter((p) => p.networkId === n.id && p.id !== dhcpPort.id)
        .flatMap((p) =>
          p.fixedIps
            .filter((f) => subnets.get(f.subnetId)?.enableDhcp && subnets.get(f.subnetId)?.ipVersion === 4)
            .map((f) => ({ mac: p.mac, ip: f.ip, ...(p.hostname ? { hostname: p.hostname } : {}) })),
        ),
    };
    this.journal.add({ kind: 'dnsmasq', name: n.id });
    await this.dnsmasq.ensure(ns, cfg);
    if (this.proxy) {
      this.journal.add({ kind: 'listener', name: `network:${n.id}` });
      await this.proxy.listen(`network:${n.id}`, { kind: 'network', networkId: n.id }, { enter: this.ip.execPrefix(ns), host: METADATA_IP, port: 80 });
    }
  }

  private async removeDhcp(networkId: string): Promise<void> {
    const ns = Names.dhcpNamespace(networkId);
    await this.proxy?.close(`network:${networkId}`);
    this.journal.remove({ kind: 'listener', name: `network:${networkId}` });
    await this.dnsmasq.stop(networkId);
    this.journal.remove({ kind: 'dnsmasq', name: networkId });
    if (this.journal.has({ kind: 'netns', name: ns }) || (await this.ip.netnsExists(ns))) await this.removeNamespace(ns);
  }

  /** Kills what still runs in a namespace (it would keep it alive), then deletes it. */
  async removeNamespace(ns: string): Promise<void> {
    if (await this.ip.netnsExists(ns)) {
      for (const pid of await this.ip.netnsPids(ns)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await this.ip.netnsDel(ns);
      for (let i = 0; i < 50 && (await this.ip.netnsExists(ns)); i++) await sleep(20);
    }
    this.journal.remove({ kind: 'netns', name: ns });
  }

  // ---------------------------------------------------------------- leftovers

  private async removeLeftovers(d: DesiredState): Promise<void> {
    const wantLinks = new Set<string>();
    const wantNs = new Set<string>();
    const wantDnsmasq = new Set<string>();
    for (const n of d.networks) {
      wantLinks.add(Names.bridge(n.id));
      if (n.type === 'vxlan' && n.segmentationId !== undefined) wantLinks.add(Names.vxlan(n.segmentationId));
      const phys = n.physicalNetwork ? this.opts.physicalInterfaces?.[n.physicalNetwork] : undefined;
      if (phys && n.type === 'vlan' && n.segmentationId !== undefined) wantLinks.add(Names.vlan(phys, n.segmentationId));
      const dhcpPort = d.ports.find((p) => p.networkId === n.id && isDhcpPort(p));
      if (dhcpPort && n.subnets.some((s) => s.enableDhcp)) {
        wantNs.add(Names.dhcpNamespace(n.id));
        wantLinks.add(Names.dhcpHostEnd(dhcpPort.id));
        wantDnsmasq.add(n.id);
      }
    }
    const nets = new Set(d.networks.map((n) => n.id));
    for (const p of d.ports) if (isComputePort(p) && nets.has(p.networkId)) wantLinks.add(Names.tap(p.id));
    for (const name of this.routers.wantedLinks(d)) wantLinks.add(name);
    for (const name of this.routers.wantedNamespaces(d)) wantNs.add(name);

    for (const e of this.journal.list('dnsmasq')) if (!wantDnsmasq.has(e.name)) await this.removeDhcp(e.name);
    for (const e of this.journal.list('listener')) {
      const gone = e.name.startsWith('network:') ? !wantDnsmasq.has(e.name.slice(8)) : !wantNs.has(Names.routerNamespace(e.name.slice(7)));
      if (gone) {
        await this.proxy?.close(e.name);
        this.journal.remove(e);
      }
    }
    for (const e of this.journal.list('netns')) if (!wantNs.has(e.name)) await this.removeNamespace(e.name);
    // Links: what the journal recorded, plus anything with our naming in the host namespace
    // (created just before a crash, before the journal could say so).
    const present = await this.ip.links(undefined);
    const ours = /^(brq[0-9a-f]{8}-[0-9a-f]{2}|tap[0-9a-f]{8}-[0-9a-f]{2}|vxlan-\d+)$/;
    const candidates = new Set([...this.journal.list('link').map((e) => e.name), ...present.map((l) => l.ifname).filter((n) => ours.test(n))]);
    // Taps first, bridges last.
    const order = (n: string) => (n.startsWith('brq') ? 2 : n.startsWith('vxlan-') ? 1 : 0);
    for (const name of [...candidates].sort((a, b) => order(a) - order(b))) {
      if (wantLinks.has(name)) continue;
      if (present.some((l) => l.ifname === name)) await this.ip.linkDel(undefined, name);
      this.journal.remove({ kind: 'link', name });
    }
  }

  /** What is on the host now, by our naming: for tests and `nimbus doctor`. */
  async inventory(): Promise<{ links: string[]; namespaces: string[]; dnsmasq: string[]; listeners: string[] }> {
    const links = (await this.ip.links(undefined)).map((l) => l.ifname).filter((n) => /^(brq|tap|vxlan-)/.test(n));
    const namespaces = (await this.ip.netnsList()).filter((n) => this.journal.has({ kind: 'netns', name: n }));
    const dnsmasq = this.journal.list('dnsmasq').map((e) => e.name).filter((id) => this.dnsmasq.pid(id));
    return { links, namespaces, dnsmasq, listeners: this.proxy?.keys() ?? [] };
  }

  /** The VIF plugger the QEMU driver uses for NICs on this host. */
  vifPlugger(): { plug(nic: { portId?: string; tap: string; bridge?: string; mtu?: number; mac: string }): Promise<void>; unplug(nic: { portId?: string; tap: string }): Promise<void> } {
    return {
      plug: async (nic) => {
        if (!nic.bridge) throw new Error(`NIC ${nic.tap} has no bridge`);
        this.journal.add({ kind: 'link', name: nic.tap });
        await this.ip.tapAdd(undefined, nic.tap);
        await this.ip.linkSet(undefined, nic.tap, { address: `fe${nic.mac.toLowerCase().slice(2)}`, ...(nic.mtu ? { mtu: nic.mtu } : {}), master: nic.bridge, up: true });
      },
      unplug: async (nic) => {
        await this.ip.linkDel(undefined, nic.tap);
        this.journal.remove({ kind: 'link', name: nic.tap });
      },
    };
  }
}

export type { Ns };
export { isRouterGateway, isRouterInterface };
