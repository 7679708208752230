import { Errors } from '../../../core/errors.js';
import type { ListFilter } from '../../db/resource-repo.js';
import type { SnapshotRow } from '../../db/tables.js';
import { createSnapshotService } from '../../service/snapshots.js';
import { visibleTo } from '../../service/volume-create.js';
import type { Req, VolumeApi } from '../context.js';
import { bodyOf, boolValue, optionalString, parseMetadata, requireObject, rejectUnknown } from '../input.js';
import { lenientBool, literalValue, nextLinks, parseListParams, queryValue } from '../listing.js';
import { metadataRoutes } from './metadata-routes.js';

const SORT: Record<string, string> = {
  id: 'id', created_at: 'created_at', updated_at: 'updated_at', status: 'status', display_name: 'name', name: 'name',
  volume_id: 'volume_id', size: 'volume_size', project_id: 'project_id',
};

/** /snapshots with metadata and snapshot actions. */
export function snapshotRoutes(api: VolumeApi): void {
  const { core } = api;
  const { repos } = core;
  const snapshots = createSnapshotService(core);

  async function load(req: Req, id: string): Promise<SnapshotRow> {
    const s = await repos.snapshots.get(id);
    if (!visibleTo(api.caller(req), s)) throw Errors.notFoundMessage(`Snapshot ${id} could not be found.`);
    return s!;
  }

  async function view(req: Req, rows: SnapshotRow[], detail: boolean) {
    const meta = await repos.metadata.getMany('snapshot', rows.map((r) => r.id));
    return rows.map((s) => {
      const out: Record<string, unknown> = {
        id: s.id,
        created_at: s.created_at,
        updated_at: s.updated_at,
        name: s.name,
        description: s.description,
        volume_id: s.volume_id,
        status: s.status,
        size: s.volume_size,
        metadata: meta.get(s.id) ?? {},
      };
      if (detail) {
        out['os-extended-snapshot-attributes:progress'] = s.progress;
        out['os-extended-snapshot-attributes:project_id'] = s.project_id;
        // Tempest's snapshot schemas are closed and ignore microversions: the later keys appear from 3.41 only.
        if (api.atLeast(req, '3.41')) {
          out['user_id'] = s.user_id;
          out['group_snapshot_id'] = s.group_snapshot_id;
        }
        if (api.atLeast(req, '3.65')) out['consumes_quota'] = s.use_quota === 1;
      }
      return out;
    });
  }

  async function list(req: Req, detail: boolean) {
    api.enforce(req, 'volume:get_all_snapshots');
    const c = api.caller(req);
    const columns = { ...SORT };
    if (!api.atLeast(req, '3.30')) delete columns['name'];
    const p = parseListParams(req, columns);
    const f: ListFilter = { eq: {} };
    const all = p.filters['all_tenants'] !== undefined && lenientBool(p.filters['all_tenants']);
    if (!(c.admin && all)) f.projectId = c.projectId;
    else if (p.filters['project_id']) f.projectId = p.filters['project_id'];
    for (const [k, v] of Object.entries(p.filters)) {
      if (k === 'status' || k === 'volume_id') f.eq![k] = v;
      else if (k === 'name' || k === 'display_name') f.eq!['name'] = v;
      else if (k === 'metadata' && api.atLeast(req, '3.22')) {
        const m = literalValue(v);
        if (m && typeof m === 'object' && !Array.isArray(m)) f.metadata = Object.fromEntries(Object.entries(m).map(([a, b]) => [a, String(b)]));
      } else if (k === 'group_snapshot_id' && api.atLeast(req, '3.14')) f.eq!['group_snapshot_id'] = v;
    }
    let marker: SnapshotRow | undefined;
    if (p.marker !== undefined) {
      marker = await repos.snapshots.get(p.marker);
      if (!visibleTo(c, marker)) throw Errors.notFoundMessage(`Marker ${p.marker} could not be found.`);
    }
    const rows = await repos.snapshots.list(f, { sort: p.sort, limit: p.limit, offset: p.offset, marker: marker as unknown as Record<string, unknown> });
    const body: Record<string, unknown> = { snapshots: await view(req, rows, detail) };
    const links = nextLinks(api, req, detail ? 'snapshots/detail' : 'snapshots', rows, p.limit);
    if (links) body['snapshots_links'] = links;
    const withCount = queryValue(req.query['with_count']);
    if (api.atLeast(req, '3.45') && withCount !== undefined && lenientBool(withCount)) body['count'] = await repos.snapshots.count(f);
    return body;
  }

  api.route('GET', '/snapshots', async (req) => list(req, false));
  api.route('GET', '/snapshots/detail', async (req) => list(req, true));

  api.route('GET', '/snapshots/:id', async (req) => {
    const s = await load(req, req.params['id']!);
    api.enforce(req, 'volume:get_snapshot', s.project_id);
    return { snapshot: (await view(req, [s], true))[0] };
  });

  api.route('POST', '/snapshots', async (req, reply) => {
    api.enforce(req, 'volume:create_snapshot');
    const c = api.caller(req);
    const body = bodyOf(req.body, 'snapshot');
    rejectUnknown(body, ['volume_id', 'name', 'display_name', 'description', 'display_description', 'force', 'metadata'], 'snapshot');
    if (!('volume_id' in body)) throw Errors.badRequest("Invalid input for field/attribute snapshot. 'volume_id' is a required property");
    const volumeId = body['volume_id'] === null ? null : optionalString(body, 'volume_id') ?? null;
    const row = await snapshots.create(
      { projectId: c.projectId, userId: c.userId, admin: c.admin, token: c.auth.token, requestId: String(req.id) },
      {
        volumeId,
        name: optionalString(body, 'name') ?? optionalString(body, 'display_name') ?? null,
        description: optionalString(body, 'description', 65535) ?? optionalString(body, 'display_description', 65535) ?? null,
        force: body['force'] === undefined || body['force'] === null ? undefined : boolValue(body['force'], 'force'),
        metadata: body['metadata'] === undefined || body['metadata'] === null ? {} : parseMetadata(body['metadata']),
        inUseAllowed: api.atLeast(req, '3.66'),
      },
    );
    reply.code(202);
    return { snapshot: (await view(req, [row], false))[0] };
  });

  api.route('PUT', '/snapshots/:id', async (req) => {
    const s = await load(req, req.params['id']!);
    api.enforce(req, 'volume:update_snapshot', s.project_id);
    const body = bodyOf(req.body, 'snapshot');
    const patch: Partial<SnapshotRow> = {};
    for (const [key, col] of [['name', 'name'], ['display_name', 'name'], ['description', 'description'], ['display_description', 'description']] as const) {
      if (key in body) patch[col] = optionalString(body, key, col === 'description' ? 65535 : 255) ?? null;
    }
    await repos.snapshots.update(s.id, patch);
    return { snapshot: (await view(req, [(await repos.snapshots.get(s.id))!], false))[0] };
  });

  api.route('DELETE', '/snapshots/:id', async (req, reply) => {
    const s = await load(req, req.params['id']!);
    api.enforce(req, 'volume:delete_snapshot', s.project_id);
    await snapshots.delete(s);
    return reply.code(202).send();
  });

  api.route('POST', '/snapshots/:id/action', async (req, reply) => {
    const body = requireObject(req.body ?? null, 'body');
    const name = Object.keys(body)[0] ?? '';
    const inner = body[name] === null || body[name] === undefined ? {} : requireObject(body[name], name);
    const s = await load(req, req.params['id']!);
    switch (name) {
      case 'os-reset_status': {
        api.enforce(req, 'volume_extension:snapshot_admin_actions:reset_status', s.project_id);
        const status = optionalString(inner, 'status');
        if (!status) throw Errors.badRequest('Must specify status for update.');
        await snapshots.resetStatus(s, status.toLowerCase());
        break;
      }
      case 'os-update_snapshot_status': {
        api.enforce(req, 'snapshot_extension:snapshot_actions:update_snapshot_status', s.project_id);
        const status = optionalString(inner, 'status');
        if (!status) throw Errors.badRequest("'status' must be specified.");
        const progress = optionalString(inner, 'progress') ?? undefined;
        await snapshots.updateStatus(s, status, progress);
        break;
      }
      case 'os-force_delete':
        api.enforce(req, 'volume_extension:snapshot_admin_actions:force_delete', s.project_id);
        await snapshots.delete(s, true);
        break;
      case 'os-unmanage':
        api.enforce(req, 'volume_extension:snapshot_unmanage', s.project_id);
        await snapshots.destroyRecord(s);
        break;
      default:
        throw Errors.badRequest(`There is no such action: ${name}`);
    }
    return reply.code(202).send();
  });

  metadataRoutes(api, {
    collection: 'snapshots',
    resourceType: 'snapshot',
    load,
    rules: { read: 'volume:get_snapshot_metadata', write: 'volume:update_snapshot_metadata', delete: 'volume:delete_snapshot_metadata' },
  });
}
