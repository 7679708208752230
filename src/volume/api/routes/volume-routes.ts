import { sql, type SqlBool } from 'kysely';
import { Errors } from '../../../core/errors.js';
import type { VolumeRow } from '../../db/tables.js';
import type { ListFilter } from '../../db/resource-repo.js';
import { createVolume, visibleTo } from '../../service/volume-create.js';
import type { VolumeActions } from '../../service/volume-actions.js';
import type { Req, VolumeApi } from '../context.js';
import { bodyOf, boolValue, optionalString, parseMetadata, positiveInt, rejectUnknown } from '../input.js';
import { lenientBool, literalValue, nextLinks, parseListParams, queryValue, strictBool } from '../listing.js';
import { loadVolumeViewData, volumeDetail, volumeSummary } from '../views/volume-view.js';
import { metadataRoutes } from './metadata-routes.js';

const SORT_COLUMNS: Record<string, string> = {
  id: 'id', created_at: 'created_at', updated_at: 'updated_at', size: 'size', status: 'status', name: 'name', display_name: 'name',
  availability_zone: 'availability_zone', bootable: 'bootable', user_id: 'user_id', project_id: 'project_id', host: 'host',
  volume_type_id: 'volume_type_id', migration_status: 'migration_status',
};
const USER_FILTERS = ['name', 'status', 'metadata', 'bootable', 'migration_status', 'availability_zone', 'group_id', 'size', 'created_at', 'updated_at', 'consumes_quota', 'name~', 'description~', 'glance_metadata'];
const ADMIN_COLUMNS = ['id', 'project_id', 'user_id', 'host', 'attach_status', 'multiattach', 'volume_type_id', 'snapshot_id', 'source_volid', 'description', 'display_description', 'volume_type', 'display_name'];
const CREATE_KEYS = ['size', 'name', 'display_name', 'description', 'display_description', 'volume_type', 'metadata', 'snapshot_id', 'source_volid', 'imageRef', 'image_id', 'availability_zone', 'consistencygroup_id', 'multiattach', 'scheduler_hints', 'group_id', 'backup_id'];

export async function getVisibleVolume(api: VolumeApi, req: Req, id: string): Promise<VolumeRow> {
  const c = api.caller(req);
  const v = await api.core.repos.volumes.get(id);
  if (!visibleTo(c, v)) throw Errors.notFoundMessage(`Volume ${id} could not be found.`);
  // Migration targets are internal to a migration: only admins see them.
  if (!c.admin && v!.migration_status?.startsWith('target:')) throw Errors.notFoundMessage(`Volume ${id} could not be found.`);
  return v!;
}

/** Builds the list filter from the query: owner scope, Cinder's allowed filters per microversion and role. */
export async function volumeFilter(api: VolumeApi, req: Req, raw: Record<string, string>): Promise<ListFilter> {
  const c = api.caller(req);
  const filters = { ...raw };
  const f: ListFilter = { eq: {}, like: {} };
  const allTenants = filters['all_tenants'] !== undefined && lenientBool(filters['all_tenants']);
  delete filters['all_tenants'];
  if (c.admin && allTenants) {
    if (filters['project_id'] !== undefined) f.projectId = filters['project_id'];
  } else f.projectId = c.projectId;
  delete filters['project_id'];
  if (!c.admin) f.where = sql<SqlBool>`(migration_status is null or migration_status not like 'target:%')`;
  for (const [key, value] of Object.entries(filters)) {
    if (!c.admin && !USER_FILTERS.includes(key)) {
      if (api.atLeast(req, '3.31')) throw Errors.badRequest(`Invalid input received: Invalid filters ${key} are found in query options.`);
      continue;
    }
    switch (key) {
      case 'name':
      case 'display_name':
        f.eq!['name'] = value;
        break;
      case 'description':
      case 'display_description':
        f.eq!['description'] = value;
        break;
      case 'metadata': {
        const m = literalValue(value);
        if (m && typeof m === 'object' && !Array.isArray(m)) f.metadata = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
        break;
      }
      case 'bootable':
        f.eq!['bootable'] = (api.atLeast(req, '3.2') ? strictBool('bootable', value) : lenientBool(value)) ? 1 : 0;
        break;
      case 'size':
        f.eq!['size'] = /^\d+$/.test(value) ? Number(value) : -1;
        break;
      case 'group_id':
        if (api.atLeast(req, '3.10')) f.eq!['group_id'] = value;
        break;
      case 'consumes_quota':
        if (api.atLeast(req, '3.65')) f.eq!['use_quota'] = strictBool('consumes_quota', value) ? 1 : 0;
        break;
      case 'name~':
      case 'description~':
        if (api.atLeast(req, '3.34')) f.like![key === 'name~' ? 'name' : 'description'] = value;
        break;
      case 'volume_type': {
        const t = (await api.core.repos.types.get(value)) ?? (await api.core.repos.types.getByName(value));
        f.eq!['volume_type_id'] = t?.id ?? value;
        break;
      }
      case 'multiattach':
        f.eq!['multiattach'] = lenientBool(value) ? 1 : 0;
        break;
      case 'created_at':
      case 'updated_at':
      case 'glance_metadata':
        // Time comparisons (3.60) and image-metadata filters are not supported; they filter nothing.
        break;
      default:
        if (['status', 'availability_zone', 'migration_status'].includes(key) || ADMIN_COLUMNS.includes(key)) f.eq![key] = value;
    }
  }
  return f;
}

/** /volumes: list, detail, summary, show, create, update, delete and metadata. */
export function volumeRoutes(api: VolumeApi, actions: VolumeActions): void {
  const { core } = api;
  const { repos } = core;

  async function list(req: Req, detail: boolean) {
    api.enforce(req, 'volume:get_all');
    const p = parseListParams(req, SORT_COLUMNS);
    const filter = await volumeFilter(api, req, p.filters);
    let marker: VolumeRow | undefined;
    if (p.marker !== undefined) {
      marker = await repos.volumes.get(p.marker);
      if (!marker || !visibleTo(api.caller(req), marker)) throw Errors.notFoundMessage(`Marker ${p.marker} could not be found.`);
    }
    const rows = await repos.volumes.list(filter, { sort: p.sort, limit: p.limit, offset: p.offset, marker: marker as unknown as Record<string, unknown> });
    const data = detail ? await loadVolumeViewData(core, rows) : undefined;
    const body: Record<string, unknown> = {
      volumes: rows.map((v) => (detail ? volumeDetail(api, req, v, data!, 'show') : volumeSummary(api, req, v))),
    };
    const links = nextLinks(api, req, detail ? 'volumes/detail' : 'volumes', rows, p.limit);
    if (links) body['volumes_links'] = links;
    if (api.atLeast(req, '3.45') && queryValue(req.query['with_count']) !== undefined && lenientBool(queryValue(req.query['with_count'])!)) {
      body['count'] = await repos.volumes.count(filter);
    }
    return body;
  }

  api.route('GET', '/volumes', async (req) => list(req, false));
  api.route('GET', '/volumes/detail', async (req) => list(req, true));

  api.route('GET', '/volumes/summary', async (req) => {
    api.requireMv(req, '3.12');
    api.enforce(req, 'volume_extension:list_volume_summary');
    const filters: Record<string, string> = {};
    const all = queryValue(req.query['all_tenants']);
    if (all !== undefined) filters['all_tenants'] = all;
    const filter = await volumeFilter(api, req, filters);
    const summary: Record<string, unknown> = { total_size: await repos.volumes.sum(filter, 'size'), total_count: await repos.volumes.count(filter) };
    if (api.atLeast(req, '3.36')) {
      const rows = await repos.volumes.all(filter);
      const meta = await repos.metadata.getMany('volume', rows.map((r) => r.id));
      const merged: Record<string, string[]> = {};
      for (const m of meta.values()) for (const [k, v] of Object.entries(m)) if (!(merged[k] ??= []).includes(v)) merged[k]!.push(v);
      summary['metadata'] = merged;
    }
    return { 'volume-summary': summary };
  });

  api.route('GET', '/volumes/:id', async (req) => {
    const v = await getVisibleVolume(api, req, req.params['id']!);
    api.enforce(req, 'volume:get', v.project_id);
    return { volume: volumeDetail(api, req, v, await loadVolumeViewData(core, [v]), 'show') };
  });

  api.route('POST', '/volumes', async (req, reply) => {
    const c = api.caller(req);
    api.enforce(req, 'volume:create');
    const body = bodyOf(req.body, 'volume');
    if (api.atLeast(req, '3.53')) rejectUnknown(body, CREATE_KEYS, 'volume');
    if (body['multiattach'] !== undefined && body['multiattach'] !== null && boolValue(body['multiattach'], 'multiattach')) {
      throw Errors.badRequest('multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. Contact your administrator to create a multiattach enabled volume type and use it to create multiattach volumes.');
    }
    const ref = (k: string) => {
      const v = optionalString(body, k);
      return v === null ? undefined : v;
    };
    let size: number | undefined;
    if (body['size'] !== undefined && body['size'] !== null) {
      size = positiveInt(body['size'], 'size', `Invalid input received: Invalid volume size provided for create request: ${String(body['size'])} (size argument must be an integer greater than zero)`);
    }
    const volume = await createVolume(
      core,
      { projectId: c.projectId, userId: c.userId, admin: c.admin, token: c.auth.token, requestId: String(req.id) },
      {
        size,
        name: optionalString(body, 'name') ?? optionalString(body, 'display_name') ?? null,
        description: optionalString(body, 'description', 65535) ?? optionalString(body, 'display_description', 65535) ?? null,
        volumeType: ref('volume_type'),
        metadata: body['metadata'] === undefined || body['metadata'] === null ? {} : parseMetadata(body['metadata']),
        snapshotId: ref('snapshot_id'),
        sourceVolid: ref('source_volid'),
        imageRef: ref('imageRef') ?? ref('image_id'),
        backupId: api.atLeast(req, '3.47') ? ref('backup_id') : undefined,
        availabilityZone: ref('availability_zone'),
        groupId: api.atLeast(req, '3.13') ? ref('group_id') : undefined,
      },
    );
    reply.code(202);
    return { volume: volumeDetail(api, req, volume, await loadVolumeViewData(core, [volume]), 'create') };
  });

  api.route('PUT', '/volumes/:id', async (req) => {
    const v = await getVisibleVolume(api, req, req.params['id']!);
    api.enforce(req, 'volume:update', v.project_id);
    const body = bodyOf(req.body, 'volume');
    const allowed = ['name', 'description', 'display_name', 'display_description', 'metadata'];
    if (api.atLeast(req, '3.53')) {
      rejectUnknown(body, allowed, 'volume');
      if (!Object.keys(body).length) throw Errors.badRequest("Invalid input for field/attribute volume. Value: {}. {} does not have enough properties");
    }
    const name = optionalString(body, 'name') ?? optionalString(body, 'display_name');
    const description = optionalString(body, 'description', 65535) ?? optionalString(body, 'display_description', 65535);
    await actions.update(v, {
      ...(name !== undefined || body['name'] === null || body['display_name'] === null ? { name: name ?? null } : {}),
      ...(description !== undefined || body['description'] === null ? { description: description ?? null } : {}),
      ...(body['metadata'] !== undefined ? { metadata: parseMetadata(body['metadata']) } : {}),
    });
    const fresh = (await repos.volumes.get(v.id))!;
    return { volume: volumeDetail(api, req, fresh, await loadVolumeViewData(core, [fresh]), 'create') };
  });

  api.route('DELETE', '/volumes/:id', async (req, reply) => {
    const v = await getVisibleVolume(api, req, req.params['id']!);
    api.enforce(req, 'volume:delete', v.project_id);
    const cascade = lenientBool(queryValue(req.query['cascade']) ?? 'false');
    const forceRaw = queryValue(req.query['force']);
    const force = api.atLeast(req, '3.23') && forceRaw !== undefined && lenientBool(forceRaw);
    if (force) api.enforce(req, 'volume:force_delete_param', v.project_id);
    await actions.delete(v, { cascade, force });
    return reply.code(202).send();
  });

  metadataRoutes(api, {
    collection: 'volumes',
    resourceType: 'volume',
    load: async (req, id) => getVisibleVolume(api, req, id),
    rules: { read: 'volume:get_volume_metadata', write: 'volume:update_volume_metadata', delete: 'volume:delete_volume_metadata' },
    guard: (v: VolumeRow) => {
      if (v.status === 'maintenance') throw Errors.badRequest('Invalid volume: Volume is in maintenance.');
    },
  });
}
