import { Errors } from '../../../core/errors.js';
import type { TransferRow } from '../../db/tables.js';
import { createTransferService } from '../../service/transfers.js';
import type { Req, VolumeApi } from '../context.js';
import { bodyOf, boolValue, optionalString } from '../input.js';
import { lenientBool, nextLinks, parseListParams, queryValue } from '../listing.js';

/** Volume transfers at /os-volume-transfer (every version) and /volume-transfers (3.55+). */
export function transferRoutes(api: VolumeApi): void {
  const { core } = api;
  const { repos } = core;
  const transfers = createTransferService(core);
  const actor = (req: Req) => {
    const c = api.caller(req);
    return { projectId: c.projectId, userId: c.userId, admin: c.admin, token: c.auth.token, requestId: String(req.id) };
  };

  const summary = (req: Req, t: TransferRow, path: string) => ({ id: t.id, name: t.name, volume_id: t.volume_id, links: api.links(req, path, t.id) });
  const detail = (req: Req, t: TransferRow, path: string) => {
    const out: Record<string, unknown> = { ...summary(req, t, path), created_at: t.created_at };
    if (api.atLeast(req, '3.55')) out['no_snapshots'] = t.no_snapshots === 1;
    if (api.atLeast(req, '3.57')) Object.assign(out, { source_project_id: t.source_project_id, destination_project_id: t.destination_project_id, accepted: t.accepted === 1 });
    return out;
  };
  const load = async (req: Req, id: string) => {
    const t = await repos.transfers.get(id);
    const c = api.caller(req);
    if (!t || (!c.admin && t.source_project_id !== c.projectId)) throw Errors.notFoundMessage(`Transfer ${id} could not be found.`);
    return t;
  };

  for (const [path, minMv] of [['os-volume-transfer', '3.0'], ['volume-transfers', '3.55']] as const) {
    const list = async (req: Req, withDetail: boolean) => {
      api.requireMv(req, minMv);
      api.enforce(req, 'volume:get_all_transfers');
      const c = api.caller(req);
      const p = parseListParams(req, { id: 'id', created_at: 'created_at', name: 'name', volume_id: 'volume_id' });
      const all = c.admin && lenientBool(queryValue(req.query['all_tenants']) ?? 'false');
      const eq: Record<string, string> = {};
      if (!all) eq['source_project_id'] = c.projectId;
      if (p.filters['name']) eq['name'] = p.filters['name'];
      if (p.filters['volume_id']) eq['volume_id'] = p.filters['volume_id'];
      const marker = p.marker ? await load(req, p.marker) : undefined;
      const rows = await repos.transfers.list({ eq }, { sort: p.sort, limit: p.limit, offset: p.offset, marker: marker as unknown as Record<string, unknown> });
      const body: Record<string, unknown> = { transfers: rows.map((t) => (withDetail ? detail(req, t, path) : summary(req, t, path))) };
      const links = nextLinks(api, req, withDetail ? `${path}/detail` : path, rows, p.limit);
      if (links) body['transfers_links'] = links;
      return body;
    };
    api.route('GET', `/${path}`, async (req) => list(req, false));
    api.route('GET', `/${path}/detail`, async (req) => list(req, true));

    api.route('GET', `/${path}/:id`, async (req) => {
      api.requireMv(req, minMv);
      const t = await load(req, req.params['id']!);
      api.enforce(req, 'volume:get_transfer', t.source_project_id);
      return { transfer: detail(req, t, path) };
    });

    api.route('POST', `/${path}`, async (req, reply) => {
      api.requireMv(req, minMv);
      api.enforce(req, 'volume:create_transfer');
      const body = bodyOf(req.body, 'transfer');
      const volumeId = optionalString(body, 'volume_id');
      if (!volumeId) throw Errors.badRequest("Invalid input for field/attribute volume_id. 'volume_id' is a required property");
      const noSnapshots = api.atLeast(req, '3.55') && body['no_snapshots'] !== undefined ? boolValue(body['no_snapshots'], 'no_snapshots') : false;
      const { row, authKey } = await transfers.create(actor(req), volumeId, optionalString(body, 'name') ?? null, noSnapshots, api.atLeast(req, '3.70'));
      reply.code(202);
      return { transfer: { ...detail(req, row, path), auth_key: authKey } };
    });

    api.route('POST', `/${path}/:id/accept`, async (req, reply) => {
      api.requireMv(req, minMv);
      api.enforce(req, 'volume:accept_transfer');
      const body = bodyOf(req.body, 'accept');
      const key = optionalString(body, 'auth_key');
      if (!key) throw Errors.badRequest("Invalid input for field/attribute auth_key. 'auth_key' is a required property");
      const t = await transfers.accept(actor(req), req.params['id']!, key);
      reply.code(202);
      return { transfer: summary(req, t, path) };
    });

    api.route('DELETE', `/${path}/:id`, async (req, reply) => {
      api.requireMv(req, minMv);
      const t = await load(req, req.params['id']!);
      api.enforce(req, 'volume:delete_transfer', t.source_project_id);
      await transfers.delete(t);
      return reply.code(202).send();
    });
  }
}
