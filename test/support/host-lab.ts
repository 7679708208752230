import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { haveCommand, runCommand } from '../../src/core/exec.js';
import { buildTestImage, findTestImage, missingBuildTools } from '../../src/agents/compute/test-image/build-test-image.js';
import { IpTool } from '../../src/agents/network/linux/ip-tool.js';

/**
 * A scratch "host" for data-plane and real-VM tests: a network namespace of
 * its own playing the compute/network host, so bridges, taps, iptables rules
 * and QEMU's NICs never touch the machine's networking. Every name is random
 * so tests and other users of the machine cannot collide. Tests that need
 * root or tools skip with the reason when they are missing.
 */

export async function dataPlaneSkipReason(): Promise<string | false> {
  return required(await dataPlaneSkipReasonRaw());
}

async function dataPlaneSkipReasonRaw(): Promise<string | false> {
  if (process.platform !== 'linux') return 'needs Linux';
  if (userInfo().uid !== 0) return 'needs root (network namespaces, bridges, iptables)';
  for (const tool of ['ip', 'bridge', 'iptables-restore', 'ipset', 'nft', 'dnsmasq', 'busybox']) {
    if (!(await haveCommand(tool))) return `needs ${tool} (apt-get install iproute2 iptables ipset nftables dnsmasq-base busybox)`;
  }
  const probe = `nbprobe${randomBytes(3).toString('hex')}`;
  try {
    await runCommand('ip', ['netns', 'add', probe]);
    await runCommand('ip', ['-n', probe, 'link', 'add', 'br0', 'type', 'bridge']);
  } catch (err) {
    return `cannot create namespaces/bridges here: ${(err as Error).message}`;
  } finally {
    await runCommand('ip', ['netns', 'del', probe], { okCodes: [1] }).catch(() => {});
  }
  return false;
}

/**
 * CI sets NIMBUS_REQUIRE_REAL_VM=1: there a missing prerequisite is a failure,
 * never a silent skip.
 */
function required(reason: string | false): string | false {
  if (reason && process.env['NIMBUS_REQUIRE_REAL_VM'] === '1') throw new Error(`real-VM tests required but cannot run: ${reason}`);
  return reason;
}

export async function realVmSkipReason(): Promise<string | false> {
  return required(await realVmSkipReasonRaw());
}

async function realVmSkipReasonRaw(): Promise<string | false> {
  const dp = await dataPlaneSkipReasonRaw();
  if (dp) return dp;
  if (!(await haveCommand('qemu-system-x86_64'))) return 'needs qemu-system-x86_64 (apt-get install qemu-system-x86)';
  if (!(await haveCommand('qemu-img'))) return 'needs qemu-img (apt-get install qemu-utils)';
  if (!(await testImagePath())) return 'no test image and it cannot be built here (needs apt, syslinux, mtools, dosfstools)';
  return false;
}

/** Where tests keep the test image between runs (building it takes ~40 s). */
export function testImageCacheDir(): string {
  return process.env['NIMBUS_TEST_IMAGE_DIR'] ?? '/var/tmp/nimbus-test-image';
}

let building: Promise<string | undefined> | undefined;

/** The test image, built once into the shared cache when missing. */
export function testImagePath(): Promise<string | undefined> {
  building ??= (async () => {
    const found = findTestImage(testImageCacheDir());
    if (found) return found.path;
    if ((await missingBuildTools()).length) return undefined;
    try {
      return (await buildTestImage({ dataDir: testImageCacheDir(), run: runCommand })).path;
    } catch {
      return undefined;
    }
  })();
  return building;
}

export interface HostLab {
  /** The namespace playing the host. */
  hostNs: string;
  ip: IpTool;
  dir: string;
  /** Random ids, Neutron style. */
  id(): string;
  /** A namespace standing in for a VM, joined to `bridge` (in the host namespace) through `tap` (a veth end). */
  fakeVm(opts: { tap: string; bridge?: string; mac: string; cidr?: string; gateway?: string; mtu?: number }): Promise<string>;
  /** Runs a command inside a namespace. */
  inNs(ns: string, cmd: string, args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  cleanup(): Promise<void>;
}

export async function createHostLab(): Promise<HostLab> {
  const tag = randomBytes(3).toString('hex');
  const hostNs = `nbt-host-${tag}`;
  const dir = mkdtempSync(join(tmpdir(), 'nbt-'));
  const ip = new IpTool(runCommand, hostNs);
  await ip.netnsAdd(hostNs);
  const vms: string[] = [];
  return {
    hostNs,
    ip,
    dir,
    id: () => randomUUID(),
    async fakeVm(o) {
      const ns = `nbt-vm-${tag}-${vms.length}`;
      vms.push(ns);
      await ip.netnsAdd(ns);
      await ip.vethAdd(undefined, o.tap, 'eth0', ns, o.mtu);
      if (o.bridge) await ip.linkSet(undefined, o.tap, { master: o.bridge, up: true });
      await ip.linkSet(ns, 'eth0', { address: o.mac, up: true });
      if (o.cidr) await ip.addrAdd(ns, 'eth0', o.cidr);
      if (o.gateway) await ip.routeReplace(ns, 'default', { via: o.gateway });
      return ns;
    },
    async inNs(ns, cmd, args, timeoutMs = 10_000) {
      return runCommand('ip', ['netns', 'exec', ns, cmd, ...args], { timeoutMs, check: false });
    },
    async cleanup() {
      for (const ns of [...vms, hostNs]) {
        const pids = await ip.netnsPids(ns).catch(() => [] as number[]);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        await ip.netnsDel(ns).catch(() => {});
      }
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
