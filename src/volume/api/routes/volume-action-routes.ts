import type { FastifyReply } from 'fastify';
import type { Connector } from '../../../agents/volume/backend.js';
import { fromJson } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import type { VolumeRow } from '../../db/tables.js';
import type { AttachmentService } from '../../service/attachments.js';
import type { VolumeActions } from '../../service/volume-actions.js';
import { serviceRolesOf, type Req, type VolumeApi } from '../context.js';
import { boolValue, optionalString, parseMetadata, positiveInt, requireObject, type Json } from '../input.js';
import { getVisibleVolume } from './volume-routes.js';

const DISK_FORMATS = ['raw', 'vmdk', 'vdi', 'qcow2', 'vhd', 'vhdx', 'ploop'];

type ActionHandler = (ctx: { req: Req; reply: FastifyReply; volume: VolumeRow; body: Json }) => Promise<unknown>;

/** POST /volumes/{id}/action: Cinder's volume actions, one key of the body naming the action. */
export function volumeActionRoutes(api: VolumeApi, actions: VolumeActions, attachments: AttachmentService): void {
  const { core } = api;
  const actor = (req: Req) => {
    const c = api.caller(req);
    return { projectId: c.projectId, userId: c.userId, admin: c.admin, token: c.auth.token, requestId: String(req.id), serviceRoles: serviceRolesOf(c.auth) };
  };
  const empty = (reply: FastifyReply, code = 202) => reply.code(code).send();
  const connectorOf = (v: unknown): Connector | null => (v === undefined || v === null ? null : (requireObject(v, 'connector') as Connector));

  const handlers: Record<string, { rule: string; minMv?: string; run: ActionHandler }> = {
    'os-extend': {
      rule: 'volume:extend',
      async run({ req, reply, volume, body }) {
        const newSize = positiveInt(body['new_size'], 'new_size');
        const inUse = volume.status === 'in-use' && api.atLeast(req, '3.42');
        if (inUse) api.enforce(req, 'volume:extend_attached_volume', volume.project_id);
        await actions.extend(actor(req), volume, newSize, inUse);
        return empty(reply);
      },
    },
    'os-retype': {
      rule: 'volume:retype',
      async run({ req, reply, volume, body }) {
        const newType = optionalString(body, 'new_type');
        if (!newType) throw Errors.badRequest("Invalid input for field/attribute new_type. 'new_type' is a required property");
        const policy = optionalString(body, 'migration_policy') ?? 'never';
        if (!['never', 'on-demand'].includes(policy)) throw Errors.badRequest(`Invalid input for field/attribute migration_policy. Value: ${policy}.`);
        await actions.retype(actor(req), volume, newType, policy);
        return empty(reply);
      },
    },
    'os-set_bootable': {
      rule: 'volume_extension:volume_actions:set_bootable',
      async run({ reply, volume, body }) {
        await actions.setBootable(volume, boolValue(body['bootable'], 'bootable'));
        return empty(reply, 200);
      },
    },
    'os-update_readonly_flag': {
      rule: 'volume:update_readonly_flag',
      async run({ reply, volume, body }) {
        await actions.setReadonly(volume, boolValue(body['readonly'], 'readonly'));
        return empty(reply);
      },
    },
    'os-volume_upload_image': {
      rule: 'volume_extension:volume_actions:upload_image',
      async run({ req, reply, volume, body }) {
        const imageName = optionalString(body, 'image_name');
        if (!imageName) throw Errors.badRequest("Invalid input for field/attribute image_name. 'image_name' is a required property");
        const diskFormat = optionalString(body, 'disk_format') ?? 'raw';
        if (!DISK_FORMATS.includes(diskFormat)) throw Errors.badRequest(`Invalid disk-format '${diskFormat}' is specified. Allowed disk-formats are ${DISK_FORMATS.join(', ')}.`);
        const visibility = api.atLeast(req, '3.1') ? (optionalString(body, 'visibility') ?? 'private') : 'private';
        if (!['public', 'private', 'shared', 'community'].includes(visibility)) throw Errors.badRequest(`Invalid visibility ${visibility}`);
        if (visibility === 'public') api.enforce(req, 'volume_extension:volume_actions:upload_public', volume.project_id);
        const isProtected = api.atLeast(req, '3.1') && body['protected'] !== undefined ? boolValue(body['protected'], 'protected') : false;
        const force = body['force'] !== undefined ? boolValue(body['force'], 'force') : false;
        const { imageId, volume: v } = await actions.uploadToImage(actor(req), volume, {
          imageName,
          diskFormat,
          containerFormat: optionalString(body, 'container_format') ?? 'bare',
          force,
          visibility,
          protected: isProtected,
        });
        const type = await core.repos.types.get(v.volume_type_id);
        const out: Record<string, unknown> = {
          id: v.id,
          updated_at: v.updated_at,
          status: v.status,
          display_description: v.description,
          size: v.size,
          volume_type: type ? { id: type.id, name: type.name, description: type.description, is_public: type.is_public === 1, qos_specs_id: type.qos_specs_id } : null,
          image_id: imageId,
          container_format: optionalString(body, 'container_format') ?? 'bare',
          disk_format: diskFormat,
          image_name: imageName,
        };
        if (api.atLeast(req, '3.1')) Object.assign(out, { protected: isProtected, visibility });
        reply.code(202);
        return { 'os-volume_upload_image': out };
      },
    },
    'os-reset_status': {
      rule: 'volume_extension:volume_admin_actions:reset_status',
      async run({ reply, volume, body }) {
        const status = optionalString(body, 'status') ?? undefined;
        const attachStatus = optionalString(body, 'attach_status') ?? undefined;
        const migrationStatus = optionalString(body, 'migration_status') ?? undefined;
        if (status === undefined && attachStatus === undefined && migrationStatus === undefined) {
          throw Errors.badRequest('Must specify status, attach_status or migration_status for update.');
        }
        await actions.resetStatus(volume, {
          ...(status !== undefined ? { status: status.toLowerCase() } : {}),
          ...(attachStatus !== undefined ? { attachStatus: attachStatus.toLowerCase() } : {}),
          ...(migrationStatus !== undefined ? { migrationStatus: migrationStatus.toLowerCase() } : {}),
        });
        return empty(reply);
      },
    },
    'os-force_delete': {
      rule: 'volume_extension:volume_admin_actions:force_delete',
      async run({ reply, volume }) {
        await actions.forceDelete(volume);
        return empty(reply);
      },
    },
    'os-force_detach': {
      rule: 'volume_extension:volume_admin_actions:force_detach',
      async run({ reply, volume, body }) {
        await attachments.forceDetach(volume, optionalString(body, 'attachment_id') ?? undefined);
        return empty(reply);
      },
    },
    'os-attach': {
      rule: 'volume_extension:volume_actions:attach',
      async run({ reply, volume, body }) {
        const instance = optionalString(body, 'instance_uuid') ?? null;
        const host = optionalString(body, 'host_name') ?? null;
        if (!instance && !host) throw Errors.badRequest('Invalid request to attach volume to an invalid target');
        if (instance && host) throw Errors.badRequest('Invalid request to attach volume to an instance and a host');
        const mountpoint = optionalString(body, 'mountpoint');
        if (!mountpoint) throw Errors.badRequest("Invalid input for field/attribute mountpoint. 'mountpoint' is a required property");
        const mode = optionalString(body, 'mode') ?? 'rw';
        if (mode !== 'rw' && mode !== 'ro') throw Errors.badRequest('Invalid request to attach volume with an invalid mode. Attaching mode should be \'rw\' or \'ro\'');
        await attachments.attach(volume, instance, host, mountpoint, mode);
        return empty(reply);
      },
    },
    'os-detach': {
      rule: 'volume_extension:volume_actions:detach',
      async run({ req, reply, volume, body }) {
        await attachments.detach(actor(req), volume, optionalString(body, 'attachment_id') ?? undefined);
        return empty(reply);
      },
    },
    'os-reserve': {
      rule: 'volume_extension:volume_actions:reserve',
      async run({ reply, volume }) {
        await attachments.reserve(volume);
        return empty(reply);
      },
    },
    'os-unreserve': {
      rule: 'volume_extension:volume_actions:unreserve',
      async run({ reply, volume }) {
        await attachments.unreserve(volume);
        return empty(reply);
      },
    },
    'os-begin_detaching': {
      rule: 'volume_extension:volume_actions:begin_detaching',
      async run({ reply, volume }) {
        const ok = volume.attach_status === 'attached' && (await core.repos.volumes.transition(volume.id, ['in-use'], { status: 'detaching' }));
        if (!ok) throw Errors.badRequest(`Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.`);
        return empty(reply);
      },
    },
    'os-roll_detaching': {
      rule: 'volume_extension:volume_actions:roll_detaching',
      async run({ reply, volume }) {
        await core.repos.volumes.transition(volume.id, ['detaching'], { status: 'in-use' });
        return empty(reply);
      },
    },
    'os-initialize_connection': {
      rule: 'volume_extension:volume_actions:initialize_connection',
      async run({ volume, body }) {
        if (volume.status === 'maintenance') throw Errors.badRequest('Invalid volume: Volume is in maintenance.');
        const connector = connectorOf(body['connector']);
        if (!connector) throw Errors.badRequest("Invalid input for field/attribute connector. 'connector' is a required property");
        const readonly = fromJson<Record<string, string>>(volume.admin_metadata, {})['readonly'] === 'True';
        return { connection_info: await attachments.connectionInfo(volume, connector, readonly ? 'ro' : 'rw') };
      },
    },
    'os-terminate_connection': {
      rule: 'volume_extension:volume_actions:terminate_connection',
      async run({ req, reply, volume, body }) {
        await attachments.terminate(actor(req), volume, connectorOf(body['connector']));
        return empty(reply);
      },
    },
    'os-set_image_metadata': {
      rule: 'volume_extension:volume_image_metadata:set',
      async run({ volume, body }) {
        return { metadata: await actions.setImageMetadata(volume, parseMetadata(body['metadata'])) };
      },
    },
    'os-unset_image_metadata': {
      rule: 'volume_extension:volume_image_metadata:remove',
      async run({ reply, volume, body }) {
        const key = optionalString(body, 'key');
        if (!key) throw Errors.badRequest("Invalid input for field/attribute key. 'key' is a required property");
        await actions.unsetImageMetadata(volume, key);
        return empty(reply, 200);
      },
    },
    'os-show_image_metadata': {
      rule: 'volume_extension:volume_image_metadata:show',
      async run({ volume }) {
        return { metadata: fromJson<Record<string, string>>(volume.image_metadata, {}) };
      },
    },
    revert: {
      rule: 'volume:revert_to_snapshot',
      minMv: '3.40',
      async run({ reply, volume, body }) {
        const snapshotId = optionalString(body, 'snapshot_id');
        if (!snapshotId) throw Errors.badRequest("Invalid input for field/attribute snapshot_id. 'snapshot_id' is a required property");
        await actions.revert(volume, snapshotId);
        return empty(reply);
      },
    },
    'os-reimage': {
      rule: 'volume:reimage',
      minMv: '3.68',
      async run({ req, reply, volume, body }) {
        const imageId = optionalString(body, 'image_id');
        if (!imageId) throw Errors.badRequest("Invalid input for field/attribute image_id. 'image_id' is a required property");
        const reserved = body['reimage_reserved'] !== undefined ? boolValue(body['reimage_reserved'], 'reimage_reserved') : false;
        await actions.reimage(volume, imageId, reserved, api.caller(req).auth.token);
        return empty(reply);
      },
    },
    'os-migrate_volume': {
      rule: 'volume_extension:volume_admin_actions:migrate_volume',
      async run({ volume, body }) {
        const host = optionalString(body, 'host') ?? optionalString(body, 'cluster');
        if (volume.host && host && volume.host.split('#')[0] === host.split('#')[0]) throw Errors.badRequest('Invalid host: Destination host must be different than the current host.');
        throw Errors.badRequest(`Invalid host: volume migration between backends is not supported by Nimbus (requested ${host ?? 'none'}).`);
      },
    },
    'os-migrate_volume_completion': {
      rule: 'volume_extension:volume_admin_actions:migrate_volume_completion',
      async run({ volume }) {
        return { save_volume_id: volume.id };
      },
    },
    'os-unmanage': {
      rule: 'volume_extension:volume_unmanage',
      async run({ reply, volume }) {
        await actions.delete(volume, { cascade: false, force: false });
        return empty(reply);
      },
    },
  };

  api.route('POST', '/volumes/:id/action', async (req, reply) => {
    const body = requireObject(req.body ?? null, 'body');
    const name = Object.keys(body)[0];
    if (!name) throw Errors.badRequest('Malformed request body');
    const handler = handlers[name];
    if (!handler || (handler.minMv && !api.atLeast(req, handler.minMv))) throw Errors.badRequest(`There is no such action: ${name}`);
    const volume = await getVisibleVolume(api, req, req.params['id']!);
    api.enforce(req, handler.rule, volume.project_id);
    const inner = body[name] === null || body[name] === undefined ? {} : requireObject(body[name], name);
    return handler.run({ req, reply, volume, body: inner });
  });
}
