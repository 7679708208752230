import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestCloud, type TestCloud } from './support/cloud.js';
import { adminNeutron, createProjectUser, neutron, type Neutron } from './support/network-http.js';

/**
 * Tenant isolation: a project never sees or uses another project's
 * networks, subnets, ports, routers, floating IPs or security groups —
 * unless the owner shares them (`shared`, RBAC).
 */

type Obj = Record<string, any>;

let cloud: TestCloud;
let a: Neutron;
let b: Neutron;
let admin: Neutron;
let bProject: string;
const res: Record<string, Obj> = {};

function ok<T extends { status: number; body: Obj }>(r: T, status = 201): T['body'] {
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body;
}

before(async () => {
  cloud = await startTestCloud({ network: { notifyCompute: false } });
  const pa = await createProjectUser(cloud, 'alpha');
  const pb = await createProjectUser(cloud, 'beta');
  bProject = pb.projectId;
  a = neutron(cloud, pa.token);
  b = neutron(cloud, pb.token);
  admin = await adminNeutron(cloud);
  const pub = ok(await admin.get('/networks?router:external=true'), 200)['networks'][0];
  res['net'] = ok(await a.post('/networks', { network: { name: 'a-net' } }))['network'];
  res['subnet'] = ok(await a.post('/subnets', { subnet: { network_id: res['net']!['id'], ip_version: 4, cidr: '10.1.0.0/24' } }))['subnet'];
  res['port'] = ok(await a.post('/ports', { port: { network_id: res['net']!['id'], name: 'a-port' } }))['port'];
  res['router'] = ok(await a.post('/routers', { router: { name: 'a-router', external_gateway_info: { network_id: pub.id } } }))['router'];
  ok(await a.put(`/routers/${res['router']!['id']}/add_router_interface`, { subnet_id: res['subnet']!['id'] }), 200);
  res['fip'] = ok(await a.post('/floatingips', { floatingip: { floating_network_id: pub.id } }))['floatingip'];
  res['sg'] = ok(await a.post('/security-groups', { security_group: { name: 'a-sg' } }))['security_group'];
  res['rule'] = res['sg']!['security_group_rules'][0];
});
after(async () => cloud?.close());

const collections: Array<[string, string]> = [
  ['net', 'networks'],
  ['subnet', 'subnets'],
  ['port', 'ports'],
  ['router', 'routers'],
  ['fip', 'floatingips'],
  ['sg', 'security-groups'],
  ['rule', 'security-group-rules'],
];

test("another project cannot see, change or delete a project's resources", async () => {
  for (const [key, coll] of collections) {
    const id = res[key]!['id'];
    assert.equal((await b.get(`/${coll}/${id}`)).status, 404, `GET ${coll}`);
    const list = ok(await b.get(`/${coll}`), 200)[coll.replaceAll('-', '_')] as Obj[];
    assert.ok(!list.some((x) => x['id'] === id), `${coll} list hides it`);
    const byId = ok(await b.get(`/${coll}?id=${id}`), 200)[coll.replaceAll('-', '_')] as Obj[];
    assert.equal(byId.length, 0, `${coll}?id= finds nothing`);
    if (coll !== 'security-group-rules') {
      const singular = { networks: 'network', subnets: 'subnet', ports: 'port', routers: 'router', floatingips: 'floatingip', 'security-groups': 'security_group' }[coll]!;
      assert.equal((await b.put(`/${coll}/${id}`, { [singular]: { description: 'mine now' } })).status, 404, `PUT ${coll}`);
    }
    assert.equal((await b.del(`/${coll}/${id}`)).status, 404, `DELETE ${coll}`);
    assert.equal((await b.get(`/${coll}/${id}/tags`)).status === 404 || coll === 'security-group-rules', true, `tags of ${coll}`);
  }
  // Nothing was changed by those attempts.
  assert.equal(ok(await a.get(`/networks/${res['net']!['id']}`), 200)['network'].description, '');
});

test("another project cannot use a project's resources", async () => {
  const bNet = ok(await b.post('/networks', { network: { name: 'b-net' } }))['network'];
  const bSub = ok(await b.post('/subnets', { subnet: { network_id: bNet.id, ip_version: 4, cidr: '10.2.0.0/24' } }))['subnet'];
  const bRouter = ok(await b.post('/routers', { router: { name: 'b-router' } }))['router'];

  assert.equal((await b.post('/ports', { port: { network_id: res['net']!['id'] } })).status, 404, 'port on a private network');
  assert.equal((await b.post('/subnets', { subnet: { network_id: res['net']!['id'], ip_version: 4, cidr: '10.9.0.0/24' } })).status, 404, 'subnet on it');
  assert.equal((await b.put(`/routers/${bRouter.id}/add_router_interface`, { subnet_id: res['subnet']!['id'] })).status, 404, 'its subnet on my router');
  assert.equal((await b.put(`/routers/${bRouter.id}/add_router_interface`, { port_id: res['port']!['id'] })).status, 404, 'its port on my router');
  assert.equal((await b.put(`/routers/${res['router']!['id']}/add_router_interface`, { subnet_id: bSub.id })).status, 404, 'my subnet on its router');
  assert.equal((await b.post('/ports', { port: { network_id: bNet.id, security_groups: [res['sg']!['id']] } })).status, 404, 'its security group on my port');
  assert.equal(
    (await b.post('/security-group-rules', { security_group_rule: { security_group_id: res['sg']!['id'], direction: 'ingress' } })).status,
    404,
    'a rule in its group',
  );
  const bPort = ok(await b.post('/ports', { port: { network_id: bNet.id } }))['port'];
  assert.equal((await b.put(`/floatingips/${res['fip']!['id']}`, { floatingip: { port_id: bPort.id } })).status, 404, 'its floating IP');
  const pub = ok(await b.get('/networks?router:external=true'), 200)['networks'][0];
  const bFip = ok(await b.post('/floatingips', { floatingip: { floating_network_id: pub.id } }))['floatingip'];
  assert.equal((await b.put(`/floatingips/${bFip.id}`, { floatingip: { port_id: res['port']!['id'] } })).status, 404, 'my floating IP on its port');
  assert.equal((await b.post('/floatingips', { floatingip: { floating_network_id: res['net']!['id'] } })).status, 404, 'a floating IP from its network');
  assert.equal((await b.post('/rbac-policies', { rbac_policy: { object_type: 'network', object_id: res['net']!['id'], action: 'access_as_shared', target_tenant: bProject } })).status, 404, 'sharing it with myself');
  assert.equal((await b.get(`/quotas/${res['net']!['project_id']}`)).status, 403, 'its quotas');
});

test('an external network is visible to all, its subnets and ports are not', async () => {
  const nets = ok(await b.get('/networks'), 200)['networks'] as Obj[];
  const pub = nets.find((n) => n['router:external'])!;
  assert.ok(pub, 'public network listed');
  assert.equal(pub['provider:network_type'], undefined, 'provider attributes hidden');
  assert.deepEqual(ok(await b.get(`/subnets?network_id=${pub['id']}`), 200)['subnets'], []);
  assert.equal(((ok(await b.get(`/ports?network_id=${pub['id']}`), 200)['ports']) as Obj[]).length, 0, 'gateway and floating IP ports stay hidden');
  assert.equal((await b.post('/ports', { port: { network_id: pub['id'] } })).status, 404, 'no ports on a non-shared external network');
});

test('sharing by RBAC gives access to exactly what is shared', async () => {
  const net = ok(await a.post('/networks', { network: { name: 'to-share' } }))['network'];
  ok(await a.post('/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.3.0.0/24' } }));
  const aPort = ok(await a.post('/ports', { port: { network_id: net.id } }))['port'];
  assert.equal((await b.get(`/networks/${net.id}`)).status, 404);

  const policy = ok(await a.post('/rbac-policies', { rbac_policy: { object_type: 'network', object_id: net.id, action: 'access_as_shared', target_tenant: bProject } }))['rbac_policy'];
  const seen = ok(await b.get(`/networks/${net.id}`), 200)['network'];
  assert.equal(seen.shared, true, 'shared from the point of view of the target');
  const bPort = ok(await b.post('/ports', { port: { network_id: net.id } }))['port'];
  assert.equal((await b.get(`/ports/${aPort.id}`)).status, 404, "the owner's ports stay private");
  assert.equal((await b.put(`/networks/${net.id}`, { network: { name: 'renamed' } })).status, 403, 'shared is not owned');
  assert.equal((await b.del(`/networks/${net.id}`)).status, 403);
  // A third project still sees nothing.
  const c = await createProjectUser(cloud, 'gamma');
  assert.equal((await neutron(cloud, c.token).get(`/networks/${net.id}`)).status, 404);

  // Revoking is refused while B has a port there, allowed after.
  assert.equal((await a.del(`/rbac-policies/${policy.id}`)).status, 409);
  ok(await b.del(`/ports/${bPort.id}`), 204);
  ok(await a.del(`/rbac-policies/${policy.id}`), 204);
  assert.equal((await b.get(`/networks/${net.id}`)).status, 404);

  // Security groups shared by RBAC can be put on ports.
  const sg = ok(await a.post('/security-groups', { security_group: { name: 'shared-sg' } }))['security_group'];
  ok(await a.post('/rbac-policies', { rbac_policy: { object_type: 'security_group', object_id: sg.id, action: 'access_as_shared', target_tenant: bProject } }));
  const bNet = ok(await b.post('/networks', { network: { name: 'b-net-2' } }))['network'];
  ok(await b.post('/ports', { port: { network_id: bNet.id, security_groups: [sg.id] } }));

  // `shared: true` (admin) opens a network to every project.
  const everyone = ok(await admin.post('/networks', { network: { name: 'everyone', shared: true } }))['network'];
  assert.equal(ok(await neutron(cloud, c.token).get(`/networks/${everyone.id}`), 200)['network'].shared, true);
  assert.equal((await b.post('/networks', { network: { name: 'x', shared: true } })).status, 403, 'only admins share by flag');
});
