import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statfsSync } from 'node:fs';
import { cpus, hostname, networkInterfaces, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Log } from '../../../core/log.js';
import type { PowerState, VifNic, VolumeConnection } from './hypervisor-driver.js';
import type { BaseImageSource, ChecksumAlgo } from './image-cache.js';
import type { DiskFormat } from './qemu-command.js';
import type { QemuDriver } from './qemu-driver.js';

/**
 * The QEMU driver behind the compute agent's virt driver contract
 * (src/agents/compute/driver.ts on the compute branch: Nova's virt/driver.py
 * cut down). The types below are the parts of that contract this adapter
 * reads, declared structurally so this file compiles on its own; once the
 * contract is on main, `QemuVirtDriver implements VirtDriver` and these
 * become imports.
 */

export interface GuestImageLike {
  id: string;
  diskFormat?: string;
  properties: Record<string, unknown>;
}
export interface GuestVifLike {
  portId: string;
  networkId: string;
  mac: string;
  mtu?: number;
  vifDetails?: Record<string, unknown>;
}
export interface GuestVolumeLike {
  volumeId: string;
  connectionInfo: { driver_volume_type: string; data: Record<string, unknown> };
  bootIndex?: number | null;
}
export interface GuestSpecLike {
  uuid: string;
  name: string;
  flavor: { vcpus: number; memoryMb: number; rootGb: number };
  image?: GuestImageLike;
  vifs: GuestVifLike[];
  volumes: GuestVolumeLike[];
}
export interface ImageFetcherLike {
  download(imageId: string, destPath: string): Promise<void>;
}
export interface ImageUploaderLike {
  upload(srcPath: string, format: { diskFormat: string; containerFormat: string }): Promise<void>;
}

const GiB = 1024 ** 3;

/** Host-side names for a VIF: Neutron linuxbridge's tap<port[:11]> in brq<net[:11]> (or the bridge the port binding names). */
export function vifToNic(vif: GuestVifLike, index: number): VifNic {
  const bridge = typeof vif.vifDetails?.['bridge_name'] === 'string' ? (vif.vifDetails['bridge_name'] as string) : `brq${vif.networkId.slice(0, 11)}`;
  return { id: `net${index}`, mac: vif.mac, tap: `tap${vif.portId.slice(0, 11)}`, bridge, networkId: vif.networkId, portId: vif.portId, ...(vif.mtu ? { mtu: vif.mtu } : {}) };
}

/** A volume's connection info (file and LVM backends) as a disk QEMU can open. */
export function volumeToConnection(v: GuestVolumeLike): VolumeConnection {
  const d = v.connectionInfo.data;
  const path = [d['device_path'], d['path'], d['file']].find((x): x is string => typeof x === 'string' && x.startsWith('/'));
  if (!path) throw new Error(`volume ${v.volumeId}: connection info has no local path (${v.connectionInfo.driver_volume_type})`);
  const format: DiskFormat = d['format'] === 'qcow2' ? 'qcow2' : 'raw';
  const kind = ['lvm', 'local', 'block', 'iscsi'].includes(v.connectionInfo.driver_volume_type) || path.startsWith('/dev/') ? 'host_device' : 'file';
  return { volumeId: v.volumeId, path, format, kind, ...(d['access_mode'] === 'ro' ? { readOnly: true } : {}) };
}

/** The image as a base-image source: format as declared, checksum from Glance's multihash (or md5). */
export function imageSource(image: GuestImageLike, images: ImageFetcherLike): BaseImageSource {
  const fmt = image.diskFormat ?? 'raw';
  if (fmt !== 'qcow2' && fmt !== 'raw') throw new Error(`image ${image.id}: disk format ${fmt} is not supported by the QEMU driver (qcow2, raw)`);
  const algo = image.properties['os_hash_algo'];
  const value = image.properties['os_hash_value'];
  const md5 = image.properties['checksum'];
  const checksum =
    typeof algo === 'string' && typeof value === 'string' && ['sha256', 'sha512', 'md5'].includes(algo)
      ? { algo: algo as ChecksumAlgo, value }
      : typeof md5 === 'string'
        ? { algo: 'md5' as const, value: md5 }
        : undefined;
  return { imageId: image.id, format: fmt, ...(checksum ? { checksum } : {}), fetch: (dest) => images.download(image.id, dest) };
}

function qemuVersion(binary: string): { text: string; number: number } {
  try {
    const out = execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    const m = /version (\d+)\.(\d+)\.(\d+)/.exec(out);
    return m ? { text: `${m[1]}.${m[2]}.${m[3]}`, number: Number(m[1]) * 1_000_000 + Number(m[2]) * 1_000 + Number(m[3]) } : { text: 'unknown', number: 0 };
  } catch {
    return { text: 'unknown', number: 0 };
  }
}

function hostIp(): string {
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

export class QemuVirtDriver {
  readonly type = 'qemu';
  readonly capabilities = { pause: true, suspend: true, rescue: true, snapshot: true, resize: true, volumeAttach: true, interfaceAttach: true, consoleOutput: true, vncConsole: true };

  constructor(
    private readonly qemu: QemuDriver,
    readonly host: string,
    private readonly log: Log,
    private readonly qemuBinary = 'qemu-system-x86_64',
    /** How long stop and soft reboot wait for the guest's clean shutdown. */
    private readonly softShutdownMs = 60_000,
  ) {}

  /** Guests are found on disk (their instance directories), not adopted from the database. */
  async init(expected: Map<string, { power: PowerState }>): Promise<void> {
    await this.qemu.init();
    const here = new Set(this.qemu.listInstances());
    for (const uuid of expected.keys()) if (!here.has(uuid)) this.log.warn({ uuid }, 'the database places this guest here but it has no files on this host');
  }

  async hostResources() {
    const fs = statfsSync(this.qemu.store.instancesDir);
    const version = qemuVersion(this.qemuBinary);
    const cpu = cpus();
    return {
      vcpus: cpu.length,
      memoryMb: Math.floor(totalmem() / 1024 / 1024),
      localGb: Math.floor((fs.blocks * fs.bsize) / GiB),
      hypervisorType: 'QEMU',
      hypervisorVersion: version.number,
      hypervisorHostname: hostname(),
      hostIp: hostIp(),
      cpuInfo: { arch: 'x86_64', model: cpu[0]?.model ?? 'unknown', vendor: 'unknown', topology: { sockets: 1, cores: cpu.length, threads: 1 }, features: [], accel: this.qemu.accel },
      runningVms: this.qemu.listInstances().length,
    };
  }

  async listGuests(): Promise<string[]> {
    return this.qemu.listInstances();
  }

  async powerState(uuid: string): Promise<PowerState> {
    if (!this.qemu.listInstances().includes(uuid)) return 'nostate';
    return (await this.qemu.getInfo(uuid)).powerState;
  }

  async spawn(spec: GuestSpecLike, images: ImageFetcherLike): Promise<void> {
    const boot = [...spec.volumes].sort((a, b) => (a.bootIndex ?? 99) - (b.bootIndex ?? 99));
    await this.qemu.spawn({
      uuid: spec.uuid,
      name: spec.name,
      vcpus: spec.flavor.vcpus,
      memoryMiB: spec.flavor.memoryMb,
      ...(spec.flavor.rootGb ? { rootDiskBytes: spec.flavor.rootGb * GiB } : {}),
      ...(spec.image ? { image: imageSource(spec.image, images) } : {}),
      nics: spec.vifs.map(vifToNic),
      volumes: boot.map(volumeToConnection),
    });
  }

  async destroy(uuid: string): Promise<void> {
    await this.qemu.destroy(uuid);
  }

  async reboot(uuid: string, hard: boolean): Promise<void> {
    await this.qemu.reboot(uuid, hard ? 'HARD' : 'SOFT', this.softShutdownMs);
  }

  async powerOff(uuid: string): Promise<void> {
    if ((await this.powerState(uuid)) === 'shutdown') return;
    await this.qemu.powerOff(uuid, this.softShutdownMs);
  }

  async powerOn(uuid: string): Promise<void> {
    await this.qemu.powerOn(uuid);
  }

  pause(uuid: string) {
    return this.qemu.pause(uuid);
  }
  unpause(uuid: string) {
    return this.qemu.unpause(uuid);
  }
  suspend(uuid: string) {
    return this.qemu.suspend(uuid);
  }
  resume(uuid: string) {
    return this.qemu.resume(uuid);
  }

  async rebuild(spec: GuestSpecLike, images: ImageFetcherLike): Promise<void> {
    if (!spec.image) throw new Error('rebuild needs an image');
    await this.qemu.rebuild(spec.uuid, imageSource(spec.image, images), spec.flavor.rootGb ? spec.flavor.rootGb * GiB : undefined);
  }

  async snapshot(uuid: string, uploader: ImageUploaderLike): Promise<void> {
    const tmp = join(this.qemu.store.paths(uuid).dir, `snapshot-${Date.now()}.qcow2`);
    try {
      await this.qemu.snapshot(uuid, tmp);
      await uploader.upload(tmp, { diskFormat: 'qcow2', containerFormat: 'bare' });
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  async rescue(spec: GuestSpecLike, rescueImage: GuestImageLike, images: ImageFetcherLike): Promise<void> {
    await this.qemu.rescue(spec.uuid, imageSource(rescueImage, images));
  }

  unrescue(uuid: string) {
    return this.qemu.unrescue(uuid);
  }

  async resize(spec: GuestSpecLike, power: PowerState): Promise<void> {
    await this.qemu.resize(spec.uuid, { vcpus: spec.flavor.vcpus, memoryMiB: spec.flavor.memoryMb, ...(spec.flavor.rootGb ? { rootDiskBytes: spec.flavor.rootGb * GiB } : {}) });
    const now = await this.powerState(spec.uuid);
    if (power === 'running' && now !== 'running') await this.qemu.powerOn(spec.uuid);
    if (power === 'shutdown' && now !== 'shutdown') await this.qemu.powerOff(spec.uuid, 0);
  }

  async attachVolume(uuid: string, volume: GuestVolumeLike): Promise<void> {
    await this.qemu.attachVolume(uuid, volumeToConnection(volume));
  }

  detachVolume(uuid: string, volumeId: string) {
    return this.qemu.detachVolume(uuid, volumeId);
  }

  async attachInterface(uuid: string, vif: GuestVifLike): Promise<void> {
    await this.qemu.attachInterface(uuid, vifToNic(vif, 0));
  }

  async detachInterface(uuid: string, portId: string): Promise<void> {
    const rec = this.qemu.store.read(uuid);
    const nic = rec?.spec.nics.find((n) => n.portId === portId);
    if (nic) await this.qemu.detachInterface(uuid, nic.mac);
  }

  consoleOutput(uuid: string) {
    return this.qemu.consoleOutput(uuid);
  }

  async vncConsole(uuid: string) {
    return this.qemu.vncEndpoint(uuid);
  }

  async diagnostics(uuid: string) {
    const info = await this.qemu.getInfo(uuid);
    let uptimeSeconds = 0;
    if (info.pid) {
      try {
        // Field 22 of /proc/<pid>/stat: start time in clock ticks after boot.
        const stat = readFileSync(`/proc/${info.pid}/stat`, 'utf8');
        const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
        const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
        uptimeSeconds = Math.max(0, Math.round(uptime - startTicks / 100));
      } catch {
        /* process gone */
      }
    }
    const rec = this.qemu.store.read(uuid);
    return {
      state: info.powerState,
      uptimeSeconds,
      cpus: info.vcpus,
      memoryMb: info.memoryMiB,
      memoryUsedMb: info.memoryMiB,
      nics: (rec?.spec.nics ?? []).map((n) => ({ mac: n.mac, rxOctets: 0, txOctets: 0 })),
      disks: (rec?.spec.disks ?? []).map(() => ({ readBytes: 0, writeBytes: 0 })),
    };
  }

  close() {
    return this.qemu.close();
  }
}
