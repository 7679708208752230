import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from '../../src/core/exec.js';
import { silentLog } from '../../src/core/log.js';
import { QemuDriver } from '../../src/agents/compute/qemu/qemu-driver.js';
import { ImageVerificationError } from '../../src/agents/compute/qemu/image-cache.js';
import { createHostLab, realVmSkipReason, testImagePath, type HostLab } from '../support/host-lab.js';

/**
 * Driver actions that restart or transform a guest (no network needed):
 * suspend/resume with the memory state saved to disk, hard reboot, cold
 * resize, rescue/unrescue, and the image checks that refuse a bad base.
 */

const skip = await realVmSkipReason();
let lab: HostLab;
let driver: QemuDriver;
const uuid = crypto.randomUUID();

const count = (text: string, s: string) => text.split(s).length - 1;

async function waitConsole(pred: (text: string) => boolean, what: string, timeoutMs = 150_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = await driver.consoleOutput(uuid);
    if (pred(text)) return;
    if (Date.now() > until) throw new Error(`console never showed ${what}; tail:\n${text.split('\n').slice(-10).join('\n')}`);
    await sleep(250);
  }
}

before(async () => {
  if (skip) return;
  lab = await createHostLab();
  driver = new QemuDriver({ stateDir: join(lab.dir, 'compute'), run: runCommand, log: silentLog(), accel: 'tcg', vif: { plug: async () => {}, unplug: async () => {} }, syncIntervalMs: 0 });
  await driver.init();
});

after(async () => {
  if (skip) return;
  await driver?.destroy(uuid).catch(() => {});
  await driver?.close();
  await lab?.cleanup();
});

test('suspend/resume, hard reboot, cold resize, rescue/unrescue', { skip, timeout: 900_000 }, async () => {
  const image = (await testImagePath())!;
  const source = { imageId: 'lifecycle-image', format: 'qcow2' as const, fetch: async (dest: string) => copyFileSync(image, dest) };
  await driver.spawn({ uuid, name: 'instance-00000100', vcpus: 1, memoryMiB: 192, image: source, nics: [] });
  await waitConsole((t) => t.includes('NIMBUS: boot complete'), 'boot complete');

  // Suspend: memory to disk, no process; resume continues the same boot (no second init).
  await driver.suspend(uuid);
  let info = await driver.getInfo(uuid);
  assert.equal(info.powerState, 'suspended');
  assert.equal(info.pid, undefined);
  await driver.resume(uuid);
  assert.equal((await driver.getInfo(uuid)).powerState, 'running');
  const sock = driver.serialConsoleSocket(uuid);
  // The resumed guest still runs its serial shell: ask it something through the console socket.
  const { connect } = await import('node:net');
  const c = connect(sock);
  await new Promise((r) => c.once('connect', r));
  c.write('\necho resumed-$((40+2))\n');
  await waitConsole((t) => t.includes('resumed-42'), 'the serial shell answering after resume', 60_000);
  c.destroy();
  assert.equal(count(await driver.consoleOutput(uuid), 'NIMBUS: init start'), 1, 'resume did not reboot');

  // Hard reboot: a new boot in the same (appended) console log.
  await driver.reboot(uuid, 'HARD');
  await waitConsole((t) => count(t, 'NIMBUS: init start') === 2, 'second boot');

  // Cold resize: more memory and a bigger root disk, running again afterwards.
  await driver.resize(uuid, { vcpus: 2, memoryMiB: 256, rootDiskBytes: 128 * 1024 * 1024 });
  info = await driver.getInfo(uuid);
  assert.equal(info.powerState, 'running');
  assert.equal(info.vcpus, 2);
  const disk = JSON.parse((await runCommand('qemu-img', ['info', '-U', '-f', 'qcow2', '--output', 'json', driver.store.paths(uuid).rootDisk])).stdout) as { 'virtual-size': number };
  assert.equal(disk['virtual-size'], 128 * 1024 * 1024);
  await waitConsole((t) => count(t, 'NIMBUS: init start') === 3, 'boot after resize');

  // Rescue boots the rescue image with the instance's disk as vdb; unrescue goes back.
  await driver.rescue(uuid, source);
  assert.equal((await driver.getInfo(uuid)).rescued, true);
  await waitConsole((t) => count(t, 'NIMBUS: init start') === 4, 'rescue boot');
  await driver.unrescue(uuid);
  assert.equal((await driver.getInfo(uuid)).rescued, false);
  await waitConsole((t) => count(t, 'NIMBUS: init start') === 5, 'boot after unrescue');

  await driver.destroy(uuid);
  assert.deepEqual(driver.listInstances(), []);
});

test('a base image that fails its checksum or format check is refused, and nothing is left', { skip, timeout: 60_000 }, async () => {
  const image = (await testImagePath())!;
  const bad = crypto.randomUUID();
  await assert.rejects(
    driver.spawn({ uuid: bad, name: 'instance-00000101', vcpus: 1, memoryMiB: 128, image: { imageId: 'img-badsum', format: 'qcow2', checksum: { algo: 'sha256', value: '0'.repeat(64) }, fetch: async (d) => copyFileSync(image, d) }, nics: [] }),
    ImageVerificationError,
  );
  // A qcow2 that points at a host file through a backing file must never be booted.
  const evil = join(lab.dir, 'evil.qcow2');
  await runCommand('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', '/etc/hostname', evil]);
  await assert.rejects(
    driver.spawn({ uuid: bad, name: 'instance-00000101', vcpus: 1, memoryMiB: 128, image: { imageId: 'img-evil', format: 'qcow2', fetch: async (d) => copyFileSync(evil, d) }, nics: [] }),
    /backing file/,
  );
  // Declared raw but the bytes are garbage for qcow2: declared format wins, qcow2 check fails.
  await assert.rejects(
    driver.spawn({ uuid: bad, name: 'instance-00000101', vcpus: 1, memoryMiB: 128, image: { imageId: 'img-notqcow', format: 'qcow2', fetch: async (d) => copyFileSync('/etc/hostname', d) }, nics: [] }),
    ImageVerificationError,
  );
  assert.deepEqual(driver.listInstances(), []);
});
