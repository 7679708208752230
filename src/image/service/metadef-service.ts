import { Errors } from '../../core/errors.js';
import { fromJson } from '../../core/db/columns.js';
import { isUniqueViolation } from '../../core/db/database.js';
import { newUuid } from '../../core/ids.js';
import type { MetadefRepo } from '../db/metadef-repo.js';
import type { MdItemRow, MdNamespaceRow } from '../db/tables.js';
import type { Caller } from './caller.js';
import type { ImagePolicy } from './policy.js';
import { toApiTime, toStoredTime } from './time.js';

type Json = Record<string, unknown>;
type Kind = MdItemRow['kind'];

const NAME_RE = /^[^\s/][^/]{0,79}$/;

function requireBody(body: unknown): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw Errors.badRequest('Body expected in request.');
  return body as Json;
}

function requireName(o: Json, key = 'name'): string {
  const v = o[key];
  if (typeof v !== 'string' || !NAME_RE.test(v)) throw Errors.badRequest(`Invalid '${key}': a string of 1 to 80 characters without '/' is required.`);
  return v;
}

function optText(o: Json, key: string): string | null | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (v !== null && typeof v !== 'string') throw Errors.badRequest(`Invalid '${key}': expected a string.`);
  return v as string | null;
}

/**
 * Glance's metadata definitions catalog: namespaces (public, or private to
 * their owner) grouping property definitions, objects and tags, and the
 * resource types they apply to. Writes are admin-only by default policy.
 */
export function createMetadefService(deps: { repo: MetadefRepo; policy: ImagePolicy }) {
  const { repo, policy } = deps;

  const canSee = (ns: MdNamespaceRow, caller: Caller) => caller.admin || ns.visibility === 'public' || ns.owner === caller.projectId;

  async function namespace(caller: Caller, name: string): Promise<MdNamespaceRow> {
    const ns = await repo.namespace(name);
    if (!ns || !canSee(ns, caller)) throw Errors.notFoundMessage(`Metadata definition namespace=${name} was not found.`);
    return ns;
  }

  async function writableNamespace(caller: Caller, name: string, rule: string): Promise<MdNamespaceRow> {
    const ns = await namespace(caller, name);
    policy.authorize(caller, rule, null);
    return ns;
  }

  function renderNamespace(ns: MdNamespaceRow): Json {
    const out: Json = {
      namespace: ns.namespace,
      visibility: ns.visibility,
      protected: ns.protected === 1,
      owner: ns.owner,
      created_at: toApiTime(ns.created_at),
      updated_at: toApiTime(ns.updated_at),
      schema: '/v2/schemas/metadefs/namespace',
      self: `/v2/metadefs/namespaces/${ns.namespace}`,
    };
    if (ns.display_name !== null) out['display_name'] = ns.display_name;
    if (ns.description !== null) out['description'] = ns.description;
    return out;
  }

  async function associationsOf(ids: string[]): Promise<Map<string, Json[]>> {
    const out = new Map<string, Json[]>();
    for (const a of await repo.associations(ids)) {
      const item: Json = { name: a.resource_type, created_at: toApiTime(a.created_at), updated_at: toApiTime(a.updated_at) };
      if (a.prefix !== null) item['prefix'] = a.prefix;
      if (a.properties_target !== null) item['properties_target'] = a.properties_target;
      out.set(a.namespace_id, [...(out.get(a.namespace_id) ?? []), item]);
    }
    return out;
  }

  function renderItem(ns: MdNamespaceRow, row: MdItemRow): Json {
    const body = fromJson<Json>(row.body, {});
    if (row.kind === 'property') return { name: row.name, ...body };
    const times = { created_at: toApiTime(row.created_at), updated_at: toApiTime(row.updated_at) };
    if (row.kind === 'tag') return { name: row.name, ...times };
    return {
      name: row.name,
      properties: {},
      required: [],
      ...body,
      ...times,
      schema: '/v2/schemas/metadefs/object',
      self: `/v2/metadefs/namespaces/${ns.namespace}/objects/${row.name}`,
    };
  }

  async function addItem(ns: MdNamespaceRow, kind: Kind, name: string, body: Json): Promise<MdItemRow> {
    const now = toStoredTime();
    const row: MdItemRow = { namespace_id: ns.id, kind, name, body: JSON.stringify(body), created_at: now, updated_at: now };
    try {
      await repo.insertItem(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`A metadata definition ${kind} with name=${name} already exists in namespace=${ns.namespace}.`);
      throw err;
    }
    return row;
  }

  async function item(ns: MdNamespaceRow, kind: Kind, name: string): Promise<MdItemRow> {
    const row = await repo.item(ns.id, kind, name);
    if (!row) throw Errors.notFoundMessage(`The metadata definition ${kind} with name=${name} was not found in namespace=${ns.namespace}.`);
    return row;
  }

  /** Property/object definition bodies: everything but the name and read-only keys, kept as given. */
  function definition(o: Json, kind: Kind): Json {
    const { name: _n, created_at: _c, updated_at: _u, schema: _s, self: _self, ...rest } = o;
    if (kind === 'property') {
      if (typeof rest['title'] !== 'string') throw Errors.badRequest("'title' is a required property");
      if (typeof rest['type'] !== 'string') throw Errors.badRequest("'type' is a required property");
    }
    return rest;
  }

  async function updateItem(caller: Caller, nsName: string, kind: Kind, name: string, body: unknown, rule: string): Promise<Json> {
    const ns = await writableNamespace(caller, nsName, rule);
    const row = await item(ns, kind, name);
    const o = requireBody(body);
    const newName = requireName(o);
    const now = toStoredTime();
    const content = kind === 'tag' ? {} : definition(o, kind);
    try {
      await repo.updateItem(ns.id, kind, name, { name: newName, body: JSON.stringify(content), updated_at: now });
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`A metadata definition ${kind} with name=${newName} already exists in namespace=${ns.namespace}.`);
      throw err;
    }
    return renderItem(ns, { ...row, name: newName, body: JSON.stringify(content), updated_at: now });
  }

  return {
    async resourceTypes(caller: Caller): Promise<Json> {
      policy.authorize(caller, 'list_metadef_resource_types', null);
      const rows = await repo.resourceTypes();
      return { resource_types: rows.map((r) => ({ name: r.name, created_at: toApiTime(r.created_at), updated_at: toApiTime(r.updated_at) })) };
    },

    async createNamespace(caller: Caller, body: unknown): Promise<Json> {
      policy.authorize(caller, 'add_metadef_namespace', null);
      const o = requireBody(body);
      const name = requireName(o, 'namespace');
      const visibility = o['visibility'] ?? 'private';
      if (visibility !== 'public' && visibility !== 'private') throw Errors.badRequest(`Invalid visibility: ${String(visibility)}`);
      if (o['protected'] !== undefined && typeof o['protected'] !== 'boolean') throw Errors.badRequest("'protected' must be a boolean");
      const owner = typeof o['owner'] === 'string' && caller.admin ? o['owner'] : (caller.projectId ?? '');
      const now = toStoredTime();
      const ns: MdNamespaceRow = {
        id: newUuid(),
        namespace: name,
        display_name: optText(o, 'display_name') ?? null,
        description: optText(o, 'description') ?? null,
        visibility,
        protected: o['protected'] ? 1 : 0,
        owner,
        created_at: now,
        updated_at: now,
      };
      try {
        await repo.insertNamespace(ns);
      } catch (err) {
        if (isUniqueViolation(err)) throw Errors.conflict(`The metadata definition namespace=${name} already exists.`);
        throw err;
      }
      const out = renderNamespace(ns);
      const assocs = o['resource_type_associations'];
      if (Array.isArray(assocs)) {
        const shown: Json[] = [];
        for (const a of assocs) shown.push(await this.addAssociationTo(ns, requireBody(a)));
        out['resource_type_associations'] = shown;
      }
      for (const [key, kind] of [['objects', 'object'], ['tags', 'tag']] as const) {
        const list = o[key];
        if (Array.isArray(list)) for (const it of list) await addItem(ns, kind, requireName(requireBody(it)), kind === 'tag' ? {} : definition(requireBody(it), kind));
      }
      const props = o['properties'];
      if (props && typeof props === 'object' && !Array.isArray(props)) {
        for (const [pname, def] of Object.entries(props as Json)) await addItem(ns, 'property', pname, definition(requireBody(def), 'property'));
      }
      return out;
    },

    async addAssociationTo(ns: MdNamespaceRow, o: Json): Promise<Json> {
      const name = requireName(o);
      const now = toStoredTime();
      await repo.ensureResourceType(name, now);
      const prefix = optText(o, 'prefix') ?? null;
      const target = optText(o, 'properties_target') ?? null;
      try {
        await repo.insertAssociation({ namespace_id: ns.id, resource_type: name, prefix, properties_target: target, created_at: now, updated_at: now });
      } catch (err) {
        if (isUniqueViolation(err)) throw Errors.conflict(`The metadata definition resource-type association of resource-type=${name} to namespace=${ns.namespace}, already exists.`);
        throw err;
      }
      const out: Json = { name, created_at: toApiTime(now), updated_at: toApiTime(now) };
      if (prefix !== null) out['prefix'] = prefix;
      if (target !== null) out['properties_target'] = target;
      return out;
    },

    async listNamespaces(caller: Caller, filters: { visibility?: string; resourceTypes?: string[] }): Promise<Json> {
      policy.authorize(caller, 'get_metadef_namespaces', null);
      let rows = (await repo.namespaces()).filter((ns) => canSee(ns, caller));
      if (filters.visibility) rows = rows.filter((ns) => ns.visibility === filters.visibility);
      const assocs = await associationsOf(rows.map((r) => r.id));
      if (filters.resourceTypes?.length) {
        rows = rows.filter((ns) => (assocs.get(ns.id) ?? []).some((a) => filters.resourceTypes!.includes(a['name'] as string)));
      }
      return {
        namespaces: rows.map((ns) => ({ ...renderNamespace(ns), resource_type_associations: assocs.get(ns.id) ?? [] })),
        first: '/v2/metadefs/namespaces',
        schema: '/v2/schemas/metadefs/namespaces',
      };
    },

    async showNamespace(caller: Caller, name: string): Promise<Json> {
      const ns = await namespace(caller, name);
      policy.authorize(caller, 'get_metadef_namespace', null);
      const out: Json = { ...renderNamespace(ns), resource_type_associations: (await associationsOf([ns.id])).get(ns.id) ?? [] };
      const props = await repo.items(ns.id, 'property');
      if (props.length) out['properties'] = Object.fromEntries(props.map((p) => { const { name: n, ...rest } = renderItem(ns, p); return [n as string, rest]; }));
      const objects = await repo.items(ns.id, 'object');
      if (objects.length) out['objects'] = objects.map((r) => renderItem(ns, r));
      const tags = await repo.items(ns.id, 'tag');
      if (tags.length) out['tags'] = tags.map((r) => ({ name: r.name }));
      return out;
    },

    async updateNamespace(caller: Caller, name: string, body: unknown): Promise<Json> {
      const ns = await writableNamespace(caller, name, 'modify_metadef_namespace');
      const o = requireBody(body);
      const newName = o['namespace'] === undefined ? ns.namespace : requireName(o, 'namespace');
      const visibility = o['visibility'] ?? ns.visibility;
      if (visibility !== 'public' && visibility !== 'private') throw Errors.badRequest(`Invalid visibility: ${String(visibility)}`);
      if (o['protected'] !== undefined && typeof o['protected'] !== 'boolean') throw Errors.badRequest("'protected' must be a boolean");
      const next: MdNamespaceRow = {
        ...ns,
        namespace: newName,
        display_name: optText(o, 'display_name') ?? ns.display_name,
        description: optText(o, 'description') ?? ns.description,
        visibility,
        protected: o['protected'] === undefined ? ns.protected : o['protected'] ? 1 : 0,
        updated_at: toStoredTime(),
      };
      try {
        await repo.updateNamespace(ns.id, next);
      } catch (err) {
        if (isUniqueViolation(err)) throw Errors.conflict(`The metadata definition namespace=${newName} already exists.`);
        throw err;
      }
      return renderNamespace(next);
    },

    async deleteNamespace(caller: Caller, name: string): Promise<void> {
      const ns = await writableNamespace(caller, name, 'delete_metadef_namespace');
      if (ns.protected) throw Errors.forbidden(`Metadata definition namespace ${name} is protected and cannot be deleted.`);
      await repo.deleteNamespace(ns.id);
    },

    async addAssociation(caller: Caller, nsName: string, body: unknown): Promise<Json> {
      const ns = await writableNamespace(caller, nsName, 'add_metadef_resource_type_association');
      return this.addAssociationTo(ns, requireBody(body));
    },

    async listAssociations(caller: Caller, nsName: string): Promise<Json> {
      const ns = await namespace(caller, nsName);
      return { resource_type_associations: (await associationsOf([ns.id])).get(ns.id) ?? [] };
    },

    async deleteAssociation(caller: Caller, nsName: string, type: string): Promise<void> {
      const ns = await writableNamespace(caller, nsName, 'remove_metadef_resource_type_association');
      if (!(await repo.deleteAssociation(ns.id, type))) {
        throw Errors.notFoundMessage(`Failed to find resource type ${type} associated with namespace ${nsName}.`);
      }
    },

    async addItem(caller: Caller, nsName: string, kind: Kind, body: unknown, nameFromPath?: string): Promise<Json> {
      const ns = await writableNamespace(caller, nsName, `add_metadef_${kind}`);
      const o = body === undefined && kind === 'tag' ? {} : requireBody(body);
      const name = nameFromPath ?? requireName(o);
      if (nameFromPath !== undefined && !NAME_RE.test(name)) throw Errors.badRequest(`Invalid tag name ${name}.`);
      const row = await addItem(ns, kind, name, kind === 'tag' ? {} : definition(o, kind));
      return renderItem(ns, row);
    },

    async listItems(caller: Caller, nsName: string, kind: Kind): Promise<Json> {
      const ns = await namespace(caller, nsName);
      const rows = await repo.items(ns.id, kind);
      if (kind === 'property') {
        return { properties: Object.fromEntries(rows.map((r) => { const { name: n, ...rest } = renderItem(ns, r); return [n as string, rest]; })) };
      }
      if (kind === 'tag') return { tags: rows.map((r) => renderItem(ns, r)) };
      return { objects: rows.map((r) => renderItem(ns, r)), schema: 'v2/schemas/metadefs/objects' };
    },

    async showItem(caller: Caller, nsName: string, kind: Kind, name: string): Promise<Json> {
      const ns = await namespace(caller, nsName);
      return renderItem(ns, await item(ns, kind, name));
    },

    updateItem: (caller: Caller, nsName: string, kind: Kind, name: string, body: unknown) =>
      updateItem(caller, nsName, kind, name, body, kind === 'object' ? 'modify_metadef_object' : `modify_metadef_${kind}`),

    async deleteItem(caller: Caller, nsName: string, kind: Kind, name: string): Promise<void> {
      const ns = await writableNamespace(caller, nsName, kind === 'object' ? 'delete_metadef_object' : kind === 'tag' ? 'delete_metadef_tag' : 'remove_metadef_property');
      if (!(await repo.deleteItems(ns.id, kind, name))) await item(ns, kind, name);
    },

    /** POST .../tags {"tags": [...]}: replaces all tags unless `append`. */
    async replaceTags(caller: Caller, nsName: string, body: unknown, append: boolean): Promise<Json> {
      const ns = await writableNamespace(caller, nsName, 'add_metadef_tags');
      const list = requireBody(body)['tags'];
      if (!Array.isArray(list)) throw Errors.badRequest("'tags' is a required property");
      const names = list.map((t) => requireName(requireBody(t)));
      if (new Set(names).size !== names.length) throw Errors.conflict('Duplicate tags in the request.');
      if (!append) await repo.deleteItems(ns.id, 'tag');
      const created: Json[] = [];
      for (const n of names) created.push({ name: (await addItem(ns, 'tag', n, {})).name });
      return { tags: created };
    },

    async deleteTags(caller: Caller, nsName: string): Promise<void> {
      const ns = await writableNamespace(caller, nsName, 'delete_metadef_tags');
      await repo.deleteItems(ns.id, 'tag');
    },
  };
}

export type MetadefService = ReturnType<typeof createMetadefService>;
