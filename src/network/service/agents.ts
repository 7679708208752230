import { fromJson, isTrue, toJson } from '../../core/db/columns.js';
import { newUuid } from '../../core/ids.js';
import type { AgentReport } from '../backend/backend.js';
import { findVisible, selectPage, type ListQuery } from '../db/list-query.js';
import { agentSpec } from '../db/specs.js';
import type { AgentRow } from '../db/tables.js';
import type { NetworkDeps } from './deps.js';
import { NotFound } from './faults.js';
import { allowed, authorize, type Caller } from './policy.js';
import { nowTs } from './standard-attrs.js';

/** Agents the backend runs, as `GET /v2.0/agents` shows them (admin only; others see an empty list). */

export type Dict = Record<string, unknown>;

/** Neutron prints agent times as `2024-01-31 12:34:56`. */
const agentTime = (iso: string) => iso.replace('T', ' ').replace(/Z$/, '');

export function agentView(deps: NetworkDeps, a: AgentRow, now = Date.now()): Dict {
  return {
    id: a.id,
    agent_type: a.agent_type,
    binary: a.binary,
    topic: a.topic,
    host: a.host,
    admin_state_up: isTrue(a.admin_state_up),
    created_at: agentTime(a.created_at),
    started_at: agentTime(a.started_at),
    heartbeat_timestamp: agentTime(a.heartbeat_at),
    alive: now - Date.parse(a.heartbeat_at) < deps.config.agentDownSeconds * 1000,
    configurations: fromJson(a.configurations, {}),
    description: a.description,
    availability_zone: a.availability_zone,
    resources_synced: null,
    resource_versions: {},
  };
}

export async function reportAgent(deps: NetworkDeps, report: AgentReport): Promise<void> {
  const now = nowTs();
  await deps.db
    .insertInto('net_agent')
    .values({
      id: newUuid(),
      agent_type: report.agent_type,
      binary: report.binary,
      topic: report.topic,
      host: report.host,
      admin_state_up: 1,
      availability_zone: report.availability_zone,
      configurations: toJson(report.configurations),
      description: null,
      created_at: now,
      started_at: now,
      heartbeat_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
  await deps.db
    .updateTable('net_agent')
    .set({ heartbeat_at: now, binary: report.binary, topic: report.topic, availability_zone: report.availability_zone, configurations: toJson(report.configurations) })
    .where('agent_type', '=', report.agent_type)
    .where('host', '=', report.host)
    .execute();
}

export async function listAgents(deps: NetworkDeps, caller: Caller, query: ListQuery): Promise<Dict[]> {
  if (!allowed(deps.enforcer, caller, 'get_agent')) return [];
  const rows = await selectPage<AgentRow>(deps.db, agentSpec, query, (qb) => qb);
  let views = rows.map((r) => agentView(deps, r));
  const alive = query.filters['alive'];
  if (alive?.length) views = views.filter((v) => alive.some((a) => (a.toLowerCase() === 'true' || a === '1') === v['alive']));
  return views;
}

async function get(deps: NetworkDeps, caller: Caller, id: string): Promise<AgentRow> {
  if (!allowed(deps.enforcer, caller, 'get_agent')) throw NotFound.agent(id);
  const row = await findVisible<AgentRow>(deps.db, 'net_agent', (qb) => qb, id);
  if (!row) throw NotFound.agent(id);
  return row;
}

export async function showAgent(deps: NetworkDeps, caller: Caller, id: string): Promise<Dict> {
  return agentView(deps, await get(deps, caller, id));
}

export async function updateAgent(deps: NetworkDeps, caller: Caller, id: string, attrs: Dict): Promise<Dict> {
  await get(deps, caller, id);
  authorize(deps.enforcer, caller, 'update_agent');
  const changes: Partial<AgentRow> = {};
  if (attrs['admin_state_up'] !== undefined) changes.admin_state_up = attrs['admin_state_up'] ? 1 : 0;
  if (attrs['description'] !== undefined) changes.description = attrs['description'] as string | null;
  if (Object.keys(changes).length) await deps.db.updateTable('net_agent').set(changes).where('id', '=', id).execute();
  return agentView(deps, await get(deps, caller, id));
}

export async function deleteAgent(deps: NetworkDeps, caller: Caller, id: string): Promise<void> {
  await get(deps, caller, id);
  authorize(deps.enforcer, caller, 'delete_agent');
  await deps.db.deleteFrom('net_agent').where('id', '=', id).execute();
}
