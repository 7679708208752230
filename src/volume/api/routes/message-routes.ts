import { Errors } from '../../../core/errors.js';
import type { ListFilter } from '../../db/resource-repo.js';
import type { MessageRow } from '../../db/tables.js';
import type { Req, VolumeApi } from '../context.js';
import { nextLinks, parseListParams } from '../listing.js';

const SORT: Record<string, string> = { id: 'id', created_at: 'created_at', event_id: 'event_id', resource_type: 'resource_type', message_level: 'message_level', resource_uuid: 'resource_uuid' };
const FILTERS = ['resource_uuid', 'resource_type', 'event_id', 'request_id', 'message_level'];

/** /messages (3.3+): what went wrong with the project's asynchronous requests. */
export function messageRoutes(api: VolumeApi): void {
  const { repos } = api.core;
  const view = (req: Req, m: MessageRow) => ({
    id: m.id,
    event_id: m.event_id,
    user_message: m.user_message,
    message_level: m.message_level,
    created_at: m.created_at,
    guaranteed_until: m.expires_at,
    request_id: m.request_id ?? '',
    links: api.links(req, 'messages', m.id),
    resource_type: m.resource_type,
    ...(m.resource_uuid ? { resource_uuid: m.resource_uuid } : {}),
  });
  const load = async (req: Req, id: string) => {
    const m = await repos.messages.get(id);
    const c = api.caller(req);
    if (!m || (!c.admin && m.project_id !== c.projectId) || Date.parse(m.expires_at) < Date.now()) throw Errors.notFoundMessage(`Message ${id} could not be found.`);
    return m;
  };

  api.route('GET', '/messages', async (req) => {
    api.requireMv(req, '3.3');
    api.enforce(req, 'message:get_all');
    const p = parseListParams(req, SORT);
    const f: ListFilter = { projectId: api.caller(req).projectId, eq: {} };
    for (const [k, v] of Object.entries(p.filters)) if (FILTERS.includes(k)) f.eq![k] = v;
    const usePaging = api.atLeast(req, '3.5');
    let marker: MessageRow | undefined;
    if (usePaging && p.marker) marker = await load(req, p.marker);
    const rows = (await repos.messages.list(f, usePaging ? { sort: p.sort, limit: p.limit, offset: p.offset, marker: marker as unknown as Record<string, unknown> } : { sort: [{ column: 'created_at', dir: 'desc' }] })).filter(
      (m) => Date.parse(m.expires_at) >= Date.now(),
    );
    const body: Record<string, unknown> = { messages: rows.map((m) => view(req, m)) };
    const links = usePaging ? nextLinks(api, req, 'messages', rows, p.limit) : undefined;
    if (links) body['messages_links'] = links;
    return body;
  });

  api.route('GET', '/messages/:id', async (req) => {
    api.requireMv(req, '3.3');
    const m = await load(req, req.params['id']!);
    api.enforce(req, 'message:get', m.project_id);
    return { message: view(req, m) };
  });

  api.route('DELETE', '/messages/:id', async (req, reply) => {
    api.requireMv(req, '3.3');
    const m = await load(req, req.params['id']!);
    api.enforce(req, 'message:delete', m.project_id);
    await repos.messages.delete(m.id);
    return reply.code(204).send();
  });
}
