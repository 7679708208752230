import type { FastifyRequest } from 'fastify';
import { fromJson, isTrue } from '../../core/db/columns.js';
import type { EndpointRow, GroupRow, ProjectRow, RoleRow, UserRow } from '../db/tables.js';
import { GLOBAL_ROLE_DOMAIN, ROOT_DOMAIN_ID } from '../db/tables.js';
import { passwordExpiresAt } from '../service/token-service.js';
import type { IdentityApi } from './context.js';

type Json = Record<string, unknown>;

export function renderDomain(api: IdentityApi, req: FastifyRequest, d: ProjectRow, tags: string[] = []): Json {
  return {
    ...fromJson<Json>(d.extra, {}),
    id: d.id,
    name: d.name,
    description: d.description,
    enabled: isTrue(d.enabled),
    tags,
    options: fromJson<Json>(d.options, {}),
    links: { self: api.link(req, `/domains/${d.id}`) },
  };
}

export function renderProject(api: IdentityApi, req: FastifyRequest, p: ProjectRow, tags: string[] = []): Json {
  return {
    ...fromJson<Json>(p.extra, {}),
    id: p.id,
    name: p.name,
    // A domain seen as a project has no domain (Keystone stores a root sentinel).
    domain_id: p.domain_id === ROOT_DOMAIN_ID ? null : p.domain_id,
    description: p.description,
    enabled: isTrue(p.enabled),
    parent_id: p.parent_id,
    is_domain: isTrue(p.is_domain),
    tags,
    options: fromJson<Json>(p.options, {}),
    links: { self: api.link(req, `/projects/${p.id}`) },
  };
}

export function renderUser(api: IdentityApi, req: FastifyRequest, u: UserRow): Json {
  const out: Json = {
    ...fromJson<Json>(u.extra, {}),
    id: u.id,
    name: u.name,
    domain_id: u.domain_id,
    enabled: isTrue(u.enabled),
    password_expires_at: passwordExpiresAt(u),
    options: fromJson<Json>(u.options, {}),
    links: { self: api.link(req, `/users/${u.id}`) },
  };
  if (u.default_project_id) out['default_project_id'] = u.default_project_id;
  if (u.description !== null) out['description'] = u.description;
  return out;
}

export function renderGroup(api: IdentityApi, req: FastifyRequest, g: GroupRow): Json {
  return {
    ...fromJson<Json>(g.extra, {}),
    id: g.id,
    name: g.name,
    domain_id: g.domain_id,
    description: g.description,
    links: { self: api.link(req, `/groups/${g.id}`) },
  };
}

export function renderRole(api: IdentityApi, req: FastifyRequest, r: RoleRow): Json {
  return {
    ...fromJson<Json>(r.extra, {}),
    id: r.id,
    name: r.name,
    domain_id: r.domain_id === GLOBAL_ROLE_DOMAIN ? null : r.domain_id,
    description: r.description,
    options: fromJson<Json>(r.options, {}),
    links: { self: api.link(req, `/roles/${r.id}`) },
  };
}

/** Keys of a create/update body that are not modelled columns: Keystone keeps them in `extra` and echoes them. */
export function extraOf(body: Json, known: string[]): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(body)) if (!known.includes(k)) out[k] = v;
  return out;
}

export function renderEndpoint(api: IdentityApi, req: FastifyRequest, e: EndpointRow): Json {
  return {
    ...fromJson<Json>(e.extra, {}),
    id: e.id,
    interface: e.interface,
    region_id: e.region_id,
    region: e.region_id,
    service_id: e.service_id,
    url: e.url,
    enabled: isTrue(e.enabled),
    links: { self: api.link(req, `/endpoints/${e.id}`) },
  };
}
