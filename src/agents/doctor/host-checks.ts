import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { haveCommand, type CommandRunner } from '../../core/exec.js';
import { findTestImage, missingBuildTools } from '../compute/test-image/build-test-image.js';
import { probeKvm } from '../compute/qemu/kvm-probe.js';

/**
 * `nimbus doctor`: what this host can do for real VMs and networking, and
 * how to fix what it cannot. Every check is bounded in time; the ones that
 * change the system (namespace, bridge) use throwaway names and clean up.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

const APT = 'apt-get install -y';

async function version(run: CommandRunner, cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args, { timeoutMs: 10_000, check: false });
  return (r.stdout || r.stderr).split('\n')[0]?.trim() ?? '';
}

async function tool(run: CommandRunner, name: string, cmd: string, args: string[], fix: string, required = true): Promise<CheckResult> {
  if (!(await haveCommand(cmd))) return { name, status: required ? 'fail' : 'warn', detail: `${cmd} not found`, fix };
  return { name, status: 'ok', detail: await version(run, cmd, args) };
}

/** Creates and removes a namespace with a bridge, veth, tap and VXLAN device inside it. */
async function kernelNetworking(run: CommandRunner): Promise<CheckResult[]> {
  const ns = `nbdoctor-${randomBytes(3).toString('hex')}`;
  const out: CheckResult[] = [];
  const step = async (name: string, args: string[], fix: string, required = true) => {
    const r = await run('ip', ['-n', ns, ...args], { timeoutMs: 10_000, check: false });
    out.push(r.code === 0 ? { name, status: 'ok', detail: 'works' } : { name, status: required ? 'fail' : 'warn', detail: r.stderr.trim() || `exit ${r.code}`, fix });
    return r.code === 0;
  };
  const add = await run('ip', ['netns', 'add', ns], { timeoutMs: 10_000, check: false });
  if (add.code !== 0) return [{ name: 'network namespaces', status: 'fail', detail: add.stderr.trim(), fix: 'run as root on a kernel with CONFIG_NET_NS' }];
  out.push({ name: 'network namespaces', status: 'ok', detail: 'works' });
  try {
    await step('bridges', ['link', 'add', 'nbd-br', 'type', 'bridge'], 'kernel needs CONFIG_BRIDGE');
    await step('veth pairs', ['link', 'add', 'nbd-v0', 'type', 'veth', 'peer', 'name', 'nbd-v1'], 'kernel needs CONFIG_VETH');
    await step('tap devices', ['tuntap', 'add', 'dev', 'nbd-tap', 'mode', 'tap'], 'kernel needs CONFIG_TUN and /dev/net/tun');
    await step('VXLAN', ['link', 'add', 'nbd-vx', 'type', 'vxlan', 'id', '42', 'dstport', '4789'], 'kernel needs CONFIG_VXLAN (tenant networks)');
    await step('VLAN (802.1q)', ['link', 'add', 'link', 'nbd-v0', 'name', 'nbd-v0.10', 'type', 'vlan', 'id', '10'], 'kernel needs CONFIG_VLAN_8021Q; VLAN provider networks are unavailable without it', false);
    const brnf = await run('ip', ['netns', 'exec', ns, 'sysctl', '-n', 'net.bridge.bridge-nf-call-iptables'], { timeoutMs: 5_000, check: false });
    out.push(
      brnf.code === 0
        ? { name: 'bridge netfilter', status: 'ok', detail: 'bridged traffic can pass iptables (security groups)' }
        : { name: 'bridge netfilter', status: 'fail', detail: 'net.bridge.bridge-nf-call-iptables is missing', fix: 'modprobe br_netfilter (kernel needs CONFIG_BRIDGE_NETFILTER)' },
    );
    if (await haveCommand('iptables')) {
      const phys = await run('ip', ['netns', 'exec', ns, 'iptables', '-w', '5', '-A', 'FORWARD', '-m', 'physdev', '--physdev-in', 'nbd-tap', '-m', 'conntrack', '--ctstate', 'ESTABLISHED', '-j', 'ACCEPT'], { timeoutMs: 10_000, check: false });
      out.push(phys.code === 0 ? { name: 'iptables physdev + conntrack', status: 'ok', detail: 'works' } : { name: 'iptables physdev + conntrack', status: 'fail', detail: phys.stderr.trim(), fix: 'kernel needs xt_physdev and nf_conntrack' });
    }
    if (await haveCommand('nft')) {
      const nft = await run('ip', ['netns', 'exec', ns, 'nft', 'add', 'table', 'bridge', 'nbdoctor'], { timeoutMs: 10_000, check: false });
      out.push(nft.code === 0 ? { name: 'nftables bridge family', status: 'ok', detail: 'works (ARP/MAC anti-spoofing)' } : { name: 'nftables bridge family', status: 'fail', detail: nft.stderr.trim(), fix: 'kernel needs nf_tables bridge support' });
    }
    if (await haveCommand('ipset')) {
      const set = await run('ip', ['netns', 'exec', ns, 'ipset', 'create', 'nbdoctor', 'hash:net'], { timeoutMs: 10_000, check: false });
      out.push(set.code === 0 ? { name: 'ipset', status: 'ok', detail: 'works (remote security groups)' } : { name: 'ipset', status: 'fail', detail: set.stderr.trim(), fix: 'kernel needs ip_set hash:net' });
    }
  } finally {
    await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000, check: false });
  }
  return out;
}

export interface DoctorOptions {
  run: CommandRunner;
  dataDir: string;
  /** Skip the KVM boot probe (it takes up to ~20 s). */
  skipKvmProbe?: boolean;
}

export async function runHostChecks(opts: DoctorOptions): Promise<CheckResult[]> {
  const { run } = opts;
  const out: CheckResult[] = [];
  const root = userInfo().uid === 0;
  out.push(root ? { name: 'privileges', status: 'ok', detail: 'running as root' } : { name: 'privileges', status: 'fail', detail: 'not root: namespaces, bridges, taps and iptables need root', fix: 'run nimbus as root (or with CAP_NET_ADMIN and CAP_SYS_ADMIN)' });

  out.push(await tool(run, 'QEMU', 'qemu-system-x86_64', ['--version'], `${APT} qemu-system-x86`));
  out.push(await tool(run, 'qemu-img', 'qemu-img', ['--version'], `${APT} qemu-utils`));
  out.push(await tool(run, 'dnsmasq', 'dnsmasq', ['--version'], `${APT} dnsmasq-base`));
  out.push(await tool(run, 'iproute2', 'ip', ['-V'], `${APT} iproute2`));
  out.push(await tool(run, 'iptables', 'iptables', ['--version'], `${APT} iptables`));
  out.push(await tool(run, 'ip6tables', 'ip6tables', ['--version'], `${APT} iptables`));
  out.push(await tool(run, 'ipset', 'ipset', ['version'], `${APT} ipset`));
  out.push(await tool(run, 'nftables', 'nft', ['--version'], `${APT} nftables`));
  out.push(await tool(run, 'conntrack tools', 'conntrack', ['--version'], `${APT} conntrack`, false));

  const image = findTestImage(opts.dataDir);
  const missingTools = await missingBuildTools();
  if (image) out.push({ name: 'test image', status: 'ok', detail: `${image.path} (kernel ${image.manifest.kernelVersion}, ${image.manifest.size} bytes)` });
  else if (missingTools.length) out.push({ name: 'test image', status: 'warn', detail: `not built; missing tools: ${missingTools.join(', ')}`, fix: `${APT} syslinux syslinux-common mtools dosfstools qemu-utils, then nimbus image build-test` });
  else out.push({ name: 'test image', status: 'warn', detail: 'not built yet', fix: 'nimbus image build-test' });

  if (!existsSync('/dev/kvm')) {
    out.push({ name: 'KVM', status: 'warn', detail: 'no /dev/kvm: guests run under TCG (slower)', fix: 'enable virtualisation (VT-x/AMD-V, nested virtualisation for a VM host) and load kvm_intel/kvm_amd' });
  } else if (opts.skipKvmProbe) {
    out.push({ name: 'KVM', status: 'warn', detail: '/dev/kvm exists; boot probe skipped, so TCG is assumed' });
  } else if (await haveCommand('qemu-system-x86_64')) {
    const probe = await probeKvm({ ...(image ? { image: image.path } : {}), timeoutMs: 20_000 });
    out.push(
      probe.usable
        ? { name: 'KVM', status: 'ok', detail: `${probe.reason} in ${probe.seconds.toFixed(1)} s: guests use KVM` }
        : { name: 'KVM', status: 'warn', detail: `${probe.reason}: guests use TCG`, fix: image ? 'the host exposes /dev/kvm but cannot run guests with it; TCG works (slower)' : 'nimbus image build-test, then run doctor again to verify KVM' },
    );
  }
  if (root && (await haveCommand('ip'))) out.push(...(await kernelNetworking(run)));
  return out;
}

export function formatChecks(results: CheckResult[]): string {
  const mark: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };
  const lines = results.map((r) => `[${mark[r.status]}] ${r.name}: ${r.detail}${r.fix && r.status !== 'ok' ? `\n       fix: ${r.fix}` : ''}`);
  const fails = results.filter((r) => r.status === 'fail').length;
  const warns = results.filter((r) => r.status === 'warn').length;
  const verdict = fails
    ? `${fails} problem(s): real VMs and networking are not available; \`nimbus up\` runs with the fake driver.`
    : warns
      ? `real VMs and networking work (${warns} warning(s)).`
      : 'real VMs and networking work.';
  return `${lines.join('\n')}\n\n${verdict}\n`;
}
