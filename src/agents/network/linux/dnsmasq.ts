import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IpTool } from './ip-tool.js';

/**
 * One dnsmasq per network, in the network's `qdhcp-` namespace, configured
 * the way neutron/agent/linux/dhcp.py configures it: a `static` range per
 * subnet (only known MACs get an address), a hosts file mapping MAC to fixed
 * IP, and an options file with the router and option 121 (classless static
 * routes) carrying the route to the metadata address via the DHCP port.
 * Port changes rewrite the files and SIGHUP dnsmasq (Neutron's
 * reload_allocations); subnet changes restart it.
 */

export const METADATA_IP = '169.254.169.254';

export interface DhcpSubnet {
  id: string;
  cidr: string;
  gatewayIp?: string | null;
  enableDhcp: boolean;
  dnsNameservers?: string[];
  hostRoutes?: { destination: string; nexthop: string }[];
  /** This network's DHCP port address in the subnet: the next hop for the metadata route. */
  dhcpServerIp?: string;
}

export interface DhcpHost {
  mac: string;
  ip: string;
  /** Defaults to host-<ip with dashes>, as Neutron names it. */
  hostname?: string;
}

export interface DhcpConfig {
  networkId: string;
  mtu: number;
  domain: string;
  leaseSeconds: number;
  subnets: DhcpSubnet[];
  hosts: DhcpHost[];
  /** Route 169.254.169.254 to the DHCP port (Neutron's enable_isolated_metadata). */
  isolatedMetadata: boolean;
}

export interface DnsmasqFiles {
  dir: string;
  host: string;
  addnHosts: string;
  opts: string;
  leases: string;
  pid: string;
  log: string;
  cmdline: string;
}

function ipv4(cidr: string): { network: string; mask: string; prefix: number } {
  const [addr, len] = cidr.split('/');
  const prefix = Number(len);
  if (!addr || !/^\d+\.\d+\.\d+\.\d+$/.test(addr) || !(prefix >= 0 && prefix <= 32)) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const maskNum = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const n = addr.split('.').reduce((a, o) => ((a << 8) | Number(o)) >>> 0, 0) & maskNum;
  const dotted = (x: number) => [24, 16, 8, 0].map((s) => (x >>> s) & 255).join('.');
  return { network: dotted(n >>> 0), mask: dotted(maskNum), prefix };
}

export function isIpv4Cidr(cidr: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr);
}

export function defaultHostname(ip: string): string {
  return `host-${ip.replace(/[.:]/g, '-')}`;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const HOST_RE = /^[A-Za-z0-9-]{1,63}$/;

export function hostsFile(cfg: DhcpConfig): string {
  return cfg.hosts
    .map((h) => {
      if (!MAC_RE.test(h.mac)) throw new Error(`bad MAC ${h.mac}`);
      const name = h.hostname ?? defaultHostname(h.ip);
      if (!HOST_RE.test(name)) throw new Error(`bad hostname ${name}`);
      return `${h.mac.toLowerCase()},${name}.${cfg.domain},${h.ip}\n`;
    })
    .join('');
}

export function addnHostsFile(cfg: DhcpConfig): string {
  return cfg.hosts
    .map((h) => {
      const name = h.hostname ?? defaultHostname(h.ip);
      return `${h.ip}\t${name}.${cfg.domain} ${name}\n`;
    })
    .join('');
}

export function optsFile(cfg: DhcpConfig): string {
  const lines: string[] = [];
  for (const s of cfg.subnets.filter((x) => x.enableDhcp && isIpv4Cidr(x.cidr))) {
    const tag = `tag:subnet-${s.id}`;
    if (s.dnsNameservers?.length) lines.push(`${tag},option:dns-server,${s.dnsNameservers.join(',')}`);
    const routes: string[] = [];
    if (cfg.isolatedMetadata && s.dhcpServerIp) routes.push(`${METADATA_IP}/32,${s.dhcpServerIp}`);
    for (const r of s.hostRoutes ?? []) routes.push(`${r.destination},${r.nexthop}`);
    // RFC 3442: a client that gets option 121 ignores the router option, so the default route goes in it too.
    if (routes.length && s.gatewayIp) routes.push(`0.0.0.0/0,${s.gatewayIp}`);
    if (routes.length) {
      lines.push(`${tag},option:classless-static-route,${routes.join(',')}`);
      lines.push(`${tag},249,${routes.join(',')}`);
    }
    lines.push(s.gatewayIp ? `${tag},option:router,${s.gatewayIp}` : `${tag},option:router`);
  }
  return lines.map((l) => `${l}\n`).join('');
}

export function dnsmasqArgs(cfg: DhcpConfig, files: DnsmasqFiles): string[] {
  const args = [
    '--no-hosts',
    '--no-resolv',
    `--pid-file=${files.pid}`,
    `--dhcp-hostsfile=${files.host}`,
    `--addn-hosts=${files.addnHosts}`,
    `--dhcp-optsfile=${files.opts}`,
    `--dhcp-leasefile=${files.leases}`,
    '--dhcp-match=set:ipxe,175',
    '--dhcp-userclass=set:ipxe6,iPXE',
    '--local-service',
    '--bind-dynamic',
    // Root keeps access to the files under the (possibly private) data dir after a SIGHUP.
    '--user=root',
    '--group=root',
  ];
  for (const s of cfg.subnets.filter((x) => x.enableDhcp && isIpv4Cidr(x.cidr))) {
    const { network, mask } = ipv4(s.cidr);
    args.push(`--dhcp-range=set:subnet-${s.id},${network},static,${mask},${cfg.leaseSeconds}s`);
  }
  args.push(
    `--dhcp-option-force=option:mtu,${cfg.mtu}`,
    `--dhcp-lease-max=${Math.max(256, cfg.hosts.length * 2)}`,
    '--conf-file=/dev/null',
    `--domain=${cfg.domain}`,
    '--log-dhcp',
    `--log-facility=${files.log}`,
  );
  return args;
}

export class Dnsmasq {
  constructor(
    private readonly ip: IpTool,
    private readonly baseDir: string,
  ) {}

  files(networkId: string): DnsmasqFiles {
    if (!/^[A-Za-z0-9-]+$/.test(networkId)) throw new Error(`bad network id ${networkId}`);
    const dir = join(this.baseDir, networkId);
    return {
      dir,
      host: join(dir, 'host'),
      addnHosts: join(dir, 'addn_hosts'),
      opts: join(dir, 'opts'),
      leases: join(dir, 'leases'),
      pid: join(dir, 'pid'),
      log: join(dir, 'dnsmasq.log'),
      cmdline: join(dir, 'cmdline'),
    };
  }

  pid(networkId: string): number | undefined {
    const f = this.files(networkId);
    try {
      const pid = Number(readFileSync(f.pid, 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 1) return undefined;
      // Only our dnsmasq for this network: never signal a recycled pid.
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return undefined;
      return cmd.includes('dnsmasq') && cmd.includes(f.pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes the files and starts, reloads (SIGHUP) or restarts dnsmasq as needed. */
  async ensure(namespace: string, cfg: DhcpConfig): Promise<'started' | 'reloaded' | 'restarted'> {
    const f = this.files(cfg.networkId);
    mkdirSync(f.dir, { recursive: true });
    writeFileSync(f.host, hostsFile(cfg));
    writeFileSync(f.addnHosts, addnHostsFile(cfg));
    writeFileSync(f.opts, optsFile(cfg));
    const args = dnsmasqArgs(cfg, f);
    const digest = createHash('sha256').update(args.join('\0')).digest('hex');
    const running = this.pid(cfg.networkId);
    const sameArgs = existsSync(f.cmdline) && readFileSync(f.cmdline, 'utf8') === digest;
    if (running && sameArgs) {
      process.kill(running, 'SIGHUP');
      return 'reloaded';
    }
    if (running) await this.stop(cfg.networkId, { keepFiles: true });
    rmSync(f.pid, { force: true });
    await this.ip.exec(namespace, 'dnsmasq', args);
    for (let i = 0; i < 100 && !this.pid(cfg.networkId); i++) await sleep(20);
    if (!this.pid(cfg.networkId)) throw new Error(`dnsmasq for network ${cfg.networkId} did not start`);
    writeFileSync(f.cmdline, digest);
    return running ? 'restarted' : 'started';
  }

  async stop(networkId: string, opts: { keepFiles?: boolean } = {}): Promise<void> {
    const f = this.files(networkId);
    const pid = this.pid(networkId);
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      for (let i = 0; i < 100 && this.pid(networkId); i++) await sleep(20);
      if (this.pid(networkId)) process.kill(pid, 'SIGKILL');
    }
    if (!opts.keepFiles) rmSync(f.dir, { recursive: true, force: true });
  }

  /** Current leases: mac -> ip. */
  leases(networkId: string): Map<string, string> {
    const out = new Map<string, string>();
    const f = this.files(networkId);
    if (!existsSync(f.leases)) return out;
    for (const line of readFileSync(f.leases, 'utf8').split('\n')) {
      const parts = line.trim().split(/\s+/);
      if (parts.length >= 3 && parts[1] && parts[2]) out.set(parts[1].toLowerCase(), parts[2]);
    }
    return out;
  }
}
