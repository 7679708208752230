/**
 * The QMP commands and events the driver uses, typed from QEMU's QAPI schema
 * (qapi/*.json in QEMU 7.2). Only the fields Nimbus reads are declared.
 */

export type RunState =
  | 'debug'
  | 'inmigrate'
  | 'internal-error'
  | 'io-error'
  | 'paused'
  | 'postmigrate'
  | 'prelaunch'
  | 'finish-migrate'
  | 'restore-vm'
  | 'running'
  | 'save-vm'
  | 'shutdown'
  | 'suspended'
  | 'watchdog'
  | 'guest-panicked'
  | 'colo';

export interface StatusInfo {
  running: boolean;
  status: RunState;
}

export interface VncInfo {
  enabled: boolean;
  host?: string;
  family?: string;
  service?: string;
  auth?: string;
}

export interface KvmInfo {
  enabled: boolean;
  present: boolean;
}

export interface BlockInfo {
  device: string;
  qdev?: string;
  removable: boolean;
  locked: boolean;
  inserted?: { file: string; 'node-name'?: string; drv: string; ro: boolean };
}

export interface BlockJobInfo {
  type: string;
  device: string;
  len: number;
  offset: number;
  busy: boolean;
  paused: boolean;
  ready: boolean;
  status: string;
}

export interface JobInfo {
  id: string;
  type: string;
  status: 'undefined' | 'created' | 'running' | 'paused' | 'ready' | 'standby' | 'waiting' | 'pending' | 'aborting' | 'concluded' | 'null';
  'current-progress': number;
  'total-progress': number;
  error?: string;
}

export interface MigrationInfo {
  status?: 'none' | 'setup' | 'cancelling' | 'cancelled' | 'active' | 'postcopy-active' | 'completed' | 'failed' | 'pre-switchover' | 'device' | 'wait-unplug';
  'error-desc'?: string;
}

export interface PciDeviceInfo {
  bus: number;
  slot: number;
  function: number;
  qdev_id: string;
}

/** A protocol node (the file or block device) or a format node on top of one (by node name). */
export type BlockdevAddArgs =
  | { driver: 'file' | 'host_device'; 'node-name': string; filename: string; 'read-only'?: boolean }
  | { driver: 'qcow2' | 'raw'; 'node-name': string; file: string; 'read-only'?: boolean };

export interface DeviceAddArgs {
  driver: string;
  id: string;
  [prop: string]: unknown;
}

export interface NetdevAddArgs {
  type: 'tap';
  id: string;
  ifname: string;
  script: 'no';
  downscript: 'no';
  vhost?: boolean;
}

/** Command name -> arguments and return value. */
export interface QmpCommands {
  qmp_capabilities: { args: { enable?: string[] }; ret: Record<string, never> };
  'query-status': { args: undefined; ret: StatusInfo };
  'query-vnc': { args: undefined; ret: VncInfo };
  'query-kvm': { args: undefined; ret: KvmInfo };
  'query-block': { args: undefined; ret: BlockInfo[] };
  'query-block-jobs': { args: undefined; ret: BlockJobInfo[] };
  'query-jobs': { args: undefined; ret: JobInfo[] };
  'query-migrate': { args: undefined; ret: MigrationInfo };
  'query-name': { args: undefined; ret: { name?: string } };
  'query-uuid': { args: undefined; ret: { UUID: string } };
  'query-pci': { args: undefined; ret: { bus: number; devices: PciDeviceInfo[] }[] };
  system_powerdown: { args: undefined; ret: Record<string, never> };
  system_reset: { args: undefined; ret: Record<string, never> };
  stop: { args: undefined; ret: Record<string, never> };
  cont: { args: undefined; ret: Record<string, never> };
  quit: { args: undefined; ret: Record<string, never> };
  'blockdev-add': { args: BlockdevAddArgs; ret: Record<string, never> };
  'blockdev-del': { args: { 'node-name': string }; ret: Record<string, never> };
  device_add: { args: DeviceAddArgs; ret: Record<string, never> };
  device_del: { args: { id: string }; ret: Record<string, never> };
  netdev_add: { args: NetdevAddArgs; ret: Record<string, never> };
  netdev_del: { args: { id: string }; ret: Record<string, never> };
  migrate: { args: { uri: string }; ret: Record<string, never> };
  'migrate-set-capabilities': { args: { capabilities: { capability: string; state: boolean }[] }; ret: Record<string, never> };
  'human-monitor-command': { args: { 'command-line': string }; ret: string };
}

export type QmpCommand = keyof QmpCommands;
export type QmpArgs<C extends QmpCommand> = QmpCommands[C]['args'];
export type QmpReturn<C extends QmpCommand> = QmpCommands[C]['ret'];

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export interface QmpGreeting {
  QMP: { version: { qemu: { major: number; minor: number; micro: number }; package: string }; capabilities: string[] };
}
