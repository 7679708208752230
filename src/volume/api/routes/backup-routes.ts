import { Errors } from '../../../core/errors.js';
import type { ListFilter } from '../../db/resource-repo.js';
import type { BackupRow } from '../../db/tables.js';
import { createBackupService } from '../../service/backups.js';
import { visibleTo } from '../../service/volume-create.js';
import type { Req, VolumeApi } from '../context.js';
import { bodyOf, boolValue, optionalString, parseMetadata, requireObject } from '../input.js';
import { lenientBool, nextLinks, parseListParams, queryValue } from '../listing.js';

const SORT: Record<string, string> = {
  id: 'id', created_at: 'created_at', updated_at: 'updated_at', status: 'status', name: 'name', display_name: 'name', size: 'size',
  volume_id: 'volume_id', data_timestamp: 'data_timestamp', container: 'container',
};

/** /backups: create, list, show, update (3.9), delete, restore, export/import and admin actions. */
export function backupRoutes(api: VolumeApi): void {
  const { core } = api;
  const { repos } = core;
  const backups = createBackupService(core);
  const actor = (req: Req) => {
    const c = api.caller(req);
    return { projectId: c.projectId, userId: c.userId, admin: c.admin, token: c.auth.token, requestId: String(req.id) };
  };

  async function load(req: Req, id: string): Promise<BackupRow> {
    const b = await repos.backups.get(id);
    if (!visibleTo(api.caller(req), b)) throw Errors.notFoundMessage(`Backup ${id} could not be found.`);
    return b!;
  }

  const summary = async (req: Req, b: BackupRow) => {
    const out: Record<string, unknown> = { id: b.id, name: b.name, links: api.links(req, 'backups', b.id) };
    if (api.atLeast(req, '3.43')) out['metadata'] = await repos.metadata.get('backup', b.id);
    return out;
  };

  async function detail(req: Req, rows: BackupRow[]) {
    const admin = api.caller(req).admin;
    const meta = await repos.metadata.getMany('backup', rows.map((r) => r.id));
    const out = [];
    for (const b of rows) {
      const view: Record<string, unknown> = {
        id: b.id,
        status: b.status,
        size: b.size,
        object_count: b.object_count,
        availability_zone: b.availability_zone,
        container: b.container,
        created_at: b.created_at,
        updated_at: b.updated_at,
        name: b.name,
        description: b.description,
        fail_reason: b.fail_reason,
        volume_id: b.volume_id,
        links: api.links(req, 'backups', b.id),
        is_incremental: b.is_incremental === 1,
        has_dependent_backups: (await repos.backups.count({ eq: { parent_id: b.id } })) > 0,
        snapshot_id: b.snapshot_id,
        data_timestamp: b.data_timestamp,
      };
      if (api.atLeast(req, '3.18') && admin) view['os-backup-project-attr:project_id'] = b.project_id;
      if (api.atLeast(req, '3.43')) view['metadata'] = meta.get(b.id) ?? {};
      if (api.atLeast(req, '3.56') && admin) view['user_id'] = b.user_id;
      out.push(view);
    }
    return out;
  }

  async function list(req: Req, withDetail: boolean) {
    api.enforce(req, 'backup:get_all');
    const c = api.caller(req);
    const p = parseListParams(req, SORT);
    const f: ListFilter = { eq: {} };
    const all = p.filters['all_tenants'] !== undefined && lenientBool(p.filters['all_tenants']);
    if (!(c.admin && all)) f.projectId = c.projectId;
    else if (p.filters['project_id']) f.projectId = p.filters['project_id'];
    for (const [k, v] of Object.entries(p.filters)) {
      if (k === 'status' || k === 'volume_id') f.eq![k] = v;
      else if (k === 'name' || k === 'display_name') f.eq!['name'] = v;
    }
    let marker: BackupRow | undefined;
    if (p.marker) {
      marker = await repos.backups.get(p.marker);
      if (!visibleTo(c, marker)) throw Errors.notFoundMessage(`Marker ${p.marker} could not be found.`);
    }
    const rows = await repos.backups.list(f, { sort: p.sort, limit: p.limit, offset: p.offset, marker: marker as unknown as Record<string, unknown> });
    const body: Record<string, unknown> = { backups: withDetail ? await detail(req, rows) : await Promise.all(rows.map((b) => summary(req, b))) };
    const links = nextLinks(api, req, withDetail ? 'backups/detail' : 'backups', rows, p.limit);
    if (links) body['backups_links'] = links;
    const withCount = queryValue(req.query['with_count']);
    if (api.atLeast(req, '3.45') && withCount !== undefined && lenientBool(withCount)) body['count'] = await repos.backups.count(f);
    return body;
  }

  api.route('GET', '/backups', async (req) => list(req, false));
  api.route('GET', '/backups/detail', async (req) => list(req, true));

  api.route('GET', '/backups/:id', async (req) => {
    const b = await load(req, req.params['id']!);
    api.enforce(req, 'backup:get', b.project_id);
    return { backup: (await detail(req, [b]))[0] };
  });

  api.route('POST', '/backups', async (req, reply) => {
    api.enforce(req, 'backup:create');
    const body = bodyOf(req.body, 'backup');
    const volumeId = optionalString(body, 'volume_id');
    if (!volumeId) throw Errors.badRequest("Invalid input for field/attribute volume_id. 'volume_id' is a required property");
    const flag = (k: string) => (body[k] === undefined || body[k] === null ? false : boolValue(body[k], k));
    const row = await backups.create(actor(req), {
      volumeId,
      name: optionalString(body, 'name') ?? null,
      description: optionalString(body, 'description', 65535) ?? null,
      container: optionalString(body, 'container') ?? null,
      incremental: flag('incremental'),
      force: flag('force'),
      snapshotId: optionalString(body, 'snapshot_id') ?? null,
      metadata: api.atLeast(req, '3.43') && body['metadata'] ? parseMetadata(body['metadata']) : {},
    });
    reply.code(202);
    return { backup: await summary(req, row) };
  });

  api.route('PUT', '/backups/:id', async (req) => {
    api.requireMv(req, '3.9');
    const b = await load(req, req.params['id']!);
    api.enforce(req, 'backup:update', b.project_id);
    const body = bodyOf(req.body, 'backup');
    const patch: Partial<BackupRow> = {};
    if ('name' in body) patch.name = optionalString(body, 'name') ?? null;
    if ('description' in body) patch.description = optionalString(body, 'description', 65535) ?? null;
    await repos.backups.update(b.id, patch);
    if (api.atLeast(req, '3.43') && body['metadata'] !== undefined) await repos.metadata.set('backup', b.id, parseMetadata(body['metadata']), true);
    return { backup: await summary(req, (await repos.backups.get(b.id))!) };
  });

  api.route('DELETE', '/backups/:id', async (req, reply) => {
    const b = await load(req, req.params['id']!);
    api.enforce(req, 'backup:delete', b.project_id);
    await backups.delete(b);
    return reply.code(202).send();
  });

  api.route('POST', '/backups/:id/restore', async (req, reply) => {
    const b = await load(req, req.params['id']!);
    api.enforce(req, 'backup:restore', b.project_id);
    const body = bodyOf(req.body ?? { restore: {} }, 'restore');
    const r = await backups.restore(actor(req), b, { volumeId: optionalString(body, 'volume_id') ?? null, name: optionalString(body, 'name') ?? null });
    reply.code(202);
    return { restore: { backup_id: b.id, volume_id: r.volumeId, volume_name: r.volumeName } };
  });

  api.route('GET', '/backups/:id/export_record', async (req) => {
    api.enforce(req, 'backup:backup-export');
    const b = await load(req, req.params['id']!);
    return { 'backup-record': backups.exportRecord(b) };
  });

  api.route('POST', '/backups/import_record', async (req, reply) => {
    api.enforce(req, 'backup:backup-import');
    const body = bodyOf(req.body, 'backup-record');
    const service = optionalString(body, 'backup_service');
    const url = optionalString(body, 'backup_url', 1024 * 1024);
    if (!service || !url) throw Errors.badRequest('Incorrect request body format.');
    const row = await backups.importRecord(actor(req), service, url);
    reply.code(201);
    return { backup: await summary(req, row) };
  });

  api.route('POST', '/backups/:id/action', async (req, reply) => {
    const body = requireObject(req.body ?? null, 'body');
    const name = Object.keys(body)[0] ?? '';
    const b = await load(req, req.params['id']!);
    if (name === 'os-reset_status') {
      api.enforce(req, 'volume_extension:backup_admin_actions:reset_status', b.project_id);
      const status = optionalString(requireObject(body[name], name), 'status');
      if (!status || !['available', 'error'].includes(status.toLowerCase())) throw Errors.badRequest(`Invalid input received: Invalid backup status: ${status ?? ''}`);
      await repos.backups.update(b.id, { status: status.toLowerCase() });
    } else if (name === 'os-force_delete') {
      api.enforce(req, 'volume_extension:backup_admin_actions:force_delete', b.project_id);
      await backups.delete(b, true);
    } else throw Errors.badRequest(`There is no such action: ${name}`);
    return reply.code(202).send();
  });
}
