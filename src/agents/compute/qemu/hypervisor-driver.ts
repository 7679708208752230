import type { BaseImageSource } from './image-cache.js';
import type { DiskFormat, NicSpec } from './qemu-command.js';

/**
 * The QEMU driver's own interface (what a hypervisor host can do), shaped
 * after Nova's virt driver (nova/virt/driver.py). The compute service's virt
 * driver contract maps onto it; keeping this one independent lets the driver
 * be tested on its own with real QEMU.
 */

/** Nova's power states (nova/compute/power_state.py) by name. */
export type PowerState = 'nostate' | 'running' | 'paused' | 'shutdown' | 'crashed' | 'suspended';

export const NOVA_POWER_STATE: Record<PowerState, number> = {
  nostate: 0,
  running: 1,
  paused: 3,
  shutdown: 4,
  crashed: 6,
  suspended: 7,
};

export interface VifNic extends NicSpec {
  /** Bridge the tap joins (brq<net-id[:11]>); the VIF plugger's business. */
  bridge?: string;
  networkId?: string;
}

/** Creates and removes the host side of a NIC (tap device in a bridge). */
export interface VifPlugger {
  plug(nic: VifNic): Promise<void>;
  unplug(nic: VifNic): Promise<void>;
}

export interface VolumeConnection {
  volumeId: string;
  /** File or block device on this host. */
  path: string;
  format: DiskFormat;
  kind: 'file' | 'host_device';
  readOnly?: boolean;
}

export interface SpawnRequest {
  uuid: string;
  /** libvirt-style name, e.g. instance-0000002a. */
  name: string;
  vcpus: number;
  memoryMiB: number;
  /** Root disk size (flavor root_gb); 0/undefined keeps the image's virtual size. */
  rootDiskBytes?: number;
  /** Absent when booting from a volume: the first volume is then the boot disk. */
  image?: BaseImageSource;
  nics: VifNic[];
  volumes?: VolumeConnection[];
}

export interface InstanceInfo {
  uuid: string;
  name: string;
  powerState: PowerState;
  vcpus: number;
  memoryMiB: number;
  pid: number | undefined;
  accel: 'kvm' | 'tcg';
  rescued: boolean;
}

export interface VncEndpoint {
  host: string;
  port: number;
}

export interface HypervisorDriver {
  /** Re-attaches to QEMU processes that outlived the agent and starts power-state sync. */
  init(): Promise<void>;
  close(): Promise<void>;
  listInstances(): string[];
  getInfo(uuid: string): Promise<InstanceInfo>;
  spawn(req: SpawnRequest): Promise<void>;
  /** Stops the guest and removes its disks, sockets and host NICs. */
  destroy(uuid: string): Promise<void>;
  /** Clean shutdown through ACPI for up to `timeoutMs`, then hard power-off. */
  powerOff(uuid: string, timeoutMs?: number): Promise<void>;
  powerOn(uuid: string): Promise<void>;
  reboot(uuid: string, type: 'SOFT' | 'HARD', softTimeoutMs?: number): Promise<void>;
  pause(uuid: string): Promise<void>;
  unpause(uuid: string): Promise<void>;
  suspend(uuid: string): Promise<void>;
  resume(uuid: string): Promise<void>;
  /** Writes a standalone qcow2 of the root disk to `dest` (the guest is paused while copying). */
  snapshot(uuid: string, dest: string): Promise<{ format: 'qcow2'; size: number }>;
  rescue(uuid: string, image: BaseImageSource): Promise<void>;
  /** New root disk from `image` (same NICs, volumes, identity); the guest ends running. */
  rebuild(uuid: string, image: BaseImageSource, rootDiskBytes?: number): Promise<void>;
  unrescue(uuid: string): Promise<void>;
  /** Cold resize: new vcpus/memory, root disk grown (never shrunk). */
  resize(uuid: string, change: { vcpus: number; memoryMiB: number; rootDiskBytes?: number }): Promise<void>;
  attachVolume(uuid: string, volume: VolumeConnection): Promise<{ device: string }>;
  detachVolume(uuid: string, volumeId: string): Promise<void>;
  attachInterface(uuid: string, nic: VifNic): Promise<void>;
  detachInterface(uuid: string, mac: string): Promise<void>;
  /** The serial console log (optionally only its last `lines`). */
  consoleOutput(uuid: string, lines?: number): Promise<string>;
  vncEndpoint(uuid: string): Promise<VncEndpoint>;
  /** UNIX socket of the interactive serial console. */
  serialConsoleSocket(uuid: string): string;
}
