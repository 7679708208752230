import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../core/config/loader.js';
import { silentLog } from '../core/log.js';
import { configSchema } from '../runtime/config-schema.js';
import { createQemuHostDriver, linuxNetworkBackend, realHostUnavailable, sharedDataPlane } from './linux-host.js';

test('wiring from config: one shared data plane, the QEMU driver with the configured accelerator, the linux backend', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'linux-host-'));
  try {
    const config = validateConfig(configSchema, { dataDir, qemu: { accel: 'tcg', powerSyncSeconds: 0 } });
    const ctx = { config, log: silentLog(), shared: new Map<string, unknown>() };
    const upstream = { host: '127.0.0.1', port: 8775 };
    const { driver, accelReason } = await createQemuHostDriver(ctx, { host: 'h1', metadataUpstream: upstream });
    assert.match(accelReason, /configured/);
    assert.equal(driver.type, 'qemu');
    assert.equal(driver.host, 'h1');
    const res = await driver.hostResources();
    assert.equal(res.hypervisorType, 'QEMU');
    assert.ok(res.vcpus > 0 && res.memoryMb > 0 && res.localGb > 0);
    assert.equal(res.cpuInfo['accel'], 'tcg');
    assert.equal(sharedDataPlane(ctx, upstream), sharedDataPlane(ctx, upstream), 'one data plane per process');
    const backend = linuxNetworkBackend(ctx, { availabilityZone: 'nova', metadataUpstream: upstream });
    assert.equal(backend.name, 'linux');
    const why = await realHostUnavailable();
    assert.ok(why === false || /not|missing/.test(why), String(why));
    if (process.getuid?.() !== 0) assert.match(String(why), /root/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
