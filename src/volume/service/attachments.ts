import type { ConnectionInfo, Connector } from '../../agents/volume/backend.js';
import { fromJson, toJson } from '../../core/db/columns.js';
import { Errors } from '../../core/errors.js';
import { isoNow, newUuid } from '../../core/ids.js';
import type { AttachmentRow, VolumeRow } from '../db/tables.js';
import type { VolumeCore } from './core.js';
import { managerQueue, type ManagerTask } from './tasks.js';
import { visibleTo, type Actor } from './volume-create.js';

export interface AttachActor extends Actor {
  /** Roles of a valid X-Service-Token sent with the request (compute calling for a user). */
  serviceRoles: string[];
}

/** Volume status implied by its attachments (Cinder: the "best" remaining attachment wins). */
export function statusFromAttachments(rows: AttachmentRow[]): { status: string; attachStatus: string } {
  const has = (s: string) => rows.some((a) => a.attach_status === s);
  if (has('attached')) return { status: 'in-use', attachStatus: 'attached' };
  if (has('attaching')) return { status: 'attaching', attachStatus: 'attaching' };
  if (has('detaching')) return { status: 'detaching', attachStatus: 'detaching' };
  if (has('reserved')) return { status: 'reserved', attachStatus: 'reserved' };
  return { status: 'available', attachStatus: 'detached' };
}

/** Statuses whose value is derived from the attachments (others, like error or maintenance, are kept). */
const ATTACH_DRIVEN = ['available', 'in-use', 'attaching', 'detaching', 'reserved'];

/**
 * Cinder's attach and detach workflows: the attachments API (3.27+) Nova
 * uses, and the legacy actions (os-reserve, os-attach, os-detach,
 * initialize/terminate connection). A non-multiattach volume is reserved by
 * one conditional status change, so racing attach requests cannot both win.
 */
export function createAttachmentService(core: VolumeCore) {
  const { repos } = core;

  async function visibleVolume(actor: Actor, volumeId: string): Promise<VolumeRow> {
    const v = await repos.volumes.get(volumeId);
    if (!visibleTo(actor, v)) throw Errors.notFoundMessage(`Volume ${volumeId} could not be found.`);
    return v!;
  }

  async function visibleAttachment(actor: Actor, id: string): Promise<{ attachment: AttachmentRow; volume: VolumeRow }> {
    const attachment = await repos.attachments.get(id);
    const volume = attachment ? await repos.volumes.get(attachment.volume_id) : undefined;
    if (!attachment || !visibleTo(actor, volume)) throw Errors.notFoundMessage(`Volume attachment ${id} could not be found.`);
    return { attachment, volume: volume! };
  }

  const readonly = (v: VolumeRow) => fromJson<Record<string, string>>(v.admin_metadata, {})['readonly'] === 'True';

  async function setAdminMetadata(volumeId: string, change: (m: Record<string, string>) => void): Promise<void> {
    const v = await repos.volumes.get(volumeId);
    if (!v) return;
    const m = fromJson<Record<string, string>>(v.admin_metadata, {});
    change(m);
    await repos.volumes.update(volumeId, { admin_metadata: toJson(m) });
  }

  /** Re-derives the volume's status after an attachment went away. */
  async function recompute(volumeId: string): Promise<void> {
    const v = await repos.volumes.get(volumeId);
    if (!v) return;
    const rows = await repos.attachments.all({ eq: { volume_id: volumeId } });
    const { status, attachStatus } = statusFromAttachments(rows);
    if (ATTACH_DRIVEN.includes(v.status)) await repos.volumes.transition(volumeId, [v.status], { status, attach_status: attachStatus });
    else await repos.volumes.update(volumeId, { attach_status: attachStatus });
    if (!rows.some((a) => a.attach_status === 'attached')) await setAdminMetadata(volumeId, (m) => delete m['attached_mode']);
  }

  async function callManager<T>(volume: VolumeRow, task: ManagerTask): Promise<T> {
    if (!volume.host) throw Errors.badRequest(`Invalid volume: volume ${volume.id} has no host (it was never created on a backend).`);
    try {
      return await core.bus.call<T>(managerQueue(volume.host), task, { timeoutMs: 60_000 });
    } catch (err) {
      core.log.error({ err, volumeId: volume.id, task: task.type }, 'volume backend call failed');
      throw Errors.internal(`The backend of volume ${volume.id} could not make the connection.`);
    }
  }

  async function connectionInfo(volume: VolumeRow, connector: Connector | null, mode: 'rw' | 'ro'): Promise<ConnectionInfo> {
    return callManager<ConnectionInfo>(volume, { type: 'volume.initialize_connection', v: 1, volumeId: volume.id, connector, mode });
  }

  /**
   * OSSA-2023-003: a user may not pull a volume out from under a running
   * server. Deleting an attachment that compute still uses needs compute's
   * service token; a plain user call is refused with 409.
   */
  async function assertDeletionAllowed(actor: AttachActor, volume: VolumeRow, attachment: AttachmentRow | undefined): Promise<void> {
    if (actor.serviceRoles.includes('service')) return;
    const all = await repos.attachments.all({ eq: { volume_id: volume.id } });
    if (!all.length) return;
    if (!attachment) {
      if (all.length > 1) throw Errors.conflict(`Detach volume from instance ${all[0]!.instance_uuid ?? ''} using the Compute API`);
      attachment = all[0]!;
    }
    if (attachment.volume_id !== volume.id) throw Errors.badRequest('Invalid volume: the attachment does not belong to the volume.');
    if (!attachment.instance_uuid || !attachment.connection_info) return;
    let fromCompute: { attachmentId: string | null } | null;
    try {
      fromCompute = await core.compute.volumeAttachment(attachment.instance_uuid, volume.id);
    } catch {
      throw Errors.conflict(`Detach volume from instance ${attachment.instance_uuid} using the Compute API`);
    }
    if (fromCompute === null) return;
    if (fromCompute.attachmentId && fromCompute.attachmentId !== attachment.id) return;
    throw Errors.conflict(`Detach volume from instance ${attachment.instance_uuid} using the Compute API`);
  }

  async function removeAttachment(volume: VolumeRow, attachment: AttachmentRow): Promise<void> {
    if (attachment.connection_info && volume.host) {
      await callManager(volume, { type: 'volume.terminate_connection', v: 1, volumeId: volume.id, connector: fromJson<Connector | null>(attachment.connector, null) }).catch(() => undefined);
    }
    await repos.attachments.delete(attachment.id);
    await recompute(volume.id);
  }

  /** Reserves the volume for an instance (or fails with 400). */
  async function reserveFor(volume: VolumeRow, instanceUuid: string | null): Promise<void> {
    if (volume.status.includes('error')) throw Errors.badRequest(`Invalid volume: Volume ${volume.id} status must be available or downloading to reserve, but the current status is ${volume.status}.`);
    const from = volume.multiattach ? ['available', 'downloading', 'in-use', 'reserved', 'attaching'] : ['available', 'downloading'];
    const to = (s: string) => (s === 'available' || s === 'downloading' ? 'reserved' : s);
    if (await repos.volumes.transition(volume.id, from, { status: to(volume.status), attach_status: volume.multiattach && volume.status !== 'available' ? volume.attach_status : 'reserved' }, { status: volume.status })) return;
    if (instanceUuid && (await repos.attachments.all({ eq: { volume_id: volume.id, instance_uuid: instanceUuid } })).length) return;
    const now = (await repos.volumes.get(volume.id))?.status ?? volume.status;
    throw Errors.badRequest(`Invalid volume: Volume ${volume.id} status must be available or downloading to reserve, but the current status is ${now}.`);
  }

  async function update(actor: Actor, id: string, connector: Connector, mode?: 'rw' | 'ro'): Promise<AttachmentRow> {
    const { attachment, volume } = await visibleAttachment(actor, id);
    if (volume.status.includes('error') || volume.status === 'maintenance') throw Errors.badRequest(`Invalid volume: volume ${volume.id} is in ${volume.status} state.`);
    if (!volume.multiattach) {
      const others = (await repos.attachments.all({ eq: { volume_id: volume.id } })).filter((a) => a.id !== id && a.connector && a.attach_status !== 'reserved');
      if (others.some((a) => fromJson<Connector>(a.connector, {}).host !== connector.host)) {
        throw Errors.badRequest(`Invalid volume: duplicate connectors detected on volume ${volume.id}`);
      }
    }
    const attachMode = readonly(volume) ? 'ro' : (mode ?? (attachment.attach_mode === 'ro' ? 'ro' : 'rw'));
    const info = await connectionInfo(volume, connector, attachMode);
    await repos.attachments.update(id, {
      connector: toJson(connector),
      connection_info: toJson(info),
      attached_host: connector.host ?? null,
      mountpoint: connector.mountpoint ?? attachment.mountpoint ?? null,
      attach_status: 'attaching',
      attach_mode: attachMode,
    });
    await repos.volumes.transition(volume.id, ['reserved', 'available', 'attaching'], { status: 'attaching', attach_status: 'attaching' });
    return (await repos.attachments.get(id))!;
  }

  return {
    recompute,
    assertDeletionAllowed,
    connectionInfo,
    visibleAttachment,

    /** POST /attachments: reserve (and connect, when a connector comes along). */
    async create(actor: Actor, volumeId: string, instanceUuid: string | null, connector: Connector | null, mode: 'rw' | 'ro' | undefined): Promise<AttachmentRow> {
      const volume = await visibleVolume(actor, volumeId);
      await reserveFor(volume, instanceUuid);
      const row: AttachmentRow = {
        id: newUuid(),
        volume_id: volume.id,
        instance_uuid: instanceUuid,
        attached_host: null,
        mountpoint: null,
        attach_status: 'reserved',
        attach_mode: readonly(volume) ? 'ro' : (mode ?? null),
        connector: null,
        connection_info: null,
        attach_time: null,
        detach_time: null,
        created_at: isoNow(),
        updated_at: null,
      };
      await repos.attachments.insert(row);
      if (connector) return update(actor, row.id, connector, mode);
      return row;
    },

    update,

    /** os-complete: the hypervisor has the volume. */
    async complete(actor: Actor, id: string): Promise<void> {
      const { attachment, volume } = await visibleAttachment(actor, id);
      await repos.attachments.update(id, { attach_status: 'attached', attach_time: isoNow() });
      await repos.volumes.update(volume.id, { status: 'in-use', attach_status: 'attached' });
      await setAdminMetadata(volume.id, (m) => (m['attached_mode'] = attachment.attach_mode === 'ro' ? 'ro' : 'rw'));
    },

    /** DELETE /attachments/{id}; returns the volume's remaining attachments. */
    async delete(actor: AttachActor, id: string): Promise<AttachmentRow[]> {
      const { attachment, volume } = await visibleAttachment(actor, id);
      await assertDeletionAllowed(actor, volume, attachment);
      await removeAttachment(volume, attachment);
      return repos.attachments.all({ eq: { volume_id: volume.id } });
    },

    // ---- legacy volume actions ----

    async reserve(volume: VolumeRow): Promise<void> {
      const from = volume.multiattach ? ['available', 'in-use'] : ['available'];
      if (!(await repos.volumes.transition(volume.id, from, { status: 'attaching' }))) {
        const now = (await repos.volumes.get(volume.id))?.status ?? volume.status;
        throw Errors.badRequest(`Invalid volume: Volume status must be available to reserve, but the status is ${now}.`);
      }
      if (volume.status === 'in-use') await repos.volumes.update(volume.id, { previous_status: 'in-use' });
    },

    async unreserve(volume: VolumeRow): Promise<void> {
      const rows = await repos.attachments.all({ eq: { volume_id: volume.id, attach_status: 'attached' } });
      await repos.volumes.transition(volume.id, ['attaching'], { status: rows.length ? 'in-use' : 'available' });
    },

    /** os-attach: records an attachment made without the attachments API. */
    async attach(volume: VolumeRow, instanceUuid: string | null, hostName: string | null, mountpoint: string, mode: 'rw' | 'ro'): Promise<void> {
      if (volume.status === 'maintenance') throw Errors.badRequest('Invalid volume: Volume is in maintenance.');
      if (readonly(volume) && mode === 'rw') throw Errors.badRequest(`Invalid volume: Volume ${volume.id} is read-only, it can only be attached in ro mode.`);
      const from = volume.multiattach ? ['available', 'attaching', 'reserved', 'in-use'] : ['available', 'attaching', 'reserved'];
      if (!(await repos.volumes.transition(volume.id, from, { status: 'in-use', attach_status: 'attached' }))) {
        throw Errors.badRequest(`Invalid volume: Volume ${volume.id} status must be available or attaching to attach, but the current status is ${volume.status}.`);
      }
      const pending = (await repos.attachments.all({ eq: { volume_id: volume.id } })).find(
        (a) => a.attach_status !== 'attached' && (a.instance_uuid === instanceUuid || a.instance_uuid === null),
      );
      const now = isoNow();
      if (pending) {
        await repos.attachments.update(pending.id, { attach_status: 'attached', instance_uuid: instanceUuid, attached_host: hostName, mountpoint, attach_mode: mode, attach_time: now });
      } else {
        await repos.attachments.insert({
          id: newUuid(), volume_id: volume.id, instance_uuid: instanceUuid, attached_host: hostName, mountpoint, attach_status: 'attached',
          attach_mode: mode, connector: null, connection_info: null, attach_time: now, detach_time: null, created_at: now, updated_at: null,
        });
      }
      await setAdminMetadata(volume.id, (m) => (m['attached_mode'] = mode));
    },

    /** os-detach: 202 even when there is nothing to detach. */
    async detach(actor: AttachActor, volume: VolumeRow, attachmentId: string | undefined): Promise<void> {
      if (volume.status === 'maintenance') throw Errors.badRequest('Invalid volume: Volume is in maintenance.');
      const all = await repos.attachments.all({ eq: { volume_id: volume.id } });
      let target: AttachmentRow | undefined;
      if (attachmentId) {
        target = all.find((a) => a.id === attachmentId);
        if (!target) return;
      } else if (all.length > 1) {
        throw Errors.badRequest('Invalid volume: Volume has more than one attachment; an attachment_id is required to detach it.');
      } else target = all[0];
      if (!target) {
        await repos.volumes.transition(volume.id, ['in-use', 'detaching', 'attaching', 'reserved', 'available'], { status: 'available', attach_status: 'detached' });
        return;
      }
      await assertDeletionAllowed(actor, volume, target);
      await removeAttachment(volume, target);
    },

    async terminate(actor: AttachActor, volume: VolumeRow, connector: Connector | null): Promise<void> {
      const all = await repos.attachments.all({ eq: { volume_id: volume.id } });
      const target = all.find((a) => connector?.host && fromJson<Connector>(a.connector, {}).host === connector.host) ?? (all.length === 1 ? all[0] : undefined);
      await assertDeletionAllowed(actor, volume, target);
      if (volume.host) await callManager(volume, { type: 'volume.terminate_connection', v: 1, volumeId: volume.id, connector });
    },

    /** Admin os-force_detach: removes the attachment(s) whatever their state. */
    async forceDetach(volume: VolumeRow, attachmentId: string | undefined): Promise<void> {
      const all = await repos.attachments.all({ eq: { volume_id: volume.id } });
      const targets = attachmentId ? all.filter((a) => a.id === attachmentId) : all;
      if (attachmentId && !targets.length) throw Errors.notFoundMessage(`Volume attachment ${attachmentId} could not be found.`);
      for (const a of targets) await removeAttachment(volume, a);
      const after = await repos.volumes.get(volume.id);
      // An admin-reset status (error, maintenance) is left as the admin set it, except that nothing is attached any more.
      if (after && !(await repos.attachments.count({ eq: { volume_id: volume.id } }))) {
        await repos.volumes.update(volume.id, { status: ATTACH_DRIVEN.includes(after.status) || after.status === 'error' ? 'available' : after.status, attach_status: 'detached' });
      }
    },
  };
}
export type AttachmentService = ReturnType<typeof createAttachmentService>;
