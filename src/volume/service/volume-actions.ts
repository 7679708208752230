import { fromJson, toJson } from '../../core/db/columns.js';
import { Errors } from '../../core/errors.js';
import type { VolumeRow } from '../db/tables.js';
import { poolMatchesSpecs } from './capabilities-filter.js';
import type { VolumeCore } from './core.js';
import { propertiesForUpload } from '../manager/image-metadata.js';
import { snapshotDeltas, volumeDeltas } from './quotas.js';
import { managerQueue, type ManagerTask } from './tasks.js';
import type { Actor } from './volume-create.js';

export const VOLUME_STATUSES = [
  'creating', 'available', 'deleting', 'error', 'error_deleting', 'error_managing', 'managing', 'attaching', 'in-use', 'detaching',
  'maintenance', 'restoring-backup', 'error_restoring', 'reserved', 'awaiting-transfer', 'backing-up', 'error_backing-up',
  'error_extending', 'downloading', 'uploading', 'retyping', 'extending',
];
const DELETABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];
const DELETE_REFUSED =
  'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.';

/** The volume actions and lifecycle changes that are not about attachments. */
export function createVolumeActions(core: VolumeCore) {
  const { repos, bus } = core;
  const cast = (volume: VolumeRow, task: ManagerTask) => bus.cast(managerQueue(volume.host!), task);
  const typeName = async (id: string) => (await repos.types.get(id))?.name;

  async function destroyNow(volume: VolumeRow): Promise<void> {
    for (const s of await repos.snapshots.all({ eq: { volume_id: volume.id } })) {
      if (await repos.snapshots.delete(s.id)) await core.quotas.release(s.project_id, snapshotDeltas(s.volume_size, s.volume_type_id ? await typeName(s.volume_type_id) : undefined));
    }
    if ((await repos.volumes.delete(volume.id)) && volume.use_quota) {
      await core.quotas.release(volume.project_id, volumeDeltas(volume.size, await typeName(volume.volume_type_id)));
    }
  }

  return {
    async delete(volume: VolumeRow, options: { cascade: boolean; force: boolean }): Promise<void> {
      const snapshots = await repos.snapshots.all({ eq: { volume_id: volume.id } });
      const attached = (await repos.attachments.count({ eq: { volume_id: volume.id, attach_status: 'attached' } })) > 0;
      const refuse = () => Errors.badRequest(DELETE_REFUSED);
      if (!options.force && !DELETABLE.includes(volume.status)) throw refuse();
      if (options.force && ['deleting', 'awaiting-transfer'].includes(volume.status)) throw refuse();
      if (attached || volume.attach_status === 'attached' || volume.migration_status || volume.group_id) throw refuse();
      if (snapshots.length) {
        if (!options.cascade) throw refuse();
        if (snapshots.some((s) => !['available', 'error', 'deleting', 'error_deleting'].includes(s.status) || s.group_snapshot_id)) {
          throw Errors.badRequest('Invalid volume: Snapshot of the volume must be available or error to cascade delete.');
        }
      }
      const from = options.force ? [volume.status] : DELETABLE;
      if (!(await repos.volumes.transition(volume.id, from, { status: 'deleting', previous_status: volume.status }))) throw refuse();
      // Never placed on a backend (e.g. no backend could hold it): there is no storage to free.
      if (!volume.host) {
        await destroyNow(volume);
        return;
      }
      for (const s of snapshots) await repos.snapshots.update(s.id, { status: 'deleting' });
      await cast(volume, { type: 'volume.delete', v: 1, volumeId: volume.id, cascade: options.cascade });
    },

    async update(volume: VolumeRow, patch: { name?: string | null; description?: string | null; metadata?: Record<string, string> }): Promise<void> {
      if (volume.status === 'maintenance') throw Errors.badRequest('Invalid volume: Volume is in maintenance.');
      const row: Partial<VolumeRow> = {};
      if (patch.name !== undefined) row.name = patch.name;
      if (patch.description !== undefined) row.description = patch.description;
      await repos.volumes.update(volume.id, row);
      if (patch.metadata) await repos.metadata.set('volume', volume.id, patch.metadata, true);
    },

    async extend(actor: Actor, volume: VolumeRow, newSize: number, allowInUse: boolean): Promise<void> {
      const statuses = allowInUse ? ['available', 'in-use'] : ['available'];
      if (!statuses.includes(volume.status)) {
        throw Errors.badRequest(`Invalid volume: Volume ${volume.id} status must be '${statuses.join("' or '")}' to extend, currently ${volume.status}.`);
      }
      if (newSize <= volume.size) {
        throw Errors.badRequest(`Invalid input received: New size for extend must be greater than current size. (current: ${volume.size}, extended: ${newSize}).`);
      }
      if (!volume.host) throw Errors.badRequest(`Invalid volume: volume ${volume.id} has no host.`);
      const name = await typeName(volume.volume_type_id);
      const delta = newSize - volume.size;
      const deltas: Record<string, number> = { gigabytes: delta, __size: newSize };
      if (name) deltas[`gigabytes_${name}`] = delta;
      await core.quotas.consume(volume.project_id, deltas);
      if (!(await repos.volumes.transition(volume.id, statuses, { status: 'extending', previous_status: volume.status }))) {
        await core.quotas.release(volume.project_id, deltas);
        throw Errors.badRequest(`Invalid volume: Volume ${volume.id} changed state while extending.`);
      }
      await cast(volume, { type: 'volume.extend', v: 1, volumeId: volume.id, newSize, requestId: actor.requestId });
    },

    async retype(actor: Actor, volume: VolumeRow, typeRef: string, migrationPolicy: string): Promise<void> {
      const newType = await core.types.resolve(typeRef, { projectId: actor.projectId, admin: actor.admin });
      if (!['available', 'in-use'].includes(volume.status)) {
        throw Errors.badRequest(`Invalid volume: Volume ${volume.id} status must be available or in-use, but current status is: ${volume.status}.`);
      }
      if (volume.migration_status) throw Errors.badRequest('Invalid volume: Volume is migrating.');
      if (volume.group_id) throw Errors.badRequest('Invalid volume: Volume is in a group.');
      if (newType.id === volume.volume_type_id) throw Errors.badRequest('Invalid input received: New volume type must be different from the current one.');
      const oldEnc = await repos.types.encryption(volume.volume_type_id);
      const newEnc = await repos.types.encryption(newType.id);
      if (Boolean(oldEnc) !== Boolean(newEnc)) throw Errors.badRequest('Invalid input received: Retype between encrypted and unencrypted types needs a migration.');
      const specs = await repos.types.specs(newType.id);
      const caps = volume.host ? fromJson<Record<string, unknown>>((await repos.services.get(volume.host.split('#')[0]!, 'cinder-volume'))?.capabilities, {}) : {};
      if (!poolMatchesSpecs(caps, specs) && migrationPolicy === 'never') {
        throw Errors.badRequest('Invalid input received: Retype needs a migration but the migration policy is never.');
      }
      const oldName = await typeName(volume.volume_type_id);
      const consume: Record<string, number> = { [`volumes_${newType.name}`]: 1, [`gigabytes_${newType.name}`]: volume.size };
      await core.quotas.consume(volume.project_id, consume);
      if (!(await repos.volumes.transition(volume.id, ['available', 'in-use'], { status: 'retyping', previous_status: volume.status }))) {
        await core.quotas.release(volume.project_id, consume);
        throw Errors.badRequest(`Invalid volume: Volume ${volume.id} changed state.`);
      }
      if (oldName) await core.quotas.release(volume.project_id, { [`volumes_${oldName}`]: 1, [`gigabytes_${oldName}`]: volume.size });
      await cast(volume, { type: 'volume.retype', v: 1, volumeId: volume.id, typeId: newType.id });
    },

    async setBootable(volume: VolumeRow, bootable: boolean): Promise<void> {
      if (volume.status === 'maintenance') throw Errors.badRequest('Invalid volume: Volume is in maintenance.');
      await repos.volumes.update(volume.id, { bootable: bootable ? 1 : 0 });
    },

    async setReadonly(volume: VolumeRow, readonly: boolean): Promise<void> {
      if (volume.status !== 'available') throw Errors.badRequest(`Invalid volume: Volume status must be available to update readonly flag, but the status is ${volume.status}.`);
      const m = fromJson<Record<string, string>>(volume.admin_metadata, {});
      m['readonly'] = readonly ? 'True' : 'False';
      await repos.volumes.update(volume.id, { admin_metadata: toJson(m) });
    },

    async uploadToImage(
      actor: Actor,
      volume: VolumeRow,
      req: { imageName: string; diskFormat: string; containerFormat: string; force: boolean; visibility: string; protected: boolean },
    ): Promise<{ imageId: string; volume: VolumeRow }> {
      const ok = ['available'].concat(req.force && core.config.enableForceUpload ? ['in-use'] : []);
      if (!ok.includes(volume.status)) {
        throw Errors.badRequest(`Invalid volume: Volume ${volume.id} status must be available${req.force ? '' : ' or in-use with force'}, but current status is: ${volume.status}.`);
      }
      if (!volume.host) throw Errors.badRequest(`Invalid volume: volume ${volume.id} has no host.`);
      const imageMeta = volume.image_metadata ? fromJson<Record<string, string>>(volume.image_metadata, {}) : null;
      const image = await core.images.create(actor.token, {
        name: req.imageName,
        disk_format: req.diskFormat,
        container_format: req.containerFormat,
        visibility: req.visibility,
        protected: req.protected,
        ...(imageMeta?.['min_ram'] ? { min_ram: Number(imageMeta['min_ram']) || 0 } : {}),
        ...(imageMeta?.['min_disk'] ? { min_disk: Number(imageMeta['min_disk']) || 0 } : {}),
        ...propertiesForUpload(imageMeta),
      });
      if (!(await repos.volumes.transition(volume.id, ok, { status: 'uploading', previous_status: volume.status }))) {
        await core.images.delete(image.id).catch(() => undefined);
        throw Errors.badRequest(`Invalid volume: Volume ${volume.id} changed state.`);
      }
      await cast(volume, { type: 'volume.upload_image', v: 1, volumeId: volume.id, imageId: image.id, diskFormat: req.diskFormat });
      return { imageId: image.id, volume: (await repos.volumes.get(volume.id))! };
    },

    async resetStatus(volume: VolumeRow, body: { status?: string; attachStatus?: string; migrationStatus?: string }): Promise<void> {
      const patch: Partial<VolumeRow> = {};
      if (body.status !== undefined) {
        if (!VOLUME_STATUSES.includes(body.status) || body.status === 'deleting') throw Errors.badRequest(`Invalid input received: Invalid status: ${body.status}`);
        if (body.status === 'in-use' && !(await repos.attachments.count({ eq: { volume_id: volume.id } }))) {
          throw Errors.badRequest('Invalid input received: Cannot reset-state to in-use because volume does not have any attachments.');
        }
        patch.status = body.status;
      }
      if (body.attachStatus !== undefined) {
        if (!['attached', 'detached'].includes(body.attachStatus)) throw Errors.badRequest(`Invalid input received: Invalid attach_status: ${body.attachStatus}`);
        patch.attach_status = body.attachStatus;
        if (body.attachStatus === 'detached') {
          for (const a of await repos.attachments.all({ eq: { volume_id: volume.id } })) await repos.attachments.delete(a.id);
        }
      }
      if (body.migrationStatus !== undefined) {
        const allowed = ['migrating', 'error', 'success', 'completing', 'none', 'starting'];
        if (!allowed.includes(body.migrationStatus)) throw Errors.badRequest(`Invalid input received: Invalid migration_status: ${body.migrationStatus}`);
        patch.migration_status = body.migrationStatus === 'none' ? null : body.migrationStatus;
      }
      await repos.volumes.update(volume.id, patch);
    },

    async forceDelete(volume: VolumeRow): Promise<void> {
      if (volume.attach_status === 'attached' || (await repos.attachments.count({ eq: { volume_id: volume.id, attach_status: 'attached' } }))) {
        throw Errors.badRequest('Invalid volume: Volume must not be attached to be deleted.');
      }
      if (volume.migration_status) throw Errors.badRequest('Invalid volume: Volume must not be migrating.');
      if (volume.group_id) throw Errors.badRequest('Invalid volume: Volume must not belong to a group.');
      if (!(await repos.volumes.transition(volume.id, [volume.status], { status: 'deleting', previous_status: volume.status }))) {
        throw Errors.badRequest('Invalid volume: Volume changed state.');
      }
      if (!volume.host) {
        await destroyNow(volume);
        return;
      }
      for (const s of await repos.snapshots.all({ eq: { volume_id: volume.id } })) await repos.snapshots.update(s.id, { status: 'deleting' });
      await cast(volume, { type: 'volume.delete', v: 1, volumeId: volume.id, cascade: true });
    },

    async revert(volume: VolumeRow, snapshotId: string): Promise<void> {
      const snap = await repos.snapshots.get(snapshotId);
      if (!snap || snap.volume_id !== volume.id) throw Errors.notFoundMessage(`Snapshot ${snapshotId} could not be found.`);
      const latest = (await repos.snapshots.list({ eq: { volume_id: volume.id } }, { sort: [{ column: 'created_at', dir: 'desc' }], limit: 1 }))[0];
      if (latest?.id !== snap.id) throw Errors.badRequest(`Invalid snapshot: Volume ${volume.id} can only be reverted to its latest snapshot.`);
      if (snap.volume_size !== volume.size) throw Errors.badRequest('Invalid volume: Volume and snapshot sizes must be equal to revert.');
      if (volume.status !== 'available' || snap.status !== 'available') {
        throw Errors.conflict(`Volume ${volume.id} status must be available and snapshot ${snap.id} status must be available to revert.`);
      }
      if (!(await repos.volumes.transition(volume.id, ['available'], { status: 'reverting' }))) throw Errors.conflict('Volume changed state.');
      await repos.snapshots.update(snap.id, { status: 'restoring' });
      await cast(volume, { type: 'volume.revert', v: 1, volumeId: volume.id, snapshotId: snap.id });
    },

    async reimage(volume: VolumeRow, imageId: string, reimageReserved: boolean, token: string): Promise<void> {
      const image = await core.images.get(imageId, token);
      if (!image) throw Errors.notFoundMessage(`Image ${imageId} could not be found.`);
      if (image.status !== 'active') throw Errors.badRequest(`Image ${imageId} is not active.`);
      const statuses = ['available', 'error'].concat(reimageReserved ? ['reserved'] : []);
      if ((await repos.attachments.count({ eq: { volume_id: volume.id } })) > 1) throw Errors.conflict('Volume has more than one attachment.');
      if (!(await repos.volumes.transition(volume.id, statuses, { status: 'downloading', previous_status: volume.status === 'error' ? 'available' : volume.status }))) {
        throw Errors.badRequest(`Invalid volume: Volume status must be ${statuses.join(' or ')}, but the status is ${volume.status}.`);
      }
      await cast(volume, { type: 'volume.reimage', v: 1, volumeId: volume.id, imageId: image.id });
    },

    async setImageMetadata(volume: VolumeRow, metadata: Record<string, string>): Promise<Record<string, string>> {
      const m = { ...fromJson<Record<string, string>>(volume.image_metadata, {}), ...metadata };
      await repos.volumes.update(volume.id, { image_metadata: toJson(m) });
      return m;
    },

    async unsetImageMetadata(volume: VolumeRow, key: string): Promise<void> {
      const m = fromJson<Record<string, string>>(volume.image_metadata, {});
      if (!(key in m)) throw Errors.notFoundMessage(`Glance metadata for volume ${volume.id} with key ${key} not found.`);
      delete m[key];
      await repos.volumes.update(volume.id, { image_metadata: toJson(m) });
    },
  };
}
export type VolumeActions = ReturnType<typeof createVolumeActions>;
