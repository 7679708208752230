import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Errors } from '../../core/errors.js';
import { isoNow, newUuid } from '../../core/ids.js';
import type { TransferRow } from '../db/tables.js';
import type { VolumeCore } from './core.js';
import { snapshotDeltas, volumeDeltas } from './quotas.js';
import { visibleTo, type Actor } from './volume-create.js';

const hashKey = (salt: string, key: string) => createHash('sha256').update(`${salt}${key}`).digest('hex');

/** Volume transfers between projects: the donor creates one (and gets an auth key), the recipient accepts with the key. */
export function createTransferService(core: VolumeCore) {
  const { repos } = core;
  const typeName = async (id: string | null) => (id ? (await repos.types.get(id))?.name : undefined);

  return {
    async create(actor: Actor, volumeId: string, name: string | null, noSnapshots: boolean, allowEncrypted: boolean): Promise<{ row: TransferRow; authKey: string }> {
      const volume = await repos.volumes.get(volumeId);
      if (!visibleTo(actor, volume)) throw Errors.notFoundMessage(`Volume ${volumeId} could not be found.`);
      if (volume!.encryption_key_id && !allowEncrypted) throw Errors.badRequest('Invalid volume: Encrypted volumes can be transferred from microversion 3.70 on.');
      if (!noSnapshots) {
        const snaps = await repos.snapshots.all({ eq: { volume_id: volumeId } });
        if (snaps.some((s) => s.status !== 'available')) throw Errors.badRequest('Invalid snapshot: All snapshots of the volume must be available to transfer.');
      }
      if (!(await repos.volumes.transition(volumeId, ['available'], { status: 'awaiting-transfer' }))) {
        throw Errors.badRequest('Invalid volume: status must be available');
      }
      const authKey = randomBytes(8).toString('hex');
      const salt = randomBytes(8).toString('hex');
      const row: TransferRow = {
        id: newUuid(),
        volume_id: volumeId,
        name,
        salt,
        crypt_hash: hashKey(salt, authKey),
        source_project_id: volume!.project_id,
        destination_project_id: null,
        accepted: 0,
        no_snapshots: noSnapshots ? 1 : 0,
        created_at: isoNow(),
        updated_at: null,
      };
      await repos.transfers.insert(row);
      return { row, authKey };
    },

    async delete(transfer: TransferRow): Promise<void> {
      await repos.transfers.delete(transfer.id);
      await repos.volumes.transition(transfer.volume_id, ['awaiting-transfer'], { status: 'available' });
    },

    /** Moves the volume (and its snapshots unless excluded) to the accepting project, with its quota usage. */
    async accept(actor: Actor, transferId: string, authKey: string): Promise<TransferRow> {
      const t = await repos.transfers.get(transferId);
      if (!t) throw Errors.notFoundMessage(`Transfer ${transferId} could not be found.`);
      const expected = Buffer.from(t.crypt_hash);
      const got = Buffer.from(hashKey(t.salt, authKey));
      if (expected.length !== got.length || !timingSafeEqual(expected, got)) throw Errors.badRequest(`Invalid auth key: Attempt to transfer ${t.id} with invalid auth key.`);
      const volume = await repos.volumes.get(t.volume_id);
      if (!volume || volume.status !== 'awaiting-transfer') throw Errors.badRequest('Invalid volume: status must be awaiting-transfer');
      const type = await typeName(volume.volume_type_id);
      const snaps = t.no_snapshots ? [] : await repos.snapshots.all({ eq: { volume_id: volume.id } });
      const deltas: Record<string, number> = { ...volumeDeltas(volume.size, type) };
      for (const s of snaps) for (const [k, v] of Object.entries(snapshotDeltas(s.volume_size, type))) deltas[k] = (deltas[k] ?? 0) + v;
      await core.quotas.consume(actor.projectId, deltas);
      if (!(await repos.transfers.delete(t.id))) {
        await core.quotas.release(actor.projectId, deltas);
        throw Errors.notFoundMessage(`Transfer ${transferId} could not be found.`);
      }
      await repos.volumes.update(volume.id, { project_id: actor.projectId, user_id: actor.userId, status: 'available' });
      for (const s of snaps) await repos.snapshots.update(s.id, { project_id: actor.projectId, user_id: actor.userId });
      await core.quotas.release(volume.project_id, deltas);
      return { ...t, destination_project_id: actor.projectId, accepted: 1 };
    },
  };
}
