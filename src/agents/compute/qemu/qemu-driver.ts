import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandRunner } from '../../../core/exec.js';
import type { Log } from '../../../core/log.js';
import type { HypervisorDriver, InstanceInfo, PowerState, SpawnRequest, VifNic, VifPlugger, VncEndpoint, VolumeConnection } from './hypervisor-driver.js';
import { ImageCache, type BaseImageSource } from './image-cache.js';
import { InstanceStore, type InstanceDirs, type InstanceRecord } from './instance-store.js';
import { diskDriveArgs, qemuArgs, validateSpec, type Accel, type DiskSpec, type InstanceSpec } from './qemu-command.js';
import { killQemu, launchQemu, qemuAlive, readPid, waitForExit } from './qemu-process.js';
import { QmpClient, QmpError } from './qmp-client.js';
import type { RunState } from './qmp-types.js';

/**
 * Runs guests as QEMU processes, one per instance, each driven over its own
 * QMP socket. All durable state is in the instance directory (spec, disks,
 * console log) and the run directory (pidfile, sockets), so a restarted agent
 * finds its guests again: `init()` re-attaches to every live QEMU and then
 * keeps the power states in sync (guests can power themselves off).
 */

export interface QemuDriverOptions {
  /** Root of the driver's files: instances/, _base/, run/. */
  stateDir: string;
  runDir?: string;
  run: CommandRunner;
  log: Log;
  accel: Accel;
  machine?: 'pc' | 'q35';
  qemuBinary?: string;
  /** Prefix for QEMU's command line, e.g. ['ip','netns','exec','ns'] (tests keep taps in a namespace). */
  wrap?: string[];
  vif: VifPlugger;
  /** How often to compare QEMU's run state with what was last reported. 0 disables. */
  syncIntervalMs?: number;
  /** How long a hot-unplug waits for the guest to release the device. Default 60 s. */
  unplugTimeoutMs?: number;
  /** Called when an instance's power state changes (guest shut down, crashed...). */
  onPowerStateChange?: (uuid: string, state: PowerState, previous: PowerState) => void;
}

interface Live {
  pid: number | undefined;
  qmp: QmpClient | undefined;
  state: PowerState;
  /** Set while the driver itself stops QEMU, so the exit is not reported as a surprise. */
  stopping: boolean;
  /** Operations queued or running on this instance; the periodic sync leaves busy instances alone. */
  busy: number;
  queue: Promise<unknown>;
  /** An in-flight QMP connect, so concurrent callers share one connection (QEMU's monitor takes one client). */
  attaching: Promise<QmpClient> | undefined;
}

export function runStateToPower(status: RunState): PowerState {
  switch (status) {
    case 'running':
      return 'running';
    case 'shutdown':
      return 'shutdown';
    case 'internal-error':
    case 'io-error':
    case 'guest-panicked':
      return 'crashed';
    case 'suspended':
      return 'suspended';
    default:
      return 'paused';
  }
}

const SAFE_PATH_RE = /^[A-Za-z0-9/_.-]+$/;

export class QemuDriver implements HypervisorDriver {
  readonly store: InstanceStore;
  readonly images: ImageCache;
  private readonly live = new Map<string, Live>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly qemuBinary: string;

  constructor(private readonly opts: QemuDriverOptions) {
    this.store = new InstanceStore(opts.stateDir, opts.runDir);
    this.images = new ImageCache(`${opts.stateDir}/_base`, opts.run);
    this.qemuBinary = opts.qemuBinary ?? 'qemu-system-x86_64';
  }

  get accel(): Accel {
    return this.opts.accel;
  }

  // ---------------------------------------------------------------- lifecycle

  async init(): Promise<void> {
    for (const uuid of this.store.list()) {
      const rec = this.store.read(uuid)!;
      const p = this.store.paths(uuid);
      const pid = readPid(p.pidFile);
      const entry = this.entry(uuid);
      if (qemuAlive(pid, uuid)) {
        entry.pid = pid;
        await this.attachQmp(uuid, p).catch((err: Error) => this.opts.log.warn({ uuid, err: err.message }, 'QMP re-attach failed'));
        entry.state = entry.qmp ? runStateToPower((await entry.qmp.execute('query-status')).status) : 'running';
        this.opts.log.info({ uuid, pid, state: entry.state }, 're-attached to running QEMU');
      } else {
        entry.state = rec.savedState ? 'suspended' : 'shutdown';
      }
    }
    const every = this.opts.syncIntervalMs ?? 10_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.syncPowerStates().catch(() => {}), every);
      this.timer.unref();
    }
  }

  /** Closes QMP connections; the guests keep running. */
  async close(): Promise<void> {
    // From here on this driver must not touch QEMU: a new agent may already be attaching.
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.live.values()].map((l) => l.qmp?.close()));
  }

  listInstances(): string[] {
    return this.store.list();
  }

  /** Compares every instance's real state with the last one seen; reports changes. */
  async syncPowerStates(): Promise<Map<string, PowerState>> {
    const out = new Map<string, PowerState>();
    for (const uuid of this.store.list()) {
      const e = this.entry(uuid);
      if (e.stopping || e.busy > 0) continue;
      out.set(uuid, await this.refreshState(uuid));
    }
    return out;
  }

  private async refreshState(uuid: string): Promise<PowerState> {
    const e = this.entry(uuid);
    const p = this.store.paths(uuid);
    let state: PowerState;
    const pid = e.pid ?? readPid(p.pidFile);
    if (qemuAlive(pid, uuid)) {
      e.pid = pid;
      if (!e.qmp?.isOpen) await this.attachQmp(uuid, p).catch(() => undefined);
      const st = e.qmp?.isOpen ? await e.qmp.execute('query-status', undefined, { timeoutMs: 5_000 }).catch(() => undefined) : undefined;
      state = st ? runStateToPower(st.status) : e.state;
    } else {
      e.pid = undefined;
      state = this.store.read(uuid)?.savedState ? 'suspended' : 'shutdown';
    }
    this.setState(uuid, state);
    return state;
  }

  private setState(uuid: string, state: PowerState): void {
    const e = this.entry(uuid);
    const previous = e.state;
    e.state = state;
    if (previous !== state && !e.stopping) this.opts.onPowerStateChange?.(uuid, state, previous);
  }

  private entry(uuid: string): Live {
    let e = this.live.get(uuid);
    if (!e) {
      e = { pid: undefined, qmp: undefined, state: 'nostate', stopping: false, busy: 0, queue: Promise.resolve(), attaching: undefined };
      this.live.set(uuid, e);
    }
    return e;
  }

  /** Runs `fn` after every earlier operation on the same instance. */
  private serial<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    const e = this.entry(uuid);
    e.busy++;
    const next = e.queue.then(fn, fn).finally(() => e.busy--);
    e.queue = next.catch(() => {});
    return next;
  }

  private record(uuid: string): InstanceRecord {
    const rec = this.store.read(uuid);
    if (!rec) throw new Error(`instance ${uuid} is not on this host`);
    return rec;
  }

  private attachQmp(uuid: string, p: InstanceDirs): Promise<QmpClient> {
    if (this.closed) return Promise.reject(new Error('driver closed'));
    const e = this.entry(uuid);
    if (e.qmp?.isOpen) return Promise.resolve(e.qmp);
    e.attaching ??= this.connectQmp(uuid, p).finally(() => (e.attaching = undefined));
    return e.attaching;
  }

  private async connectQmp(uuid: string, p: InstanceDirs): Promise<QmpClient> {
    const e = this.entry(uuid);
    let lastErr: unknown;
    for (let i = 0; i < 20; i++) {
      try {
        const qmp = await QmpClient.connect(p.qmpSocket, { timeoutMs: 3_000 });
        e.qmp = qmp;
        qmp.on('event', (ev) => {
          if (ev.event === 'STOP') this.setState(uuid, 'paused');
          else if (ev.event === 'RESUME') this.setState(uuid, 'running');
        });
        qmp.on('close', () => {
          if (e.qmp === qmp) e.qmp = undefined;
          // QEMU exited (guest powered off, crashed, or killed): confirm and report.
          if (!e.stopping && !this.closed) void this.refreshState(uuid).catch(() => {});
        });
        return qmp;
      } catch (err) {
        lastErr = err;
        await sleep(100);
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }

  private qmpOf(uuid: string): QmpClient {
    const q = this.entry(uuid).qmp;
    if (!q?.isOpen) throw new Error(`instance ${uuid} is not running`);
    return q;
  }

  // ---------------------------------------------------------------- start/stop

  private async start(uuid: string, options: { paused?: boolean } = {}): Promise<void> {
    const rec = this.record(uuid);
    const p = this.store.paths(uuid);
    const e = this.entry(uuid);
    if (qemuAlive(e.pid ?? readPid(p.pidFile), uuid)) return;
    for (const nic of rec.spec.nics) await this.opts.vif.plug(nic);
    for (const f of [p.qmpSocket, p.serialSocket, p.pidFile]) rmSync(f, { force: true });
    const restoring = rec.savedState && existsSync(rec.savedState) ? rec.savedState : undefined;
    if (restoring && !SAFE_PATH_RE.test(restoring)) throw new Error(`unsafe saved-state path ${restoring}`);
    const args = qemuArgs(rec.spec, p, {
      paused: options.paused || Boolean(restoring),
      ...(restoring ? { incoming: `exec:cat ${restoring}` } : {}),
    });
    e.pid = await launchQemu({ binary: this.qemuBinary, args, logFile: p.qemuLog, pidFile: p.pidFile, ...(this.opts.wrap ? { wrap: this.opts.wrap } : {}) });
    e.stopping = false;
    const qmp = await this.attachQmp(uuid, p);
    if (restoring) {
      // Wait for the incoming migration to finish loading, then run the guest.
      for (let i = 0; i < 600; i++) {
        const st = await qmp.execute('query-status');
        if (st.status !== 'inmigrate') break;
        await sleep(100);
      }
      if (!options.paused) await qmp.execute('cont');
      rmSync(restoring, { force: true });
      const { savedState: _s, ...rest } = this.record(uuid);
      this.store.write(uuid, rest);
    }
    this.setState(uuid, options.paused ? 'paused' : 'running');
  }

  /** Hard stop: QMP quit, SIGKILL if QEMU does not go. */
  private async kill(uuid: string): Promise<void> {
    const e = this.entry(uuid);
    const p = this.store.paths(uuid);
    const pid = e.pid ?? readPid(p.pidFile);
    e.stopping = true;
    try {
      if (qemuAlive(pid, uuid)) {
        await e.qmp?.execute('quit', undefined, { timeoutMs: 3_000 }).catch(() => undefined);
        if (!(await waitForExit(pid!, uuid, 5_000))) await killQemu(pid!, uuid);
      }
    } finally {
      await e.qmp?.close().catch(() => {});
      e.qmp = undefined;
      e.pid = undefined;
      e.stopping = false;
    }
    this.setState(uuid, 'shutdown');
  }

  /** ACPI power button, then wait; false if the guest did not go within `timeoutMs`. */
  private async cleanShutdown(uuid: string, timeoutMs: number): Promise<boolean> {
    const e = this.entry(uuid);
    const pid = e.pid;
    if (!pid || !qemuAlive(pid, uuid)) return true;
    e.stopping = true;
    try {
      // A guest ignores the button until its ACPI daemon runs: press it again every few seconds.
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        await e.qmp?.execute('system_powerdown', undefined, { timeoutMs: 3_000 }).catch(() => undefined);
        if (await waitForExit(pid, uuid, Math.min(5_000, Math.max(0, until - Date.now())))) return true;
      }
      return !qemuAlive(pid, uuid);
    } finally {
      e.stopping = false;
    }
  }

  // ---------------------------------------------------------------- API

  async getInfo(uuid: string): Promise<InstanceInfo> {
    const rec = this.record(uuid);
    const state = this.entry(uuid).stopping ? this.entry(uuid).state : await this.refreshState(uuid);
    return {
      uuid,
      name: rec.spec.name,
      powerState: state,
      vcpus: rec.spec.vcpus,
      memoryMiB: rec.spec.memoryMiB,
      pid: this.entry(uuid).pid,
      accel: rec.spec.accel,
      rescued: Boolean(rec.rescue),
    };
  }

  spawn(req: SpawnRequest): Promise<void> {
    return this.serial(req.uuid, async () => {
      if (this.store.read(req.uuid)) throw new Error(`instance ${req.uuid} already exists on this host`);
      const p = this.store.create(req.uuid);
      try {
        const disks: DiskSpec[] = [];
        if (req.image) {
          const base = await this.images.ensure(req.image);
          await this.images.createOverlay(base, p.rootDisk, req.rootDiskBytes);
          disks.push({ id: 'virtio-disk0', path: p.rootDisk, format: 'qcow2', bootIndex: 1 });
        } else if (!req.volumes?.length) {
          throw new Error('nothing to boot: no image and no volume');
        }
        // Boot from volume: the first volume takes virtio-disk0 and boot index 1.
        const offset = disks.length;
        (req.volumes ?? []).forEach((v, i) => disks.push({ ...volumeDisk(v, i + offset), ...(offset === 0 && i === 0 ? { bootIndex: 1 } : {}) }));
        const spec: InstanceSpec = {
          uuid: req.uuid,
          name: req.name,
          vcpus: req.vcpus,
          memoryMiB: req.memoryMiB,
          machine: this.opts.machine ?? 'pc',
          accel: this.opts.accel,
          disks,
          nics: req.nics,
        };
        validateSpec(spec);
        this.store.write(req.uuid, { spec, ...(req.image ? { baseImage: this.images.baseName(req.image.imageId) } : {}), createdAt: new Date().toISOString() });
        await this.start(req.uuid);
      } catch (err) {
        // Roll back: no process, no tap, no files left for a failed build.
        await this.kill(req.uuid).catch(() => {});
        for (const nic of req.nics) await this.opts.vif.unplug(nic).catch(() => {});
        this.store.remove(req.uuid);
        this.live.delete(req.uuid);
        throw err;
      }
    });
  }

  destroy(uuid: string): Promise<void> {
    return this.serial(uuid, async () => {
      const rec = this.store.read(uuid);
      await this.kill(uuid);
      for (const nic of rec?.spec.nics ?? []) await this.opts.vif.unplug(nic).catch((err: Error) => this.opts.log.warn({ uuid, err: err.message }, 'unplug failed'));
      this.store.remove(uuid);
      this.live.delete(uuid);
    });
  }

  powerOff(uuid: string, timeoutMs = 60_000): Promise<void> {
    return this.serial(uuid, async () => {
      this.record(uuid);
      if (timeoutMs > 0 && (await this.cleanShutdown(uuid, timeoutMs))) {
        this.entry(uuid).pid = undefined;
        this.setState(uuid, 'shutdown');
        return;
      }
      await this.kill(uuid);
    });
  }

  powerOn(uuid: string): Promise<void> {
    return this.serial(uuid, () => this.start(uuid));
  }

  reboot(uuid: string, type: 'SOFT' | 'HARD', softTimeoutMs = 120_000): Promise<void> {
    return this.serial(uuid, async () => {
      this.record(uuid);
      if (type === 'SOFT' && (await this.cleanShutdown(uuid, softTimeoutMs))) {
        this.entry(uuid).pid = undefined;
      } else {
        await this.kill(uuid);
      }
      await this.start(uuid);
    });
  }

  pause(uuid: string): Promise<void> {
    return this.serial(uuid, async () => {
      await this.qmpOf(uuid).execute('stop');
      this.setState(uuid, 'paused');
    });
  }

  unpause(uuid: string): Promise<void> {
    return this.serial(uuid, async () => {
      await this.qmpOf(uuid).execute('cont');
      this.setState(uuid, 'running');
    });
  }

  /** Saves memory to a file and stops QEMU (libvirt's managed save). */
  suspend(uuid: string): Promise<void> {
    return this.serial(uuid, async () => {
      const rec = this.record(uuid);
      const p = this.store.paths(uuid);
      const stateFile = `${p.dir}/memory.state`;
      if (!SAFE_PATH_RE.test(stateFile)) throw new Error(`unsafe instance path ${stateFile}`);
      const qmp = this.qmpOf(uuid);
      await qmp.execute('stop');
      // QEMU runs `exec:` URIs through /bin/sh; the path is ours and checked above.
      await qmp.execute('migrate', { uri: `exec:cat > ${stateFile}` });
      for (;;) {
        const m = await qmp.execute('query-migrate');
        if (m.status === 'completed') break;
        if (m.status === 'failed' || m.status === 'cancelled') {
          await qmp.execute('cont').catch(() => {});
          throw new Error(`suspend failed: ${m['error-desc'] ?? m.status}`);
        }
        await sleep(100);
      }
      this.store.write(uuid, { ...rec, savedState: stateFile });
      await this.kill(uuid);
      this.setState(uuid, 'suspended');
    });
  }

  resume(uuid: string): Promise<void> {
    return this.serial(uuid, async () => {
      if (!this.record(uuid).savedState) throw new Error(`instance ${uuid} is not suspended`);
      await this.start(uuid);
    });
  }

  snapshot(uuid: string, dest: string): Promise<{ format: 'qcow2'; size: number }> {
    return this.serial(uuid, async () => {
      const rec = this.record(uuid);
      const p = this.store.paths(uuid);
      const root = rec.rescue ? rec.spec.disks.find((d) => d.id === rec.rescue!.rescueDiskId)!.path : p.rootDisk;
      const e = this.entry(uuid);
      const running = e.qmp?.isOpen ? (await e.qmp.execute('query-status')).status === 'running' : false;
      // Stopping the VM drains and flushes its block layer, so the file is consistent while copied.
      if (running) await e.qmp!.execute('stop');
      try {
        await this.opts.run('qemu-img', ['convert', '-U', '-f', 'qcow2', '-O', 'qcow2', root, dest], { timeoutMs: 600_000 });
      } finally {
        if (running) await e.qmp?.execute('cont').catch(() => {});
      }
      return { format: 'qcow2', size: statSync(dest).size };
    });
  }

  /** Boots a rescue image with the instance's own root disk as the second disk (Nova's rescue). */
  rescue(uuid: string, image: BaseImageSource): Promise<void> {
    return this.serial(uuid, async () => {
      const rec = this.record(uuid);
      if (rec.rescue) throw new Error(`instance ${uuid} is already rescued`);
      const p = this.store.paths(uuid);
      const base = await this.images.ensure(image);
      const rescueDisk = `${p.dir}/disk.rescue`;
      rmSync(rescueDisk, { force: true });
      await this.images.createOverlay(base, rescueDisk);
      await this.kill(uuid);
      const root = rec.spec.disks[0]!;
      const spec: InstanceSpec = {
        ...rec.spec,
        disks: [{ id: 'virtio-disk0', path: rescueDisk, format: 'qcow2', bootIndex: 1 }, { ...root, id: 'virtio-disk-orig', bootIndex: undefined }, ...rec.spec.disks.slice(1)],
      };
      this.store.write(uuid, { ...rec, spec, rescue: { rescueDiskId: 'virtio-disk-orig' }, originalSpec: rec.spec });
      await this.start(uuid);
    });
  }

  rebuild(uuid: string, image: BaseImageSource, rootDiskBytes?: number): Promise<void> {
    return this.serial(uuid, async () => {
      const rec = this.record(uuid);
      if (rec.rescue) throw new Error(`instance ${uuid} is rescued`);
      const p = this.store.paths(uuid);
      const base = await this.images.ensure(image);
      await this.kill(uuid);
      const fresh = `${p.rootDisk}.new`;
      rmSync(fresh, { force: true });
      await this.images.createOverlay(base, fresh, rootDiskBytes);
      const { renameSync } = await import('node:fs');
      renameSync(fresh, p.rootDisk);
      const disks = rec.spec.disks.some((d) => d.id === 'virtio-disk0')
        ? rec.spec.disks
        : [{ id: 'virtio-disk0', path: p.rootDisk, format: 'qcow2' as const, bootIndex: 1 }, ...rec.spec.disks.map((d) => ({ ...d, bootIndex: undefined }))];
      this.store.write(uuid, { ...rec, spec: { ...rec.spec, disks }, baseImage: this.images.baseName(image.imageId) });
      await this.start(uuid);
    });
  }

  unrescue(uuid: string): Promise<void> {
    return this.serial(uuid, async () => {
      const rec = this.record(uuid);
      if (!rec.rescue || !rec.originalSpec) throw new Error(`instance ${uuid} is not rescued`);
      await this.kill(uuid);
      // Volumes attached while rescued stay attached.
      const volumes = rec.spec.disks.filter((d) => d.volumeId);
      const spec = { ...rec.originalSpec, disks: [rec.originalSpec.disks[0]!, ...volumes] };
      rmSync(`${this.store.paths(uuid).dir}/disk.rescue`, { force: true });
      const { rescue: _r, originalSpec: _o, ...rest } = rec;
      this.store.write(uuid, { ...rest, spec });
      await this.start(uuid);
    });
  }

  resize(uuid: string, change: { vcpus: number; memoryMiB: number; rootDiskBytes?: number }): Promise<void> {
    return this.serial(uuid, async () => {
      const rec = this.record(uuid);
      const wasRunning = (await this.refreshState(uuid)) === 'running';
      await this.kill(uuid);
      const p = this.store.paths(uuid);
      if (change.rootDiskBytes) {
        const { stdout } = await this.opts.run('qemu-img', ['info', '-U', '-f', 'qcow2', '--output', 'json', p.rootDisk]);
        const current = (JSON.parse(stdout) as { 'virtual-size': number })['virtual-size'];
        if (change.rootDiskBytes > current) await this.opts.run('qemu-img', ['resize', '-f', 'qcow2', p.rootDisk, String(change.rootDiskBytes)]);
      }
      const spec = { ...rec.spec, vcpus: change.vcpus, memoryMiB: change.memoryMiB };
      validateSpec(spec);
      this.store.write(uuid, { ...rec, spec });
      if (wasRunning) await this.start(uuid);
    });
  }

  attachVolume(uuid: string, volume: VolumeConnection): Promise<{ device: string }> {
    return this.serial(uuid, async () => {
      const rec = this.record(uuid);
      if (rec.spec.disks.some((d) => d.volumeId === volume.volumeId)) throw new Error(`volume ${volume.volumeId} is already attached`);
      const used = new Set(rec.spec.disks.map((d) => d.id));
      let n = 1;
      while (used.has(`virtio-disk${n}`)) n++;
      const disk = volumeDisk(volume, n);
      const e = this.entry(uuid);
      if (e.qmp?.isOpen) {
        const qmp = e.qmp;
        const kind = disk.kind ?? 'file';
        disk.bus = this.hotplugBus(rec);
        await qmp.execute('blockdev-add', { driver: kind, 'node-name': `${disk.id}-file`, filename: disk.path, ...(disk.readOnly ? { 'read-only': true } : {}) });
        try {
          await qmp.execute('blockdev-add', { driver: disk.format, 'node-name': `${disk.id}-fmt`, file: `${disk.id}-file`, ...(disk.readOnly ? { 'read-only': true } : {}) });
          await qmp.execute('device_add', { driver: 'virtio-blk-pci', id: disk.id, drive: `${disk.id}-fmt`, ...(disk.serial ? { serial: disk.serial.slice(0, 20) } : {}), ...(disk.bus ? { bus: disk.bus } : {}) });
        } catch (err) {
          await qmp.execute('blockdev-del', { 'node-name': `${disk.id}-fmt` }).catch(() => {});
          await qmp.execute('blockdev-del', { 'node-name': `${disk.id}-file` }).catch(() => {});
          throw err;
        }
      }
      this.store.write(uuid, { ...rec, spec: { ...rec.spec, disks: [...rec.spec.disks, disk] } });
      return { device: `/dev/vd${String.fromCharCode(97 + rec.spec.disks.length)}` };
    });
  }

  detachVolume(uuid: string, volumeId: string): Promise<void> {
    return this.serial(uuid, async () => {
      const rec = this.record(uuid);
      const disk = rec.spec.disks.find((d) => d.volumeId === volumeId);
      if (!disk) return; // not attached: nothing to do (Nova's detach is idempotent)
      const qmp = this.entry(uuid).qmp;
      if (qmp?.isOpen) {
        if (!(await this.unplugDevice(qmp, disk.id, this.opts.unplugTimeoutMs ?? 60_000))) {
          throw new Error(`the guest did not release volume ${volumeId} (no ACPI hot-unplug): it stays attached`);
        }
        await qmp.execute('blockdev-del', { 'node-name': `${disk.id}-fmt` });
        await qmp.execute('blockdev-del', { 'node-name': `${disk.id}-file` });
      }
      this.store.write(uuid, { ...rec, spec: { ...rec.spec, disks: rec.spec.disks.filter((d) => d !== disk) } });
    });
  }

  attachInterface(uuid: string, nic: VifNic): Promise<void> {
    return this.serial(uuid, async () => {
      const rec = this.record(uuid);
      if (rec.spec.nics.some((n) => n.mac.toLowerCase() === nic.mac.toLowerCase())) throw new Error(`an interface with MAC ${nic.mac} is already attached`);
      const used = new Set(rec.spec.nics.map((n) => n.id));
      let i = 0;
      while (used.has(`net${i}`)) i++;
      const withId: VifNic = { ...nic, id: `net${i}` };
      const bus = this.hotplugBus(rec);
      if (bus) withId.bus = bus;
      validateSpec({ ...rec.spec, nics: [...rec.spec.nics, withId] });
      await this.opts.vif.plug(withId);
      const qmp = this.entry(uuid).qmp;
      if (qmp?.isOpen) {
        await qmp.execute('netdev_add', { type: 'tap', id: `host${withId.id}`, ifname: withId.tap, script: 'no', downscript: 'no' });
        try {
          await qmp.execute('device_add', { driver: 'virtio-net-pci', id: withId.id, netdev: `host${withId.id}`, mac: withId.mac.toLowerCase(), ...(withId.mtu ? { host_mtu: withId.mtu } : {}), ...(bus ? { bus } : {}) });
        } catch (err) {
          await qmp.execute('netdev_del', { id: `host${withId.id}` }).catch(() => {});
          throw err;
        }
      }
      this.store.write(uuid, { ...rec, spec: { ...rec.spec, nics: [...rec.spec.nics, withId] } });
    });
  }

  detachInterface(uuid: string, mac: string): Promise<void> {
    return this.serial(uuid, async () => {
      const rec = this.record(uuid);
      const nic = rec.spec.nics.find((n) => n.mac.toLowerCase() === mac.toLowerCase());
      if (!nic) return; // not attached: nothing to do
      const qmp = this.entry(uuid).qmp;
      if (qmp?.isOpen) {
        const released = await this.unplugDevice(qmp, nic.id, this.opts.unplugTimeoutMs ?? 60_000);
        // A guest that never answers the unplug keeps a NIC with no backend: it is cut off from the tap.
        await qmp.execute('netdev_del', { id: `host${nic.id}` });
        if (!released) this.opts.log.warn({ uuid, mac }, 'guest did not release the NIC; its backend was removed and the device goes at the next boot');
      }
      await this.opts.vif.unplug(nic);
      this.store.write(uuid, { ...rec, spec: { ...rec.spec, nics: rec.spec.nics.filter((n) => n !== nic) } });
    });
  }

  async consoleOutput(uuid: string, lines?: number): Promise<string> {
    this.record(uuid);
    const p = this.store.paths(uuid);
    if (!existsSync(p.consoleLog)) return '';
    const text = readFileSync(p.consoleLog, 'utf8');
    if (lines === undefined) return text;
    const all = text.split('\n');
    if (all[all.length - 1] === '') all.pop();
    return all.slice(Math.max(0, all.length - lines)).join('\n') + (all.length ? '\n' : '');
  }

  async vncEndpoint(uuid: string): Promise<VncEndpoint> {
    const info = await this.qmpOf(uuid).execute('query-vnc');
    if (!info.enabled || !info.service) throw new Error(`instance ${uuid} has no VNC server`);
    return { host: info.host ?? '127.0.0.1', port: Number(info.service) };
  }

  serialConsoleSocket(uuid: string): string {
    this.record(uuid);
    return this.store.paths(uuid).serialSocket;
  }

  /**
   * device_del needs the guest's cooperation (ACPI eject). A guest that is
   * still booting misses the request, so it is repeated until the device is
   * gone (DEVICE_DELETED) or `timeoutMs` passes. Returns whether it went.
   */
  private async unplugDevice(qmp: QmpClient, id: string, timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    let deleted = false;
    const onEvent = (ev: { event: string; data?: Record<string, unknown> }) => {
      if (ev.event === 'DEVICE_DELETED' && ev.data?.['device'] === id) deleted = true;
    };
    qmp.on('event', onEvent);
    try {
      while (!deleted && Date.now() < until) {
        try {
          await qmp.execute('device_del', { id });
        } catch (err) {
          if (err instanceof QmpError && err.errorClass === 'DeviceNotFound') return true;
          // "already in the process of unplug" and the like: keep waiting.
        }
        for (let i = 0; i < 50 && !deleted && Date.now() < until; i++) await sleep(100);
      }
      return deleted;
    } finally {
      qmp.off('event', onEvent);
    }
  }

  /** On q35, a hot-plugged device needs a free PCIe root port; `pc` hot-plugs through ACPI on the root bus. */
  private hotplugBus(rec: InstanceRecord): string | undefined {
    if (rec.spec.machine !== 'q35') return undefined;
    const used = new Set([...rec.spec.disks, ...rec.spec.nics].map((d) => d.bus));
    for (let i = 0; i < (rec.spec.hotplugPorts ?? 4); i++) if (!used.has(`hotplug${i}`)) return `hotplug${i}`;
    throw new Error('no free PCIe root port for hot-plug');
  }
}

function volumeDisk(v: VolumeConnection, index: number): DiskSpec {
  return {
    id: `virtio-disk${index}`,
    path: v.path,
    format: v.format,
    kind: v.kind,
    serial: v.volumeId,
    volumeId: v.volumeId,
    ...(v.readOnly ? { readOnly: true } : {}),
  };
}

export { diskDriveArgs };
