import { test } from 'node:test';
import assert from 'node:assert/strict';
import { migrateService } from '../../core/db/migrate.js';
import { isUniqueViolation } from '../../core/db/database.js';
import { freshDatabase, testDialects } from '../../../test/support/databases.js';
import { imageDb } from './image-db.js';
import { createImageRepo, type ImageListQuery } from './image-repo.js';
import { createMemberRepo } from './member-repo.js';
import { createMetadefRepo } from './metadef-repo.js';
import { imageMigrations } from './migrations.js';
import type { ImageRow, Visibility } from './tables.js';

let seq = 0;
function row(id: string, owner: string, visibility: Visibility, extra: Partial<ImageRow> = {}): ImageRow {
  const t = `2026-11-22T00:00:${String(seq++).padStart(2, '0')}.000000Z`;
  return {
    id,
    name: id,
    status: 'active',
    visibility,
    protected: 0,
    os_hidden: 0,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    size: null,
    virtual_size: null,
    owner,
    disk_format: 'raw',
    container_format: 'bare',
    min_disk: 0,
    min_ram: 0,
    created_at: t,
    updated_at: t,
    deleted: 0,
    deleted_at: null,
    ...extra,
  };
}

const ids = (rows: ImageRow[]) => rows.map((r) => r.id);

for (const dialect of testDialects()) {
  test(`image repositories on ${dialect}`, async (t) => {
    const database = await freshDatabase(dialect);
    t.after(() => database.drop());
    assert.deepEqual(await migrateService(database, 'image', imageMigrations), ['0001_initial']);
    const db = imageDb(database);
    const images = createImageRepo(db);
    const members = createMemberRepo(db);

    const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    await images.insert(row(id(1), 'A', 'private', { size: 300 }), { os_distro: 'cirros' }, ['x', 'y', 'x']);
    await images.insert(row(id(2), 'A', 'shared', { size: 100 }), {}, ['x']);
    await images.insert(row(id(3), 'B', 'public', { size: 200, name: null }), {}, []);
    await images.insert(row(id(4), 'B', 'community'), {}, []);
    await images.insert(row(id(5), 'B', 'shared', { os_hidden: 1 }), {}, []);
    await images.insert(row(id(6), 'C', 'private'), {}, []);
    await assert.rejects(images.insert(row(id(6), 'C', 'private'), {}, []), (e) => isUniqueViolation(e));
    assert.deepEqual(await images.tags(id(1)), ['x', 'y'], 'tags are a set');
    await members.insert({ image_id: id(2), member: 'B', status: 'pending', created_at: 'now', updated_at: 'now' });
    await members.insert({ image_id: id(5), member: 'A', status: 'accepted', created_at: 'now', updated_at: 'now' });
    await assert.rejects(members.insert({ image_id: id(5), member: 'A', status: 'pending', created_at: 'now', updated_at: 'now' }), (e) => isUniqueViolation(e));

    const base: ImageListQuery = {
      scope: { admin: false, projectId: 'A' },
      memberStatus: 'accepted',
      columns: [],
      properties: [],
      tags: [],
      sort: [{ key: 'created_at', dir: 'desc' }],
      limit: 100,
    };
    const list = (q: Partial<ImageListQuery>) => images.list({ ...base, ...q });

    // A: own (any visibility) + public + accepted shared; never others' private or community by default.
    assert.deepEqual(ids(await list({})), [id(5), id(3), id(2), id(1)]);
    assert.deepEqual(ids(await list({ scope: { admin: false, projectId: 'B' } })), [id(5), id(4), id(3)], 'pending membership: not listed');
    assert.deepEqual(ids(await list({ scope: { admin: false, projectId: 'B' }, memberStatus: 'pending', visibility: 'shared' })), [id(5), id(2)]);
    assert.deepEqual(ids(await list({ visibility: 'community' })), [id(4)]);
    assert.deepEqual(ids(await list({ scope: { admin: false, projectId: 'C' } })), [id(6), id(3)]);
    assert.deepEqual(ids(await list({ scope: { admin: true, projectId: 'C' } })), [id(6), id(5), id(3), id(2), id(1)], 'admin: all but others\u2019 community');
    assert.deepEqual(ids(await list({ scope: { admin: true, projectId: 'C' }, visibility: 'all' })).length, 6);

    // Filters: columns, properties, tags, hidden.
    assert.deepEqual(ids(await list({ columns: [{ column: 'os_hidden', op: 'eq', values: [0] }] })), [id(3), id(2), id(1)]);
    assert.deepEqual(ids(await list({ columns: [{ column: 'size', op: 'gte', values: [150] }] })), [id(3), id(1)]);
    assert.deepEqual(ids(await list({ columns: [{ column: 'name', op: 'in', values: [id(1), id(2)] }] })), [id(2), id(1)]);
    assert.deepEqual(ids(await list({ properties: [{ name: 'os_distro', value: 'cirros' }] })), [id(1)]);
    assert.deepEqual(ids(await list({ tags: ['x', 'y'] })), [id(1)]);
    assert.deepEqual(ids(await list({ tags: ['x'] })), [id(2), id(1)]);

    // Sorting with nulls and keyset pagination give the same order page by page.
    const sort: ImageListQuery['sort'] = [{ key: 'size', dir: 'desc' }];
    const all = ids(await list({ sort }));
    assert.deepEqual(all, [id(1), id(3), id(2), id(5)]);
    const paged: string[] = [];
    let marker: ImageRow | undefined;
    for (;;) {
      const page = await list({ sort, limit: 1, marker });
      if (!page.length) break;
      paged.push(page[0]!.id);
      marker = page[0];
    }
    assert.deepEqual(paged, all);
    const byName = ids(await list({ sort: [{ key: 'name', dir: 'asc' }], scope: { admin: true, projectId: null }, visibility: 'all' }));
    assert.equal(byName[0], id(3), 'a null name sorts first ascending');

    // Conditional status changes are atomic.
    assert.equal(await images.update(id(6), { status: 'saving' }, ['queued']), false);
    assert.equal(await images.update(id(6), { status: 'deactivated' }, ['active']), true);
    // The import lock is a unique property row.
    assert.equal(await images.claimProperty(id(6), 'os_glance_import_task', 't1'), true);
    assert.equal(await images.claimProperty(id(6), 'os_glance_import_task', 't2'), false);

    // Usage counts stored bytes per copy.
    await images.addLocation(id(1), 'fast', 'now');
    await images.addLocation(id(1), 'cheap', 'now');
    await images.addLocation(id(2), 'fast', 'now');
    assert.deepEqual(await images.usage('A'), { count: 2, sizeBytes: 700, stagingBytes: 0, uploading: 0 });

    // Deleted images keep their id but lose tags, members and locations.
    assert.equal(await images.markDeleted(id(2), 'now'), true);
    assert.equal(await images.get(id(2)), undefined);
    assert.equal((await images.get(id(2), { includeDeleted: true }))?.status, 'deleted');
    assert.deepEqual(await images.tags(id(2)), []);
    assert.equal(await members.count(id(2)), 0);
    assert.equal(await images.markDeleted(id(2), 'now'), false);

    const md = createMetadefRepo(db);
    await md.ensureResourceType('OS::Glance::Image', 'now', true);
    await md.ensureResourceType('OS::Glance::Image', 'now', true);
    assert.equal((await md.resourceTypes()).length, 1);
  });
}
