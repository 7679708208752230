import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud } from './support/cloud.js';
import { freshDatabase, testDialects } from './support/databases.js';
import { adminNeutron, type Neutron } from './support/network-http.js';

/**
 * IPAM and allocation under concurrent requests, on every test database:
 * never a duplicate address, floating IP or segmentation id; exhaustion and
 * quota refusals are clean 4xx errors; freed addresses are reusable.
 */

type Obj = Record<string, any>;

for (const dialect of testDialects().filter((d) => d !== 'mysql')) {
  describe(`network concurrency (${dialect})`, () => {
    let cloud: TestCloud;
    let drop: (() => Promise<void>) | undefined;
    let api: Neutron;

    before(async () => {
      let database: Obj = {};
      if (dialect !== 'sqlite') {
        const db = await freshDatabase(dialect);
        const url = db.url;
        await db.close();
        drop = async () => {
          const again = await freshDatabaseDrop(dialect, url);
          await again();
        };
        database = { database: { url, poolSize: 10 } };
      }
      cloud = await startTestCloud({
        ...database,
        network: { vniRanges: ['100:149'], tenantNetworkTypes: ['vxlan'], notifyCompute: false, publicNetwork: { create: false } },
      });
      api = await adminNeutron(cloud);
    });
    after(async () => {
      await cloud?.close();
      await drop?.();
    });

    async function network(cidr: string, extra: Obj = {}, subnetExtra: Obj = {}): Promise<{ net: Obj; subnet: Obj }> {
      const net = await api.post('/networks', { network: { name: `n-${cidr}`, ...extra } });
      assert.equal(net.status, 201, JSON.stringify(net.body));
      const subnet = await api.post('/subnets', { subnet: { network_id: net.body['network'].id, ip_version: 4, cidr, ...subnetExtra } });
      assert.equal(subnet.status, 201, JSON.stringify(subnet.body));
      return { net: net.body['network'], subnet: subnet.body['subnet'] };
    }

    test('200 concurrent port creates on a /24 get 200 distinct pool addresses', async () => {
      const { net } = await network('10.10.0.0/24');
      const replies = await Promise.all(Array.from({ length: 200 }, () => api.post('/ports', { port: { network_id: net['id'] } })));
      const ok = replies.filter((r) => r.status === 201);
      assert.equal(ok.length, 200, JSON.stringify(replies.find((r) => r.status !== 201)?.body));
      const ips = ok.map((r) => r.body['port'].fixed_ips[0].ip_address as string);
      assert.equal(new Set(ips).size, 200, 'no address handed out twice');
      for (const ip of ips) {
        const last = Number(ip.split('.')[3]);
        assert.ok(ip.startsWith('10.10.0.') && last >= 2 && last <= 254, `${ip} is in the pool`);
      }
      const macs = ok.map((r) => r.body['port'].mac_address as string);
      assert.equal(new Set(macs).size, 200);
    });

    test('exhaustion is a clean 409 and freed addresses are reused', async () => {
      // .2-.14 pool minus nothing: 13 addresses.
      const { net } = await network('10.20.0.0/28');
      const replies = await Promise.all(Array.from({ length: 30 }, () => api.post('/ports', { port: { network_id: net['id'] } })));
      const ok = replies.filter((r) => r.status === 201);
      const refused = replies.filter((r) => r.status !== 201);
      assert.equal(ok.length, 13);
      assert.ok(refused.every((r) => r.status === 409 && r.body['NeutronError'].type === 'IpAddressGenerationFailure'), JSON.stringify(refused[0]?.body));
      const ips = ok.map((r) => r.body['port'].fixed_ips[0].ip_address);
      assert.equal(new Set(ips).size, 13);

      const victim = ok[0]!.body['port'];
      assert.equal((await api.del(`/ports/${victim.id}`)).status, 204);
      const again = await api.post('/ports', { port: { network_id: net['id'] } });
      assert.equal(again.status, 201);
      assert.equal(again.body['port'].fixed_ips[0].ip_address, victim.fixed_ips[0].ip_address, 'the only free address is the released one');
    });

    test('explicit addresses race: exactly one winner, the rest 409 IpAddressAlreadyAllocated', async () => {
      const { net, subnet } = await network('10.30.0.0/24');
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => api.post('/ports', { port: { network_id: net['id'], fixed_ips: [{ subnet_id: subnet['id'], ip_address: '10.30.0.77' }] } })),
      );
      assert.equal(replies.filter((r) => r.status === 201).length, 1);
      assert.ok(replies.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.body['NeutronError'].type === 'IpAddressAlreadyAllocated'));
    });

    test('concurrent port creates never pass the port quota', async () => {
      const projectId = 'quota-project-0001';
      assert.equal((await api.put(`/quotas/${projectId}`, { quota: { port: 25 } })).status, 200);
      const net = await api.post('/networks', { network: { name: 'quota-net', project_id: projectId } });
      await api.post('/subnets', { subnet: { network_id: net.body['network'].id, ip_version: 4, cidr: '10.40.0.0/24', project_id: projectId } });
      const replies = await Promise.all(
        Array.from({ length: 60 }, () => api.post('/ports', { port: { network_id: net.body['network'].id, project_id: projectId } })),
      );
      assert.equal(replies.filter((r) => r.status === 201).length, 25);
      const refused = replies.filter((r) => r.status !== 201);
      assert.ok(refused.every((r) => r.status === 409 && r.body['NeutronError'].type === 'OverQuota'), JSON.stringify(refused[0]?.body));
      assert.match(refused[0]!.body['NeutronError'].message, /Quota exceeded for resources: \['port'\]/);
    });

    test('concurrent floating IPs are distinct and exhaust cleanly', async () => {
      const me = (await api.get('/quotas/project')).body['project'].project_id;
      await api.put(`/quotas/${me}`, { quota: { floatingip: -1 } });
      const { net } = await network('192.0.2.0/27', { 'router:external': true }, { enable_dhcp: false, allocation_pools: [{ start: '192.0.2.2', end: '192.0.2.21' }] });
      const replies = await Promise.all(Array.from({ length: 40 }, () => api.post('/floatingips', { floatingip: { floating_network_id: net['id'] } })));
      const ok = replies.filter((r) => r.status === 201);
      assert.equal(ok.length, 20);
      const addrs = ok.map((r) => r.body['floatingip'].floating_ip_address);
      assert.equal(new Set(addrs).size, 20);
      const refused = replies.filter((r) => r.status !== 201);
      assert.ok(refused.every((r) => r.status === 400 && r.body['NeutronError'].type === 'ExternalIpAddressExhausted'), JSON.stringify(refused[0]?.body));
    });

    test('concurrent tenant networks get distinct VNIs until the range is used up', async () => {
      const me = (await api.get('/quotas/project')).body['project'].project_id;
      await api.put(`/quotas/${me}`, { quota: { network: -1 } });
      const before = (await api.get('/networks')).body['networks'].length as number;
      const replies = await Promise.all(Array.from({ length: 80 }, (_, i) => api.post('/networks', { network: { name: `vni-${i}` } })));
      const ok = replies.filter((r) => r.status === 201);
      // 50 VNIs (100-149), some already used by the earlier tests' networks.
      assert.equal(ok.length, 50 - before);
      const ids = ok.map((r) => r.body['network']['provider:segmentation_id'] as number);
      assert.equal(new Set(ids).size, ids.length);
      assert.ok(ids.every((id) => id >= 100 && id <= 149));
      const refused = replies.filter((r) => r.status !== 201);
      assert.ok(refused.every((r) => r.status === 503 && r.body['NeutronError'].type === 'NoNetworkAvailable'), JSON.stringify(refused[0]?.body));
      const all = (await api.get('/networks?fields=provider:segmentation_id')).body['networks'].map((n: Obj) => n['provider:segmentation_id']);
      assert.equal(new Set(all).size, all.length, 'no segmentation id twice in the database');
    });
  });
}

async function freshDatabaseDrop(dialect: 'postgres' | 'mysql', url: string): Promise<() => Promise<void>> {
  const { openDatabase } = await import('../src/core/db/database.js');
  const { sql } = await import('kysely');
  const name = new URL(url).pathname.slice(1);
  const adminUrl = process.env[dialect === 'postgres' ? 'NIMBUS_TEST_POSTGRES_URL' : 'NIMBUS_TEST_MYSQL_URL']!;
  return async () => {
    const a = await openDatabase(adminUrl, { poolSize: 1 });
    await sql.raw(`DROP DATABASE IF EXISTS ${name}`).execute(a.db);
    await a.close();
  };
}
