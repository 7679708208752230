import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshDatabase, testDialects } from '../../../test/support/databases.js';
import { migrateService } from '../../core/db/migrate.js';
import { isoNow } from '../../core/ids.js';
import { volumeMigrations } from './migrations.js';
import { QuotaExceeded } from './quota-repo.js';
import type { VolumeRow } from './tables.js';
import { createVolumeRepos, type VolumeRepos } from './volume-db.js';

function volumeRow(id: string, project: string, extra: Partial<VolumeRow> = {}): VolumeRow {
  return {
    id, project_id: project, user_id: 'u', name: null, description: null, size: 1, status: 'available', attach_status: 'detached',
    previous_status: null, migration_status: null, availability_zone: 'nova', volume_type_id: 't', snapshot_id: null, source_volid: null,
    backup_id: null, group_id: null, host: 'h@b#p', bootable: 0, multiattach: 0, encryption_key_id: null, replication_status: 'disabled',
    admin_metadata: '{}', image_metadata: null, use_quota: 1, created_at: isoNow(), updated_at: null, launched_at: null, ...extra,
  };
}

for (const dialect of testDialects()) {
  describe(`volume repositories on ${dialect}`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let repos: VolumeRepos;
    before(async () => {
      db = await freshDatabase(dialect);
      await migrateService(db, 'volume', volumeMigrations);
      repos = createVolumeRepos(db);
    });
    after(async () => db.drop());

    it('never lets concurrent consumers pass a quota limit', async () => {
      const attempts = await Promise.allSettled(
        Array.from({ length: 20 }, () => repos.quotas.consume('p1', { volumes: 1, gigabytes: 10 }, { volumes: 5, gigabytes: 1000 })),
      );
      assert.equal(attempts.filter((a) => a.status === 'fulfilled').length, 5);
      const failed = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
      assert.ok(failed.every((f) => f.reason instanceof QuotaExceeded));
      assert.deepEqual(await repos.quotas.usage('p1'), { volumes: 5, gigabytes: 50 });
      // A failure on a later resource rolls back the earlier ones.
      await assert.rejects(repos.quotas.consume('p1', { volumes: -1, gigabytes: 1000 }, { gigabytes: 1000 }), QuotaExceeded);
      assert.deepEqual(await repos.quotas.usage('p1'), { volumes: 5, gigabytes: 50 });
      await repos.quotas.consume('p1', { volumes: -10 }, {});
      assert.equal((await repos.quotas.usage('p1'))['volumes'], 0, 'usage never goes below zero');
    });

    it('moves a status only from the expected states, once', async () => {
      await repos.volumes.insert(volumeRow('v-race', 'p2'));
      const results = await Promise.all(Array.from({ length: 10 }, () => repos.volumes.transition('v-race', ['available'], { status: 'reserved' })));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await repos.volumes.get('v-race'))?.status, 'reserved');
    });

    it('filters by metadata and pages by keyset in any order', async () => {
      for (let i = 0; i < 7; i++) {
        await repos.volumes.insert(volumeRow(`v-page-${i}`, 'p3', { name: i % 2 ? `odd-${i}` : null, size: 7 - i, created_at: `2030-01-01T00:00:0${i}.000000Z` }));
        if (i % 3 === 0) await repos.metadata.set('volume', `v-page-${i}`, { Type: 'work' }, true);
      }
      const tagged = await repos.volumes.list({ projectId: 'p3', metadata: { Type: 'work' } }, { sort: [{ column: 'id', dir: 'asc' }] });
      assert.deepEqual(tagged.map((v) => v.id), ['v-page-0', 'v-page-3', 'v-page-6']);
      for (const sort of [[{ column: 'size', dir: 'asc' }], [{ column: 'name', dir: 'desc' }], [{ column: 'created_at', dir: 'desc' }]] as const) {
        const all = await repos.volumes.list({ projectId: 'p3' }, { sort: [...sort] });
        const paged: string[] = [];
        let marker: VolumeRow | undefined;
        for (;;) {
          const page = await repos.volumes.list({ projectId: 'p3' }, { sort: [...sort], limit: 2, ...(marker ? { marker: marker as unknown as Record<string, unknown> } : {}) });
          if (!page.length) break;
          paged.push(...page.map((v) => v.id));
          marker = page[page.length - 1];
        }
        assert.deepEqual(paged, all.map((v) => v.id), `paging by ${sort[0].column} ${sort[0].dir}`);
        assert.equal(new Set(paged).size, 7);
      }
      assert.equal(await repos.volumes.count({ projectId: 'p3', like: { name: 'ODD' } }), 3);
      assert.equal(await repos.volumes.sum({ projectId: 'p3' }, 'size'), 28);
    });
  });
}
