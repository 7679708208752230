import { Errors } from '../../core/errors.js';
import { isoNow, newUuid } from '../../core/ids.js';
import type { GroupRow, GroupSnapshotRow, VolumeRow } from '../db/tables.js';
import { settleGroupSnapshot } from './group-snapshot-state.js';
import type { VolumeCore } from './core.js';
import type { SnapshotService } from './snapshots.js';
import type { VolumeActions } from './volume-actions.js';
import { createVolume, visibleTo, type Actor } from './volume-create.js';

/**
 * Generic volume groups (3.13+) and group snapshots (3.14+). Groups hold no
 * storage of their own, so a group is usable at once; a group snapshot's
 * state follows its member snapshots (group-snapshot-state.ts).
 */
export function createGroupService(core: VolumeCore, actions: VolumeActions, snapshots: SnapshotService) {
  const { repos } = core;

  async function resolveGroupType(ref: string) {
    const t = (await repos.groupTypes.get(ref)) ?? (await repos.groupTypes.getByName(ref));
    if (!t) throw Errors.notFoundMessage(`Group type with name ${ref} could not be found.`);
    return t;
  }

  async function members(groupId: string): Promise<VolumeRow[]> {
    return repos.volumes.all({ eq: { group_id: groupId } });
  }

  async function insertGroup(actor: Actor, fields: Pick<GroupRow, 'name' | 'description' | 'group_type_id' | 'group_snapshot_id' | 'source_group_id'>, typeIds: string[], az?: string): Promise<GroupRow> {
    await core.quotas.consume(actor.projectId, { groups: 1 });
    const row: GroupRow = {
      id: newUuid(),
      project_id: actor.projectId,
      user_id: actor.userId,
      status: 'available',
      availability_zone: az ?? core.config.availabilityZone,
      host: null,
      created_at: isoNow(),
      updated_at: null,
      ...fields,
    };
    await repos.groups.insert(row);
    await repos.groupTypes.setGroupVolumeTypes(row.id, typeIds);
    return row;
  }

  return {
    resolveGroupType,
    members,

    async create(actor: Actor, input: { groupType: string; volumeTypes: string[]; name: string | null; description: string | null; availabilityZone?: string }): Promise<GroupRow> {
      const gt = await resolveGroupType(input.groupType);
      if (!input.volumeTypes.length) throw Errors.badRequest('Invalid input received: volume_types must be provided to create group.');
      const typeIds: string[] = [];
      for (const ref of input.volumeTypes) typeIds.push((await core.types.resolve(ref, { projectId: actor.projectId, admin: actor.admin })).id);
      if (input.availabilityZone && input.availabilityZone !== core.config.availabilityZone) {
        throw Errors.badRequest(`Invalid input received: Availability zone '${input.availabilityZone}' is invalid.`);
      }
      return insertGroup(actor, { name: input.name, description: input.description, group_type_id: gt.id, group_snapshot_id: null, source_group_id: null }, typeIds, input.availabilityZone);
    },

    async createFromSource(actor: Actor, input: { groupSnapshotId: string | null; sourceGroupId: string | null; name: string | null; description: string | null }): Promise<GroupRow> {
      if (Boolean(input.groupSnapshotId) === Boolean(input.sourceGroupId)) {
        throw Errors.badRequest('Invalid input received: Either group_snapshot_id or source_group_id must be provided, not both.');
      }
      let typeId: string;
      let typeIds: string[];
      let sources: Array<{ snapshotId?: string; volumeId?: string; size: number; typeId: string }>;
      if (input.groupSnapshotId) {
        const gs = await repos.groupSnapshots.get(input.groupSnapshotId);
        if (!visibleTo(actor, gs)) throw Errors.notFoundMessage(`GroupSnapshot ${input.groupSnapshotId} could not be found.`);
        if (gs!.status !== 'available') throw Errors.badRequest('Invalid group snapshot: group snapshot must be available.');
        const group = await repos.groups.get(gs!.group_id);
        typeId = gs!.group_type_id;
        typeIds = group ? await repos.groupTypes.groupVolumeTypes(group.id) : [];
        sources = (await repos.snapshots.all({ eq: { group_snapshot_id: gs!.id } })).map((s) => ({ snapshotId: s.id, size: s.volume_size, typeId: s.volume_type_id ?? '' }));
      } else {
        const src = await repos.groups.get(input.sourceGroupId!);
        if (!visibleTo(actor, src)) throw Errors.notFoundMessage(`Group ${input.sourceGroupId} could not be found.`);
        if (src!.status !== 'available') throw Errors.badRequest('Invalid group: source group must be available.');
        typeId = src!.group_type_id;
        typeIds = await repos.groupTypes.groupVolumeTypes(src!.id);
        sources = (await members(src!.id)).map((v) => ({ volumeId: v.id, size: v.size, typeId: v.volume_type_id }));
      }
      for (const t of sources.map((s) => s.typeId)) if (t && !typeIds.includes(t)) typeIds.push(t);
      const group = await insertGroup(
        actor,
        { name: input.name, description: input.description, group_type_id: typeId, group_snapshot_id: input.groupSnapshotId, source_group_id: input.sourceGroupId },
        typeIds,
      );
      for (const s of sources) {
        await createVolume(core, actor, {
          size: s.size, name: null, description: null, volumeType: s.typeId || undefined, metadata: {}, snapshotId: s.snapshotId, sourceVolid: s.volumeId,
          imageRef: undefined, backupId: undefined, availabilityZone: undefined, groupId: group.id,
        });
      }
      return group;
    },

    async update(actor: Actor, group: GroupRow, input: { name?: string | null; description?: string | null; add: string[]; remove: string[] }): Promise<void> {
      if (group.status !== 'available') throw Errors.badRequest(`Invalid group: Group status must be available, but current status is: ${group.status}.`);
      const typeIds = await repos.groupTypes.groupVolumeTypes(group.id);
      for (const id of input.add) {
        const v = await repos.volumes.get(id);
        if (!visibleTo(actor, v)) throw Errors.notFoundMessage(`Volume ${id} could not be found.`);
        if (!['available', 'in-use'].includes(v!.status)) throw Errors.badRequest(`Invalid volume: Cannot add volume ${id} to group ${group.id} because volume is in an invalid state: ${v!.status}.`);
        if (!typeIds.includes(v!.volume_type_id)) throw Errors.badRequest(`Invalid volume: Cannot add volume ${id} to group ${group.id} because volume type ${v!.volume_type_id} is not supported by the group.`);
        if (v!.group_id && v!.group_id !== group.id) throw Errors.badRequest(`Invalid volume: Volume ${id} is already in a group.`);
      }
      for (const id of input.remove) {
        const v = await repos.volumes.get(id);
        if (!v || v.group_id !== group.id) throw Errors.badRequest(`Invalid volume: Cannot remove volume ${id} from group ${group.id} because it is not in the group.`);
      }
      const patch: Partial<GroupRow> = {};
      if (input.name !== undefined) patch.name = input.name;
      if (input.description !== undefined) patch.description = input.description;
      await repos.groups.update(group.id, patch);
      for (const id of input.add) await repos.volumes.update(id, { group_id: group.id });
      for (const id of input.remove) await repos.volumes.update(id, { group_id: null });
    },

    async delete(group: GroupRow, deleteVolumes: boolean): Promise<void> {
      const vols = await members(group.id);
      if (vols.length && !deleteVolumes) throw Errors.badRequest('Invalid group: Group still has volumes; delete them too with delete-volumes or remove them first.');
      if (await repos.groupSnapshots.count({ eq: { group_id: group.id } })) throw Errors.badRequest('Invalid group: Group has existing group snapshots.');
      for (const v of vols) {
        if (v.attach_status === 'attached') throw Errors.badRequest(`Invalid volume: Volume ${v.id} in the group is attached.`);
      }
      for (const v of vols) {
        await repos.volumes.update(v.id, { group_id: null });
        await actions.delete({ ...v, group_id: null }, { cascade: true, force: true });
      }
      await repos.groups.delete(group.id);
      await repos.groupTypes.setGroupVolumeTypes(group.id, []);
      await core.quotas.release(group.project_id, { groups: 1 });
    },

    async createSnapshot(actor: Actor, groupId: string, name: string | null, description: string | null): Promise<GroupSnapshotRow> {
      const group = await repos.groups.get(groupId);
      if (!visibleTo(actor, group)) throw Errors.notFoundMessage(`Group ${groupId} could not be found.`);
      if (group!.status !== 'available') throw Errors.badRequest('Invalid group: Group status must be available.');
      const vols = await members(group!.id);
      if (vols.some((v) => !['available', 'in-use'].includes(v.status))) throw Errors.badRequest('Invalid volume: volumes of the group must be available or in-use.');
      const row: GroupSnapshotRow = {
        id: newUuid(), project_id: group!.project_id, user_id: actor.userId, group_id: group!.id, group_type_id: group!.group_type_id,
        name, description, status: 'creating', created_at: isoNow(), updated_at: null,
      };
      await repos.groupSnapshots.insert(row);
      for (const v of vols) {
        await snapshots.create(actor, { volumeId: v.id, name: null, description: null, force: true, metadata: {}, inUseAllowed: true, groupSnapshotId: row.id });
      }
      await settleGroupSnapshot(repos, row.id);
      return (await repos.groupSnapshots.get(row.id)) ?? row;
    },

    async deleteSnapshot(gs: GroupSnapshotRow): Promise<void> {
      if (!['available', 'error'].includes(gs.status)) throw Errors.badRequest(`Invalid group snapshot: Group snapshot status must be available or error, but current status is: ${gs.status}.`);
      if (await repos.groups.count({ eq: { group_snapshot_id: gs.id } })) {
        // Groups made from it keep only the id; Cinder allows deleting the source.
      }
      await repos.groupSnapshots.update(gs.id, { status: 'deleting' });
      for (const s of await repos.snapshots.all({ eq: { group_snapshot_id: gs.id } })) await snapshots.delete(s, true);
      await settleGroupSnapshot(repos, gs.id);
    },
  };
}
export type GroupService = ReturnType<typeof createGroupService>;
