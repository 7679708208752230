/**
 * The contract between the volume manager and a storage backend (Cinder's
 * volume driver, cut down to what Nimbus needs). A backend stores volumes
 * and snapshots by id; sizes are in GiB. Every real backend has a fake beside
 * it and all of them pass one conformance suite (conformance.ts).
 */
/** Disk formats as Glance names them (qemu-img.ts maps them to qemu-img's names). */
export type ImageFormat = 'raw' | 'qcow2' | 'vmdk' | 'vdi' | 'vhd' | 'vhdx' | 'iso' | 'ploop';

/** What a hypervisor on the same host needs to attach a volume. */
export interface ConnectionInfo {
  /**
   * `file`: an image file QEMU opens directly (data.device_path, data.format);
   * `local`: a block device on this host (data.device_path, format raw) — LVM;
   * `fake`: nothing to open (the fake backend).
   */
  driver_volume_type: 'file' | 'local' | 'fake';
  data: {
    volume_id: string;
    device_path: string;
    format: 'raw' | 'qcow2';
    access_mode: 'rw' | 'ro';
    /** Whether the same target may be shared by several attachments. */
    multiattach?: boolean;
    [key: string]: unknown;
  };
}

/** Nova's connector dictionary (os-brick get_connector_properties), as sent to Cinder. */
export interface Connector {
  host?: string;
  ip?: string;
  initiator?: string;
  platform?: string;
  os_type?: string;
  multipath?: boolean;
  mountpoint?: string;
  mode?: string;
  [key: string]: unknown;
}

export interface BackendCapacity {
  totalGb: number;
  freeGb: number;
  /** Sum of the sizes of what the backend holds (volumes and snapshots). */
  provisionedGb: number;
}

export interface BackendCapabilities {
  driverVersion: string;
  storageProtocol: string;
  thinProvisioning: boolean;
  multiattach: boolean;
}

export interface VolumeBackend {
  /** The backend's configured name (the `@<name>` in a Cinder host). */
  readonly name: string;
  readonly driver: 'file' | 'lvm' | 'fake';
  readonly capabilities: BackendCapabilities;
  /** Prepares the storage (creates directories, checks the volume group). Throws if unusable. */
  init(): Promise<void>;
  capacity(): Promise<BackendCapacity>;

  createVolume(volumeId: string, sizeGb: number): Promise<void>;
  /** Removes a volume; a volume that does not exist is not an error. */
  deleteVolume(volumeId: string): Promise<void>;
  hasVolume(volumeId: string): Promise<boolean>;
  extendVolume(volumeId: string, newSizeGb: number, options?: { inUse?: boolean }): Promise<void>;
  cloneVolume(sourceId: string, volumeId: string, sizeGb: number): Promise<void>;

  createSnapshot(volumeId: string, snapshotId: string): Promise<void>;
  deleteSnapshot(snapshotId: string): Promise<void>;
  createVolumeFromSnapshot(snapshotId: string, volumeId: string, sizeGb: number): Promise<void>;
  revertToSnapshot(volumeId: string, snapshotId: string, sizeGb: number): Promise<void>;

  /** Overwrites the volume's content with an image file (converted from `format`). */
  importImage(volumeId: string, path: string, format: ImageFormat, sizeGb: number): Promise<void>;
  /** Writes the volume's content to `path` in `format` (readable while attached). */
  exportImage(volumeId: string, path: string, format: ImageFormat): Promise<void>;

  connectionInfo(volumeId: string, connector: Connector | null, mode: 'rw' | 'ro'): Promise<ConnectionInfo>;
  terminateConnection(volumeId: string, connector: Connector | null): Promise<void>;
}

export const GiB = 1024 ** 3;

/** Error raised by a backend, with what it was doing (the manager records it as the volume's fault). */
export class BackendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendError';
  }
}
