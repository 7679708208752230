import type { CommandRunner, RunOptions, RunResult } from '../../../core/exec.js';

/**
 * Typed wrappers for iproute2 (`ip`, `bridge`) and for running any tool
 * inside a network namespace. Always execFile with an argument vector.
 *
 * `hostNs` is the namespace that plays the host: undefined on a real host
 * (the root namespace), a scratch namespace in tests so that bridges and
 * taps never touch the machine's own networking.
 */

export interface LinkInfo {
  ifname: string;
  ifindex: number;
  mtu: number;
  address?: string;
  operstate?: string;
  master?: string;
  flags: string[];
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string };
}

export interface AddrInfo {
  ifname: string;
  addr_info: { family: 'inet' | 'inet6'; local: string; prefixlen: number; scope?: string }[];
}

export interface RouteInfo {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
}

const NAME_RE = /^[A-Za-z0-9_.:-]{1,15}$/;
const NS_RE = /^[A-Za-z0-9_.-]{1,200}$/;

export function checkIfName(name: string): string {
  if (!NAME_RE.test(name)) throw new Error(`invalid interface name ${JSON.stringify(name)}`);
  return name;
}

export function checkNsName(name: string): string {
  if (!NS_RE.test(name)) throw new Error(`invalid namespace name ${JSON.stringify(name)}`);
  return name;
}

/** Where a command runs: a named namespace, or the host namespace (`undefined`). */
export type Ns = string | undefined;

export class IpTool {
  constructor(
    readonly run: CommandRunner,
    readonly hostNs?: string,
  ) {}

  /** The namespace to target: an explicit one, else the host namespace. */
  private target(ns: Ns): string | undefined {
    return ns ?? this.hostNs;
  }

  ip(ns: Ns, args: string[], options?: RunOptions): Promise<RunResult> {
    const t = this.target(ns);
    return this.run('ip', t ? ['-n', checkNsName(t), ...args] : args, options);
  }

  /** Runs any command inside `ns` (or the host namespace). */
  exec(ns: Ns, command: string, args: string[], options?: RunOptions): Promise<RunResult> {
    const t = this.target(ns);
    return t ? this.run('ip', ['netns', 'exec', checkNsName(t), command, ...args], options) : this.run(command, args, options);
  }

  /** argv prefix that runs a long-lived process inside `ns`. */
  execPrefix(ns: Ns): string[] {
    const t = this.target(ns);
    return t ? ['ip', 'netns', 'exec', checkNsName(t)] : [];
  }

  // ------------------------------------------------------------ namespaces

  async netnsList(): Promise<string[]> {
    const { stdout } = await this.run('ip', ['-j', 'netns', 'list']);
    if (!stdout.trim()) return [];
    return (JSON.parse(stdout) as { name: string }[]).map((n) => n.name);
  }

  async netnsExists(name: string): Promise<boolean> {
    return (await this.netnsList()).includes(name);
  }

  async netnsAdd(name: string): Promise<void> {
    if (await this.netnsExists(name)) return;
    await this.run('ip', ['netns', 'add', checkNsName(name)]);
    await this.run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  }

  async netnsDel(name: string): Promise<void> {
    await this.run('ip', ['netns', 'del', checkNsName(name)], { okCodes: [1] });
  }

  /** PIDs of processes whose network namespace is `name` (they keep it alive after `ip netns del`). */
  async netnsPids(name: string): Promise<number[]> {
    const { stdout } = await this.run('ip', ['netns', 'pids', checkNsName(name)], { okCodes: [1, 255] });
    return stdout.split(/\s+/).filter(Boolean).map(Number);
  }

  // ------------------------------------------------------------ links

  async links(ns: Ns): Promise<LinkInfo[]> {
    const { stdout } = await this.ip(ns, ['-j', '-d', 'link', 'show']);
    return stdout.trim() ? (JSON.parse(stdout) as LinkInfo[]) : [];
  }

  async link(ns: Ns, name: string): Promise<LinkInfo | undefined> {
    const r = await this.ip(ns, ['-j', '-d', 'link', 'show', 'dev', checkIfName(name)], { okCodes: [1, 255] });
    if (r.code !== 0 || !r.stdout.trim()) return undefined;
    return (JSON.parse(r.stdout) as LinkInfo[])[0];
  }

  async bridgeAdd(ns: Ns, name: string, mtu?: number): Promise<void> {
    if (!(await this.link(ns, name))) {
      // No STP, no forwarding delay: ports forward at once (Neutron does the same).
      await this.ip(ns, ['link', 'add', checkIfName(name), ...(mtu ? ['mtu', String(mtu)] : []), 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    }
    await this.ip(ns, ['link', 'set', name, 'up']);
  }

  /** A persistent tap that QEMU opens by name. */
  async tapAdd(ns: Ns, name: string): Promise<void> {
    if (await this.link(ns, name)) return;
    await this.ip(ns, ['tuntap', 'add', 'dev', checkIfName(name), 'mode', 'tap']);
  }

  /** A veth pair; `peerNs` moves the peer into another namespace at creation. */
  async vethAdd(ns: Ns, name: string, peer: string, peerNs?: string, mtu?: number): Promise<void> {
    if (await this.link(ns, name)) return;
    const args = ['link', 'add', checkIfName(name)];
    if (mtu) args.push('mtu', String(mtu));
    args.push('type', 'veth', 'peer', 'name', checkIfName(peer));
    if (mtu) args.push('mtu', String(mtu));
    if (peerNs) args.push('netns', checkNsName(peerNs));
    await this.ip(ns, args);
  }

  async vxlanAdd(ns: Ns, name: string, opts: { vni: number; local?: string; dev?: string; group?: string; port?: number; mtu?: number }): Promise<void> {
    if (await this.link(ns, name)) return;
    const args = ['link', 'add', checkIfName(name)];
    if (opts.mtu) args.push('mtu', String(opts.mtu));
    args.push('type', 'vxlan', 'id', String(opts.vni));
    if (opts.local) args.push('local', opts.local);
    if (opts.group) args.push('group', opts.group);
    if (opts.dev) args.push('dev', checkIfName(opts.dev));
    args.push('dstport', String(opts.port ?? 4789));
    await this.ip(ns, args);
  }

  async vlanAdd(ns: Ns, name: string, parent: string, vlanId: number): Promise<void> {
    if (await this.link(ns, name)) return;
    await this.ip(ns, ['link', 'add', 'link', checkIfName(parent), 'name', checkIfName(name), 'type', 'vlan', 'id', String(vlanId)]);
  }

  async linkSet(ns: Ns, name: string, opts: { up?: boolean; master?: string | null; mtu?: number; address?: string; netns?: string }): Promise<void> {
    const args = ['link', 'set', 'dev', checkIfName(name)];
    if (opts.address) args.push('address', opts.address);
    if (opts.mtu) args.push('mtu', String(opts.mtu));
    if (opts.master === null) args.push('nomaster');
    else if (opts.master) args.push('master', checkIfName(opts.master));
    if (opts.netns) args.push('netns', checkNsName(opts.netns));
    if (opts.up !== undefined) args.push(opts.up ? 'up' : 'down');
    await this.ip(ns, args);
  }

  async linkDel(ns: Ns, name: string): Promise<void> {
    await this.ip(ns, ['link', 'del', 'dev', checkIfName(name)], { okCodes: [1, 255] });
  }

  // ------------------------------------------------------------ addresses and routes

  async addrs(ns: Ns, dev?: string): Promise<AddrInfo[]> {
    const { stdout } = await this.ip(ns, ['-j', 'addr', 'show', ...(dev ? ['dev', checkIfName(dev)] : [])]);
    return stdout.trim() ? (JSON.parse(stdout) as AddrInfo[]) : [];
  }

  /** Adds `cidr` (a.b.c.d/len) to `dev` unless it is there. */
  async addrAdd(ns: Ns, dev: string, cidr: string): Promise<void> {
    const [ip, len] = cidr.split('/');
    const have = (await this.addrs(ns, dev)).flatMap((a) => a.addr_info).some((a) => a.local === ip && String(a.prefixlen) === len);
    if (!have) await this.ip(ns, ['addr', 'add', cidr, 'dev', checkIfName(dev)]);
  }

  async addrDel(ns: Ns, dev: string, cidr: string): Promise<void> {
    await this.ip(ns, ['addr', 'del', cidr, 'dev', checkIfName(dev)], { okCodes: [1, 2, 255] });
  }

  async routes(ns: Ns, family: 4 | 6 = 4): Promise<RouteInfo[]> {
    const { stdout } = await this.ip(ns, [`-${family}`, '-j', 'route', 'show']);
    return stdout.trim() ? (JSON.parse(stdout) as RouteInfo[]) : [];
  }

  async routeReplace(ns: Ns, dst: string, opts: { via?: string; dev?: string }): Promise<void> {
    const args = ['route', 'replace', dst];
    if (opts.via) args.push('via', opts.via);
    if (opts.dev) args.push('dev', checkIfName(opts.dev));
    await this.ip(ns, args);
  }

  async routeDel(ns: Ns, dst: string): Promise<void> {
    await this.ip(ns, ['route', 'del', dst], { okCodes: [1, 2, 255] });
  }

  // ------------------------------------------------------------ bridge fdb, sysctl

  /** Flood destinations of a VXLAN device (the all-zero MAC entries). */
  async fdbFloodDsts(ns: Ns, dev: string): Promise<string[]> {
    const r = await this.exec(ns, 'bridge', ['-j', 'fdb', 'show', 'dev', checkIfName(dev)], { check: false });
    if (r.code !== 0 || !r.stdout.trim()) return [];
    return (JSON.parse(r.stdout) as { mac: string; dst?: string }[]).filter((e) => e.mac === '00:00:00:00:00:00' && e.dst).map((e) => e.dst!);
  }

  /** Makes `cidrs` the addresses of `dev` for one family (others of that family are removed, `keep` stays). */
  async addrSync(ns: Ns, dev: string, cidrs: string[], family: 'inet' | 'inet6', keep: string[] = []): Promise<void> {
    for (const c of cidrs) await this.addrAdd(ns, dev, c);
    const want = new Set([...cidrs, ...keep]);
    for (const a of (await this.addrs(ns, dev)).flatMap((x) => x.addr_info)) {
      if (a.family !== family || a.scope === 'link') continue;
      const c = `${a.local}/${a.prefixlen}`;
      if (!want.has(c)) await this.addrDel(ns, dev, c);
    }
  }

  async fdbAppend(ns: Ns, mac: string, dev: string, dst: string): Promise<void> {
    await this.exec(ns, 'bridge', ['fdb', 'append', mac, 'dev', checkIfName(dev), 'dst', dst]);
  }

  async fdbDel(ns: Ns, mac: string, dev: string, dst: string): Promise<void> {
    await this.exec(ns, 'bridge', ['fdb', 'del', mac, 'dev', checkIfName(dev), 'dst', dst], { okCodes: [1, 2, 255] });
  }

  async sysctl(ns: Ns, key: string, value: string): Promise<void> {
    if (!/^[a-z0-9_.\-/]+$/i.test(key)) throw new Error(`bad sysctl key ${key}`);
    await this.exec(ns, 'sysctl', ['-q', '-w', `${key}=${value}`]);
  }
}
