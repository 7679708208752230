import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { haveCommand, runCommand } from '../core/exec.js';
import type { Log } from '../core/log.js';
import type { RuntimeContext } from '../runtime/service-module.js';
import { metadataSharedSecret } from '../metadata/shared-secret.js';
import { chooseAccel } from './compute/qemu/kvm-probe.js';
import { QemuDriver } from './compute/qemu/qemu-driver.js';
import { QemuVirtDriver } from './compute/qemu/qemu-virt-driver.js';
import { findTestImage } from './compute/test-image/build-test-image.js';
import { IpTool } from './network/linux/ip-tool.js';
import { createLinuxBackend } from './network/linux/linux-backend.js';
import { LinuxDataPlane } from './network/linux/linux-data-plane.js';

/**
 * Wiring for a host that runs real guests and real networking: one
 * LinuxDataPlane per process (shared by the network backend and the QEMU
 * driver's VIF plugging), the QEMU driver with the accelerator the KVM probe
 * chose, and the checks that decide whether this host can do it at all (if
 * not, `nimbus up` falls back to the fake driver and backend and says why).
 */

const SHARED_DATA_PLANE = 'linux.dataPlane';

/** Why this host cannot run real VMs and networking, or false if it can. */
export async function realHostUnavailable(): Promise<string | false> {
  if (process.platform !== 'linux') return 'not Linux';
  if (userInfo().uid !== 0) return 'not running as root (namespaces, bridges, taps and iptables need it)';
  for (const t of ['qemu-system-x86_64', 'qemu-img', 'ip', 'dnsmasq', 'iptables-restore', 'ipset', 'nft']) {
    if (!(await haveCommand(t))) return `${t} is not installed (see nimbus doctor)`;
  }
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  return false;
}

/** The process's data plane, made on first use. */
export function sharedDataPlane(ctx: Pick<RuntimeContext, 'config' | 'log' | 'shared'>, metadataUpstream: { host: string; port: number }): LinuxDataPlane {
  const existing = ctx.shared.get(SHARED_DATA_PLANE) as LinuxDataPlane | undefined;
  if (existing) return existing;
  const { config } = ctx;
  const ln = config.linuxNetwork;
  const physical = ((config as unknown as { network?: { physicalInterfaceMappings?: Record<string, string> } }).network?.physicalInterfaceMappings) ?? {};
  const dp = new LinuxDataPlane({
    ip: new IpTool(runCommand),
    log: ctx.log.child({ agent: 'linux-data-plane' }),
    stateDir: ln.stateDir || join(config.dataDir, 'network'),
    vxlan: {
      ...(ln.vxlanLocalIp ? { localIp: ln.vxlanLocalIp } : {}),
      ...(ln.vxlanDevice ? { dev: ln.vxlanDevice } : {}),
      ...(ln.vxlanGroup ? { group: ln.vxlanGroup } : {}),
      peers: ln.vxlanPeers,
    },
    physicalInterfaces: physical,
    metadata: config.metadata.enabled ? { upstream: metadataUpstream, sharedSecret: metadataSharedSecret(config.metadata.sharedSecret, config.dataDir) } : undefined,
    dhcpDomain: ln.dhcpDomain,
    firewall: ln.firewall,
  });
  ctx.shared.set(SHARED_DATA_PLANE, dp);
  return dp;
}

/** The network backend (`network.backend = linux`), for the networking module's backend registry. */
export function linuxNetworkBackend(ctx: Pick<RuntimeContext, 'config' | 'log' | 'shared'>, opts: { host?: string; availabilityZone: string; metadataUpstream: { host: string; port: number } }) {
  const physical = ((ctx.config as unknown as { network?: { physicalInterfaceMappings?: Record<string, string> } }).network?.physicalInterfaceMappings) ?? {};
  return createLinuxBackend({
    dataPlane: sharedDataPlane(ctx, opts.metadataUpstream),
    host: opts.host || hostname(),
    log: ctx.log.child({ agent: 'linux-backend' }),
    availabilityZone: opts.availabilityZone,
    physicalNetworks: Object.keys(physical),
    hostGatewayOnExternal: ctx.config.linuxNetwork.hostGatewayOnExternal,
  });
}

/** The QEMU virt driver for this host, KVM if a probe proved it works, TCG otherwise. */
export async function createQemuHostDriver(
  ctx: Pick<RuntimeContext, 'config' | 'log' | 'shared'>,
  opts: { host?: string; metadataUpstream: { host: string; port: number }; onPowerStateChange?: (uuid: string, state: string) => void },
): Promise<{ driver: QemuVirtDriver; qemu: QemuDriver; accelReason: string }> {
  const { config } = ctx;
  const q = config.qemu;
  const log: Log = ctx.log.child({ agent: 'qemu' });
  const stateDir = q.stateDir || join(config.dataDir, 'compute');
  const image = findTestImage(config.dataDir)?.path;
  const { accel, reason } = await chooseAccel(q.accel, join(config.dataDir, 'kvm-probe.json'), { qemuBinary: q.binary, ...(image ? { image } : {}) });
  log.info({ accel, reason }, 'QEMU accelerator');
  const dp = sharedDataPlane(ctx, opts.metadataUpstream);
  const qemu = new QemuDriver({
    stateDir,
    ...(q.runDir ? { runDir: q.runDir } : {}),
    run: runCommand,
    log,
    accel,
    machine: q.machine,
    qemuBinary: q.binary,
    vif: dp.vifPlugger(),
    syncIntervalMs: q.powerSyncSeconds * 1000,
    ...(opts.onPowerStateChange ? { onPowerStateChange: opts.onPowerStateChange } : {}),
  });
  return { driver: new QemuVirtDriver(qemu, opts.host || hostname(), log, q.binary, q.softShutdownSeconds * 1000), qemu, accelReason: reason };
}
