/**
 * The QEMU command line for an instance, the way Nova's libvirt driver shapes
 * it: explicit formats on every drive (never let QEMU probe a format: a raw
 * image could claim to be qcow2 and point at host files), virtio disk and
 * NIC, serial console into a log that survives restarts, QMP and VNC on
 * local sockets/loopback only.
 */

export type Accel = 'kvm' | 'tcg';
export type DiskFormat = 'qcow2' | 'raw';

export interface DiskSpec {
  /** Device id, e.g. virtio-disk0; also the QMP node name prefix. */
  id: string;
  path: string;
  format: DiskFormat;
  /** `host_device` for block devices (LVM volumes), `file` otherwise. */
  kind?: 'file' | 'host_device';
  /** Serial the guest sees (/sys/block/vdX/serial): Nova uses the volume id (20 chars kept by virtio). */
  serial?: string;
  bootIndex?: number;
  readOnly?: boolean;
  /** Volume id, when this disk is an attached volume. */
  volumeId?: string;
  /** PCI bus (q35 root port) the device was hot-plugged into; kept for cold boots. */
  bus?: string;
}

export interface NicSpec {
  /** Device id, e.g. net0; the netdev is host<id>. */
  id: string;
  mac: string;
  /** Pre-created tap device QEMU opens by name. */
  tap: string;
  mtu?: number;
  portId?: string;
  bus?: string;
}

export interface InstanceSpec {
  uuid: string;
  /** QEMU -name, like libvirt's instance-0000000a. */
  name: string;
  vcpus: number;
  memoryMiB: number;
  machine: 'pc' | 'q35';
  accel: Accel;
  /** CPU model: qemu64 under TCG, host under KVM unless set. */
  cpu?: string;
  disks: DiskSpec[];
  nics: NicSpec[];
  /** Number of empty PCIe root ports on q35 for hot-plug (ignored on pc, where ACPI hot-plug needs none). */
  hotplugPorts?: number;
}

export interface InstancePaths {
  qmpSocket: string;
  serialSocket: string;
  consoleLog: string;
  pidFile: string;
  qemuLog: string;
}

export interface CommandOptions {
  /** VNC listen address; loopback only by default. */
  vncListen?: string;
  /** Start paused (-S), e.g. to plug devices before the guest runs. */
  paused?: boolean;
  /** Restore from a saved state (`-incoming`). */
  incoming?: string;
}

export const SMBIOS = { manufacturer: 'Nimbus', product: 'OpenStack Nova', family: 'Virtual Machine' };

/** QEMU's option syntax escapes a comma by doubling it. */
export function optValue(v: string): string {
  if (/[\n\r\0]/.test(v)) throw new Error(`invalid character in QEMU option value: ${JSON.stringify(v)}`);
  return v.replace(/,/g, ',,');
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const ID_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

export function validateSpec(spec: InstanceSpec): void {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(spec.uuid)) throw new Error(`bad instance uuid ${spec.uuid}`);
  if (!ID_RE.test(spec.name)) throw new Error(`bad instance name ${spec.name}`);
  if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1 || spec.vcpus > 255) throw new Error(`bad vcpus ${spec.vcpus}`);
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 16) throw new Error(`bad memory ${spec.memoryMiB}`);
  for (const d of spec.disks) {
    if (!ID_RE.test(d.id)) throw new Error(`bad disk id ${d.id}`);
    if (d.format !== 'qcow2' && d.format !== 'raw') throw new Error(`bad disk format ${String(d.format)}`);
    if (d.bus !== undefined && !ID_RE.test(d.bus)) throw new Error(`bad bus ${d.bus}`);
  }
  for (const n of spec.nics) {
    if (!ID_RE.test(n.id)) throw new Error(`bad nic id ${n.id}`);
    if (!MAC_RE.test(n.mac)) throw new Error(`bad mac ${n.mac}`);
    if (!IFNAME_RE.test(n.tap)) throw new Error(`bad tap name ${n.tap}`);
  }
}

export function diskDriveArgs(d: DiskSpec): string[] {
  const kind = d.kind ?? 'file';
  const nodeFile = `${d.id}-file`;
  const blockdevFile = `driver=${kind},node-name=${nodeFile},filename=${optValue(d.path)}${d.readOnly ? ',read-only=on' : ''}`;
  const blockdevFmt = `driver=${d.format},node-name=${d.id}-fmt,file=${nodeFile}${d.readOnly ? ',read-only=on' : ''}`;
  let dev = `virtio-blk-pci,drive=${d.id}-fmt,id=${d.id}`;
  if (d.serial) dev += `,serial=${optValue(d.serial.slice(0, 20))}`;
  if (d.bootIndex !== undefined) dev += `,bootindex=${d.bootIndex}`;
  if (d.bus) dev += `,bus=${d.bus}`;
  return ['-blockdev', blockdevFile, '-blockdev', blockdevFmt, '-device', dev];
}

export function nicArgs(n: NicSpec): string[] {
  return [
    '-netdev',
    `tap,id=host${n.id},ifname=${n.tap},script=no,downscript=no`,
    '-device',
    `virtio-net-pci,netdev=host${n.id},id=${n.id},mac=${n.mac.toLowerCase()}${n.mtu ? `,host_mtu=${n.mtu}` : ''}${n.bus ? `,bus=${n.bus}` : ''}`,
  ];
}

export function qemuArgs(spec: InstanceSpec, paths: InstancePaths, options: CommandOptions = {}): string[] {
  validateSpec(spec);
  const cpu = spec.cpu ?? (spec.accel === 'kvm' ? 'host' : 'qemu64');
  const smbios = `type=1,manufacturer=${SMBIOS.manufacturer},product=${optValue(SMBIOS.product)},serial=${spec.uuid},uuid=${spec.uuid},family=${optValue(SMBIOS.family)}`;
  const args = [
    '-name', `guest=${spec.name},debug-threads=on`,
    '-uuid', spec.uuid,
    '-smbios', smbios,
    '-machine', `${spec.machine},accel=${spec.accel}`,
    '-cpu', cpu,
    '-m', String(spec.memoryMiB),
    '-smp', String(spec.vcpus),
    '-no-user-config',
    '-nodefaults',
    '-display', 'none',
    '-rtc', 'base=utc',
    '-chardev', `socket,id=charmonitor,path=${optValue(paths.qmpSocket)},server=on,wait=off`,
    '-mon', 'chardev=charmonitor,id=monitor,mode=control',
    // A socket (for an interactive console) that also logs everything the guest prints, appending across restarts.
    '-chardev', `socket,id=charserial0,path=${optValue(paths.serialSocket)},server=on,wait=off,logfile=${optValue(paths.consoleLog)},logappend=on`,
    '-device', 'isa-serial,chardev=charserial0,id=serial0',
    '-vnc', `${options.vncListen ?? '127.0.0.1'}:0,to=4000`,
    '-device', 'VGA,id=video0',
    '-pidfile', paths.pidFile,
    '-D', paths.qemuLog,
    '-daemonize',
  ];
  if (spec.machine === 'q35') {
    for (let i = 0; i < (spec.hotplugPorts ?? 4); i++) args.push('-device', `pcie-root-port,id=hotplug${i},chassis=${i + 1},slot=${i + 1},bus=pcie.0`);
  }
  for (const d of spec.disks) args.push(...diskDriveArgs(d));
  for (const n of spec.nics) args.push(...nicArgs(n));
  if (options.paused) args.push('-S');
  if (options.incoming) args.push('-incoming', options.incoming);
  return args;
}
