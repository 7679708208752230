import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { validateConfig } from '../../core/config/loader.js';
import { migrateService } from '../../core/db/migrate.js';
import { Errors } from '../../core/errors.js';
import { createLog } from '../../core/log.js';
import { configSchema } from '../../runtime/config-schema.js';
import { freshDatabase, testDialects } from '../../../test/support/databases.js';
import type { Change, NetworkBackend } from '../backend/backend.js';
import { networkMigrations } from '../db/migrations.js';
import { networkDb } from '../db/tables.js';
import type { ComputeNotifier, ServerEvent } from './compute-events.js';
import type { NetworkDeps } from './deps.js';
import { ensureDhcpPort } from './dhcp-ports.js';
import { createNetworks, deleteNetwork, listNetworks } from './networks.js';
import { createNetworkEnforcer, type Caller } from './policy.js';
import { createPorts, setPortStatus, updatePort } from './ports.js';
import { emptyQuery } from '../db/list-query.js';
import { createSubnets, deleteSubnet } from './subnets.js';

/** The backend contract (ML2-like pre/post-commit), DHCP ports and the compute hook, on every test database. */

const admin: Caller = { projectId: 'p-admin', userId: 'u', isAdmin: true, creds: { roles: ['admin'], tenant_id: 'p-admin', project_id: 'p-admin' }, token: '' };

for (const dialect of testDialects().filter((d) => d !== 'mysql')) {
  describe(`network backend contract (${dialect})`, () => {
    let drop: () => Promise<void>;
    let deps: NetworkDeps;
    const seen: Array<{ phase: 'pre' | 'post'; change: Change }> = [];
    const events: ServerEvent[] = [];
    let refuse: ((c: Change) => boolean) | undefined;

    before(async () => {
      const db = await freshDatabase(dialect);
      drop = db.drop;
      await migrateService(db, 'network', networkMigrations);
      const backend: NetworkBackend = {
        name: 'recording',
        async start() {},
        async stop() {},
        async precommit(change) {
          seen.push({ phase: 'pre', change });
          if (refuse?.(change)) throw Errors.conflict('refused by the backend', { code: 'BackendRefused' });
        },
        async postcommit(change) {
          seen.push({ phase: 'post', change });
        },
        bindPort: () => ({ vifType: 'tap', vifDetails: { port_filter: false } }),
      };
      const compute: ComputeNotifier = { notify: (e) => void events.push(e), flush: async () => {}, close: async () => {} };
      deps = {
        db: networkDb(db),
        dialect: db.dialect,
        config: validateConfig(configSchema, {}).network,
        log: createLog({ level: 'silent' }),
        enforcer: createNetworkEnforcer(undefined),
        backend,
        compute,
      };
    });
    after(async () => drop?.());

    test('changes are shown to the backend before and after commit', async () => {
      seen.length = 0;
      const [net] = await createNetworks(deps, admin, [{ name: 'n1' }]);
      const kinds = seen.map((s) => `${s.phase}:${s.change.kind}:${s.change.action}`);
      // The project's default security group comes with its first network.
      assert.deepEqual(kinds, ['pre:security_group:create', 'pre:network:create', 'post:security_group:create', 'post:network:create']);
      const post = seen.find((s) => s.phase === 'post' && s.change.kind === 'network')!;
      const current = post.change.current as Record<string, unknown>;
      assert.equal(current['id'], net!['id']);
      assert.equal(current['provider:network_type'], 'vxlan', 'the backend gets the admin view');
    });

    test('a precommit refusal rolls the whole change back', async () => {
      refuse = (c) => c.kind === 'network' && (c.current as Record<string, unknown>)['name'] === 'nope';
      await assert.rejects(createNetworks(deps, admin, [{ name: 'nope' }]), /refused by the backend/);
      refuse = undefined;
      const names = (await listNetworks(deps, admin, emptyQuery())).map((n) => n['name']);
      assert.ok(!names.includes('nope'));
      assert.ok(!seen.some((s) => s.phase === 'post' && (s.change.current as Record<string, unknown>)['name'] === 'nope'), 'no postcommit for a refused change');
    });

    test('binding asks the backend; status reports reach compute', async () => {
      const [net] = await createNetworks(deps, admin, [{ name: 'vm' }]);
      await createSubnets(deps, admin, [{ network_id: net!['id'], ip_version: 4, cidr: '10.7.0.0/24' }]);
      const [port] = await createPorts(deps, admin, [{ network_id: net!['id'], device_owner: 'compute:nova', device_id: 'server-1' }]);
      const bound = await updatePort(deps, admin, String(port!['id']), { 'binding:host_id': 'h1' });
      assert.equal(bound['binding:vif_type'], 'tap');
      await setPortStatus(deps, String(port!['id']), 'ACTIVE');
      assert.deepEqual(events.at(-1), { name: 'network-vif-plugged', server_uuid: 'server-1', tag: port!['id'], status: 'completed' });
      await setPortStatus(deps, String(port!['id']), 'ACTIVE');
      assert.equal(events.filter((e) => e.tag === port!['id']).length, 1, 'no event without a change');
    });

    test('DHCP ports: an address per DHCP subnet, never blocking deletes', async () => {
      const [net] = await createNetworks(deps, admin, [{ name: 'dhcp' }]);
      const id = String(net!['id']);
      assert.equal(await ensureDhcpPort(deps, id, 'h1'), undefined, 'no DHCP subnet yet');
      const [s1] = await createSubnets(deps, admin, [{ network_id: id, ip_version: 4, cidr: '10.8.0.0/24' }]);
      await createSubnets(deps, admin, [{ network_id: id, ip_version: 4, cidr: '10.9.0.0/24', enable_dhcp: false }]);
      const port = await ensureDhcpPort(deps, id, 'h1');
      assert.equal(port!['device_owner'], 'network:dhcp');
      assert.equal(port!['project_id'], '');
      assert.deepEqual((port!['fixed_ips'] as Array<{ subnet_id: string }>).map((f) => f.subnet_id), [s1!['id']]);
      const again = await ensureDhcpPort(deps, id, 'h1');
      assert.equal(again!['id'], port!['id']);
      assert.deepEqual(again!['fixed_ips'], port!['fixed_ips'], 'refreshing keeps the address');
      await deleteSubnet(deps, admin, String(s1!['id']));
      await deleteNetwork(deps, admin, id);
    });
  });
}
