import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from '../src/core/exec.js';
import { silentLog } from '../src/core/log.js';
import { QemuDriver } from '../src/agents/compute/qemu/qemu-driver.js';
import { qemuArgs } from '../src/agents/compute/qemu/qemu-command.js';
import { launchQemu, killQemu } from '../src/agents/compute/qemu/qemu-process.js';
import { Marker } from '../src/agents/compute/test-image/guest-scripts.js';
import { LinuxDataPlane } from '../src/agents/network/linux/linux-data-plane.js';
import type { DesiredState, DpPort } from '../src/agents/network/linux/model.js';
import { Names } from '../src/agents/network/linux/names.js';
import { createMetadataApp } from '../src/metadata/api/app.js';
import { staticMetadataSource, type MetadataInstance } from '../src/metadata/service/metadata-source.js';
import { createHostLab, realVmSkipReason, testImagePath, type HostLab } from '../test/support/host-lab.js';
import type { Benchmark, BenchResult } from './lib/report.js';

/**
 * Boot of the test image under TCG, from QEMU's launch to the console lines
 * of the guest's DHCP lease, metadata fetch and login readiness: a bare QEMU
 * (same command line, started by hand) is the anchor for the same guest
 * started through the QEMU driver (image cache, overlay, VIF plugging, QMP)
 * at the same moment, so both see the same load on a shared machine; then
 * four guests at once through the driver. The API-to-ACTIVE figures join these once
 * compute drives this driver.
 */

const MARKS = { lease: Marker.lease, metadata: Marker.metadataFetched, login: Marker.login } as const;
type Mark = keyof typeof MARKS;

async function watchConsole(path: string, t0: number, timeoutMs: number): Promise<Record<Mark, number>> {
  const out: Partial<Record<Mark, number>> = {};
  const until = t0 + timeoutMs;
  while (Date.now() < until) {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    for (const [k, m] of Object.entries(MARKS) as [Mark, string][]) if (out[k] === undefined && text.includes(m)) out[k] = (Date.now() - t0) / 1000;
    if (Object.keys(out).length === 3) return out as Record<Mark, number>;
    await sleep(100);
  }
  throw new Error(`guest did not finish booting within ${timeoutMs / 1000} s: ${JSON.stringify(out)}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const hypervisorBench: Benchmark = {
  name: 'hypervisor: test image boot (TCG)',
  async run(): Promise<BenchResult[]> {
    const skip = await realVmSkipReason();
    if (skip) return [{ name: 'hypervisor: boot', value: NaN, unit: 's', note: `skipped: ${skip}` }];
    const image = (await testImagePath())!;
    const lab: HostLab = await createHostLab();
    const netId = crypto.randomUUID();
    const subnetId = crypto.randomUUID();
    const vms = Array.from({ length: 6 }, (_, i) => ({ uuid: crypto.randomUUID(), port: crypto.randomUUID(), mac: `fa:16:3e:50:00:${(0x10 + i).toString(16)}`, ip: `10.81.0.${10 + i}` }));
    const port = (v: (typeof vms)[number]): DpPort => ({ id: v.port, networkId: netId, mac: v.mac, fixedIps: [{ subnetId, ip: v.ip }], deviceOwner: 'compute:nova', deviceId: v.uuid, projectId: 'p', securityGroupIds: [], portSecurityEnabled: false, allowedAddressPairs: [] });
    const dhcp: DpPort = { id: crypto.randomUUID(), networkId: netId, mac: 'fa:16:3e:50:00:02', fixedIps: [{ subnetId, ip: '10.81.0.2' }], deviceOwner: 'network:dhcp', deviceId: 'dhcp', projectId: 'p', securityGroupIds: [], portSecurityEnabled: false, allowedAddressPairs: [] };
    const desired: DesiredState = { networks: [{ id: netId, type: 'local', mtu: 1500, subnets: [{ id: subnetId, cidr: '10.81.0.0/24', ipVersion: 4, gatewayIp: '10.81.0.1', enableDhcp: true }] }], ports: [dhcp, ...vms.map(port)], securityGroups: [], routers: [] };
    const inst = (v: (typeof vms)[number], i: number): MetadataInstance => ({ uuid: v.uuid, name: `bench-${i}`, hostname: `bench-${i}`, projectId: 'p', availabilityZone: 'nova', launchIndex: 0, reservationId: 'r', ec2Id: i + 1, flavorName: 'f', keys: [], meta: {}, nics: [], floatingIps: [], securityGroups: [] });
    const app = createMetadataApp({ log: silentLog(), source: () => staticMetadataSource(vms.map(inst)), sharedSecret: 'b', dhcpDomain: '', logRequests: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const dp = new LinuxDataPlane({ ip: lab.ip, log: silentLog(), stateDir: join(lab.dir, 'network'), metadata: { upstream: { host: '127.0.0.1', port: (app.server.address() as AddressInfo).port }, sharedSecret: 'b' }, firewall: false });
    const driver = new QemuDriver({ stateDir: join(lab.dir, 'compute'), run: runCommand, log: silentLog(), accel: 'tcg', wrap: lab.ip.execPrefix(undefined), vif: dp.vifPlugger(), syncIntervalMs: 0 });
    const results: BenchResult[] = [];
    try {
      await dp.apply(desired);
      await driver.init();
      const nic = (v: (typeof vms)[number]) => ({ id: 'net0', mac: v.mac, tap: Names.tap(v.port), bridge: Names.bridge(netId), mtu: 1500, portId: v.port });

      // Bare QEMU: the driver's command line, launched by hand on a pre-made overlay.
      const bare = vms[0]!;
      const dir = join(lab.dir, 'bare');
      await runCommand('mkdir', ['-p', dir]);
      await runCommand('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', image, join(dir, 'disk')]);
      await dp.vifPlugger().plug(nic(bare));
      const paths = { qmpSocket: join(dir, 'q.sock'), serialSocket: join(dir, 's.sock'), consoleLog: join(dir, 'console.log'), pidFile: join(dir, 'pid'), qemuLog: join(dir, 'qemu.log') };
      const args = qemuArgs({ uuid: bare.uuid, name: 'bare', vcpus: 1, memoryMiB: 256, machine: 'pc', accel: 'tcg', disks: [{ id: 'virtio-disk0', path: join(dir, 'disk'), format: 'qcow2', bootIndex: 1 }], nics: [nic(bare)] }, paths);
      const source = { imageId: 'bench-image', format: 'qcow2' as const, fetch: async (dest: string) => copyFileSync(image, dest) };
      const one = vms[1]!;
      // The per-host base image cache fills once per image; measured apart, then warm like a host that booted it before.
      const tc = Date.now();
      await driver.images.ensure(source);
      const cacheFill = (Date.now() - tc) / 1000;
      // Bare QEMU and the driver start together, so both boots see the same (shared, noisy) machine.
      const t1 = Date.now();
      const barePid = launchQemu({ binary: 'qemu-system-x86_64', args, logFile: paths.qemuLog, pidFile: paths.pidFile, wrap: lab.ip.execPrefix(undefined) });
      await driver.spawn({ uuid: one.uuid, name: 'bench-1', vcpus: 1, memoryMiB: 256, image: source, nics: [nic(one)] });
      const spawnReturned = (Date.now() - t1) / 1000;
      const pid = await barePid;
      const [bareT, oneT] = await Promise.all([watchConsole(paths.consoleLog, t1, 240_000), watchConsole(driver.store.paths(one.uuid).consoleLog, t1, 240_000)]);
      await killQemu(pid, bare.uuid);
      await driver.destroy(one.uuid);

      // Four at once.
      const four = vms.slice(2, 6);
      const t4 = Date.now();
      await Promise.all(four.map((v, i) => driver.spawn({ uuid: v.uuid, name: `bench-${i + 2}`, vcpus: 1, memoryMiB: 256, image: source, nics: [nic(v)] })));
      const fourT = await Promise.all(four.map((v) => watchConsole(driver.store.paths(v.uuid).consoleLog, t4, 300_000)));
      for (const v of four) await driver.destroy(v.uuid);

      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      results.push({ name: 'hypervisor: base image cache fill (test image, cold)', value: cacheFill, unit: 's', note: 'copy + sha256 + qemu-img info' });
      results.push({ name: 'hypervisor: driver spawn returns (QEMU running)', value: spawnReturned, unit: 's', note: 'overlay, VIF plug, launch, QMP' });
      for (const m of ['lease', 'metadata', 'login'] as const) {
        results.push({
          name: `hypervisor: driver spawn -> ${m} (1 VM, booted beside the bare one)`,
          value: oneT[m],
          unit: 's',
          anchor: { name: `bare QEMU -> ${m}`, value: bareT[m], unit: 's' },
          goal: '< anchor + 1 s',
          met: oneT[m] < bareT[m] + 1,
          note: `load ${load}`,
        });
      }
      for (const m of ['lease', 'metadata'] as const) {
        results.push({ name: `hypervisor: driver spawn -> ${m} (4 VMs at once, median/max)`, value: median(fourT.map((t) => t[m])), unit: 's', anchor: { name: `bare QEMU -> ${m} (1 VM)`, value: bareT[m], unit: 's' }, note: `max ${Math.max(...fourT.map((t) => t[m])).toFixed(1)} s` });
      }
    } finally {
      for (const v of vms) await driver.destroy(v.uuid).catch(() => {});
      await driver.close();
      await dp.teardown().catch(() => {});
      await dp.close();
      await app.close();
      await lab.cleanup();
    }
    return results;
  },
};
