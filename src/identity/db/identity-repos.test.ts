import { test } from 'node:test';
import assert from 'node:assert/strict';
import { migrateService } from '../../core/db/migrate.js';
import { isUniqueViolation } from '../../core/db/database.js';
import { freshDatabase, testDialects } from '../../../test/support/databases.js';
import { identityMigrations } from './migrations.js';
import { reposFor } from '../service/repos.js';
import { ROOT_DOMAIN_ID } from './tables.js';

const now = '2026-11-22T00:00:00.000000Z';

for (const dialect of testDialects()) {
  test(`identity repositories on ${dialect}`, async (t) => {
    const database = await freshDatabase(dialect);
    t.after(() => database.drop());
    assert.deepEqual(await migrateService(database, 'identity', identityMigrations), ['0001_initial', '0002_limits_trusts_indexes']);
    assert.deepEqual(await migrateService(database, 'identity', identityMigrations), [], 'migrations are idempotent');
    const repos = reposFor(database);

    await repos.projects.insert({
      id: 'default', name: 'Default', domain_id: ROOT_DOMAIN_ID, parent_id: null, description: '', enabled: 1, is_domain: 1, extra: '{}', options: '{}', created_at: now,
    });
    const project = { id: 'p1', name: 'demo', domain_id: 'default', parent_id: 'default', description: '', enabled: 1, is_domain: 0, extra: '{}', options: '{}', created_at: now };
    await repos.projects.insert(project);
    await assert.rejects(repos.projects.insert({ ...project, id: 'p2' }), (e) => isUniqueViolation(e), 'names are unique per domain');

    await repos.projects.setTags('p1', ['b', 'a', 'a']);
    assert.deepEqual(await repos.projects.tags('p1'), ['a', 'b']);
    const tagged = await repos.projects.projectIdsWithTags(['a'], [], [], []);
    assert.ok(tagged?.has('p1'));

    assert.equal((await repos.projects.listDomains()).length, 1);
    assert.deepEqual((await repos.projects.list({ domainId: 'default' })).map((p) => p.id), ['p1']);

    await repos.roles.insert({ id: 'r1', name: 'member', domain_id: '<<null>>', description: null, options: '{}', extra: '{}' });
    await repos.assignments.add({ type: 'UserProject', actor_id: 'u1', target_id: 'p1', role_id: 'r1', inherited: 0 });
    await repos.assignments.add({ type: 'UserProject', actor_id: 'u1', target_id: 'p1', role_id: 'r1', inherited: 0 });
    assert.equal((await repos.assignments.list({ actorIds: ['u1'] })).length, 1, 'granting twice is one assignment');
    assert.equal(await repos.assignments.remove({ type: 'UserProject', actor_id: 'u1', target_id: 'p1', role_id: 'r1', inherited: 0 }), 1);
  });
}
