import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshDatabase } from '../../../test/support/databases.js';
import { PROJECTS, startVolumeHarness, type VolumeHarness } from '../testing/volume-harness.js';

describe('volume API', () => {
  let h: VolumeHarness;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  before(async () => {
    db = await freshDatabase('sqlite');
    h = await startVolumeHarness(db);
  });
  after(async () => {
    await h.close();
    await db.drop();
  });

  const available = (who: 'alice' | 'bob' | 'admin', id: string) => h.waitFor(who, `/volumes/${id}`, (b) => b.volume.status, 'available');
  async function volume(who: 'alice' | 'bob' | 'admin', body: Record<string, unknown> = {}): Promise<string> {
    const r = await h.call(who, 'POST', '/volumes', { volume: { size: 1, ...body } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await available(who, r.body.volume.id);
    return r.body.volume.id;
  }

  it('negotiates microversions and echoes them', async () => {
    const r = await h.call('alice', 'GET', '/volumes', undefined, { mv: '3.0' });
    assert.equal(r.headers['openstack-api-version'], 'volume 3.0');
    assert.equal((await h.call('alice', 'GET', '/volumes', undefined, { mv: 'latest' })).headers['openstack-api-version'], 'volume 3.70');
    assert.equal((await h.call('alice', 'GET', '/volumes', undefined, { mv: '3.71' })).status, 406);
    assert.equal((await h.call('alice', 'GET', '/volumes', undefined, { mv: '3.x' })).status, 400);
    assert.equal((await h.call('alice', 'GET', '/messages', undefined, { mv: '3.2' })).status, 404, 'messages exist from 3.3');
    assert.equal((await h.call('alice', 'GET', '/messages', undefined, { mv: '3.3' })).status, 200);
  });

  it('serves project-less URLs, refuses another project in the URL and does not normalise trailing slashes', async () => {
    const id = await volume('alice');
    const noProject = await h.app.inject({ method: 'GET', url: `/v3/volumes/${id}`, headers: { 'x-auth-token': 'alice' } });
    assert.equal(noProject.statusCode, 200);
    const other = await h.app.inject({ method: 'GET', url: `/v3/${PROJECTS.bob}/volumes/${id}`, headers: { 'x-auth-token': 'alice' } });
    assert.equal(other.statusCode, 400);
    assert.equal((await h.call('alice', 'GET', '/volumes/')).status, 404);
    assert.equal((await h.call('alice', 'GET', `/volumes`)).status, 200);
    const unauth = await h.app.inject({ method: 'GET', url: `/v3/volumes` });
    assert.equal(unauth.statusCode, 401);
    const versions = await h.app.inject({ method: 'GET', url: '/' });
    assert.equal(versions.statusCode, 300);
    assert.equal(JSON.parse(versions.body).versions[0].version, '3.70');
  });

  it('validates volume creation like Cinder', async () => {
    for (const size of ['#$%', '', '-1', '0', 0]) {
      assert.equal((await h.call('alice', 'POST', '/volumes', { volume: { size } })).status, 400, `size ${JSON.stringify(size)}`);
    }
    assert.equal((await h.call('alice', 'POST', '/volumes', { volume: { size: 1, volume_type: '9e1b7c2e-0000-4000-8000-000000000000' } })).status, 404);
    assert.equal((await h.call('alice', 'POST', '/volumes', { volume: { size: 1, snapshot_id: '9e1b7c2e-0000-4000-8000-000000000000' } })).status, 404);
    assert.equal((await h.call('alice', 'POST', '/volumes', { volume: { size: 1, multiattach: true } })).status, 400);
    assert.equal((await h.call('alice', 'POST', '/volumes', { volume: { size: 1, availability_zone: 'elsewhere' } })).status, 400);
  });

  it('never shows a project another project’s volumes, snapshots or backups', async () => {
    const v = await volume('alice', { name: 'secret', metadata: { k: 'v' } });
    const snap = await h.call('alice', 'POST', '/snapshots', { snapshot: { volume_id: v, name: 's' } });
    assert.equal(snap.status, 202);
    await h.waitFor('alice', `/snapshots/${snap.body.snapshot.id}`, (b) => b.snapshot.status, 'available');
    const backup = await h.call('alice', 'POST', '/backups', { backup: { volume_id: v, name: 'b' } });
    assert.equal(backup.status, 202);
    await h.waitFor('alice', `/backups/${backup.body.backup.id}`, (b) => b.backup.status, 'available');

    for (const path of [`/volumes/${v}`, `/snapshots/${snap.body.snapshot.id}`, `/backups/${backup.body.backup.id}`, `/volumes/${v}/metadata`]) {
      assert.equal((await h.call('bob', 'GET', path)).status, 404, path);
    }
    for (const [path, key] of [['/volumes/detail?all_tenants=1', 'volumes'], ['/snapshots/detail?all_tenants=1', 'snapshots'], ['/backups/detail?all_tenants=1', 'backups'], ['/volumes?name=secret', 'volumes']] as const) {
      const r = await h.call('bob', 'GET', path);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body[key], [], `${path} as another project`);
    }
    assert.equal((await h.call('bob', 'DELETE', `/volumes/${v}`)).status, 404);
    assert.equal((await h.call('bob', 'POST', `/volumes/${v}/action`, { 'os-extend': { new_size: 2 } })).status, 404);
    assert.equal((await h.call('bob', 'POST', '/snapshots', { snapshot: { volume_id: v } })).status, 404);
    assert.equal((await h.call('bob', 'POST', '/backups', { backup: { volume_id: v } })).status, 404);
    assert.equal((await h.call('bob', 'POST', '/volumes', { volume: { source_volid: v } })).status, 404);
    assert.equal((await h.call('bob', 'POST', `/backups/${backup.body.backup.id}/restore`, { restore: {} })).status, 404);
    // The admin sees everything with all_tenants.
    const all = await h.call('admin', 'GET', `/volumes/detail?all_tenants=1&project_id=${PROJECTS.alice}`);
    assert.ok(all.body.volumes.some((x: { id: string }) => x.id === v));
    // A reader can look but not change.
    assert.equal((await h.call('alice-reader', 'GET', `/volumes/${v}`)).status, 200);
    assert.equal((await h.call('alice-reader', 'DELETE', `/volumes/${v}`)).status, 403);
  });

  it('enforces quota under concurrent creations', async () => {
    assert.equal((await h.call('admin', 'PUT', `/os-quota-sets/${PROJECTS.bob}`, { quota_set: { volumes: 3, gigabytes: 100 } })).status, 200);
    const results = await Promise.all(Array.from({ length: 10 }, () => h.call('bob', 'POST', '/volumes', { volume: { size: 1 } })));
    assert.equal(results.filter((r) => r.status === 202).length, 3, results.map((r) => r.status).join(','));
    const refused = results.filter((r) => r.status === 413);
    assert.equal(refused.length, 7);
    assert.match(refused[0]!.body.overLimit.message, /exceeded/);
    const usage = await h.call('admin', 'GET', `/os-quota-sets/${PROJECTS.bob}?usage=True`);
    assert.equal(usage.body.quota_set.volumes.in_use, 3);
    for (const r of results.filter((x) => x.status === 202)) await available('bob', r.body.volume.id);
    for (const r of results.filter((x) => x.status === 202)) assert.equal((await h.call('bob', 'DELETE', `/volumes/${r.body.volume.id}`)).status, 202);
    for (const r of results.filter((x) => x.status === 202)) await h.waitFor('bob', `/volumes/${r.body.volume.id}`, () => 'x', 'HTTP 404');
    const after = await h.call('admin', 'GET', `/os-quota-sets/${PROJECTS.bob}?usage=True`);
    assert.equal(after.body.quota_set.volumes.in_use, 0);
    assert.equal(after.body.quota_set.gigabytes.in_use, 0);
  });

  it('pages lists with markers and next links', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await volume('admin', { name: `page-${i}` }));
    const seen: string[] = [];
    let url = '/volumes/detail?limit=1&sort=id:asc';
    for (let guard = 0; guard < 50; guard++) {
      const r = await h.call('admin', 'GET', url);
      seen.push(...r.body.volumes.map((v: { id: string }) => v.id));
      const next = r.body.volumes_links?.[0]?.href as string | undefined;
      if (!next) break;
      url = next.slice(next.indexOf('/volumes'));
    }
    assert.deepEqual(seen, [...seen].sort());
    for (const id of ids) assert.equal(seen.filter((x) => x === id).length, 1);
    assert.equal((await h.call('admin', 'GET', '/volumes?marker=9e1b7c2e-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await h.call('admin', 'GET', '/volumes?limit=abc')).status, 400);
    assert.equal((await h.call('admin', 'GET', '/volumes?sort_key=nope')).status, 400);
  });

  it('extends, snapshots, clones, reverts and deletes with cascade', async () => {
    const v = await volume('alice');
    assert.equal((await h.call('alice', 'POST', `/volumes/${v}/action`, { 'os-extend': { new_size: 2 } })).status, 202);
    await h.waitFor('alice', `/volumes/${v}`, (b) => b.volume.size, 2);
    assert.equal((await h.call('alice', 'POST', `/volumes/${v}/action`, { 'os-extend': { new_size: 1 } })).status, 400);
    const s = await h.call('alice', 'POST', '/snapshots', { snapshot: { volume_id: v, metadata: { a: 'b' } } });
    await h.waitFor('alice', `/snapshots/${s.body.snapshot.id}`, (b) => b.snapshot.status, 'available');
    const fromSnap = await h.call('alice', 'POST', '/volumes', { volume: { snapshot_id: s.body.snapshot.id } });
    assert.equal(fromSnap.body.volume.size, 2);
    await available('alice', fromSnap.body.volume.id);
    assert.equal((await h.call('alice', 'POST', '/volumes', { volume: { snapshot_id: s.body.snapshot.id, size: 1 } })).status, 400);
    assert.equal((await h.call('alice', 'POST', `/volumes/${v}/action`, { revert: { snapshot_id: s.body.snapshot.id } }, { mv: '3.40' })).status, 202);
    await available('alice', v);
    assert.equal((await h.call('alice', 'DELETE', `/volumes/${v}`)).status, 400, 'a volume with snapshots needs cascade');
    assert.equal((await h.call('alice', 'DELETE', `/volumes/${v}?cascade=True`)).status, 202);
    await h.waitFor('alice', `/snapshots/${s.body.snapshot.id}`, () => 'x', 'HTTP 404');
    await h.waitFor('alice', `/volumes/${v}`, () => 'x', 'HTTP 404');
  });

  it('backs up incrementally and restores into a new volume with the metadata', async () => {
    const v = await volume('alice', { metadata: { owner: 'alice' } });
    const b1 = await h.call('alice', 'POST', '/backups', { backup: { volume_id: v, name: 'full' } });
    await h.waitFor('alice', `/backups/${b1.body.backup.id}`, (b) => b.backup.status, 'available');
    const b2 = await h.call('alice', 'POST', '/backups', { backup: { volume_id: v, name: 'incr', incremental: true } });
    assert.equal(b2.status, 202, JSON.stringify(b2.body));
    const inc = await h.waitFor('alice', `/backups/${b2.body.backup.id}`, (b) => b.backup.status, 'available');
    assert.equal(inc.backup.is_incremental, true);
    assert.equal((await h.call('alice', 'DELETE', `/backups/${b1.body.backup.id}`)).status, 400, 'a backup with incrementals cannot go first');
    const restore = await h.call('alice', 'POST', `/backups/${b2.body.backup.id}/restore`, { restore: { name: 'restored' } });
    assert.equal(restore.status, 202);
    const restored = await available('alice', restore.body.restore.volume_id);
    assert.equal(restored.volume.metadata.owner, 'alice');
    await h.waitFor('alice', `/backups/${b2.body.backup.id}`, (b) => b.backup.status, 'available');
  });

  it('schedules by volume type and reports an error message when nothing fits', async () => {
    const t = await h.call('admin', 'POST', '/types', { volume_type: { name: 'nowhere', extra_specs: { vendor_name: 'nobody' } } });
    const r = await h.call('alice', 'POST', '/volumes', { volume: { size: 1, volume_type: t.body.volume_type.id } });
    await h.waitFor('alice', `/volumes/${r.body.volume.id}`, (b) => b.volume.status, 'error');
    const msgs = await h.call('alice', 'GET', '/messages', undefined, { mv: '3.3' });
    assert.ok(msgs.body.messages.some((m: { resource_uuid: string; event_id: string }) => m.resource_uuid === r.body.volume.id && m.event_id === 'VOLUME_VOLUME_001_003'));
    assert.equal((await h.call('alice', 'DELETE', `/volumes/${r.body.volume.id}`)).status, 202);
    await h.waitFor('alice', `/volumes/${r.body.volume.id}`, () => 'x', 'HTTP 404');
  });

  it('transfers a volume to another project with its quota', async () => {
    const v = await volume('alice');
    const t = await h.call('alice', 'POST', '/os-volume-transfer', { transfer: { volume_id: v } });
    assert.equal(t.status, 202);
    assert.equal((await h.call('bob', 'POST', `/os-volume-transfer/${t.body.transfer.id}/accept`, { accept: { auth_key: 'wrong' } })).status, 400);
    assert.equal((await h.call('bob', 'POST', `/os-volume-transfer/${t.body.transfer.id}/accept`, { accept: { auth_key: t.body.transfer.auth_key } })).status, 202);
    assert.equal((await h.call('alice', 'GET', `/volumes/${v}`)).status, 404);
    const mine = await h.call('bob', 'GET', `/volumes/${v}`);
    assert.equal(mine.body.volume['os-vol-tenant-attr:tenant_id'], PROJECTS.bob);
  });
});
