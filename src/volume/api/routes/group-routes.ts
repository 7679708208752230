import { isUniqueViolation } from '../../../core/db/database.js';
import { Errors } from '../../../core/errors.js';
import { isoNow, newUuid } from '../../../core/ids.js';
import type { GroupRow, GroupSnapshotRow, GroupTypeRow } from '../../db/tables.js';
import { createGroupService } from '../../service/groups.js';
import { createSnapshotService } from '../../service/snapshots.js';
import type { VolumeActions } from '../../service/volume-actions.js';
import { visibleTo } from '../../service/volume-create.js';
import type { Req, VolumeApi } from '../context.js';
import { bodyOf, boolValue, optionalString, requireObject, type Json } from '../input.js';
import { lenientBool, parseListParams, queryValue } from '../listing.js';

const GROUP_STATUSES = ['creating', 'available', 'deleting', 'error', 'error_deleting', 'updating', 'in-use'];
const GROUP_SNAPSHOT_STATUSES = ['creating', 'available', 'deleting', 'error', 'error_deleting'];

function stringSpecs(value: unknown): Record<string, string> {
  const o = requireObject(value, 'group_specs');
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
}

/** Generic volume groups (3.13+), group types (3.11+) and group snapshots (3.14+). */
export function groupRoutes(api: VolumeApi, actions: VolumeActions): void {
  const { core } = api;
  const { repos } = core;
  const groups = createGroupService(core, actions, createSnapshotService(core));
  const actor = (req: Req) => {
    const c = api.caller(req);
    return { projectId: c.projectId, userId: c.userId, admin: c.admin, token: c.auth.token, requestId: String(req.id) };
  };

  // ---- group types ----
  const typeView = async (req: Req, t: GroupTypeRow) => {
    const out: Record<string, unknown> = { id: t.id, name: t.name, description: t.description, is_public: t.is_public === 1 };
    if (api.allowed(req, 'group:group_types_specs')) out['group_specs'] = await repos.groupTypes.specs(t.id);
    return out;
  };
  const loadType = async (req: Req, id: string) => {
    const t = await repos.groupTypes.get(id);
    if (!t || (t.is_public !== 1 && !api.caller(req).admin)) throw Errors.notFoundMessage(`Group type ${id} could not be found.`);
    return t;
  };

  api.route('GET', '/group_types', async (req) => {
    api.requireMv(req, '3.11');
    api.enforce(req, 'group:group_types:get');
    let rows = await repos.groupTypes.list();
    const raw = queryValue(req.query['is_public']);
    if (api.caller(req).admin) {
      if (raw === undefined) rows = rows.filter((t) => t.is_public === 1);
      else if (raw.toLowerCase() !== 'none') rows = rows.filter((t) => t.is_public === (lenientBool(raw) ? 1 : 0));
    } else rows = rows.filter((t) => t.is_public === 1);
    const p = parseListParams(req, { name: 'name', id: 'id', created_at: 'created_at', description: 'description', is_public: 'is_public' });
    const sort = p.sort[0]!;
    if (queryValue(req.query['sort']) || queryValue(req.query['sort_key'])) {
      const col = sort.column as keyof GroupTypeRow;
      rows.sort((a, b) => String(a[col] ?? '').localeCompare(String(b[col] ?? '')) * (sort.dir === 'asc' ? 1 : -1));
    }
    return { group_types: await Promise.all(rows.map((t) => typeView(req, t))) };
  });

  api.route('GET', '/group_types/default', async (req) => {
    api.requireMv(req, '3.11');
    throw Errors.notFoundMessage('Default group type could not be found.');
  });

  api.route('GET', '/group_types/:id', async (req) => {
    api.requireMv(req, '3.11');
    api.enforce(req, 'group:group_types:get');
    return { group_type: await typeView(req, await loadType(req, req.params['id']!)) };
  });

  api.route('POST', '/group_types', async (req, reply) => {
    api.requireMv(req, '3.11');
    api.enforce(req, 'group:group_types_manage');
    const body = bodyOf(req.body, 'group_type');
    const name = optionalString(body, 'name');
    if (!name || !name.trim()) throw Errors.badRequest('Group type name can not be empty.');
    const row: GroupTypeRow = {
      id: newUuid(), name: name.trim(), description: optionalString(body, 'description') ?? null,
      is_public: body['is_public'] === undefined ? 1 : boolValue(body['is_public'], 'is_public') ? 1 : 0, created_at: isoNow(), updated_at: null,
    };
    try {
      await repos.groupTypes.insert(row, body['group_specs'] === undefined ? {} : stringSpecs(body['group_specs']));
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`Group Type ${row.name} already exists.`);
      throw err;
    }
    reply.code(202);
    return { group_type: await typeView(req, row) };
  });

  api.route('PUT', '/group_types/:id', async (req) => {
    api.requireMv(req, '3.11');
    api.enforce(req, 'group:group_types_manage');
    const t = await loadType(req, req.params['id']!);
    const body = bodyOf(req.body, 'group_type');
    const patch: Partial<GroupTypeRow> = { updated_at: isoNow() };
    if (body['name'] !== undefined) {
      const name = optionalString(body, 'name');
      if (!name || !name.trim()) throw Errors.badRequest('Group type name can not be empty.');
      patch.name = name.trim();
    }
    if (body['description'] !== undefined) patch.description = optionalString(body, 'description') ?? null;
    if (body['is_public'] !== undefined) patch.is_public = boolValue(body['is_public'], 'is_public') ? 1 : 0;
    try {
      await repos.groupTypes.update(t.id, patch);
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`Group Type ${patch.name} already exists.`);
      throw err;
    }
    return { group_type: await typeView(req, (await repos.groupTypes.get(t.id))!) };
  });

  api.route('DELETE', '/group_types/:id', async (req, reply) => {
    api.requireMv(req, '3.11');
    api.enforce(req, 'group:group_types_manage');
    const t = await loadType(req, req.params['id']!);
    if (await repos.groupTypes.inUse(t.id)) throw Errors.badRequest(`Target group type ${t.id} is still in use.`);
    await repos.groupTypes.delete(t.id);
    return reply.code(202).send();
  });

  api.route('GET', '/group_types/:id/group_specs', async (req) => {
    api.requireMv(req, '3.11');
    api.enforce(req, 'group:group_types_specs');
    return { group_specs: await repos.groupTypes.specs((await loadType(req, req.params['id']!)).id) };
  });
  api.route('POST', '/group_types/:id/group_specs', async (req, reply) => {
    api.requireMv(req, '3.11');
    api.enforce(req, 'group:group_types_specs');
    const t = await loadType(req, req.params['id']!);
    const root = requireObject(req.body ?? null, 'body');
    const specs = stringSpecs(root['group_specs']);
    await repos.groupTypes.setSpecs(t.id, specs);
    reply.code(202);
    return { group_specs: specs };
  });
  api.route('GET', '/group_types/:id/group_specs/:key', async (req) => {
    api.requireMv(req, '3.11');
    api.enforce(req, 'group:group_types_specs');
    const specs = await repos.groupTypes.specs((await loadType(req, req.params['id']!)).id);
    const key = req.params['key']!;
    if (!(key in specs)) throw Errors.notFoundMessage(`Group Type ${req.params['id']} has no specs with key ${key}.`);
    return { [key]: specs[key] };
  });
  api.route('PUT', '/group_types/:id/group_specs/:key', async (req) => {
    api.requireMv(req, '3.11');
    api.enforce(req, 'group:group_types_specs');
    const t = await loadType(req, req.params['id']!);
    const body = stringSpecs(req.body);
    const key = req.params['key']!;
    if (!(key in body)) throw Errors.badRequest('Request body and URI mismatch');
    if (Object.keys(body).length > 1) throw Errors.badRequest('Request body contains too many items');
    await repos.groupTypes.setSpecs(t.id, body);
    return body;
  });
  api.route('DELETE', '/group_types/:id/group_specs/:key', async (req, reply) => {
    api.requireMv(req, '3.11');
    api.enforce(req, 'group:group_types_specs');
    const t = await loadType(req, req.params['id']!);
    if (!(await repos.groupTypes.deleteSpec(t.id, req.params['key']!))) throw Errors.notFoundMessage(`Group Type ${t.id} has no specs with key ${req.params['key']}.`);
    return reply.code(202).send();
  });

  // ---- groups ----
  const loadGroup = async (req: Req, id: string) => {
    const g = await repos.groups.get(id);
    if (!visibleTo(api.caller(req), g)) throw Errors.notFoundMessage(`Group ${id} could not be found.`);
    return g!;
  };
  const groupView = async (req: Req, g: GroupRow) => {
    const out: Record<string, unknown> = {
      id: g.id, status: g.status, availability_zone: g.availability_zone, created_at: g.created_at, name: g.name, description: g.description,
      group_type: g.group_type_id, volume_types: await repos.groupTypes.groupVolumeTypes(g.id),
    };
    if (api.atLeast(req, '3.14')) Object.assign(out, { group_snapshot_id: g.group_snapshot_id, source_group_id: g.source_group_id });
    if (api.atLeast(req, '3.25') && lenientBool(queryValue(req.query['list_volume']) ?? 'false')) out['volumes'] = (await groups.members(g.id)).map((v) => v.id);
    if (api.atLeast(req, '3.38')) out['replication_status'] = 'disabled';
    if (api.atLeast(req, '3.58') && api.caller(req).admin) out['project_id'] = g.project_id;
    return out;
  };
  const listGroups = async (req: Req, detail: boolean) => {
    api.requireMv(req, '3.13');
    api.enforce(req, 'group:get_all');
    const c = api.caller(req);
    const all = c.admin && lenientBool(queryValue(req.query['all_tenants']) ?? 'false');
    const eq: Json = {};
    const name = queryValue(req.query['name']);
    if (name) eq['name'] = name;
    const rows = await repos.groups.list({ ...(all ? {} : { projectId: c.projectId }), eq: eq as Record<string, string> }, { sort: [{ column: 'created_at', dir: 'desc' }] });
    return { groups: detail ? await Promise.all(rows.map((g) => groupView(req, g))) : rows.map((g) => ({ id: g.id, name: g.name })) };
  };
  const idList = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : Array.isArray(v) ? v.map(String) : []);

  api.route('GET', '/groups', async (req) => listGroups(req, false));
  api.route('GET', '/groups/detail', async (req) => listGroups(req, true));
  api.route('GET', '/groups/:id', async (req) => {
    api.requireMv(req, '3.13');
    const g = await loadGroup(req, req.params['id']!);
    api.enforce(req, 'group:get', g.project_id);
    return { group: await groupView(req, g) };
  });

  api.route('POST', '/groups', async (req, reply) => {
    api.requireMv(req, '3.13');
    api.enforce(req, 'group:create');
    const body = bodyOf(req.body, 'group');
    const groupType = optionalString(body, 'group_type');
    if (!groupType) throw Errors.badRequest("Invalid input for field/attribute group_type. 'group_type' is a required property");
    const az = optionalString(body, 'availability_zone') ?? undefined;
    const g = await groups.create(actor(req), {
      groupType, volumeTypes: idList(body['volume_types']), name: optionalString(body, 'name') ?? null, description: optionalString(body, 'description') ?? null,
      ...(az ? { availabilityZone: az } : {}),
    });
    reply.code(202);
    return { group: { id: g.id, name: g.name } };
  });

  api.route('PUT', '/groups/:id', async (req, reply) => {
    api.requireMv(req, '3.13');
    const g = await loadGroup(req, req.params['id']!);
    api.enforce(req, 'group:update', g.project_id);
    const body = bodyOf(req.body, 'group');
    await groups.update(actor(req), g, {
      ...(body['name'] !== undefined ? { name: optionalString(body, 'name') ?? null } : {}),
      ...(body['description'] !== undefined ? { description: optionalString(body, 'description') ?? null } : {}),
      add: idList(body['add_volumes']),
      remove: idList(body['remove_volumes']),
    });
    return reply.code(202).send();
  });

  api.route('POST', '/groups/action', async (req, reply) => {
    api.requireMv(req, '3.14');
    api.enforce(req, 'group:create');
    const body = bodyOf(req.body, 'create-from-src');
    const g = await groups.createFromSource(actor(req), {
      groupSnapshotId: optionalString(body, 'group_snapshot_id') ?? null,
      sourceGroupId: optionalString(body, 'source_group_id') ?? null,
      name: optionalString(body, 'name') ?? null,
      description: optionalString(body, 'description') ?? null,
    });
    reply.code(202);
    return { group: { id: g.id, name: g.name } };
  });

  api.route('POST', '/groups/:id/action', async (req, reply) => {
    api.requireMv(req, '3.13');
    const body = requireObject(req.body ?? null, 'body');
    const name = Object.keys(body)[0] ?? '';
    const g = await loadGroup(req, req.params['id']!);
    const inner = body[name] === null || body[name] === undefined ? {} : requireObject(body[name], name);
    if (name === 'delete') {
      api.enforce(req, 'group:delete', g.project_id);
      await groups.delete(g, inner['delete-volumes'] === undefined ? false : boolValue(inner['delete-volumes'], 'delete-volumes'));
    } else if (name === 'reset_status' && api.atLeast(req, '3.20')) {
      api.enforce(req, 'group:reset_status', g.project_id);
      const status = optionalString(inner, 'status');
      if (!status || !GROUP_STATUSES.includes(status)) throw Errors.badRequest(`Invalid input received: Invalid group status: ${status ?? ''}`);
      await repos.groups.update(g.id, { status });
    } else throw Errors.badRequest(`There is no such action: ${name}`);
    return reply.code(202).send();
  });

  // ---- group snapshots ----
  const loadGroupSnapshot = async (req: Req, id: string) => {
    const gs = await repos.groupSnapshots.get(id);
    if (!visibleTo(api.caller(req), gs)) throw Errors.notFoundMessage(`GroupSnapshot ${id} could not be found.`);
    return gs!;
  };
  const gsView = (req: Req, s: GroupSnapshotRow) => {
    const out: Record<string, unknown> = { id: s.id, group_id: s.group_id, group_type_id: s.group_type_id, status: s.status, created_at: s.created_at, name: s.name, description: s.description };
    if (api.atLeast(req, '3.58') && api.caller(req).admin) out['project_id'] = s.project_id;
    return out;
  };
  const listGroupSnapshots = async (req: Req, detail: boolean) => {
    api.requireMv(req, '3.14');
    api.enforce(req, 'group:get_all_group_snapshots');
    const c = api.caller(req);
    const all = c.admin && lenientBool(queryValue(req.query['all_tenants']) ?? 'false');
    const eq: Record<string, string> = {};
    for (const k of ['name', 'status', 'group_id']) {
      const v = queryValue(req.query[k]);
      if (v) eq[k] = v;
    }
    const rows = await repos.groupSnapshots.list({ ...(all ? {} : { projectId: c.projectId }), eq }, { sort: [{ column: 'created_at', dir: 'desc' }] });
    // Tempest's list schema allows only id and name (Cinder also sends group_type_id).
    return { group_snapshots: rows.map((s) => (detail ? gsView(req, s) : { id: s.id, name: s.name })) };
  };

  api.route('GET', '/group_snapshots', async (req) => listGroupSnapshots(req, false));
  api.route('GET', '/group_snapshots/detail', async (req) => listGroupSnapshots(req, true));
  api.route('GET', '/group_snapshots/:id', async (req) => {
    api.requireMv(req, '3.14');
    const gs = await loadGroupSnapshot(req, req.params['id']!);
    api.enforce(req, 'group:get_group_snapshot', gs.project_id);
    return { group_snapshot: gsView(req, gs) };
  });
  api.route('POST', '/group_snapshots', async (req, reply) => {
    api.requireMv(req, '3.14');
    api.enforce(req, 'group:create_group_snapshot');
    const body = bodyOf(req.body, 'group_snapshot');
    const groupId = optionalString(body, 'group_id');
    if (!groupId) throw Errors.badRequest("Invalid input for field/attribute group_id. 'group_id' is a required property");
    const gs = await groups.createSnapshot(actor(req), groupId, optionalString(body, 'name') ?? null, optionalString(body, 'description') ?? null);
    reply.code(202);
    return { group_snapshot: { id: gs.id, name: gs.name, group_type_id: gs.group_type_id } };
  });
  api.route('DELETE', '/group_snapshots/:id', async (req, reply) => {
    api.requireMv(req, '3.14');
    const gs = await loadGroupSnapshot(req, req.params['id']!);
    api.enforce(req, 'group:delete_group_snapshot', gs.project_id);
    await groups.deleteSnapshot(gs);
    return reply.code(202).send();
  });
  api.route('POST', '/group_snapshots/:id/action', async (req, reply) => {
    api.requireMv(req, '3.19');
    const body = requireObject(req.body ?? null, 'body');
    const gs = await loadGroupSnapshot(req, req.params['id']!);
    if (!('reset_status' in body)) throw Errors.badRequest(`There is no such action: ${Object.keys(body)[0] ?? ''}`);
    api.enforce(req, 'group:reset_group_snapshot_status', gs.project_id);
    const status = optionalString(requireObject(body['reset_status'], 'reset_status'), 'status');
    if (!status || !GROUP_SNAPSHOT_STATUSES.includes(status)) throw Errors.badRequest(`Invalid input received: Invalid group snapshot status: ${status ?? ''}`);
    await repos.groupSnapshots.update(gs.id, { status });
    return reply.code(202).send();
  });
}
