import { readFile, writeFile } from 'node:fs/promises';
import { BackendError, GiB, type BackendCapacity, type ConnectionInfo, type Connector, type VolumeBackend } from '../backend.js';

export interface FakeBackendOptions {
  name: string;
  capacityGb?: number;
  /** Makes the next operations of these kinds fail (tests of error paths). */
  failOn?: Set<string>;
}

export interface FakeBackend extends VolumeBackend {
  /** Current connections per volume (the fake's record of attachments). */
  readonly connections: Map<string, Connector[]>;
  readonly volumes: Map<string, { sizeGb: number; content: Buffer }>;
}

/** Records volumes, snapshots and connections in memory; content is kept so the conformance suite can check copies. */
export function createFakeBackend(options: FakeBackendOptions): FakeBackend {
  const volumes = new Map<string, { sizeGb: number; content: Buffer }>();
  const snapshots = new Map<string, { sizeGb: number; content: Buffer }>();
  const connections = new Map<string, Connector[]>();
  const total = options.capacityGb || 1000;
  const check = (op: string) => {
    if (options.failOn?.has(op)) throw new BackendError(`fake backend: ${op} failed (configured to fail)`);
  };
  const vol = (id: string) => {
    const v = volumes.get(id);
    if (!v) throw new BackendError(`volume ${id} does not exist on backend ${options.name}`);
    return v;
  };

  return {
    name: options.name,
    driver: 'fake',
    capabilities: { driverVersion: '1.0.0', storageProtocol: 'iSCSI', thinProvisioning: true, multiattach: true },
    connections,
    volumes,
    async init() {},
    async capacity(): Promise<BackendCapacity> {
      let used = 0;
      for (const v of volumes.values()) used += v.sizeGb;
      for (const s of snapshots.values()) used += s.sizeGb;
      return { totalGb: total, freeGb: Math.max(0, total - used), provisionedGb: used };
    },
    async createVolume(id, sizeGb) {
      check('create');
      volumes.set(id, { sizeGb, content: Buffer.alloc(0) });
    },
    async deleteVolume(id) {
      check('delete');
      volumes.delete(id);
      connections.delete(id);
    },
    async hasVolume(id) {
      return volumes.has(id);
    },
    async extendVolume(id, newSizeGb) {
      check('extend');
      vol(id).sizeGb = newSizeGb;
    },
    async cloneVolume(sourceId, id, sizeGb) {
      check('clone');
      volumes.set(id, { sizeGb, content: Buffer.from(vol(sourceId).content) });
    },
    async createSnapshot(volumeId, snapshotId) {
      check('snapshot');
      const v = vol(volumeId);
      snapshots.set(snapshotId, { sizeGb: v.sizeGb, content: Buffer.from(v.content) });
    },
    async deleteSnapshot(snapshotId) {
      snapshots.delete(snapshotId);
    },
    async createVolumeFromSnapshot(snapshotId, id, sizeGb) {
      check('create');
      const s = snapshots.get(snapshotId);
      if (!s) throw new BackendError(`snapshot ${snapshotId} does not exist`);
      volumes.set(id, { sizeGb, content: Buffer.from(s.content) });
    },
    async revertToSnapshot(volumeId, snapshotId) {
      const s = snapshots.get(snapshotId);
      if (!s) throw new BackendError(`snapshot ${snapshotId} does not exist`);
      vol(volumeId).content = Buffer.from(s.content);
    },
    async importImage(id, path, format, sizeGb) {
      check('import');
      const content = await readFile(path);
      // A qcow2 header carries the virtual size at byte 24; raw content is its own size.
      const virtual = format === 'qcow2' && content.length >= 32 ? Number(content.readBigUInt64BE(24)) : content.length;
      if (virtual > sizeGb * GiB) throw new BackendError(`image virtual size ${Math.ceil(virtual / GiB)} GiB is larger than the volume (${sizeGb} GiB)`);
      volumes.set(id, { sizeGb, content: format === 'raw' ? content : Buffer.alloc(0) });
    },
    async exportImage(id, path) {
      await writeFile(path, vol(id).content);
    },
    async connectionInfo(id, connector, mode): Promise<ConnectionInfo> {
      vol(id);
      if (connector) connections.set(id, [...(connections.get(id) ?? []), connector]);
      return { driver_volume_type: 'fake', data: { volume_id: id, device_path: `/dev/fake/${id}`, format: 'raw', access_mode: mode } };
    },
    async terminateConnection(id, connector) {
      const list = connections.get(id) ?? [];
      const rest = connector ? list.filter((c) => c.host !== connector.host) : [];
      if (rest.length) connections.set(id, rest);
      else connections.delete(id);
    },
  };
}
