import { fromJson } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import type { ServiceRow } from '../../db/tables.js';
import { poolMatchesSpecs } from '../../service/capabilities-filter.js';
import type { Req, VolumeApi } from '../context.js';
import { requireObject } from '../input.js';
import { lenientBool, queryValue } from '../listing.js';

/** Cinder's host filter: `H` matches `H`, `H@backend` and `H@backend#pool`. */
function hostMatches(serviceHost: string, wanted: string): boolean {
  return serviceHost === wanted || serviceHost.startsWith(`${wanted}@`) || serviceHost.startsWith(`${wanted}#`);
}

/** Admin views of the volume services: os-services, os-hosts, scheduler-stats pools, capabilities, clusters. */
export function serviceRoutes(api: VolumeApi): void {
  const { core } = api;
  const { repos } = core;
  const isUp = (s: ServiceRow) => Date.now() - Date.parse(s.updated_at) <= core.config.serviceDownSeconds * 1000;

  const serviceView = (req: Req, s: ServiceRow) => {
    const out: Record<string, unknown> = {
      binary: s.binary,
      host: s.host,
      zone: s.availability_zone,
      status: s.disabled ? 'disabled' : 'enabled',
      state: isUp(s) ? 'up' : 'down',
      updated_at: s.updated_at,
      disabled_reason: s.disabled_reason,
    };
    if (s.binary === 'cinder-volume') {
      Object.assign(out, { replication_status: 'disabled', active_backend_id: null, frozen: s.frozen === 1 });
      if (api.atLeast(req, '3.49')) out['backend_state'] = isUp(s) ? 'up' : 'down';
    }
    if (api.atLeast(req, '3.7')) out['cluster'] = null;
    return out;
  };

  api.route('GET', '/os-services', async (req) => {
    api.enforce(req, 'volume_extension:services');
    const host = queryValue(req.query['host']);
    const binary = queryValue(req.query['binary']);
    const rows = (await repos.services.list()).filter((s) => (!host || hostMatches(s.host, host)) && (!binary || s.binary === binary));
    return { services: rows.map((s) => serviceView(req, s)) };
  });

  api.route('PUT', '/os-services/:action', async (req, reply) => {
    api.enforce(req, 'volume_extension:services');
    const action = req.params['action']!;
    const body = requireObject(req.body ?? {}, 'body');
    const host = typeof body['host'] === 'string' ? body['host'] : undefined;
    const all = await repos.services.list();
    if (action === 'freeze' || action === 'thaw') {
      const targets = all.filter((s) => s.binary === 'cinder-volume' && host && hostMatches(s.host, host));
      if (!targets.length) throw Errors.badRequest(`Invalid input received: Host ${host ?? ''} is not a volume service host.`);
      for (const s of targets) await repos.services.update(s.id, { frozen: action === 'freeze' ? 1 : 0 });
      return reply.code(200).send();
    }
    if (!['enable', 'disable', 'disable-log-reason'].includes(action)) throw Errors.badRequest(`Invalid input received: Unknown action ${action}`);
    const binary = typeof body['binary'] === 'string' ? body['binary'] : undefined;
    if (!host || !binary) throw Errors.badRequest('Missing required element host or binary in request body.');
    let reason: string | null = null;
    if (action === 'disable-log-reason') {
      const r = body['disabled_reason'];
      if (typeof r !== 'string' || !r.trim() || r.length > 255) throw Errors.badRequest('Disabled reason contains invalid characters or is too long');
      reason = r.trim();
    }
    const svc = all.find((s) => s.host === host && s.binary === binary);
    if (!svc) throw Errors.notFoundMessage(`Service ${binary} on host ${host} could not be found.`);
    const disabled = action !== 'enable';
    await repos.services.update(svc.id, { disabled: disabled ? 1 : 0, disabled_reason: disabled ? reason : null });
    const out: Record<string, unknown> = { host, service: '', binary, status: disabled ? 'disabled' : 'enabled', disabled };
    if (action !== 'disable') out['disabled_reason'] = reason;
    return out;
  });

  api.route('GET', '/os-hosts', async (req) => {
    api.enforce(req, 'volume_extension:hosts');
    const rows = await repos.services.list();
    return {
      hosts: rows.map((s) => ({
        host_name: s.host,
        service: s.binary,
        zone: s.availability_zone,
        'service-status': isUp(s) ? 'available' : 'unavailable',
        'service-state': s.disabled ? 'disabled' : 'enabled',
        'last-update': s.updated_at,
      })),
    };
  });

  api.route('GET', '/os-hosts/:host', async (req) => {
    api.enforce(req, 'volume_extension:hosts');
    const host = req.params['host']!;
    const svc = (await repos.services.list()).find((s) => s.binary === 'cinder-volume' && hostMatches(s.host, host));
    if (!svc) throw Errors.notFoundMessage(`Host ${host} could not be found.`);
    const volumes = (await repos.volumes.all({})).filter((v) => v.host && hostMatches(v.host, host));
    const byProject = new Map<string, { vc: number; vg: number; sc: number; sg: number }>();
    const total = { vc: 0, vg: 0, sc: 0, sg: 0 };
    const add = (p: string, f: (x: typeof total) => void) => {
      if (!byProject.has(p)) byProject.set(p, { vc: 0, vg: 0, sc: 0, sg: 0 });
      f(byProject.get(p)!);
      f(total);
    };
    for (const v of volumes) add(v.project_id, (x) => ((x.vc += 1), (x.vg += v.size)));
    const ids = volumes.map((v) => v.id);
    if (ids.length) for (const s of await repos.snapshots.all({ eq: { volume_id: ids } })) add(s.project_id, (x) => ((x.sc += 1), (x.sg += s.volume_size)));
    const entry = (project: string, x: typeof total) => ({
      resource: { host, project, volume_count: String(x.vc), total_volume_gb: String(x.vg), snapshot_count: String(x.sc), total_snapshot_gb: String(x.sg) },
    });
    return { host: [entry('(total)', total), ...[...byProject].map(([p, x]) => entry(p, x))] };
  });

  const pools = async () =>
    (await repos.services.list())
      .filter((s) => s.binary === 'cinder-volume' && s.capabilities)
      .map((s) => {
        const caps = fromJson<Record<string, unknown>>(s.capabilities, {});
        return { name: `${s.host}#${String(caps['pool_name'] ?? 'pool')}`, caps, service: s };
      });

  api.route('GET', '/scheduler-stats/get_pools', async (req) => {
    api.enforce(req, 'scheduler_extension:scheduler_stats:get_pools');
    const detail = lenientBool(queryValue(req.query['detail']) ?? 'false');
    let list = await pools();
    const name = queryValue(req.query['name']);
    if (name && api.atLeast(req, '3.28')) list = list.filter((p) => p.name === name);
    const typeRef = queryValue(req.query['volume_type']);
    if (typeRef && api.atLeast(req, '3.35')) {
      const t = (await repos.types.get(typeRef)) ?? (await repos.types.getByName(typeRef));
      if (!t) throw Errors.notFoundMessage(`Volume type ${typeRef} could not be found.`);
      const specs = await repos.types.specs(t.id);
      list = list.filter((p) => poolMatchesSpecs(p.caps, specs));
    }
    return { pools: list.map((p) => (detail ? { name: p.name, capabilities: p.caps } : { name: p.name })) };
  });

  api.route('GET', '/capabilities/:host', async (req) => {
    api.enforce(req, 'volume_extension:capabilities');
    const host = req.params['host']!;
    const pool = (await pools()).find((p) => p.name === host || p.service.host === host || hostMatches(p.service.host, host));
    if (!pool) throw Errors.notFoundMessage(`Host ${host} could not be found.`);
    const c = pool.caps;
    return {
      namespace: `OS::Storage::Capabilities::${pool.service.host}`,
      vendor_name: c['vendor_name'],
      volume_backend_name: c['volume_backend_name'],
      pool_name: c['pool_name'] ?? null,
      driver_version: c['driver_version'],
      storage_protocol: c['storage_protocol'],
      display_name: null,
      description: null,
      visibility: null,
      replication_targets: [],
      properties: {
        thin_provisioning: { title: 'Thin Provisioning', description: 'Sets thin provisioning.', type: 'boolean' },
        compression: { title: 'Compression', description: 'Enables compression.', type: 'boolean' },
        qos: { title: 'QoS', description: 'Enables QoS.', type: 'boolean' },
        replication: { title: 'Replication', description: 'Enables replication.', type: 'boolean' },
      },
    };
  });

  api.route('GET', '/clusters', async (req) => {
    api.requireMv(req, '3.7');
    api.enforce(req, 'clusters:get_all');
    return { clusters: [] };
  });
  api.route('GET', '/clusters/detail', async (req) => {
    api.requireMv(req, '3.7');
    api.enforce(req, 'clusters:get_all');
    return { clusters: [] };
  });
}
