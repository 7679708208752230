import type { FastifyInstance } from 'fastify';
import * as fips from '../../service/floating-ips.js';
import { listAvailability, showAvailability } from '../../service/ip-availability.js';
import * as quotas from '../../service/quotas.js';
import * as routers from '../../service/routers.js';
import * as tags from '../../service/tags.js';
import { parseAttrs, requireBody, unwrap } from '../attributes.js';
import type { NetworkApi, Params } from '../context.js';
import { parseFields, selectFields, values } from '../query.js';
import { portForwardingAttrs, routerAttrs } from '../resource-attrs.js';

/** Router interfaces, tags, quotas, port forwardings, availability zones and IP availability. */
export function actionRoutes(app: FastifyInstance, api: NetworkApi): void {
  const { deps } = api;
  const auth = { preHandler: api.authenticate };

  // ---- router interfaces
  app.put<Params>('/v2.0/routers/:id/add_router_interface', auth, async (req) => routers.addInterface(deps, api.caller(req), req.params['id']!, requireBody(req.body)));
  app.put<Params>('/v2.0/routers/:id/remove_router_interface', auth, async (req) =>
    routers.removeInterface(deps, api.caller(req), req.params['id']!, requireBody(req.body)),
  );

  for (const op of ['add', 'remove'] as const) {
    app.put<Params>(`/v2.0/routers/:id/${op}_extraroutes`, auth, async (req) => {
      const attrs = parseAttrs(unwrap(req.body, 'router'), { routes: routerAttrs['routes']! }, 'update');
      return { router: await routers.editRoutes(deps, api.caller(req), req.params['id']!, (attrs['routes'] as Array<{ destination: string; nexthop: string }> | undefined) ?? [], op) };
    });
  }

  // ---- tags
  const collections = Object.keys(tags.TAGGABLE);
  for (const coll of collections) {
    app.get<Params>(`/v2.0/${coll}/:id/tags`, auth, async (req) => ({ tags: await tags.listTags(deps, api.caller(req), coll, req.params['id']!) }));
    app.put<Params>(`/v2.0/${coll}/:id/tags`, auth, async (req) => {
      const body = requireBody(req.body);
      return { tags: await tags.replaceTags(deps, api.caller(req), coll, req.params['id']!, body['tags']) };
    });
    app.delete<Params>(`/v2.0/${coll}/:id/tags`, auth, async (req, reply) => {
      await tags.removeAllTags(deps, api.caller(req), coll, req.params['id']!);
      return reply.code(204).send();
    });
    app.get<Params>(`/v2.0/${coll}/:id/tags/:tag`, auth, async (req, reply) => {
      await tags.hasTag(deps, api.caller(req), coll, req.params['id']!, req.params['tag']!);
      return reply.code(204).send();
    });
    app.put<Params>(`/v2.0/${coll}/:id/tags/:tag`, auth, async (req, reply) => {
      await tags.addTag(deps, api.caller(req), coll, req.params['id']!, req.params['tag']!);
      return reply.code(201).send();
    });
    app.delete<Params>(`/v2.0/${coll}/:id/tags/:tag`, auth, async (req, reply) => {
      await tags.removeTag(deps, api.caller(req), coll, req.params['id']!, req.params['tag']!);
      return reply.code(204).send();
    });
  }

  // ---- quotas
  app.get('/v2.0/quotas', auth, async (req) => ({ quotas: await quotas.listQuotas(deps, api.caller(req)) }));
  app.get('/v2.0/quotas/project', auth, async (req) => ({ project: { project_id: api.caller(req).projectId } }));
  app.get('/v2.0/quotas/tenant', auth, async (req) => ({ tenant: { tenant_id: api.caller(req).projectId } }));
  app.get<Params>('/v2.0/quotas/:project', auth, async (req) => ({ quota: await quotas.showQuota(deps, api.caller(req), req.params['project']!) }));
  app.get<Params>('/v2.0/quotas/:project/default', auth, async (req) => ({ quota: quotas.showDefaultQuota(deps, api.caller(req), req.params['project']!) }));
  app.get<Params>('/v2.0/quotas/:project/details', auth, async (req) => ({ quota: await quotas.quotaDetails(deps, api.caller(req), req.params['project']!) }));
  app.put<Params>('/v2.0/quotas/:project', auth, async (req) => ({
    quota: await quotas.updateQuota(deps, api.caller(req), req.params['project']!, unwrap(req.body, 'quota')),
  }));
  app.delete<Params>('/v2.0/quotas/:project', auth, async (req, reply) => {
    await quotas.resetQuota(deps, api.caller(req), req.params['project']!);
    return reply.code(204).send();
  });

  // ---- port forwardings
  const pf = '/v2.0/floatingips/:fip/port_forwardings';
  app.get<Params>(pf, auth, async (req) => {
    const filters: Record<string, string[]> = {};
    for (const k of Object.keys(req.query)) if (k !== 'fields') filters[k] = values(req.query, k);
    const fields = parseFields(req.query);
    const items = await fips.listPortForwardings(deps, api.caller(req), req.params['fip']!, filters);
    return { port_forwardings: items.map((i) => selectFields(i, fields)) };
  });
  app.get<Params>(`${pf}/:id`, auth, async (req) => ({
    port_forwarding: selectFields(await fips.showPortForwarding(deps, api.caller(req), req.params['fip']!, req.params['id']!), parseFields(req.query)),
  }));
  app.post<Params>(pf, auth, async (req, reply) => {
    const attrs = parseAttrs(unwrap(req.body, 'port_forwarding'), portForwardingAttrs, 'create');
    return reply.code(201).send({ port_forwarding: await fips.createPortForwarding(deps, api.caller(req), req.params['fip']!, attrs) });
  });
  app.put<Params>(`${pf}/:id`, auth, async (req) => {
    const attrs = parseAttrs(unwrap(req.body, 'port_forwarding'), portForwardingAttrs, 'update');
    return { port_forwarding: await fips.updatePortForwarding(deps, api.caller(req), req.params['fip']!, req.params['id']!, attrs) };
  });
  app.delete<Params>(`${pf}/:id`, auth, async (req, reply) => {
    await fips.deletePortForwarding(deps, api.caller(req), req.params['fip']!, req.params['id']!);
    return reply.code(204).send();
  });

  // ---- availability zones, IP availability, service providers
  app.get<Params>('/v2.0/availability_zones', auth, async (req) => {
    const az = deps.config.availabilityZone;
    let zones = ['network', 'router'].map((resource) => ({ name: az, resource, state: 'available' }));
    for (const key of ['name', 'resource', 'state'] as const) {
      const wanted = values(req.query, key);
      if (wanted.length) zones = zones.filter((z) => wanted.includes(z[key]));
    }
    const fields = parseFields(req.query);
    return { availability_zones: zones.map((z) => selectFields(z, fields)) };
  });
  app.get<Params>('/v2.0/network-ip-availabilities', auth, async (req) => {
    const filters: Record<string, string[]> = {};
    for (const k of Object.keys(req.query)) filters[k] = values(req.query, k);
    const fields = parseFields(req.query);
    return { network_ip_availabilities: (await listAvailability(deps, api.caller(req), filters)).map((a) => selectFields(a, fields)) };
  });
  app.get<Params>('/v2.0/network-ip-availabilities/:id', auth, async (req) => ({
    network_ip_availability: selectFields(await showAvailability(deps, api.caller(req), req.params['id']!), parseFields(req.query)),
  }));
  app.get('/v2.0/service-providers', auth, async () => ({ service_providers: [{ service_type: 'L3_ROUTER_NAT', name: 'default', default: true }] }));
}
