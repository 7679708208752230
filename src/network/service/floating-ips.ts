import { isTrue } from '../../core/db/columns.js';
import { isUniqueViolation } from '../../core/db/database.js';
import { newUuid } from '../../core/ids.js';
import { findVisible, selectPage, type ListQuery } from '../db/list-query.js';
import { floatingipSpec } from '../db/specs.js';
import type { FloatingIpRow, NetQ, PortForwardingRow, PortRow } from '../db/tables.js';
import { ownerScope, type Viewer } from '../db/visibility.js';
import { parseIp } from '../ip/ip-address.js';
import { isComputePort } from './compute-events.js';
import { write, type ChangeSink, type NetworkDeps, type Trx } from './deps.js';
import { bad, badRequest, conflict, notFound, NotFound } from './faults.js';
import { getVisibleNetwork, requestProject } from './networks.js';
import { authorize, type Caller } from './policy.js';
import { deletePortRow, getVisiblePort, insertPort } from './ports.js';
import { checkQuota } from './quotas.js';
import { bumpRevision, checkRevision, standardNew, tagsOf } from './standard-attrs.js';

/**
 * Floating IPs: an address from an external network (held by a
 * `network:floatingip` port owned by no project) mapped to a fixed IP of a
 * port behind a router whose gateway is on that network; and port
 * forwardings from a floating IP's ports to internal ports.
 */

export type Dict = Record<string, unknown>;

export async function fipViews(q: NetQ, rows: FloatingIpRow[]): Promise<Dict[]> {
  const tags = await tagsOf(
    q,
    rows.map((r) => r.id),
  );
  const portIds = [...new Set(rows.map((r) => r.fixed_port_id).filter((x): x is string => !!x))];
  const ports = new Map<string, PortRow>();
  for (let i = 0; i < portIds.length; i += 500) {
    for (const p of await q.selectFrom('net_port').selectAll().where('id', 'in', portIds.slice(i, i + 500)).execute()) ports.set(p.id, p);
  }
  return rows.map((f) => {
    const p = f.fixed_port_id ? ports.get(f.fixed_port_id) : undefined;
    return {
      id: f.id,
      tenant_id: f.project_id,
      project_id: f.project_id,
      floating_network_id: f.floating_network_id,
      floating_ip_address: f.floating_ip_address,
      router_id: f.router_id,
      port_id: f.fixed_port_id,
      fixed_ip_address: f.fixed_ip_address,
      status: f.status,
      port_details: p
        ? {
            name: p.name,
            network_id: p.network_id,
            mac_address: p.mac_address,
            admin_state_up: isTrue(p.admin_state_up),
            status: p.status,
            device_id: p.device_id,
            device_owner: p.device_owner,
          }
        : null,
      description: f.description,
      tags: tags.get(f.id) ?? [],
      created_at: f.created_at,
      updated_at: f.updated_at,
      revision_number: f.revision_number,
    };
  });
}

async function viewById(q: NetQ, id: string): Promise<Dict> {
  return (await fipViews(q, [await q.selectFrom('net_floatingip').selectAll().where('id', '=', id).executeTakeFirstOrThrow()]))[0]!;
}

export async function getVisibleFip(q: NetQ, viewer: Viewer, id: string): Promise<FloatingIpRow> {
  const row = await findVisible<FloatingIpRow>(q, 'net_floatingip', ownerScope(viewer), id);
  if (!row) throw NotFound.floatingip(id);
  return row;
}

export async function listFips(deps: NetworkDeps, caller: Caller, query: ListQuery): Promise<Dict[]> {
  return fipViews(deps.db, await selectPage<FloatingIpRow>(deps.db, floatingipSpec, query, ownerScope(caller)));
}

export async function showFip(deps: NetworkDeps, caller: Caller, id: string): Promise<Dict> {
  return (await fipViews(deps.db, [await getVisibleFip(deps.db, caller, id)]))[0]!;
}

/** The router that connects the fixed IP's subnet to the floating network (preferring the subnet's gateway router). */
async function findRouter(trx: Trx, floatingNetworkId: string, port: PortRow, subnetId: string): Promise<string> {
  const candidates = await trx
    .selectFrom('net_port as p')
    .innerJoin('net_ip_allocation as a', 'a.port_id', 'p.id')
    .innerJoin('net_router as r', 'r.id', 'p.device_id')
    .select(['r.id as router_id', 'a.ip_address'])
    .where('p.network_id', '=', port.network_id)
    .where('p.device_owner', 'in', ['network:router_interface', 'network:router_interface_distributed', 'network:ha_router_replicated_interface'])
    .where('a.subnet_id', '=', subnetId)
    .where('r.gw_network_id', '=', floatingNetworkId)
    .execute();
  if (candidates.length === 0) {
    throw notFound(
      'ExternalGatewayForFloatingIPNotFound',
      `External network ${floatingNetworkId} is not reachable from subnet ${subnetId}.  Therefore, cannot associate Port ${port.id} with a Floating IP.`,
    );
  }
  const subnet = await trx.selectFrom('net_subnet').select('gateway_ip').where('id', '=', subnetId).executeTakeFirst();
  return (candidates.find((c) => c.ip_address === subnet?.gateway_ip) ?? candidates[0]!).router_id;
}

interface Association {
  fixed_port_id: string;
  fixed_ip_address: string;
  router_id: string;
}

async function association(trx: Trx, caller: Caller, fip: { id: string; project_id: string; floating_network_id: string; floating_ip_address: string }, portId: string, fixedIp: string | null | undefined): Promise<Association> {
  const port = await getVisiblePort(trx, caller, portId);
  if (!caller.isAdmin && port.project_id !== fip.project_id) {
    throw badRequest('floatingip', `Cannot create floating IP and bind it to Port ${portId}, since that port is owned by a different tenant.`);
  }
  if (port.device_owner.startsWith('network:')) throw badRequest('floatingip', `Port ${portId} is unable to be assigned a floating IP`);
  const ips = await trx.selectFrom('net_ip_allocation').select(['subnet_id', 'ip_address']).where('port_id', '=', port.id).orderBy('position').execute();
  const v4 = ips.filter((i) => parseIp(i.ip_address)?.version === 4);
  let chosen: { subnet_id: string; ip_address: string } | undefined;
  if (fixedIp) {
    chosen = v4.find((i) => i.ip_address === fixedIp);
    if (!chosen) throw badRequest('floatingip', `Port ${portId} does not have fixed ip ${fixedIp}`);
  } else {
    if (v4.length === 0) throw badRequest('floatingip', `Port ${portId} does not have any fixed IPv4 address`);
    if (v4.length > 1) {
      throw badRequest('floatingip', `Port ${portId} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`);
    }
    chosen = v4[0]!;
  }
  const routerId = await findRouter(trx, fip.floating_network_id, port, chosen.subnet_id);
  const taken = await trx
    .selectFrom('net_floatingip')
    .select('id')
    .where('floating_network_id', '=', fip.floating_network_id)
    .where('fixed_port_id', '=', port.id)
    .where('fixed_ip_address', '=', chosen.ip_address)
    .where('id', '!=', fip.id)
    .executeTakeFirst();
  if (taken) throw portAlreadyAssociated(fip, port.id, chosen.ip_address);
  const pf = await trx.selectFrom('net_port_forwarding').select('id').where('floatingip_id', '=', fip.id).executeTakeFirst();
  if (pf) throw conflict('FloatingIPPortForwardingInUse', `Floating IP ${fip.id} has port forwardings and cannot be associated with a port.`);
  return { fixed_port_id: port.id, fixed_ip_address: chosen.ip_address, router_id: routerId };
}

function portAlreadyAssociated(fip: { id: string; floating_ip_address: string; floating_network_id: string }, portId: string, ip: string): Error {
  return conflict(
    'FloatingIPPortAlreadyAssociated',
    `Cannot associate floating IP ${fip.floating_ip_address} (${fip.id}) with port ${portId} using fixed IP ${ip}, as that fixed IP already has a floating IP on external network ${fip.floating_network_id}.`,
  );
}

function notifyChanged(deps: NetworkDeps, sink: ChangeSink, trxPort: PortRow | undefined): void {
  if (trxPort && isComputePort(trxPort.device_owner, trxPort.device_id)) {
    sink.after(() => deps.compute.notify({ name: 'network-changed', server_uuid: trxPort.device_id, tag: trxPort.id, status: 'completed' }));
  }
}

export async function createFips(deps: NetworkDeps, caller: Caller, items: Dict[]): Promise<Dict[]> {
  try {
    return await write(
      deps,
      async (trx, sink) => {
        const out: Dict[] = [];
        for (const attrs of items) {
          const projectId = requestProject(caller, attrs);
          if (attrs['floating_ip_address'] !== undefined) authorize(deps.enforcer, caller, 'create_floatingip:floating_ip_address', { tenant_id: projectId });
          const net = await getVisibleNetwork(trx, caller, attrs['floating_network_id'] as string);
          if (!isTrue(net.router_external)) throw badRequest('floatingip', `Network ${net.id} is not a valid external network.`);
          if (attrs['fixed_ip_address'] !== undefined && attrs['port_id'] === undefined) {
            throw badRequest('floatingip', 'fixed_ip_address cannot be specified without a port_id');
          }
          await checkQuota(deps, trx, projectId, 'floatingip');
          const id = newUuid();
          const fixed: Dict = {};
          if (attrs['subnet_id'] !== undefined) {
            const s = await trx.selectFrom('net_subnet').select(['id', 'network_id', 'ip_version']).where('id', '=', attrs['subnet_id'] as string).executeTakeFirst();
            if (!s) throw NotFound.subnet(String(attrs['subnet_id']));
            if (s.network_id !== net.id || s.ip_version !== 4) throw badRequest('floatingip', `Subnet ${s.id} is not an IPv4 subnet of network ${net.id}`);
            fixed['subnet_id'] = s.id;
          }
          if (attrs['floating_ip_address'] !== undefined) {
            const ip = parseIp(attrs['floating_ip_address'] as string);
            if (!ip || ip.version !== 4) throw badRequest('floatingip', `Invalid floating IP address ${String(attrs['floating_ip_address'])}`);
            fixed['ip_address'] = attrs['floating_ip_address'];
          }
          const port = await insertPort(
            deps,
            trx,
            sink,
            { ...caller, isAdmin: true },
            {
              network_id: net.id,
              device_owner: 'network:floatingip',
              device_id: id,
              project_id: '',
              name: '',
              ...(Object.keys(fixed).length ? { fixed_ips: [fixed] } : {}),
            },
            { system: true, ipv4Only: !Object.keys(fixed).length || fixed['ip_address'] === undefined },
          );
          const addr = (port['fixed_ips'] as Array<{ ip_address: string }>).find((f) => parseIp(f.ip_address)?.version === 4);
          if (!addr) throw bad('ExternalIpAddressExhausted', `Unable to find any IP address on external network ${net.id}.`);
          const row: FloatingIpRow = {
            id,
            project_id: projectId,
            floating_network_id: net.id,
            floating_ip_address: addr.ip_address,
            floating_port_id: String(port['id']),
            fixed_port_id: null,
            fixed_ip_address: null,
            router_id: null,
            status: 'DOWN',
            ...standardNew((attrs['description'] as string | undefined) ?? ''),
          };
          let fixedPort: PortRow | undefined;
          if (attrs['port_id'] !== undefined && attrs['port_id'] !== null) {
            Object.assign(row, await association(trx, caller, row, attrs['port_id'] as string, attrs['fixed_ip_address'] as string | undefined), { status: 'ACTIVE' });
            fixedPort = await trx.selectFrom('net_port').selectAll().where('id', '=', row.fixed_port_id!).executeTakeFirst();
          }
          await trx.insertInto('net_floatingip').values(row).execute();
          const view = (await fipViews(trx, [row]))[0]!;
          await sink.emit({ kind: 'floatingip', action: 'create', current: view });
          notifyChanged(deps, sink, fixedPort);
          out.push(view);
        }
        return out;
      },
      { uniqueRetries: 3 },
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('FloatingIPPortAlreadyAssociated', 'That fixed IP already has a floating IP on this external network.');
    throw err;
  }
}

export async function updateFip(deps: NetworkDeps, caller: Caller, id: string, attrs: Dict, ifMatch?: number): Promise<Dict> {
  try {
    return await write(deps, async (trx, sink) => {
      const row = await getVisibleFip(trx, caller, id);
      authorize(deps.enforcer, caller, 'update_floatingip', { tenant_id: row.project_id, project_id: row.project_id });
      checkRevision(ifMatch, row.revision_number);
      const original = (await fipViews(trx, [row]))[0]!;
      const changes: Partial<FloatingIpRow> = {};
      if (attrs['description'] !== undefined) changes.description = attrs['description'] as string;
      let touched: PortRow | undefined;
      const oldPort = row.fixed_port_id ? await trx.selectFrom('net_port').selectAll().where('id', '=', row.fixed_port_id).executeTakeFirst() : undefined;
      if ('port_id' in attrs) {
        if (attrs['port_id'] === null) {
          Object.assign(changes, { fixed_port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN' });
          touched = oldPort;
        } else {
          Object.assign(changes, await association(trx, caller, row, attrs['port_id'] as string, attrs['fixed_ip_address'] as string | undefined), { status: 'ACTIVE' });
          touched = await trx.selectFrom('net_port').selectAll().where('id', '=', changes.fixed_port_id!).executeTakeFirst();
          if (oldPort && oldPort.id !== touched?.id) notifyChanged(deps, sink, oldPort);
        }
      } else if (attrs['fixed_ip_address'] !== undefined && row.fixed_port_id) {
        Object.assign(changes, await association(trx, caller, row, row.fixed_port_id, attrs['fixed_ip_address'] as string));
        touched = oldPort;
      }
      if (Object.keys(changes).length) await trx.updateTable('net_floatingip').set(changes).where('id', '=', id).execute();
      await bumpRevision(trx, 'net_floatingip', id);
      const current = await viewById(trx, id);
      await sink.emit({ kind: 'floatingip', action: 'update', current, original });
      notifyChanged(deps, sink, touched);
      return current;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('FloatingIPPortAlreadyAssociated', 'That fixed IP already has a floating IP on this external network.');
    throw err;
  }
}

export async function deleteFip(deps: NetworkDeps, caller: Caller, id: string, ifMatch?: number): Promise<void> {
  await write(deps, async (trx, sink) => {
    const row = await getVisibleFip(trx, caller, id);
    authorize(deps.enforcer, caller, 'delete_floatingip', { tenant_id: row.project_id, project_id: row.project_id });
    checkRevision(ifMatch, row.revision_number);
    const view = (await fipViews(trx, [row]))[0]!;
    const fixedPort = row.fixed_port_id ? await trx.selectFrom('net_port').selectAll().where('id', '=', row.fixed_port_id).executeTakeFirst() : undefined;
    await trx.deleteFrom('net_tag').where('resource_id', '=', id).execute();
    await trx.deleteFrom('net_floatingip').where('id', '=', id).execute();
    const port = await trx.selectFrom('net_port').selectAll().where('id', '=', row.floating_port_id).executeTakeFirst();
    if (port) await deletePortRow(deps, trx, sink, port);
    await sink.emit({ kind: 'floatingip', action: 'delete', current: view });
    notifyChanged(deps, sink, fixedPort);
  });
}

// ---- port forwardings

export function pfView(pf: PortForwardingRow): Dict {
  return {
    id: pf.id,
    external_port: pf.external_port,
    internal_port: pf.internal_port,
    internal_ip_address: pf.internal_ip_address,
    protocol: pf.protocol,
    internal_port_id: pf.internal_port_id,
    description: pf.description,
  };
}

export async function listPortForwardings(deps: NetworkDeps, caller: Caller, fipId: string, filters: Record<string, string[]>): Promise<Dict[]> {
  await getVisibleFip(deps.db, caller, fipId);
  let q = deps.db.selectFrom('net_port_forwarding').selectAll().where('floatingip_id', '=', fipId);
  for (const key of ['id', 'protocol', 'internal_port_id', 'internal_ip_address', 'description'] as const) {
    if (filters[key]?.length) q = q.where(key, 'in', filters[key]!);
  }
  for (const key of ['external_port', 'internal_port'] as const) {
    if (filters[key]?.length) q = q.where(key, 'in', filters[key]!.map(Number));
  }
  return (await q.orderBy('id').execute()).map(pfView);
}

async function getPf(q: NetQ, fipId: string, id: string): Promise<PortForwardingRow> {
  const row = await q.selectFrom('net_port_forwarding').selectAll().where('floatingip_id', '=', fipId).where('id', '=', id).executeTakeFirst();
  if (!row) throw NotFound.portForwarding(id);
  return row;
}

export async function showPortForwarding(deps: NetworkDeps, caller: Caller, fipId: string, id: string): Promise<Dict> {
  await getVisibleFip(deps.db, caller, fipId);
  return pfView(await getPf(deps.db, fipId, id));
}

async function checkInternal(trx: Trx, caller: Caller, fip: FloatingIpRow, portId: string, ip: string): Promise<string> {
  const port = await getVisiblePort(trx, caller, portId);
  const alloc = await trx.selectFrom('net_ip_allocation').select(['subnet_id', 'ip_address']).where('port_id', '=', port.id).where('ip_address', '=', ip).executeTakeFirst();
  if (!alloc) throw badRequest('port_forwarding', `The internal IP ${ip} does not correspond to an address on the internal port ${portId}.`);
  return findRouter(trx, fip.floating_network_id, port, alloc.subnet_id);
}

function pfDuplicate(): Error {
  return bad('BadRequest', 'Bad port_forwarding request: A duplicate port forwarding entry with same attributes already exists.');
}

export async function createPortForwarding(deps: NetworkDeps, caller: Caller, fipId: string, attrs: Dict): Promise<Dict> {
  try {
    return await write(deps, async (trx, sink) => {
      const fip = await getVisibleFip(trx, caller, fipId);
      authorize(deps.enforcer, caller, 'create_floatingip_port_forwarding', { tenant_id: fip.project_id });
      if (fip.fixed_port_id) {
        throw conflict('FipInUseByPortForwarding', `Floating IP ${fip.id} is associated with port ${fip.fixed_port_id} and cannot be used for port forwarding.`);
      }
      const routerId = await checkInternal(trx, caller, fip, attrs['internal_port_id'] as string, attrs['internal_ip_address'] as string);
      const row: PortForwardingRow = {
        id: newUuid(),
        floatingip_id: fip.id,
        protocol: attrs['protocol'] as string,
        external_port: attrs['external_port'] as number,
        internal_port: attrs['internal_port'] as number,
        internal_ip_address: attrs['internal_ip_address'] as string,
        internal_port_id: attrs['internal_port_id'] as string,
        description: (attrs['description'] as string | undefined) ?? '',
      };
      await trx.insertInto('net_port_forwarding').values(row).execute();
      if (fip.router_id !== routerId) await trx.updateTable('net_floatingip').set({ router_id: routerId, status: 'ACTIVE' }).where('id', '=', fip.id).execute();
      await bumpRevision(trx, 'net_floatingip', fip.id);
      await sink.emit({ kind: 'port_forwarding', action: 'create', current: { ...pfView(row), floatingip_id: fip.id, floating_ip_address: fip.floating_ip_address, router_id: routerId } });
      return pfView(row);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw pfDuplicate();
    throw err;
  }
}

export async function updatePortForwarding(deps: NetworkDeps, caller: Caller, fipId: string, id: string, attrs: Dict): Promise<Dict> {
  try {
    return await write(deps, async (trx, sink) => {
      const fip = await getVisibleFip(trx, caller, fipId);
      authorize(deps.enforcer, caller, 'update_floatingip_port_forwarding', { tenant_id: fip.project_id });
      const row = await getPf(trx, fipId, id);
      const next: PortForwardingRow = { ...row };
      for (const k of ['protocol', 'external_port', 'internal_port', 'internal_ip_address', 'internal_port_id', 'description'] as const) {
        if (attrs[k] !== undefined) (next as unknown as Record<string, unknown>)[k] = attrs[k];
      }
      if (attrs['internal_port_id'] !== undefined || attrs['internal_ip_address'] !== undefined) {
        await checkInternal(trx, caller, fip, next.internal_port_id, next.internal_ip_address);
      }
      await trx.updateTable('net_port_forwarding').set(next).where('id', '=', id).execute();
      await bumpRevision(trx, 'net_floatingip', fip.id);
      await sink.emit({
        kind: 'port_forwarding',
        action: 'update',
        current: { ...pfView(next), floatingip_id: fip.id, floating_ip_address: fip.floating_ip_address, router_id: fip.router_id },
        original: { ...pfView(row), floatingip_id: fip.id, floating_ip_address: fip.floating_ip_address, router_id: fip.router_id },
      });
      return pfView(next);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw pfDuplicate();
    throw err;
  }
}

export async function deletePortForwarding(deps: NetworkDeps, caller: Caller, fipId: string, id: string): Promise<void> {
  await write(deps, async (trx, sink) => {
    const fip = await getVisibleFip(trx, caller, fipId);
    authorize(deps.enforcer, caller, 'delete_floatingip_port_forwarding', { tenant_id: fip.project_id });
    const row = await getPf(trx, fipId, id);
    await trx.deleteFrom('net_port_forwarding').where('id', '=', id).execute();
    const rest = await trx.selectFrom('net_port_forwarding').select('id').where('floatingip_id', '=', fipId).executeTakeFirst();
    if (!rest && !fip.fixed_port_id) await trx.updateTable('net_floatingip').set({ router_id: null, status: 'DOWN' }).where('id', '=', fipId).execute();
    await bumpRevision(trx, 'net_floatingip', fip.id);
    await sink.emit({ kind: 'port_forwarding', action: 'delete', current: { ...pfView(row), floatingip_id: fip.id, floating_ip_address: fip.floating_ip_address, router_id: fip.router_id } });
  });
}

/** Floating IPs a router serves (for the data plane). */
export async function floatingIpViewsByRouter(q: NetQ, routerId: string): Promise<Dict[]> {
  return fipViews(q, await q.selectFrom('net_floatingip').selectAll().where('router_id', '=', routerId).execute());
}
