import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fromJson, isTrue, toJson } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import { isUniqueViolation } from '../../../core/db/database.js';
import { envelope, optBool, optString, queryString, reqString, type Json } from '../../../core/http/input.js';
import { newHexId } from '../../../core/ids.js';
import type { EndpointRow, RegionRow, ServiceRow } from '../../db/tables.js';
import { collectionLinks, type IdentityApi } from '../context.js';
import { extraOf, renderEndpoint as renderEndpointOf } from '../render.js';

type P = { Params: Record<string, string>; Querystring: Record<string, string | undefined> };
const INTERFACES = ['public', 'internal', 'admin'];

/** /v3/regions, /v3/services, /v3/endpoints. */
export function catalogRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { identity } = api;
  const repo = identity.repos.catalog;
  const auth = { preHandler: api.authenticate };

  const renderRegion = (req: FastifyRequest, r: RegionRow) => ({
    ...fromJson<Json>(r.extra, {}),
    id: r.id,
    description: r.description,
    parent_region_id: r.parent_region_id,
    links: { self: api.link(req, `/regions/${r.id}`) },
  });
  const renderService = (req: FastifyRequest, s: ServiceRow) => ({
    ...fromJson<Json>(s.extra, {}),
    id: s.id,
    type: s.type,
    name: s.name,
    description: s.description,
    enabled: isTrue(s.enabled),
    links: { self: api.link(req, `/services/${s.id}`) },
  });
  const renderEndpoint = (req: FastifyRequest, e: EndpointRow) => renderEndpointOf(api, req, e);

  // ---- regions
  const createRegion = async (req: FastifyRequest, id: string | undefined) => {
    api.enforce(req, 'identity:create_region');
    const r = envelope(req.body, 'region');
    if (id !== undefined && r['id'] !== undefined && r['id'] !== id) throw Errors.badRequest('The region id in the URL and body differ.');
    const regionId = id ?? optString(r, 'id', { min: 1, max: 255 }) ?? newHexId();
    const parent = optString(r, 'parent_region_id', { nullable: true }) ?? null;
    if (parent !== null && !(await repo.getRegion(parent))) throw Errors.notFound('region', parent);
    if (await repo.getRegion(regionId)) throw Errors.conflict(`Conflict occurred attempting to store region - Duplicate ID, ${regionId}.`);
    const row: RegionRow = {
      id: regionId,
      description: optString(r, 'description') ?? '',
      parent_region_id: parent,
      extra: toJson(extraOf(r, ['id', 'description', 'parent_region_id', 'links'])),
    };
    await repo.insertRegion(row);
    identity.changed();
    return row;
  };
  app.post('/v3/regions', auth, async (req, reply) => reply.code(201).send({ region: renderRegion(req, await createRegion(req, undefined)) }));
  app.put<P>('/v3/regions/:id', auth, async (req, reply) => reply.code(201).send({ region: renderRegion(req, await createRegion(req, req.params['id'])) }));
  app.get<P>('/v3/regions', auth, async (req) => {
    api.enforce(req, 'identity:list_regions');
    const rows = await repo.listRegions(queryString(req.query['parent_region_id']));
    return { regions: rows.map((r) => renderRegion(req, r)), links: collectionLinks(api, req) };
  });
  const region = async (id: string) => {
    const r = await repo.getRegion(id);
    if (!r) throw Errors.notFound('region', id);
    return r;
  };
  app.get<P>('/v3/regions/:id', auth, async (req) => {
    api.enforce(req, 'identity:get_region');
    return { region: renderRegion(req, await region(req.params['id']!)) };
  });
  app.patch<P>('/v3/regions/:id', auth, async (req) => {
    api.enforce(req, 'identity:update_region');
    const row = await region(req.params['id']!);
    const r = envelope(req.body, 'region');
    const set: Partial<RegionRow> = {};
    const description = optString(r, 'description');
    if (description != null) set.description = description;
    const parent = optString(r, 'parent_region_id', { nullable: true });
    if (parent !== undefined) {
      if (parent !== null && (parent === row.id || !(await repo.getRegion(parent)))) throw Errors.badRequest(`Invalid parent region: ${parent}`);
      set.parent_region_id = parent;
    }
    const extra = extraOf(r, ['id', 'description', 'parent_region_id', 'links']);
    if (Object.keys(extra).length) set.extra = toJson({ ...JSON.parse(row.extra), ...extra });
    if (Object.keys(set).length) await repo.updateRegion(row.id, set);
    identity.changed();
    return { region: renderRegion(req, await region(row.id)) };
  });
  app.delete<P>('/v3/regions/:id', auth, async (req, reply) => {
    api.enforce(req, 'identity:delete_region');
    const row = await region(req.params['id']!);
    if ((await repo.listRegions(row.id)).length > 0) throw Errors.forbidden('Cannot delete a region with child regions.');
    await repo.deleteRegion(row.id);
    identity.changed();
    return reply.code(204).send();
  });

  // ---- services
  app.post('/v3/services', auth, async (req, reply) => {
    api.enforce(req, 'identity:create_service');
    const s = envelope(req.body, 'service');
    const row: ServiceRow = {
      id: newHexId(),
      type: reqString(s, 'type', { min: 1, max: 255 }),
      name: optString(s, 'name', { max: 255 }) ?? '',
      description: optString(s, 'description') ?? '',
      enabled: optBool(s, 'enabled') === false ? 0 : 1,
      extra: toJson(extraOf(s, ['id', 'type', 'name', 'description', 'enabled', 'links'])),
    };
    // Nimbus registers its own services at bootstrap. An install guide then runs
    // `service create --name glance image`: answer with the existing service
    // instead of a duplicate, which would make every later `endpoint create …
    // image` fail with "Multiple service matches found" (documented in docs/compat.md).
    const same = (await repo.listServices({ type: row.type, name: row.name })).find((x) => x.enabled === 1);
    if (same && row.name !== '') return reply.code(201).send({ service: renderService(req, same) });
    await repo.insertService(row);
    identity.changed();
    return reply.code(201).send({ service: renderService(req, row) });
  });
  app.get<P>('/v3/services', auth, async (req) => {
    api.enforce(req, 'identity:list_services');
    const type = queryString(req.query['type']);
    const name = queryString(req.query['name']);
    const rows = await repo.listServices({ ...(type !== undefined ? { type } : {}), ...(name !== undefined ? { name } : {}) });
    return { services: rows.map((s) => renderService(req, s)), links: collectionLinks(api, req) };
  });
  const service = async (id: string) => {
    const s = await repo.getService(id);
    if (!s) throw Errors.notFound('service', id);
    return s;
  };
  app.get<P>('/v3/services/:id', auth, async (req) => {
    api.enforce(req, 'identity:get_service');
    return { service: renderService(req, await service(req.params['id']!)) };
  });
  app.patch<P>('/v3/services/:id', auth, async (req) => {
    api.enforce(req, 'identity:update_service');
    const row = await service(req.params['id']!);
    const s = envelope(req.body, 'service');
    const set: Partial<ServiceRow> = {};
    const type = optString(s, 'type', { min: 1, max: 255 });
    if (type) set.type = type;
    const name = optString(s, 'name', { max: 255 });
    if (name != null) set.name = name;
    const description = optString(s, 'description');
    if (description != null) set.description = description;
    const enabled = optBool(s, 'enabled');
    if (enabled !== undefined) set.enabled = enabled ? 1 : 0;
    const extra = extraOf(s, ['id', 'type', 'name', 'description', 'enabled', 'links']);
    if (Object.keys(extra).length) set.extra = toJson({ ...JSON.parse(row.extra), ...extra });
    if (Object.keys(set).length) await repo.updateService(row.id, set);
    identity.changed();
    return { service: renderService(req, await service(row.id)) };
  });
  app.delete<P>('/v3/services/:id', auth, async (req, reply) => {
    api.enforce(req, 'identity:delete_service');
    await repo.deleteService((await service(req.params['id']!)).id);
    identity.changed();
    return reply.code(204).send();
  });

  // ---- endpoints
  const checkInterface = (v: string) => {
    if (!INTERFACES.includes(v)) throw Errors.badRequest(`Invalid input for field 'interface': '${v}' is not one of ${INTERFACES.join(', ')}`);
    return v;
  };
  const checkUrl = (v: string) => {
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S+$/.test(v)) throw Errors.badRequest(`Invalid input for field 'url': '${v}' is not a valid URL`);
    return v;
  };
  const regionOf = async (e: Json): Promise<string | null | undefined> => {
    const byId = optString(e, 'region_id', { nullable: true, max: 255 });
    const legacy = optString(e, 'region', { nullable: true, max: 255 });
    const r = byId ?? legacy;
    if (r === undefined || r === null) return r;
    if (!(await repo.getRegion(r))) {
      if (byId !== undefined && byId !== null) throw Errors.badRequest(`Could not find region: ${r}.`);
      // Keystone still auto-creates a region named by the legacy `region` attribute.
      try {
        await repo.insertRegion({ id: r, description: '', parent_region_id: null, extra: '{}' });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    }
    return r;
  };
  app.post('/v3/endpoints', auth, async (req, reply) => {
    api.enforce(req, 'identity:create_endpoint');
    const e = envelope(req.body, 'endpoint');
    const serviceId = reqString(e, 'service_id');
    if (!(await repo.getService(serviceId))) throw Errors.badRequest(`Could not find service: ${serviceId}.`);
    const row: EndpointRow = {
      id: newHexId(),
      service_id: serviceId,
      interface: checkInterface(reqString(e, 'interface')),
      url: checkUrl(reqString(e, 'url', { max: 1024 })),
      region_id: (await regionOf(e)) ?? null,
      enabled: optBool(e, 'enabled') === false ? 0 : 1,
      extra: toJson(extraOf(e, ['id', 'service_id', 'interface', 'url', 'region', 'region_id', 'enabled', 'links'])),
    };
    await repo.insertEndpoint(row);
    identity.changed();
    return reply.code(201).send({ endpoint: renderEndpoint(req, row) });
  });
  app.get<P>('/v3/endpoints', auth, async (req) => {
    api.enforce(req, 'identity:list_endpoints');
    const f: Parameters<typeof repo.listEndpoints>[0] = {};
    const serviceId = queryString(req.query['service_id']);
    if (serviceId !== undefined) f.serviceId = serviceId;
    const iface = queryString(req.query['interface']);
    if (iface !== undefined) f.interface = iface;
    const regionId = queryString(req.query['region_id']);
    if (regionId !== undefined) f.regionId = regionId;
    const rows = await repo.listEndpoints(f);
    return { endpoints: rows.map((e) => renderEndpoint(req, e)), links: collectionLinks(api, req) };
  });
  const endpoint = async (id: string) => {
    const e = await repo.getEndpoint(id);
    if (!e) throw Errors.notFound('endpoint', id);
    return e;
  };
  app.get<P>('/v3/endpoints/:id', auth, async (req) => {
    api.enforce(req, 'identity:get_endpoint');
    return { endpoint: renderEndpoint(req, await endpoint(req.params['id']!)) };
  });
  app.patch<P>('/v3/endpoints/:id', auth, async (req) => {
    api.enforce(req, 'identity:update_endpoint');
    const row = await endpoint(req.params['id']!);
    const e = envelope(req.body, 'endpoint');
    const set: Partial<EndpointRow> = {};
    const serviceId = optString(e, 'service_id');
    if (serviceId) {
      if (!(await repo.getService(serviceId))) throw Errors.badRequest(`Could not find service: ${serviceId}.`);
      set.service_id = serviceId;
    }
    const iface = optString(e, 'interface');
    if (iface) set.interface = checkInterface(iface);
    const url = optString(e, 'url', { max: 1024 });
    if (url) set.url = checkUrl(url);
    const region = await regionOf(e);
    if (region !== undefined) set.region_id = region;
    const enabled = optBool(e, 'enabled');
    if (enabled !== undefined) set.enabled = enabled ? 1 : 0;
    const extra = extraOf(e, ['id', 'service_id', 'interface', 'url', 'region', 'region_id', 'enabled', 'links']);
    if (Object.keys(extra).length) set.extra = toJson({ ...JSON.parse(row.extra), ...extra });
    if (Object.keys(set).length) await repo.updateEndpoint(row.id, set);
    identity.changed();
    return { endpoint: renderEndpoint(req, await endpoint(row.id)) };
  });
  app.delete<P>('/v3/endpoints/:id', auth, async (req, reply) => {
    api.enforce(req, 'identity:delete_endpoint');
    await repo.deleteEndpoint((await endpoint(req.params['id']!)).id);
    identity.changed();
    return reply.code(204).send();
  });
}
