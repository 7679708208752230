import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../../core/errors.js';
import type { CollectionSpec, ListQuery } from '../db/list-query.js';
import type { Caller } from '../service/policy.js';
import { parseAttrs, unwrap, unwrapCreate, type AttrRules, type Json } from './attributes.js';
import type { NetworkApi, Params } from './context.js';
import { paginationLinks, parseFields, parseListQuery, selectFields } from './query.js';

export type Dict = Record<string, unknown>;

/** A standard Neutron collection: list/show/create(bulk)/update/delete with the usual conventions. */
export interface CrudDef {
  /** URL segment, e.g. `security-groups`. */
  collection: string;
  /** Body key of lists (default: the collection with `-` → `_`). */
  plural?: string;
  singular: string;
  attrs: AttrRules;
  spec(caller: Caller): CollectionSpec;
  list(caller: Caller, query: ListQuery): Promise<Dict[]>;
  show(caller: Caller, id: string): Promise<Dict>;
  create?(caller: Caller, items: Json[]): Promise<Dict[]>;
  /** Refuse bulk creation (e.g. resources Neutron creates one at a time). */
  singleOnly?: boolean;
  update?(caller: Caller, id: string, attrs: Json, ifMatch: number | undefined): Promise<Dict>;
  delete?(caller: Caller, id: string, ifMatch: number | undefined): Promise<void>;
  /** Hides what the caller may not see (admin-only attributes). */
  redact?(caller: Caller, view: Dict): Dict;
}

export function respondList(req: FastifyRequest, key: string, items: Dict[], query: ListQuery, redact?: (v: Dict) => Dict): Dict {
  const links = paginationLinks(req, items, query);
  const shown = items.map((i) => selectFields(redact ? redact(i) : i, query.fields));
  return links ? { [key]: shown, [`${key}_links`]: links } : { [key]: shown };
}

export function crudRoutes(app: FastifyInstance, api: NetworkApi, def: CrudDef): void {
  const auth = { preHandler: api.authenticate };
  const base = `/v2.0/${def.collection}`;
  const plural = def.plural ?? def.collection.replaceAll('-', '_');
  const redact = (caller: Caller) => (v: Dict) => (def.redact ? def.redact(caller, v) : v);

  app.get<Params>(base, auth, async (req) => {
    const caller = api.caller(req);
    const query = parseListQuery(req.query, def.spec(caller));
    return respondList(req, plural, await def.list(caller, query), query, redact(caller));
  });

  app.get<Params>(`${base}/:id`, auth, async (req) => {
    const caller = api.caller(req);
    const view = await def.show(caller, req.params['id']!);
    return { [def.singular]: selectFields(redact(caller)(view), parseFields(req.query)) };
  });

  if (def.create) {
    const create = def.create;
    app.post<Params>(base, auth, async (req, reply) => {
      const caller = api.caller(req);
      const { items, bulk } = unwrapCreate(req.body, def.singular, plural);
      if (bulk && def.singleOnly) throw Errors.badRequest('Bulk operation not supported', { code: 'HTTPBadRequest' });
      const parsed = items.map((i) => parseAttrs(i, def.attrs, 'create'));
      const created = (await create(caller, parsed)).map(redact(caller));
      return reply.code(201).send(bulk ? { [plural]: created } : { [def.singular]: created[0] });
    });
  } else {
    app.post(base, auth, async () => {
      throw Errors.methodNotAllowed();
    });
  }

  app.post(`${base}/:id`, auth, async () => {
    throw Errors.methodNotAllowed();
  });

  app.put<Params>(`${base}/:id`, auth, async (req) => {
    if (!def.update) throw Errors.methodNotAllowed();
    const caller = api.caller(req);
    const attrs = parseAttrs(unwrap(req.body, def.singular), def.attrs, 'update');
    const view = await def.update(caller, req.params['id']!, attrs, api.ifMatch(req));
    return { [def.singular]: redact(caller)(view) };
  });

  app.delete<Params>(`${base}/:id`, auth, async (req, reply) => {
    if (!def.delete) throw Errors.methodNotAllowed();
    await def.delete(api.caller(req), req.params['id']!, api.ifMatch(req));
    return reply.code(204).send();
  });
}
