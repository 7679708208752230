import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from '../../src/core/exec.js';
import { silentLog } from '../../src/core/log.js';
import { QemuDriver } from '../../src/agents/compute/qemu/qemu-driver.js';
import type { PowerState } from '../../src/agents/compute/qemu/hypervisor-driver.js';
import { sha256File } from '../../src/agents/compute/test-image/build-test-image.js';
import { LinuxDataPlane } from '../../src/agents/network/linux/linux-data-plane.js';
import type { DesiredState, DpPort } from '../../src/agents/network/linux/model.js';
import { Names } from '../../src/agents/network/linux/names.js';
import { createMetadataApp } from '../../src/metadata/api/app.js';
import { staticMetadataSource, type MetadataInstance } from '../../src/metadata/service/metadata-source.js';
import { createHostLab, realVmSkipReason, testImagePath, type HostLab } from '../support/host-lab.js';

/**
 * A real guest: the test image booted by the QEMU driver (TCG) on a tap in a
 * bridge, leased by dnsmasq, fetching its metadata through the proxy, reachable
 * over SSH with the key from metadata; then power actions, hot-plug, snapshot,
 * an agent restart that re-attaches, and deletion that leaves nothing behind.
 */

const skip = await realVmSkipReason();
const SECRET = 'vm-test-secret';
let lab: HostLab;
let dp: LinuxDataPlane;
let driver: QemuDriver;
let app: ReturnType<typeof createMetadataApp>;
const states: [string, PowerState][] = [];

const netId = crypto.randomUUID();
const subnetId = crypto.randomUUID();
const sgId = crypto.randomUUID();
const uuid = crypto.randomUUID();
const vmPort: DpPort = { id: crypto.randomUUID(), networkId: netId, mac: 'fa:16:3e:20:00:05', fixedIps: [{ subnetId, ip: '10.78.0.5' }], deviceOwner: 'compute:nova', deviceId: uuid, projectId: 'proj-1', securityGroupIds: [sgId], portSecurityEnabled: true, allowedAddressPairs: [] };
const dhcpPort: DpPort = { id: crypto.randomUUID(), networkId: netId, mac: 'fa:16:3e:20:00:02', fixedIps: [{ subnetId, ip: '10.78.0.2' }], deviceOwner: 'network:dhcp', deviceId: 'dhcp', projectId: 'proj-1', securityGroupIds: [], portSecurityEnabled: false, allowedAddressPairs: [] };
const desired: DesiredState = {
  networks: [{ id: netId, type: 'vxlan', segmentationId: 2000 + Math.floor(Math.random() * 60000), mtu: 1450, subnets: [{ id: subnetId, cidr: '10.78.0.0/24', ipVersion: 4, gatewayIp: '10.78.0.1', enableDhcp: true }] }],
  ports: [dhcpPort, vmPort],
  securityGroups: [{ id: sgId, rules: [{ id: 'e', direction: 'egress', ethertype: 'IPv4' }, { id: 'icmp', direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' }, { id: 'ssh', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }, { id: 'http', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 }] }],
  routers: [],
};
const dhcpNs = Names.dhcpNamespace(netId);

async function waitConsole(pattern: RegExp, timeoutMs = 120_000, from = 0): Promise<RegExpMatchArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = (await driver.consoleOutput(uuid)).slice(from);
    const m = text.match(pattern);
    if (m) return m;
    if (Date.now() > until) throw new Error(`console never showed ${pattern}; last lines:\n${text.split('\n').slice(-15).join('\n')}`);
    await sleep(250);
  }
}

function newDriver(): QemuDriver {
  return new QemuDriver({
    stateDir: join(lab.dir, 'compute'),
    run: runCommand,
    log: silentLog(),
    accel: 'tcg',
    wrap: lab.ip.execPrefix(undefined),
    vif: dp.vifPlugger(),
    syncIntervalMs: 500,
    onPowerStateChange: (id, s) => states.push([id, s]),
  });
}

before(async () => {
  if (skip) return;
  lab = await createHostLab();
  await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'nimbus-test', '-f', join(lab.dir, 'key')]);
  const pub = readFileSync(join(lab.dir, 'key.pub'), 'utf8').trim();
  const inst: MetadataInstance = {
    uuid,
    name: 'Guest One',
    hostname: 'guest-one',
    projectId: 'proj-1',
    availabilityZone: 'nova',
    launchIndex: 0,
    reservationId: 'r-1',
    ec2Id: 0x2a,
    flavorName: 'm1.nano',
    keys: [{ name: 'k1', type: 'ssh', data: pub }],
    userData: Buffer.from('#!/bin/sh\necho "hello from user-data on $(hostname)"\n'),
    meta: {},
    nics: [],
    floatingIps: [],
    securityGroups: ['default'],
  };
  app = createMetadataApp({ log: silentLog(), source: () => staticMetadataSource([inst]), sharedSecret: SECRET, dhcpDomain: 'novalocal', logRequests: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  dp = new LinuxDataPlane({ ip: lab.ip, log: silentLog(), stateDir: join(lab.dir, 'network'), metadata: { upstream: { host: '127.0.0.1', port: (app.server.address() as AddressInfo).port }, sharedSecret: SECRET } });
  driver = newDriver();
  await driver.init();
});

after(async () => {
  if (skip) return;
  await driver?.destroy(uuid).catch(() => {});
  await driver?.close();
  await dp?.teardown().catch(() => {});
  await dp?.close();
  await app?.close();
  await lab?.cleanup();
});

test('the test image boots under the QEMU driver: DHCP, metadata, SSH, console; power, hot-plug, snapshot, re-attach, delete', { skip, timeout: 600_000 }, async () => {
  const image = (await testImagePath())!;
  await dp.apply(desired);
  const t0 = Date.now();
  await driver.spawn({
    uuid,
    name: 'instance-0000002a',
    vcpus: 1,
    memoryMiB: 256,
    image: { imageId: 'test-image', format: 'qcow2', checksum: { algo: 'sha256', value: await sha256File(image) }, fetch: async (dest) => copyFileSync(image, dest) },
    nics: [{ id: 'net0', mac: vmPort.mac, tap: Names.tap(vmPort.id), bridge: Names.bridge(netId), mtu: 1450, portId: vmPort.id }],
  });
  assert.equal((await driver.getInfo(uuid)).powerState, 'running');

  const lease = await waitConsole(/NIMBUS: lease (ip=\S+) .*mtu=(\d+) staticroutes=\[([^\]]*)\]/);
  assert.equal(lease[1], 'ip=10.78.0.5/24');
  assert.equal(lease[2], '1450');
  assert.match(lease[3]!, /169\.254\.169\.254\/32 10\.78\.0\.2/);
  const leaseAt = (Date.now() - t0) / 1000;
  await waitConsole(/NIMBUS: instance-id: i-0000002a/, 60_000);
  await waitConsole(/NIMBUS: metadata fetched/, 30_000);
  const metadataAt = (Date.now() - t0) / 1000;
  await waitConsole(/NIMBUS: hostname set to guest-one/, 30_000);
  await waitConsole(/NIMBUS: ssh key 0 installed: ssh-ed25519 .*nimbus-test/, 30_000);
  await waitConsole(/NIMBUS: user-data: hello from user-data on guest-one/, 30_000);
  await waitConsole(/NIMBUS: login ready/, 30_000);
  process.stderr.write(`# lease ${leaseAt.toFixed(1)} s, metadata ${metadataAt.toFixed(1)} s after spawn\n`);

  // The guest answers ping and HTTP (security group allows both), and SSH with the metadata key.
  const ping = await lab.inNs(dhcpNs, 'busybox', ['ping', '-c', '2', '-W', '3', '10.78.0.5'], 20_000);
  assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  const http = await lab.inNs(dhcpNs, 'busybox', ['timeout', '10', 'busybox', 'wget', '-q', '-O', '-', 'http://10.78.0.5/'], 15_000);
  assert.equal(http.stdout.trim(), 'i-0000002a guest-one');
  const sshArgs = ['-i', join(lab.dir, 'key'), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=20', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR'];
  const ssh = await lab.inNs(dhcpNs, 'ssh', [...sshArgs, 'cirros@10.78.0.5', 'hostname; sudo id -u'], 90_000);
  assert.equal(ssh.stdout.trim(), 'guest-one\n0', ssh.stderr);

  // Pause / unpause.
  await driver.pause(uuid);
  assert.equal((await driver.getInfo(uuid)).powerState, 'paused');
  await driver.unpause(uuid);
  assert.equal((await driver.getInfo(uuid)).powerState, 'running');

  // Volume hot-plug and unplug: the guest sees vdb come and go.
  const vol = join(lab.dir, 'vol1.qcow2');
  await runCommand('qemu-img', ['create', '-q', '-f', 'qcow2', vol, '64M']);
  const volumeId = crypto.randomUUID();
  await driver.attachVolume(uuid, { volumeId, path: vol, format: 'qcow2', kind: 'file' });
  await waitConsole(new RegExp(`NIMBUS: disk vdb appeared size 131072 sectors serial ${volumeId.slice(0, 20)}`), 60_000);
  await driver.detachVolume(uuid, volumeId);
  await waitConsole(/NIMBUS: disk vdb removed/, 60_000);

  // NIC hot-plug: a second port on the same network (no DHCP entry, so just the device).
  const extraMac = 'fa:16:3e:20:00:09';
  const extraPort = crypto.randomUUID();
  await driver.attachInterface(uuid, { id: 'x', mac: extraMac, tap: Names.tap(extraPort), bridge: Names.bridge(netId), mtu: 1450, portId: extraPort });
  await waitConsole(new RegExp(`NIMBUS: nic eth1 appeared mac ${extraMac}`), 60_000);
  await driver.detachInterface(uuid, extraMac);
  await waitConsole(/NIMBUS: nic eth1 removed/, 60_000);
  assert.equal(await lab.ip.link(undefined, Names.tap(extraPort)), undefined);

  // Snapshot: a standalone qcow2 (no backing file) of the running guest.
  const snap = join(lab.dir, 'snap.qcow2');
  await driver.snapshot(uuid, snap);
  const info = JSON.parse((await runCommand('qemu-img', ['info', '-f', 'qcow2', '--output', 'json', snap])).stdout) as Record<string, unknown>;
  assert.equal(info['format'], 'qcow2');
  assert.equal(info['backing-filename'], undefined);
  assert.equal((await driver.getInfo(uuid)).powerState, 'running');

  // Agent restart: a new driver finds the same QEMU process and drives it.
  const pid = (await driver.getInfo(uuid)).pid;
  await driver.close();
  driver = newDriver();
  await driver.init();
  const again = await driver.getInfo(uuid);
  assert.equal(again.powerState, 'running');
  assert.equal(again.pid, pid);
  assert.ok((await driver.vncEndpoint(uuid)).port >= 5900);

  // The guest powers itself off: the periodic sync reports it.
  const consoleBefore = (await driver.consoleOutput(uuid)).length;
  const off = await lab.inNs(dhcpNs, 'ssh', [...sshArgs, 'root@10.78.0.5', '(sleep 1; poweroff -f) >/dev/null 2>&1 </dev/null &'], 30_000);
  assert.equal(off.code, 0, off.stderr);
  for (let i = 0; i < 60 && (await driver.getInfo(uuid)).powerState !== 'shutdown'; i++) await sleep(500);
  assert.ok(states.some(([id, s]) => id === uuid && s === 'shutdown'), JSON.stringify(states));

  // Power on again: the console log keeps the first boot and appends the second.
  await driver.powerOn(uuid);
  await waitConsole(/NIMBUS: metadata fetched/, 120_000, consoleBefore);
  assert.match(await driver.consoleOutput(uuid), /NIMBUS: init start[\s\S]*NIMBUS: init start/);

  // ACPI power-off (clean), then delete: no process, tap, files or sockets left.
  await driver.powerOff(uuid, 60_000);
  assert.equal((await driver.getInfo(uuid)).powerState, 'shutdown');
  const dir = driver.store.paths(uuid).dir;
  await driver.destroy(uuid);
  assert.equal(existsSync(dir), false);
  assert.equal(await lab.ip.link(undefined, Names.tap(vmPort.id)), undefined);
  const procs = await runCommand('pgrep', ['-f', uuid], { check: false });
  assert.equal(procs.stdout.trim(), '');
});
