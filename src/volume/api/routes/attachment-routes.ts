import type { Connector } from '../../../agents/volume/backend.js';
import { fromJson } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import type { AttachmentRow } from '../../db/tables.js';
import type { AttachmentService } from '../../service/attachments.js';
import { visibleTo } from '../../service/volume-create.js';
import { serviceRolesOf, type Req, type VolumeApi } from '../context.js';
import { bodyOf, optionalString, requireObject } from '../input.js';
import { lenientBool, queryValue } from '../listing.js';

function summary(a: AttachmentRow) {
  return { id: a.id, status: a.attach_status, instance: a.instance_uuid, volume_id: a.volume_id };
}

function detail(a: AttachmentRow) {
  return {
    ...summary(a),
    attached_at: a.attach_time ?? '',
    detached_at: a.detach_time ?? '',
    attach_mode: a.attach_mode ?? 'null',
    connection_info: fromJson<Record<string, unknown>>(a.connection_info, {}),
  };
}

/** The attachments API (3.27+), as Nova drives it: create (reserve), update (connect), complete, delete. */
export function attachmentRoutes(api: VolumeApi, attachments: AttachmentService): void {
  const { core } = api;
  const actor = (req: Req) => {
    const c = api.caller(req);
    return { projectId: c.projectId, userId: c.userId, admin: c.admin, token: c.auth.token, requestId: String(req.id), serviceRoles: serviceRolesOf(c.auth) };
  };

  async function list(req: Req, withDetail: boolean) {
    api.requireMv(req, '3.27');
    api.enforce(req, 'volume:attachment_get_all');
    const c = api.caller(req);
    const allTenants = c.admin && lenientBool(queryValue(req.query['all_tenants']) ?? 'false');
    const volumeIds = allTenants ? undefined : (await core.repos.volumes.all({ projectId: c.projectId })).map((v) => v.id);
    const eq: Record<string, string | string[]> = {};
    const volumeId = queryValue(req.query['volume_id']);
    const status = queryValue(req.query['status']) ?? queryValue(req.query['attach_status']);
    const instance = queryValue(req.query['instance_id']);
    if (volumeId) eq['volume_id'] = volumeId;
    if (status) eq['attach_status'] = status;
    if (instance) eq['instance_uuid'] = instance;
    let rows = await core.repos.attachments.list({ eq }, { sort: [{ column: 'created_at', dir: 'desc' }] });
    if (volumeIds) rows = rows.filter((a) => volumeIds.includes(a.volume_id));
    const limit = queryValue(req.query['limit']);
    if (limit && /^\d+$/.test(limit)) rows = rows.slice(0, Number(limit));
    return { attachments: rows.map(withDetail ? detail : summary) };
  }

  api.route('GET', '/attachments', async (req) => list(req, false));
  api.route('GET', '/attachments/detail', async (req) => list(req, true));

  api.route('GET', '/attachments/:id', async (req) => {
    api.requireMv(req, '3.27');
    const { attachment, volume } = await attachments.visibleAttachment(actor(req), req.params['id']!);
    api.enforce(req, 'volume:attachment_get', volume.project_id);
    return { attachment: detail(attachment) };
  });

  api.route('POST', '/attachments', async (req) => {
    api.requireMv(req, '3.27');
    const body = bodyOf(req.body, 'attachment');
    const volumeId = optionalString(body, 'volume_uuid');
    if (!volumeId) throw Errors.badRequest("Invalid input for field/attribute volume_uuid. 'volume_uuid' is a required property");
    const volume = await core.repos.volumes.get(volumeId);
    if (!visibleTo(api.caller(req), volume)) throw Errors.notFoundMessage(`Volume ${volumeId} could not be found.`);
    api.enforce(req, 'volume:attachment_create', volume!.project_id);
    const connector = body['connector'] === undefined || body['connector'] === null ? null : (requireObject(body['connector'], 'connector') as Connector);
    let mode: 'rw' | 'ro' | undefined;
    if (api.atLeast(req, '3.54') && body['mode'] !== undefined) {
      if (body['mode'] !== 'rw' && body['mode'] !== 'ro') throw Errors.badRequest("Invalid input for field/attribute mode. Value must be 'rw' or 'ro'");
      mode = body['mode'];
    }
    const row = await attachments.create(actor(req), volumeId, optionalString(body, 'instance_uuid') ?? null, connector, mode);
    if (volume?.multiattach) api.enforce(req, 'volume:multiattach', volume.project_id);
    return { attachment: detail(row) };
  });

  api.route('PUT', '/attachments/:id', async (req) => {
    api.requireMv(req, '3.27');
    const { volume } = await attachments.visibleAttachment(actor(req), req.params['id']!);
    api.enforce(req, 'volume:attachment_update', volume.project_id);
    const body = bodyOf(req.body, 'attachment');
    if (body['connector'] === undefined || body['connector'] === null) throw Errors.badRequest("Invalid input for field/attribute connector. 'connector' is a required property");
    const row = await attachments.update(actor(req), req.params['id']!, requireObject(body['connector'], 'connector') as Connector);
    return { attachment: detail(row) };
  });

  api.route('POST', '/attachments/:id/action', async (req, reply) => {
    api.requireMv(req, '3.44');
    const body = requireObject(req.body ?? null, 'body');
    if (!('os-complete' in body)) throw Errors.badRequest(`There is no such action: ${Object.keys(body)[0] ?? ''}`);
    const { volume } = await attachments.visibleAttachment(actor(req), req.params['id']!);
    api.enforce(req, 'volume:attachment_complete', volume.project_id);
    await attachments.complete(actor(req), req.params['id']!);
    return reply.code(204).send();
  });

  api.route('DELETE', '/attachments/:id', async (req) => {
    api.requireMv(req, '3.27');
    const { volume } = await attachments.visibleAttachment(actor(req), req.params['id']!);
    api.enforce(req, 'volume:attachment_delete', volume.project_id);
    const remaining = await attachments.delete(actor(req), req.params['id']!);
    return { attachments: remaining.map(summary) };
  });
}
