import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { startTestCloud, type TestCloud } from './support/cloud.js';
import { adminNeutron, tokenFor, type Neutron } from './support/network-http.js';

/**
 * Neutron API conventions over HTTP: query parameters, pagination, bulk
 * create, If-Match, tags, quotas, port forwardings, IP availability,
 * faults — and the events compute receives when ports are plugged.
 */

type Obj = Record<string, any>;

let cloud: TestCloud;
let api: Neutron;
let compute: Server;
const events: Array<{ token: string; body: Obj }> = [];

before(async () => {
  // A stand-in for compute's os-server-external-events, registered in the catalog before first use.
  compute = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v2.1/os-server-external-events') {
        events.push({ token: String(req.headers['x-auth-token']), body: JSON.parse(data) });
        res.writeHead(200, { 'content-type': 'application/json' }).end(data);
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => compute.listen(0, '127.0.0.1', r));
  cloud = await startTestCloud({ network: { publicNetwork: { create: false } } });
  const admin = await tokenFor(cloud.authUrl, 'admin', cloud.adminPassword, 'admin');
  const ks = async (path: string, body: Obj) => {
    const r = await fetch(`${cloud.authUrl}${path}`, { method: 'POST', headers: { 'x-auth-token': admin, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await r.json()) as Obj;
  };
  const svc = (await ks('/services', { service: { type: 'compute', name: 'nova' } }))['service'];
  const url = `http://127.0.0.1:${(compute.address() as { port: number }).port}/v2.1`;
  for (const iface of ['public', 'internal']) await ks('/endpoints', { endpoint: { service_id: svc.id, interface: iface, url, region_id: 'RegionOne' } });
  api = await adminNeutron(cloud);
});
after(async () => {
  await cloud?.close();
  compute?.close();
});

function ok(r: { status: number; body: Obj }, status = 201): Obj {
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body;
}

test('version discovery, extensions and faults', async () => {
  const root = await fetch(cloud.url('network', '/'));
  const versions = (await root.json()) as Obj;
  assert.deepEqual(Object.keys(versions), ['versions']);
  assert.equal(versions['versions'][0].id, 'v2.0');
  const exts = ok(await api.get('/extensions'), 200)['extensions'] as Obj[];
  for (const e of exts) assert.deepEqual(ok(await api.get(`/extensions/${e['alias']}`), 200)['extension'], e);
  const missing = await api.get('/extensions/metering');
  assert.equal(missing.status, 404);
  const bad = await api.get(`/networks/${crypto.randomUUID()}`);
  assert.equal(bad.status, 404);
  assert.equal(bad.body['NeutronError'].type, 'NetworkNotFound');
  assert.equal(bad.body['NeutronError'].detail, '');
  const unknownAttr = await api.post('/networks', { network: { name: 'x', color: 'red' } });
  assert.equal(unknownAttr.status, 400);
  assert.match(unknownAttr.body['NeutronError'].message, /Unrecognized attribute\(s\) 'color'/);
  const badFilter = await api.get('/networks?color=red');
  assert.equal(badFilter.status, 400);
  assert.match(badFilter.body['NeutronError'].message, /\['color'\] is invalid attribute for filtering/);
  assert.equal((await api.get('/networks')).status, 200);
  const noToken = await fetch(cloud.url('network', '/v2.0/networks'));
  assert.equal(noToken.status, 401);
});

test('fields, filters, sorting, pagination with links, bulk create', async () => {
  const created = ok(await api.post('/networks', { networks: ['c', 'a', 'e', 'b', 'd'].map((n) => ({ name: `page-${n}`, admin_state_up: n !== 'e' })) }))['networks'] as Obj[];
  assert.equal(created.length, 5);
  const onlyFields = ok(await api.get('/networks?name=page-a&fields=id&fields=name'), 200)['networks'];
  assert.deepEqual(Object.keys(onlyFields[0]).sort(), ['id', 'name']);
  const down = ok(await api.get('/networks?admin_state_up=False&fields=name'), 200)['networks'];
  assert.deepEqual(down, [{ name: 'page-e' }]);
  const either = ok(await api.get('/networks?name=page-a&name=page-b&sort_key=name&sort_dir=desc&fields=name'), 200)['networks'];
  assert.deepEqual(either, [{ name: 'page-b' }, { name: 'page-a' }]);

  const seen: string[] = [];
  let url = '/networks?sort_key=name&sort_dir=asc&limit=2&fields=name&fields=id';
  for (let i = 0; i < 10 && url; i++) {
    const page = ok(await api.get(url), 200);
    seen.push(...page['networks'].map((n: Obj) => n['name']).filter((n: string) => n.startsWith('page-')));
    const next = (page['networks_links'] as Obj[] | undefined)?.find((l) => l['rel'] === 'next');
    url = next && page['networks'].length ? String(next['href']).replace(/^.*\/v2\.0/, '') : '';
  }
  assert.deepEqual(seen, ['page-a', 'page-b', 'page-c', 'page-d', 'page-e']);
  assert.equal((await api.get('/networks?limit=2&marker=nope')).status, 404);
  assert.equal((await api.get('/networks?limit=x')).status, 400);
  assert.equal((await api.get('/networks?sort_key=name')).status, 400);

  // Bulk is atomic: one bad item and nothing is created.
  const before = ok(await api.get('/networks?fields=id'), 200)['networks'].length;
  const bulkBad = await api.post('/networks', { networks: [{ name: 'ok' }, { name: 'bad', 'provider:network_type': 'gre' }] });
  assert.equal(bulkBad.status, 400);
  assert.equal(ok(await api.get('/networks?fields=id'), 200)['networks'].length, before);
});

test('revision numbers, If-Match and timestamps', async () => {
  const net = ok(await api.post('/networks', { network: { name: 'rev' } }))['network'];
  assert.match(net.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const rev = net.revision_number as number;
  const upd = ok(await api.put(`/networks/${net.id}`, { network: { name: 'rev2' } }), 200)['network'];
  assert.equal(upd.revision_number, rev + 1);
  const res = await fetch(cloud.url('network', `/v2.0/networks/${net.id}`), {
    method: 'PUT',
    headers: { 'x-auth-token': await tokenFor(cloud.authUrl, 'admin', cloud.adminPassword, 'admin'), 'content-type': 'application/json', 'if-match': `revision_number=${rev}` },
    body: JSON.stringify({ network: { name: 'stale' } }),
  });
  assert.equal(res.status, 412);
  assert.equal(((await res.json()) as Obj)['NeutronError'].type, 'RevisionNumberConstraintFailed');
});

test('tags on resources and tag filters', async () => {
  const net = ok(await api.post('/networks', { network: { name: 'tagged' } }))['network'];
  assert.equal((await api.put(`/networks/${net.id}/tags/red`, {})).status, 201);
  ok(await api.put(`/networks/${net.id}/tags`, { tags: ['red', 'blue'] }), 200);
  assert.equal((await api.get(`/networks/${net.id}/tags/blue`)).status, 204);
  assert.equal((await api.get(`/networks/${net.id}/tags/green`)).status, 404);
  assert.deepEqual(ok(await api.get('/networks?tags=red,blue&fields=name'), 200)['networks'], [{ name: 'tagged' }]);
  assert.ok(!ok(await api.get('/networks?not-tags-any=red&fields=name'), 200)['networks'].some((n: Obj) => n['name'] === 'tagged'));
  assert.equal((await api.del(`/networks/${net.id}/tags/red`)).status, 204);
  assert.deepEqual(ok(await api.get(`/networks/${net.id}`), 200)['network'].tags, ['blue']);
});

test('quotas: show, details (also with .json), update, reset', async () => {
  const project = 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0';
  assert.equal(ok(await api.get(`/quotas/${project}`), 200)['quota'].network, 100);
  ok(await api.put(`/quotas/${project}`, { quota: { network: 1 } }), 200);
  ok(await api.post('/networks', { network: { name: 'q1', project_id: project } }));
  const over = await api.post('/networks', { network: { name: 'q2', project_id: project } });
  assert.equal(over.status, 409);
  assert.equal(over.body['NeutronError'].message, "Quota exceeded for resources: ['network'].");
  const details = ok(await api.get(`/quotas/${project}/details.json`), 200)['quota'];
  assert.deepEqual(details.network, { limit: 1, used: 1, reserved: 0 });
  assert.ok(ok(await api.get('/quotas'), 200)['quotas'].some((q: Obj) => q['project_id'] === project));
  assert.equal((await api.del(`/quotas/${project}`)).status, 204);
  assert.deepEqual(ok(await api.get(`/quotas/${project}`), 200)['quota'], ok(await api.get(`/quotas/${project}/default`), 200)['quota']);
});

test('routers with extra routes, floating IPs with port forwardings, IP availability', async () => {
  const ext = ok(await api.post('/networks', { network: { name: 'ext', 'router:external': true } }))['network'];
  ok(await api.post('/subnets', { subnet: { network_id: ext.id, ip_version: 4, cidr: '203.0.113.0/24', enable_dhcp: false } }));
  const net = ok(await api.post('/networks', { network: { name: 'inner' } }))['network'];
  const sub = ok(await api.post('/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.5.0.0/24' } }))['subnet'];
  const router = ok(await api.post('/routers', { router: { name: 'r', external_gateway_info: { network_id: ext.id, enable_snat: false } } }))['router'];
  assert.equal(router.external_gateway_info.enable_snat, false);
  const iface = ok(await api.put(`/routers/${router.id}/add_router_interface`, { subnet_id: sub.id }), 200);
  assert.equal(iface['subnet_id'], sub.id);
  const routes = [{ destination: '192.168.50.0/24', nexthop: '10.5.0.9' }];
  assert.deepEqual(ok(await api.put(`/routers/${router.id}`, { router: { routes } }), 200)['router'].routes, routes);
  const badRoute = await api.put(`/routers/${router.id}`, { router: { routes: [{ destination: '192.168.51.0/24', nexthop: '172.16.0.1' }] } });
  assert.equal(badRoute.status, 400);
  assert.equal((await api.del(`/routers/${router.id}`)).status, 409, 'interfaces still attached');

  const port = ok(await api.post('/ports', { port: { network_id: net.id, fixed_ips: [{ subnet_id: sub.id, ip_address: '10.5.0.20' }] } }))['port'];
  const fip = ok(await api.post('/floatingips', { floatingip: { floating_network_id: ext.id } }))['floatingip'];
  const pf = ok(
    await api.post(`/floatingips/${fip.id}/port_forwardings`, {
      port_forwarding: { protocol: 'tcp', external_port: 2222, internal_port: 22, internal_ip_address: '10.5.0.20', internal_port_id: port.id },
    }),
  )['port_forwarding'];
  assert.equal(pf.external_port, 2222);
  const dup = await api.post(`/floatingips/${fip.id}/port_forwardings`, {
    port_forwarding: { protocol: 'tcp', external_port: 2222, internal_port: 23, internal_ip_address: '10.5.0.20', internal_port_id: port.id },
  });
  assert.equal(dup.status, 400);
  assert.equal(ok(await api.get(`/floatingips/${fip.id}`), 200)['floatingip'].router_id, router.id);
  assert.equal((await api.put(`/floatingips/${fip.id}`, { floatingip: { port_id: port.id } })).status, 409, 'no association while forwarding');
  assert.equal((await api.del(`/floatingips/${fip.id}/port_forwardings/${pf.id}`)).status, 204);
  const assoc = ok(await api.put(`/floatingips/${fip.id}`, { floatingip: { port_id: port.id } }), 200)['floatingip'];
  assert.equal(assoc.fixed_ip_address, '10.5.0.20');
  assert.equal(assoc.port_details.network_id, net.id);
  assert.equal((await api.put(`/routers/${router.id}/remove_router_interface`, { subnet_id: sub.id })).status, 409, 'the floating IP needs it');

  const avail = ok(await api.get(`/network-ip-availabilities/${net.id}`), 200)['network_ip_availability'];
  assert.equal(avail.total_ips, 253);
  assert.equal(avail.used_ips, 2, 'router interface and the port');
});

test('a plugged compute port is reported to compute as network-vif-plugged', async () => {
  const net = ok(await api.post('/networks', { network: { name: 'vm-net' } }))['network'];
  ok(await api.post('/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.6.0.0/24' } }));
  const server = crypto.randomUUID();
  const port = ok(await api.post('/ports', { port: { network_id: net.id, device_owner: 'compute:nova', device_id: server } }))['port'];
  assert.equal(port.status, 'DOWN');
  const bound = ok(await api.put(`/ports/${port.id}`, { port: { 'binding:host_id': 'compute-1' } }), 200)['port'];
  assert.equal(bound['binding:vif_type'], 'bridge');
  const waitFor = async (name: string) => {
    // Events are batched and sent with a service token; allow for a slow machine.
    for (let i = 0; i < 600; i++) {
      const e = events.find((x) => x.body['events'].some((ev: Obj) => ev['name'] === name && ev['tag'] === port.id));
      if (e) return e;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${name} event`);
  };
  const plugged = await waitFor('network-vif-plugged');
  assert.deepEqual(
    plugged.body['events'].find((e: Obj) => e['tag'] === port.id),
    { name: 'network-vif-plugged', server_uuid: server, tag: port.id, status: 'completed' },
  );
  assert.ok(plugged.token.length > 20, 'sent with the service token');
  assert.equal(ok(await api.get(`/ports/${port.id}`), 200)['port'].status, 'ACTIVE');
  ok(await api.del(`/ports/${port.id}`), 204);
  await waitFor('network-vif-deleted');
});
