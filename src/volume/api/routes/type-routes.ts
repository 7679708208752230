import { isUniqueViolation } from '../../../core/db/database.js';
import { Errors } from '../../../core/errors.js';
import { isoNow, newUuid } from '../../../core/ids.js';
import type { VolumeTypeRow } from '../../db/tables.js';
import type { Req, VolumeApi } from '../context.js';
import { bodyOf, boolValue, optionalString, requireObject, type Json } from '../input.js';
import { queryValue } from '../listing.js';

/** Extra specs a non-admin may read (Cinder's user-visible keys). */
const USER_VISIBLE_SPECS = ['RESKEY:availability_zones', 'multiattach', 'replication_enabled'];
const SPEC_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;

function parseSpecs(value: unknown, field = 'extra_specs'): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw Errors.badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${JSON.stringify(value)} is not of type 'object'`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Json)) {
    if (!SPEC_KEY.test(k)) throw Errors.badRequest(`Invalid input for field/attribute ${field}. Value: ${k}. '${k}' does not match any of the regexes`);
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw Errors.badRequest(`Invalid input for field/attribute ${k}. Value: ${JSON.stringify(v)}.`);
    const s = v === null ? '' : String(v);
    if (s.length > 255) throw Errors.badRequest(`Invalid input for field/attribute ${k}. Value is too long`);
    out[k] = s;
  }
  return out;
}

/** /types: volume types, their extra specs, project access, encryption; and /default-types (3.62). */
export function typeRoutes(api: VolumeApi): void {
  const { core } = api;
  const { repos } = core;

  async function load(req: Req, id: string): Promise<VolumeTypeRow> {
    const t = await repos.types.get(id);
    const c = api.caller(req);
    if (!t || (t.is_public !== 1 && !c.admin && !(await repos.types.accessList(t.id)).includes(c.projectId))) {
      throw Errors.notFoundMessage(`Volume type ${id} could not be found.`);
    }
    return t;
  }

  async function view(req: Req, t: VolumeTypeRow, kind: 'show' | 'create' | 'update') {
    const admin = api.allowed(req, 'volume_extension:types_extra_specs:read_sensitive');
    let specs = await repos.types.specs(t.id);
    if (!admin) specs = Object.fromEntries(Object.entries(specs).filter(([k]) => USER_VISIBLE_SPECS.includes(k)));
    const out: Record<string, unknown> = { id: t.id, name: t.name, is_public: t.is_public === 1, description: t.description, extra_specs: specs };
    if (kind === 'show' && api.allowed(req, 'volume_extension:access_types_qos_specs_id')) out['qos_specs_id'] = t.qos_specs_id;
    if (kind !== 'update') out['os-volume-type-access:is_public'] = t.is_public === 1;
    return out;
  }

  const requireAdminType = async (req: Req, id: string) => {
    const t = await repos.types.get(id);
    if (!t) throw Errors.notFoundMessage(`Volume type ${id} could not be found.`);
    return t;
  };

  api.route('GET', '/types', async (req) => {
    api.enforce(req, 'volume_extension:type_get_all');
    const c = api.caller(req);
    let types = await repos.types.list();
    if (c.admin) {
      const raw = queryValue(req.query['is_public']);
      if (raw === undefined) types = types.filter((t) => t.is_public === 1);
      else if (raw.toLowerCase() !== 'none') {
        const s = raw.toLowerCase();
        if (!['true', 'false', '1', '0', 't', 'f', 'yes', 'no'].includes(s)) throw Errors.badRequest(`Invalid is_public filter [${raw}]`);
        const want = ['true', '1', 't', 'yes'].includes(s) ? 1 : 0;
        types = types.filter((t) => t.is_public === want);
      }
    } else {
      const mine = await repos.types.projectTypeIds(c.projectId);
      types = types.filter((t) => t.is_public === 1 || mine.includes(t.id));
    }
    return { volume_types: await Promise.all(types.map((t) => view(req, t, 'show'))) };
  });

  api.route('GET', '/types/default', async (req) => {
    api.enforce(req, 'volume_extension:type_get_all');
    return { volume_type: await view(req, await core.types.defaultFor(api.caller(req).projectId), 'show') };
  });

  api.route('GET', '/types/:id', async (req) => {
    api.enforce(req, 'volume_extension:types_manage:get');
    const id = req.params['id']!;
    if (id === 'default') return { volume_type: await view(req, await core.types.defaultFor(api.caller(req).projectId), 'show') };
    return { volume_type: await view(req, await load(req, id), 'show') };
  });

  api.route('POST', '/types', async (req) => {
    api.enforce(req, 'volume_extension:types_manage');
    const body = bodyOf(req.body, 'volume_type');
    const name = optionalString(body, 'name');
    if (!name || !name.trim()) throw Errors.badRequest("Invalid input for field/attribute name. Value: ''. '' is too short");
    const isPublic = body['os-volume-type-access:is_public'] === undefined ? true : boolValue(body['os-volume-type-access:is_public'], 'os-volume-type-access:is_public');
    const specs = body['extra_specs'] === undefined ? {} : parseSpecs(body['extra_specs']);
    const row: VolumeTypeRow = {
      id: newUuid(),
      name: name.trim(),
      description: optionalString(body, 'description') ?? null,
      is_public: isPublic ? 1 : 0,
      qos_specs_id: null,
      created_at: isoNow(),
      updated_at: null,
    };
    try {
      await repos.types.insert(row, specs);
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`Volume Type ${row.name} already exists.`);
      throw err;
    }
    return { volume_type: await view(req, row, 'create') };
  });

  api.route('PUT', '/types/:id', async (req) => {
    api.enforce(req, 'volume_extension:types_manage');
    const t = await requireAdminType(req, req.params['id']!);
    const body = bodyOf(req.body, 'volume_type');
    const patch: Partial<VolumeTypeRow> = {};
    if (body['name'] !== undefined) {
      const name = optionalString(body, 'name');
      if (!name || !name.trim()) throw Errors.badRequest('Invalid input received: Volume type name can not be empty.');
      patch.name = name.trim();
    }
    if (body['description'] !== undefined) patch.description = optionalString(body, 'description') ?? null;
    if (body['is_public'] !== undefined) patch.is_public = boolValue(body['is_public'], 'is_public') ? 1 : 0;
    if (!Object.keys(patch).length) throw Errors.badRequest('Invalid input received: Specify volume type name, description, is_public or a combination thereof.');
    if (patch.name && patch.name !== t.name && t.name === core.types.defaultTypeName) throw Errors.badRequest('Invalid volume type: The default volume type cannot be renamed.');
    try {
      await repos.types.update(t.id, { ...patch, updated_at: isoNow() });
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`Volume Type ${patch.name} already exists.`);
      throw err;
    }
    return { volume_type: await view(req, (await repos.types.get(t.id))!, 'update') };
  });

  api.route('DELETE', '/types/:id', async (req, reply) => {
    api.enforce(req, 'volume_extension:types_manage');
    const t = await requireAdminType(req, req.params['id']!);
    if (t.name === core.types.defaultTypeName) throw Errors.badRequest('Invalid volume type: Default volume type can not be deleted.');
    if ((await repos.types.listDefaultTypes()).some((d) => d.volume_type_id === t.id)) throw Errors.badRequest('Invalid volume type: Volume type is the default type of a project.');
    if (await repos.types.typeInUse(t.id)) throw Errors.badRequest('Target volume type is still in use.');
    await repos.types.delete(t.id);
    return reply.code(202).send();
  });

  // ---- extra specs ----
  const inUse = async (id: string) => {
    if (await repos.types.typeInUse(id)) throw Errors.badRequest('Volume Type is currently in use.');
  };

  api.route('GET', '/types/:id/extra_specs', async (req) => {
    api.enforce(req, 'volume_extension:type_get_all');
    const t = await load(req, req.params['id']!);
    return { extra_specs: ((await view(req, t, 'show')) as { extra_specs: Record<string, string> }).extra_specs };
  });

  api.route('POST', '/types/:id/extra_specs', async (req) => {
    api.enforce(req, 'volume_extension:types_extra_specs:create');
    const t = await requireAdminType(req, req.params['id']!);
    const root = requireObject(req.body ?? null, 'body');
    if (!('extra_specs' in root)) throw Errors.badRequest("Invalid input for field/attribute extra_specs. 'extra_specs' is a required property");
    const specs = parseSpecs(root['extra_specs']);
    await inUse(t.id);
    const merged = { ...(await repos.types.specs(t.id)), ...specs };
    if (merged['multiattach'] === '<is> True' && merged['cacheable'] === '<is> True') throw Errors.badRequest('cacheable cannot be set with multiattach.');
    await repos.types.setSpecs(t.id, specs);
    return { extra_specs: root['extra_specs'] };
  });

  api.route('GET', '/types/:id/extra_specs/:key', async (req) => {
    api.enforce(req, 'volume_extension:type_get_all');
    const t = await load(req, req.params['id']!);
    const specs = ((await view(req, t, 'show')) as { extra_specs: Record<string, string> }).extra_specs;
    const key = req.params['key']!;
    if (!(key in specs)) throw Errors.notFoundMessage(`Volume Type ${t.id} has no extra specs with key ${key}.`);
    return { [key]: specs[key] };
  });

  api.route('PUT', '/types/:id/extra_specs/:key', async (req) => {
    api.enforce(req, 'volume_extension:types_extra_specs:update');
    const t = await requireAdminType(req, req.params['id']!);
    if (req.body === null || req.body === undefined) throw Errors.badRequest('Malformed request body');
    const body = requireObject(req.body, 'body');
    const key = req.params['key']!;
    const specs = parseSpecs(body);
    if (Object.keys(specs).length > 1) throw Errors.badRequest('Request body contains too many items.');
    if (!(key in specs)) throw Errors.badRequest('Request body and URI mismatch');
    await inUse(t.id);
    await repos.types.setSpecs(t.id, specs);
    return body;
  });

  api.route('DELETE', '/types/:id/extra_specs/:key', async (req, reply) => {
    api.enforce(req, 'volume_extension:types_extra_specs:delete');
    const t = await requireAdminType(req, req.params['id']!);
    await inUse(t.id);
    if (!(await repos.types.deleteSpec(t.id, req.params['key']!))) throw Errors.notFoundMessage(`Volume Type ${t.id} has no extra specs with key ${req.params['key']}.`);
    return reply.code(202).send();
  });

  // ---- project access ----
  api.route('GET', '/types/:id/os-volume-type-access', async (req) => {
    api.enforce(req, 'volume_extension:volume_type_access');
    const t = await requireAdminType(req, req.params['id']!);
    if (t.is_public === 1) throw Errors.notFoundMessage(`Access list not available for public volume types.`);
    return { volume_type_access: (await repos.types.accessList(t.id)).map((p) => ({ volume_type_id: t.id, project_id: p })) };
  });

  api.route('POST', '/types/:id/action', async (req, reply) => {
    const body = requireObject(req.body ?? null, 'body');
    const name = Object.keys(body)[0] ?? '';
    if (name !== 'addProjectAccess' && name !== 'removeProjectAccess') throw Errors.badRequest(`There is no such action: ${name}`);
    api.enforce(req, `volume_extension:volume_type_access:${name}`);
    const t = await requireAdminType(req, req.params['id']!);
    const project = optionalString(requireObject(body[name], name), 'project');
    if (!project) throw Errors.badRequest('Missing required element project in request body.');
    if (t.is_public === 1) throw Errors.badRequest('Invalid volume type: Type access modification is not applicable to public volume type.');
    if (name === 'addProjectAccess') {
      try {
        await repos.types.addAccess(t.id, project);
      } catch (err) {
        if (isUniqueViolation(err)) throw Errors.conflict(`Volume type access for ${t.id} / ${project} combination already exists.`);
        throw err;
      }
    } else if (!(await repos.types.removeAccess(t.id, project))) {
      throw Errors.notFoundMessage(`Volume type access not found for ${t.id} / ${project} combination.`);
    }
    return reply.code(202).send();
  });

  encryptionRoutes(api, requireAdminType);
  defaultTypeRoutes(api);
}

function encryptionRoutes(api: VolumeApi, requireType: (req: Req, id: string) => Promise<VolumeTypeRow>): void {
  const { repos } = api.core;
  const parse = (body: Json, create: boolean) => {
    const out: { provider?: string; cipher?: string | null; key_size?: number | null; control_location?: string } = {};
    const provider = optionalString(body, 'provider');
    if (provider !== undefined && provider !== null) out.provider = provider;
    else if (create) throw Errors.badRequest("Invalid input for field/attribute provider. 'provider' is a required property");
    const location = optionalString(body, 'control_location');
    if (location !== undefined && location !== null) {
      if (!['front-end', 'back-end'].includes(location)) throw Errors.badRequest(`Invalid input received: Valid control location are: ['front-end', 'back-end']`);
      out.control_location = location;
    } else if (create) throw Errors.badRequest("Invalid input for field/attribute control_location. 'control_location' is a required property");
    if (body['cipher'] !== undefined) out.cipher = optionalString(body, 'cipher') ?? null;
    if (body['key_size'] !== undefined) {
      const k = body['key_size'];
      if (k === null) out.key_size = null;
      else if ((typeof k === 'number' && Number.isInteger(k)) || (typeof k === 'string' && /^\d+$/.test(k))) out.key_size = Number(k);
      else throw Errors.badRequest(`Invalid input for field/attribute key_size. Value: ${JSON.stringify(k)}.`);
    }
    return out;
  };

  api.route('GET', '/types/:id/encryption', async (req) => {
    api.enforce(req, 'volume_extension:volume_type_encryption');
    const t = await requireType(req, req.params['id']!);
    const e = await repos.types.encryption(t.id);
    if (!e) return {};
    return {
      volume_type_id: t.id, encryption_id: e.encryption_id, key_size: e.key_size, provider: e.provider, control_location: e.control_location,
      cipher: e.cipher, deleted: false, created_at: e.created_at, updated_at: e.updated_at, deleted_at: null,
    };
  });

  api.route('GET', '/types/:id/encryption/:key', async (req) => {
    api.enforce(req, 'volume_extension:volume_type_encryption');
    const t = await requireType(req, req.params['id']!);
    const e = await repos.types.encryption(t.id);
    const key = req.params['key']!;
    const values: Record<string, unknown> = e ? { provider: e.provider, cipher: e.cipher, key_size: e.key_size, control_location: e.control_location, encryption_id: e.encryption_id, volume_type_id: t.id } : {};
    if (!(key in values)) throw Errors.notFoundMessage(`Volume type encryption for type ${t.id} has no key ${key}.`);
    return { [key]: values[key] };
  });

  api.route('POST', '/types/:id/encryption', async (req) => {
    api.enforce(req, 'volume_extension:volume_type_encryption');
    const t = await requireType(req, req.params['id']!);
    const body = bodyOf(req.body, 'encryption');
    if (await repos.types.typeInUse(t.id)) throw Errors.badRequest('Cannot create encryption specs. Volume type in use.');
    if (await repos.types.encryption(t.id)) throw Errors.badRequest(`Volume type encryption for type ${t.id} already exists.`);
    const e = parse(body, true);
    const row = {
      type_id: t.id, encryption_id: newUuid(), provider: e.provider!, cipher: e.cipher ?? null, key_size: e.key_size ?? null,
      control_location: e.control_location!, created_at: isoNow(), updated_at: null,
    };
    await repos.types.insertEncryption(row);
    return { encryption: { ...body, volume_type_id: t.id, encryption_id: row.encryption_id } };
  });

  api.route('PUT', '/types/:id/encryption/:key', async (req) => {
    api.enforce(req, 'volume_extension:volume_type_encryption');
    const t = await requireType(req, req.params['id']!);
    const body = bodyOf(req.body, 'encryption');
    if (await repos.types.typeInUse(t.id)) throw Errors.badRequest('Cannot update encryption specs. Volume type in use.');
    if (!(await repos.types.encryption(t.id))) throw Errors.notFoundMessage(`Volume type encryption for type ${t.id} does not exist.`);
    await repos.types.updateEncryption(t.id, { ...parse(body, false), updated_at: isoNow() });
    return { encryption: body };
  });

  api.route('DELETE', '/types/:id/encryption/:key', async (req, reply) => {
    api.enforce(req, 'volume_extension:volume_type_encryption');
    const t = await requireType(req, req.params['id']!);
    if (await repos.types.typeInUse(t.id)) throw Errors.badRequest('Cannot delete encryption specs. Volume type in use.');
    if (!(await repos.types.encryption(t.id))) throw Errors.notFoundMessage(`Volume type encryption for type ${t.id} does not exist.`);
    await repos.types.deleteEncryption(t.id);
    return reply.code(202).send();
  });
}

/** 3.62: per-project default volume types. */
function defaultTypeRoutes(api: VolumeApi): void {
  const { repos } = api.core;
  const view = (d: { project_id: string; volume_type_id: string }) => ({ project_id: d.project_id, volume_type_id: d.volume_type_id });

  api.route('GET', '/default-types', async (req) => {
    api.requireMv(req, '3.62');
    api.enforce(req, 'volume:get_all_default_types');
    return { default_types: (await repos.types.listDefaultTypes()).map(view) };
  });
  api.route('GET', '/default-types/:project', async (req) => {
    api.requireMv(req, '3.62');
    api.enforce(req, 'volume:get_default_type');
    const typeId = await repos.types.defaultTypeOf(req.params['project']!);
    if (!typeId) throw Errors.notFoundMessage(`Default type for project ${req.params['project']} could not be found.`);
    return { default_type: view({ project_id: req.params['project']!, volume_type_id: typeId }) };
  });
  api.route('PUT', '/default-types/:project', async (req) => {
    api.requireMv(req, '3.62');
    api.enforce(req, 'volume:update_default_type');
    const body = bodyOf(req.body, 'default_type');
    const ref = optionalString(body, 'volume_type');
    if (!ref) throw Errors.badRequest("Invalid input for field/attribute volume_type. 'volume_type' is a required property");
    const t = (await repos.types.get(ref)) ?? (await repos.types.getByName(ref));
    if (!t) throw Errors.notFoundMessage(`Volume type ${ref} could not be found.`);
    await repos.types.setDefaultType(req.params['project']!, t.id);
    return { default_type: view({ project_id: req.params['project']!, volume_type_id: t.id }) };
  });
  api.route('DELETE', '/default-types/:project', async (req, reply) => {
    api.requireMv(req, '3.62');
    api.enforce(req, 'volume:delete_default_type');
    if (!(await repos.types.deleteDefaultType(req.params['project']!))) throw Errors.notFoundMessage(`Default type for project ${req.params['project']} could not be found.`);
    return reply.code(204).send();
  });
}
