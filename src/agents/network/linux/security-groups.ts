import type { IpTool } from './ip-tool.js';
import { isComputePort, type DesiredState, type DpPort, type DpSecurityGroupRule } from './model.js';
import { Names } from './names.js';

/**
 * Security groups enforced per port, the way Neutron's iptables firewall
 * driver does it for Linux bridges: bridged traffic passes iptables
 * (br_netfilter), and the physdev match picks each VM's tap. Per port there
 * is an ingress chain (default deny, connection tracking lets replies in), an
 * egress chain (rules, then deny) and an anti-spoofing chain (source IP and
 * MAC must be the port's, or an allowed address pair). Remote-group rules
 * match ipsets holding the member ports' addresses. ARP and MAC spoofing is
 * stopped before the bridge with an nftables bridge-family table (iptables
 * never sees ARP).
 *
 * Everything is generated from the desired state and loaded atomically
 * (iptables-restore, ipset restore with swap, one nft transaction).
 */

type Family = 4 | 6;

export interface FirewallTools {
  iptablesRestore: Record<Family, string>;
  iptables: Record<Family, string>;
}

const DEFAULT_TOOLS: FirewallTools = {
  iptablesRestore: { 4: 'iptables-restore', 6: 'ip6tables-restore' },
  iptables: { 4: 'iptables', 6: 'ip6tables' },
};

const TOP_FORWARD = 'nb-FORWARD';
const TOP_INPUT = 'nb-INPUT';
const NFT_TABLE = 'nimbus_antispoof';

const PROTO_NUM: Record<string, string> = { tcp: 'tcp', udp: 'udp', icmp: 'icmp', icmpv6: 'ipv6-icmp', 'ipv6-icmp': 'ipv6-icmp', sctp: 'sctp', gre: 'gre', esp: 'esp', ah: 'ah' };

const isV6 = (ip: string) => ip.includes(':');
const hostCidr = (ip: string) => (ip.includes('/') ? ip : `${ip}/${isV6(ip) ? 128 : 32}`);

function protoArgs(rule: DpSecurityGroupRule, family: Family): string[] {
  const raw = rule.protocol == null || rule.protocol === '' || rule.protocol === 'any' ? undefined : String(rule.protocol).toLowerCase();
  if (!raw) return [];
  let proto = PROTO_NUM[raw] ?? raw;
  if (family === 6 && (proto === 'icmp' || proto === '1')) proto = 'ipv6-icmp';
  if (family === 6 && proto === '58') proto = 'ipv6-icmp';
  if (!/^[a-z0-9-]+$/.test(proto)) throw new Error(`bad protocol ${raw}`);
  const args = ['-p', proto];
  const min = rule.portRangeMin ?? undefined;
  const max = rule.portRangeMax ?? undefined;
  if (proto === 'tcp' || proto === 'udp' || proto === 'sctp' || proto === '6' || proto === '17') {
    if (min !== undefined && min !== null) args.push('-m', proto === '6' ? 'tcp' : proto === '17' ? 'udp' : proto, '--dport', max !== undefined && max !== null && max !== min ? `${min}:${max}` : String(min));
  } else if (proto === 'icmp' || proto === 'ipv6-icmp') {
    // Neutron: port_range_min is the ICMP type, port_range_max the code.
    if (min !== undefined && min !== null) {
      const flag = family === 4 ? '--icmp-type' : '--icmpv6-type';
      args.push('-m', family === 4 ? 'icmp' : 'icmp6', flag, max !== undefined && max !== null ? `${min}/${max}` : String(min));
    }
  }
  return args;
}

export interface FirewallRules {
  iptables: Record<Family, string>;
  ipsets: Map<string, { family: Family; members: string[] }>;
  nft: string;
  chains: Record<Family, Set<string>>;
}

/** Generates the rule sets for every compute port of `d` (pure: unit tested). */
export function buildFirewallRules(d: DesiredState): FirewallRules {
  const groups = new Map(d.securityGroups.map((g) => [g.id, g]));
  const ports = d.ports.filter(isComputePort);
  // Members of each group: fixed IPs and allowed address pairs of its ports (Neutron puts both in the ipset).
  const members = new Map<string, Record<Family, Set<string>>>();
  for (const g of d.securityGroups) {
    if (!g.members) continue;
    const m = { 4: new Set<string>(), 6: new Set<string>() };
    for (const a of g.members) m[isV6(a) ? 6 : 4].add(hostCidr(a));
    members.set(g.id, m);
  }
  const explicit = new Set(d.securityGroups.filter((g) => g.members).map((g) => g.id));
  for (const p of d.ports) {
    for (const g of p.securityGroupIds) {
      if (explicit.has(g)) continue;
      const m = members.get(g) ?? { 4: new Set<string>(), 6: new Set<string>() };
      for (const f of p.fixedIps) m[isV6(f.ip) ? 6 : 4].add(hostCidr(f.ip));
      for (const a of p.allowedAddressPairs) m[isV6(a.ipAddress) ? 6 : 4].add(hostCidr(a.ipAddress));
      members.set(g, m);
    }
  }
  const ipsets = new Map<string, { family: Family; members: string[] }>();
  const chains: Record<Family, Set<string>> = { 4: new Set([TOP_FORWARD, TOP_INPUT]), 6: new Set([TOP_FORWARD, TOP_INPUT]) };
  const out: Record<Family, string[]> = { 4: [], 6: [] };

  for (const family of [4, 6] as const) {
    const L = out[family];
    const ethertype = family === 4 ? 'IPv4' : 'IPv6';
    const fwd: string[] = [];
    const inp: string[] = [];
    const portChains: string[] = [];
    for (const p of ports) {
      const tap = Names.tap(p.id);
      const physIn = ['-m', 'physdev', '--physdev-in', tap, '--physdev-is-bridged'];
      const physOut = ['-m', 'physdev', '--physdev-out', tap, '--physdev-is-bridged'];
      if (!p.portSecurityEnabled) {
        fwd.push([...physIn, '-j', 'ACCEPT'].join(' '), [...physOut, '-j', 'ACCEPT'].join(' '));
        continue;
      }
      const ci = Names.chainIn(p.id);
      const co = Names.chainOut(p.id);
      const cs = Names.chainSpoof(p.id);
      for (const c of [ci, co, cs]) chains[family].add(c);
      fwd.push([...physIn, '-j', co].join(' '));
      fwd.push([...physOut, '-j', ci].join(' '));
      inp.push(['-m', 'physdev', '--physdev-in', tap, '-j', co].join(' '));
      const rules = p.securityGroupIds.flatMap((g) => groups.get(g)?.rules ?? []).filter((r) => r.ethertype === ethertype);
      const stateful = p.securityGroupIds.every((g) => groups.get(g)?.stateful !== false);
      // Ingress.
      const I: string[] = [];
      if (stateful) I.push('-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN', '-m conntrack --ctstate INVALID -j DROP');
      if (family === 4) I.push('-p udp -m udp --sport 67 --dport 68 -j RETURN');
      else I.push(...[130, 131, 132, 134, 135, 136, 143].map((t) => `-p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j RETURN`), '-p udp -m udp --sport 547 --dport 546 -j RETURN');
      for (const r of rules.filter((x) => x.direction === 'ingress')) I.push(...ruleLines(r, family, 'src', ipsets, members));
      I.push('-j DROP');
      // Egress: DHCP discovery comes from 0.0.0.0, before the spoofing check.
      const O: string[] = [];
      if (family === 4) O.push('-s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 -j RETURN');
      else O.push('-s ::/128 -d ff02::/16 -p ipv6-icmp -m icmp6 --icmpv6-type 131 -j RETURN', '-s ::/128 -d ff02::/16 -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j RETURN', '-s ::/128 -d ff02::/16 -p ipv6-icmp -m icmp6 --icmpv6-type 143 -j RETURN');
      O.push(`-j ${cs}`);
      if (family === 4) O.push('-p udp -m udp --sport 68 --dport 67 -j RETURN', '-p udp -m udp --sport 67 --dport 68 -j DROP');
      else O.push('-p ipv6-icmp -m icmp6 --icmpv6-type 134 -j DROP', ...[130, 131, 132, 133, 135, 136, 143].map((t) => `-p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j RETURN`), '-p udp -m udp --sport 546 --dport 547 -j RETURN', '-p udp -m udp --sport 547 --dport 546 -j DROP');
      if (stateful) O.push('-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN', '-m conntrack --ctstate INVALID -j DROP');
      for (const r of rules.filter((x) => x.direction === 'egress')) O.push(...ruleLines(r, family, 'dst', ipsets, members));
      O.push('-j DROP');
      // Anti-spoofing: (source IP, source MAC) must be the port's own or an allowed pair.
      const S: string[] = [];
      const pairs: [string, string][] = [];
      for (const f of p.fixedIps) if (isV6(f.ip) === (family === 6)) pairs.push([hostCidr(f.ip), p.mac]);
      for (const a of p.allowedAddressPairs) if (isV6(a.ipAddress) === (family === 6)) pairs.push([hostCidr(a.ipAddress), a.macAddress ?? p.mac]);
      if (family === 6) pairs.push([`fe80::/64`, p.mac]); // link-local (RFC 4862 addresses from the MAC)
      for (const [ip, mac] of pairs) S.push(`-s ${ip} -m mac --mac-source ${mac.toLowerCase()} -j RETURN`);
      S.push('-j DROP');
      portChains.push(...I.map((l) => `-A ${ci} ${l}`), ...O.map((l) => `-A ${co} ${l}`), ...S.map((l) => `-A ${cs} ${l}`));
    }
    // Traffic involving our ports that passed its chains is accepted whatever the host's FORWARD policy.
    for (const p of ports) {
      const tap = Names.tap(p.id);
      fwd.push(`-m physdev --physdev-in ${tap} --physdev-is-bridged -j ACCEPT`, `-m physdev --physdev-out ${tap} --physdev-is-bridged -j ACCEPT`);
    }
    L.push('*filter');
    for (const c of chains[family]) L.push(`:${c} - [0:0]`);
    L.push(...fwd.map((l) => `-A ${TOP_FORWARD} ${l}`), ...inp.map((l) => `-A ${TOP_INPUT} ${l}`), ...portChains, 'COMMIT', '');
  }
  return { iptables: { 4: out[4].join('\n'), 6: out[6].join('\n') }, ipsets, nft: nftAntiSpoof(ports), chains };
}

function ruleLines(
  r: DpSecurityGroupRule,
  family: Family,
  side: 'src' | 'dst',
  ipsets: Map<string, { family: Family; members: string[] }>,
  members: Map<string, Record<Family, Set<string>>>,
): string[] {
  const parts: string[] = [];
  if (r.remoteIpPrefix) {
    const prefix = r.remoteIpPrefix;
    if (isV6(prefix) !== (family === 6)) return [];
    if (!/^[0-9a-fA-F:.]+\/\d+$|^[0-9a-fA-F:.]+$/.test(prefix)) throw new Error(`bad prefix ${prefix}`);
    const zero = prefix.endsWith('/0');
    if (!zero) parts.push(side === 'src' ? '-s' : '-d', prefix);
  } else if (r.remoteGroupId) {
    const name = Names.ipset(family, r.remoteGroupId);
    ipsets.set(name, { family, members: [...(members.get(r.remoteGroupId)?.[family] ?? [])] });
    parts.push('-m', 'set', '--match-set', name, side);
  }
  parts.push(...protoArgs(r, family));
  return [`${parts.join(' ')}${parts.length ? ' ' : ''}-j RETURN`];
}

/** nftables bridge table: frames from a VM must carry its MAC; its ARP must claim its own addresses. */
export function nftAntiSpoof(ports: DpPort[]): string {
  const lines = [`table bridge ${NFT_TABLE} {`, '  chain prerouting {', '    type filter hook prerouting priority -300; policy accept;'];
  const chains: string[] = [];
  for (const p of ports.filter((x) => x.portSecurityEnabled)) {
    const tap = Names.tap(p.id);
    const chain = `spoof_${tap.replace(/-/g, '_')}`;
    lines.push(`    iifname "${tap}" jump ${chain}`);
    const macs = new Set([p.mac.toLowerCase(), ...p.allowedAddressPairs.map((a) => (a.macAddress ?? p.mac).toLowerCase())]);
    const ips = new Set(['0.0.0.0', ...p.fixedIps.filter((f) => !isV6(f.ip)).map((f) => f.ip), ...p.allowedAddressPairs.filter((a) => !isV6(a.ipAddress)).map((a) => a.ipAddress)]);
    chains.push(
      `  chain ${chain} {`,
      `    ether saddr != { ${[...macs].join(', ')} } drop`,
      `    ether type arp arp saddr ether != { ${[...macs].join(', ')} } drop`,
      `    ether type arp arp saddr ip != { ${[...ips].join(', ')} } drop`,
      '  }',
    );
  }
  lines.push('  }', ...chains, '}');
  return lines.join('\n');
}

/** What a port's rules allow, as comparable keys (one per rule, independent of rule ids). */
export function portRuleKeys(d: DesiredState): Map<string, { ips: string[]; keys: Map<string, DpSecurityGroupRule> }> {
  const groups = new Map(d.securityGroups.map((g) => [g.id, g]));
  const out = new Map<string, { ips: string[]; keys: Map<string, DpSecurityGroupRule> }>();
  for (const p of d.ports.filter(isComputePort)) {
    const keys = new Map<string, DpSecurityGroupRule>();
    if (p.portSecurityEnabled) {
      for (const r of p.securityGroupIds.flatMap((g) => groups.get(g)?.rules ?? [])) {
        keys.set(JSON.stringify([r.direction, r.ethertype, r.protocol ?? null, r.portRangeMin ?? null, r.portRangeMax ?? null, r.remoteIpPrefix ?? null, r.remoteGroupId ?? null]), r);
      }
    } else {
      keys.set('open', { id: 'open', direction: 'ingress', ethertype: 'IPv4' });
    }
    out.set(p.id, { ips: p.fixedIps.map((f) => f.ip), keys });
  }
  return out;
}

/**
 * conntrack deletions that end connections a removed rule allowed: without
 * them an established flow (a running ping, an open session) outlives the
 * rule. Neutron's iptables firewall does the same.
 */
export function conntrackDeletions(before: ReturnType<typeof portRuleKeys>, after: ReturnType<typeof portRuleKeys>): string[][] {
  const out: string[][] = [];
  for (const [portId, prev] of before) {
    const now = after.get(portId);
    if (!now) continue; // a removed port's flows die with its tap
    for (const [key, r] of prev.keys) {
      if (now.keys.has(key)) continue;
      for (const ip of prev.ips) {
        if (isV6(ip) !== (r.ethertype === 'IPv6')) continue;
        const args = ['-D', '-f', isV6(ip) ? 'ipv6' : 'ipv4', r.direction === 'ingress' ? '-d' : '-s', ip];
        const proto = r.protocol == null || r.protocol === 'any' ? undefined : String(r.protocol).toLowerCase();
        if (proto && /^(tcp|udp|icmp|icmpv6|sctp)$/.test(proto)) {
          args.push('-p', proto === 'icmp' && isV6(ip) ? 'icmpv6' : proto);
          if ((proto === 'tcp' || proto === 'udp' || proto === 'sctp') && r.portRangeMin != null && r.portRangeMin === r.portRangeMax) args.push('--dport', String(r.portRangeMin));
        }
        out.push(args);
      }
    }
  }
  return out;
}

export class SecurityGroupFirewall {
  private previous: ReturnType<typeof portRuleKeys> = new Map();

  constructor(
    private readonly ip: IpTool,
    private readonly tools: FirewallTools = DEFAULT_TOOLS,
  ) {}

  async apply(d: DesiredState): Promise<void> {
    const anyPort = d.ports.some(isComputePort);
    if (!anyPort) return this.clear();
    const rules = buildFirewallRules(d);
    await this.ip.sysctl(undefined, 'net.bridge.bridge-nf-call-iptables', '1').catch(() => undefined);
    await this.ip.sysctl(undefined, 'net.bridge.bridge-nf-call-ip6tables', '1').catch(() => undefined);
    await this.loadIpsets(rules.ipsets);
    for (const family of [4, 6] as const) {
      await this.ip.exec(undefined, this.tools.iptablesRestore[family], ['--noflush', '-w', '10'], { input: rules.iptables[family] });
      await this.ensureJump(family, 'FORWARD', TOP_FORWARD);
      await this.ensureJump(family, 'INPUT', TOP_INPUT);
      await this.dropStaleChains(family, rules.chains[family]);
    }
    await this.destroyStaleIpsets(new Set(rules.ipsets.keys()));
    // Atomic replace: create (no-op if present), delete, define, in one transaction.
    await this.ip.exec(undefined, 'nft', ['-f', '-'], { input: `table bridge ${NFT_TABLE}\ndelete table bridge ${NFT_TABLE}\n${rules.nft}\n` });
    const now = portRuleKeys(d);
    // conntrack exits 1 when nothing matched; a missing tool only loses the flush.
    for (const args of conntrackDeletions(this.previous, now)) await this.ip.exec(undefined, 'conntrack', args, { check: false }).catch(() => undefined);
    this.previous = now;
  }

  /** Removes every chain, jump, set and table this firewall made. */
  async clear(): Promise<void> {
    for (const family of [4, 6] as const) {
      for (const [parent, top] of [['FORWARD', TOP_FORWARD], ['INPUT', TOP_INPUT]] as const) {
        const ipt = this.tools.iptables[family];
        while ((await this.ip.exec(undefined, ipt, ['-w', '10', '-C', parent, '-j', top], { okCodes: [1, 2] })).code === 0) {
          await this.ip.exec(undefined, ipt, ['-w', '10', '-D', parent, '-j', top]);
        }
      }
      await this.dropStaleChains(family, new Set());
    }
    await this.destroyStaleIpsets(new Set());
    await this.ip.exec(undefined, 'nft', ['delete', 'table', 'bridge', NFT_TABLE], { okCodes: [1] });
  }

  /** Our chains present now, per family (for reconcile checks and tests). */
  async chains(family: Family): Promise<string[]> {
    const r = await this.ip.exec(undefined, this.tools.iptables[family], ['-w', '10', '-S'], { okCodes: [1] });
    return r.stdout
      .split('\n')
      .filter((l) => l.startsWith('-N nb-'))
      .map((l) => l.slice(3).trim());
  }

  async ipsets(): Promise<string[]> {
    const r = await this.ip.exec(undefined, 'ipset', ['list', '-n'], { okCodes: [1] });
    return r.stdout.split('\n').filter((n) => /^nb[46]/.test(n));
  }

  private async ensureJump(family: Family, parent: 'FORWARD' | 'INPUT', top: string): Promise<void> {
    const ipt = this.tools.iptables[family];
    const has = await this.ip.exec(undefined, ipt, ['-w', '10', '-C', parent, '-j', top], { okCodes: [1, 2] });
    if (has.code !== 0) await this.ip.exec(undefined, ipt, ['-w', '10', '-I', parent, '1', '-j', top]);
  }

  private async dropStaleChains(family: Family, keep: Set<string>): Promise<void> {
    const ipt = this.tools.iptables[family];
    const stale = (await this.chains(family)).filter((c) => !keep.has(c));
    // Flush all first (they may reference each other), then delete.
    for (const c of stale) await this.ip.exec(undefined, ipt, ['-w', '10', '-F', c], { okCodes: [1] });
    for (const c of stale) await this.ip.exec(undefined, ipt, ['-w', '10', '-X', c], { okCodes: [1] });
  }

  private async loadIpsets(sets: Map<string, { family: Family; members: string[] }>): Promise<void> {
    if (!sets.size) return;
    const lines: string[] = [];
    for (const [name, s] of sets) {
      const fam = s.family === 4 ? 'inet' : 'inet6';
      const tmp = `${name}-t`;
      lines.push(`create ${name} hash:net family ${fam} -exist`, `create ${tmp} hash:net family ${fam} -exist`, `flush ${tmp}`);
      for (const m of s.members) lines.push(`add ${tmp} ${m}`);
      lines.push(`swap ${tmp} ${name}`, `destroy ${tmp}`);
    }
    await this.ip.exec(undefined, 'ipset', ['restore'], { input: `${lines.join('\n')}\n` });
  }

  private async destroyStaleIpsets(keep: Set<string>): Promise<void> {
    for (const n of await this.ipsets()) if (!keep.has(n)) await this.ip.exec(undefined, 'ipset', ['destroy', n], { okCodes: [1] });
  }
}
