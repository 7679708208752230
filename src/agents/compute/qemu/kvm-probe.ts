import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { QmpClient } from './qmp-client.js';
import type { Accel } from './qemu-command.js';

/**
 * Whether KVM really works. `/dev/kvm` existing is not enough: on some hosts
 * (nested or restricted virtualisation) QEMU starts with KVM, QMP says it is
 * enabled, and the guest then stops with an emulation failure or spins
 * forever without printing a byte. So boot a real guest (the test image)
 * under KVM for a bounded time and require it to print on its serial port.
 */

export interface KvmProbeResult {
  usable: boolean;
  reason: string;
  seconds: number;
  /** Host kernel and image the verdict was made with: a cached verdict is reused only for the same ones. */
  hostKernel: string;
  image: string | undefined;
}

export interface KvmProbeOptions {
  qemuBinary?: string;
  /** A bootable qcow2 whose kernel logs to ttyS0 (the test image). Without one KVM cannot be verified. */
  image?: string;
  timeoutMs?: number;
}

const BOOT_SIGNS = ['Linux version', 'NIMBUS:'];

export async function probeKvm(opts: KvmProbeOptions = {}): Promise<KvmProbeResult> {
  const t0 = Date.now();
  const done = (usable: boolean, reason: string): KvmProbeResult => ({
    usable,
    reason,
    seconds: (Date.now() - t0) / 1000,
    hostKernel: release(),
    image: opts.image,
  });
  if (!existsSync('/dev/kvm')) return done(false, '/dev/kvm does not exist');
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return done(false, '/dev/kvm is not readable and writable by this user');
  }
  if (!opts.image || !existsSync(opts.image)) return done(false, 'KVM not verified: no test image to boot (run `nimbus image build-test`)');

  const dir = mkdtempSync(join(tmpdir(), 'nimbus-kvm-probe-'));
  const serial = join(dir, 'serial.log');
  const qmpPath = join(dir, 'qmp.sock');
  const child = spawn(
    opts.qemuBinary ?? 'qemu-system-x86_64',
    [
      '-machine', 'pc,accel=kvm',
      '-cpu', 'host',
      '-m', '128',
      '-nodefaults', '-no-user-config', '-display', 'none',
      '-chardev', `file,id=s0,path=${serial}`, '-device', 'isa-serial,chardev=s0',
      // snapshot=on: writes go to a temporary file, the image is never modified.
      '-drive', `file=${opts.image},format=qcow2,if=virtio,snapshot=on`,
      '-qmp', `unix:${qmpPath},server=on,wait=off`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  let exited = false;
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.on('exit', () => (exited = true));
  child.on('error', (e) => {
    exited = true;
    stderr += e.message;
  });
  let qmp: QmpClient | undefined;
  try {
    const deadline = t0 + (opts.timeoutMs ?? 20_000);
    while (Date.now() < deadline) {
      await sleep(250);
      if (exited) return done(false, `QEMU exited under KVM: ${stderr.trim().split('\n').slice(-2).join(' | ')}`);
      const out = existsSync(serial) ? readFileSync(serial, 'utf8') : '';
      if (BOOT_SIGNS.some((s) => out.includes(s))) return done(true, 'a guest kernel booted under KVM');
      if (!qmp && existsSync(qmpPath)) qmp = await QmpClient.connect(qmpPath, { timeoutMs: 2_000 }).catch(() => undefined);
      if (qmp?.isOpen) {
        const st = await qmp.execute('query-status', undefined, { timeoutMs: 2_000 }).catch(() => undefined);
        if (st?.status === 'internal-error') return done(false, `KVM internal error: the guest stopped (${stderr.trim().split('\n')[0] ?? 'emulation failure'})`);
      }
    }
    return done(false, `no guest output under KVM within ${((opts.timeoutMs ?? 20_000) / 1000).toFixed(0)} s (guest hangs)`);
  } finally {
    qmp?.close().catch(() => {});
    if (!exited && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export type AccelSetting = 'auto' | Accel;

/**
 * The accelerator to use: `tcg`/`kvm` when configured, else KVM only if a
 * probe verified it. The verdict is cached in `cacheFile` per host kernel and
 * image, so agents do not boot a probe guest at every start.
 */
export async function chooseAccel(setting: AccelSetting, cacheFile: string, opts: KvmProbeOptions = {}): Promise<{ accel: Accel; reason: string; probe?: KvmProbeResult }> {
  if (setting === 'tcg') return { accel: 'tcg', reason: 'configured (compute.qemu.accel=tcg)' };
  if (setting === 'kvm') return { accel: 'kvm', reason: 'configured (compute.qemu.accel=kvm)' };
  let probe: KvmProbeResult | undefined;
  if (existsSync(cacheFile)) {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as KvmProbeResult;
    if (cached.hostKernel === release() && cached.image === opts.image) probe = cached;
  }
  if (!probe) {
    probe = await probeKvm(opts);
    // An unverified result (no image) is not cached: it changes once the image exists.
    if (opts.image) writeFileSync(cacheFile, `${JSON.stringify(probe, null, 2)}\n`);
  }
  return probe.usable ? { accel: 'kvm', reason: probe.reason, probe } : { accel: 'tcg', reason: `KVM not used: ${probe.reason}`, probe };
}
