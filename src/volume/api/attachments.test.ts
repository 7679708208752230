import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshDatabase } from '../../../test/support/databases.js';
import { startVolumeHarness, type VolumeHarness } from '../testing/volume-harness.js';

const SERVER_1 = '11111111-1111-4111-8111-111111111111';
const SERVER_2 = '22222222-2222-4222-8222-222222222222';
const connector = { host: 'compute-1', ip: '127.0.0.1', initiator: 'iqn.test', platform: 'x86_64', os_type: 'linux', multipath: false, mountpoint: '/dev/vdb' };

describe('volume attachments', () => {
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

  async function volume(who: 'alice' | 'admin' = 'alice', body: Record<string, unknown> = {}): Promise<string> {
    const r = await h.call(who, 'POST', '/volumes', { volume: { size: 1, ...body } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await h.waitFor(who, `/volumes/${r.body.volume.id}`, (b) => b.volume.status, 'available');
    return r.body.volume.id;
  }

  /** Nova's attach flow: create (reserve), update with a connector, complete. */
  async function attach(volumeId: string, server: string, who: 'alice' | 'nova' = 'alice'): Promise<string> {
    const c = await h.call(who, 'POST', '/attachments', { attachment: { volume_uuid: volumeId, instance_uuid: server } }, { mv: '3.44', service: who === 'alice' });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    const id = c.body.attachment.id;
    const u = await h.call(who, 'PUT', `/attachments/${id}`, { attachment: { connector } }, { mv: '3.44', service: who === 'alice' });
    assert.equal(u.status, 200, JSON.stringify(u.body));
    assert.equal(u.body.attachment.connection_info.driver_volume_type, 'fake');
    const done = await h.call(who, 'POST', `/attachments/${id}/action`, { 'os-complete': {} }, { mv: '3.44', service: who === 'alice' });
    assert.equal(done.status, 204);
    h.compute.attachments.set(`${server}/${volumeId}`, id);
    return id;
  }

  it('attaches a volume the way Nova does and shows it in-use on the server', async () => {
    const v = await volume();
    const id = await attach(v, SERVER_1);
    const show = await h.call('alice', 'GET', `/volumes/${v}`);
    assert.equal(show.body.volume.status, 'in-use');
    assert.equal(show.body.volume.attachments.length, 1);
    assert.equal(show.body.volume.attachments[0].server_id, SERVER_1);
    assert.equal(show.body.volume.attachments[0].attachment_id, id);
    assert.equal(show.body.volume.attachments[0].device, '/dev/vdb');
  });

  it('does not attach a volume to a second server unless the volume type is multiattach', async () => {
    const v = await volume();
    await attach(v, SERVER_1);
    const second = await h.call('alice', 'POST', '/attachments', { attachment: { volume_uuid: v, instance_uuid: SERVER_2 } }, { mv: '3.44' });
    assert.equal(second.status, 400);
    assert.match(second.body.badRequest.message, /in-use/);
    const legacy = await h.call('alice', 'POST', `/volumes/${v}/action`, { 'os-attach': { instance_uuid: SERVER_2, mountpoint: '/dev/vdc' } });
    assert.equal(legacy.status, 400);

    const type = await h.call('admin', 'POST', '/types', { volume_type: { name: 'multi', extra_specs: { multiattach: '<is> True' } } });
    assert.equal(type.status, 200);
    const m = await volume('alice', { volume_type: 'multi' });
    assert.equal((await h.call('alice', 'GET', `/volumes/${m}`)).body.volume.multiattach, true);
    await attach(m, SERVER_1);
    await attach(m, SERVER_2);
    const show = await h.call('alice', 'GET', `/volumes/${m}`);
    assert.deepEqual(show.body.volume.attachments.map((a: { server_id: string }) => a.server_id).sort(), [SERVER_1, SERVER_2].sort());
  });

  it('lets exactly one of many concurrent attach requests reserve a volume', async () => {
    const v = await volume();
    const servers = Array.from({ length: 12 }, (_, i) => `33333333-3333-4333-8333-${String(i).padStart(12, '0')}`);
    const results = await Promise.all(servers.map((s) => h.call('alice', 'POST', '/attachments', { attachment: { volume_uuid: v, instance_uuid: s } }, { mv: '3.44' })));
    assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join(','));
    assert.equal(results.filter((r) => r.status === 400).length, servers.length - 1);
    const legacy = await Promise.all(Array.from({ length: 8 }, () => h.call('alice', 'POST', `/volumes/${v}/action`, { 'os-reserve': {} })));
    assert.ok(legacy.every((r) => r.status === 400), 'a reserved volume cannot be reserved again');
    const v2 = await volume();
    const races = await Promise.all(Array.from({ length: 8 }, () => h.call('alice', 'POST', `/volumes/${v2}/action`, { 'os-reserve': {} })));
    assert.equal(races.filter((r) => r.status === 202).length, 1);
  });

  it('refuses to delete an in-use attachment with the user token alone (OSSA-2023-003)', async () => {
    const v = await volume();
    const id = await attach(v, SERVER_1);
    const byUser = await h.call('alice', 'DELETE', `/attachments/${id}`, undefined, { mv: '3.44' });
    assert.equal(byUser.status, 409);
    assert.match(byUser.body.conflictingRequest.message, /using the Compute API/);
    const detach = await h.call('alice', 'POST', `/volumes/${v}/action`, { 'os-detach': { attachment_id: id } });
    assert.equal(detach.status, 409);
    const terminate = await h.call('alice', 'POST', `/volumes/${v}/action`, { 'os-terminate_connection': { connector } });
    assert.equal(terminate.status, 409);
    // A forged X-Service-Token is not a service token.
    const forged = await h.call('alice', 'DELETE', `/attachments/${id}`, undefined, { mv: '3.44', headers: { 'x-service-token': 'bob' } });
    assert.equal(forged.status, 409);
    assert.equal((await h.call('alice', 'GET', `/volumes/${v}`)).body.volume.status, 'in-use');

    // Nova, calling for the user with its service token, may.
    const byNova = await h.call('alice', 'DELETE', `/attachments/${id}`, undefined, { mv: '3.44', service: true });
    assert.equal(byNova.status, 200);
    assert.deepEqual(byNova.body.attachments, []);
    assert.equal((await h.call('alice', 'GET', `/volumes/${v}`)).body.volume.status, 'available');
  });

  it('lets a user clean up an attachment compute no longer has', async () => {
    const v = await volume();
    const id = await attach(v, SERVER_2);
    h.compute.attachments.delete(`${SERVER_2}/${v}`);
    const r = await h.call('alice', 'DELETE', `/attachments/${id}`, undefined, { mv: '3.44' });
    assert.equal(r.status, 200);
  });

  it('keeps the legacy os-attach / os-detach flow working for users', async () => {
    const v = await volume();
    assert.equal((await h.call('alice', 'POST', `/volumes/${v}/action`, { 'os-attach': { instance_uuid: SERVER_1, mountpoint: '/dev/vdb' } })).status, 202);
    const show = await h.call('alice', 'GET', `/volumes/${v}`);
    assert.equal(show.body.volume.status, 'in-use');
    assert.equal(show.body.volume.metadata.attached_mode, 'rw');
    assert.equal((await h.call('alice', 'POST', `/volumes/${v}/action`, { 'os-detach': {} })).status, 202);
    assert.equal((await h.call('alice', 'GET', `/volumes/${v}`)).body.volume.status, 'available');
    // Detaching a volume that has nothing attached is a no-op that succeeds.
    assert.equal((await h.call('alice', 'POST', `/volumes/${v}/action`, { 'os-detach': {} })).status, 202);
  });

  it('does not let another project see or use an attachment', async () => {
    const v = await volume();
    const id = await attach(v, SERVER_1);
    assert.equal((await h.call('bob', 'GET', `/attachments/${id}`, undefined, { mv: '3.44' })).status, 404);
    assert.equal((await h.call('bob', 'DELETE', `/attachments/${id}`, undefined, { mv: '3.44' })).status, 404);
    assert.equal((await h.call('bob', 'POST', '/attachments', { attachment: { volume_uuid: v, instance_uuid: SERVER_2 } }, { mv: '3.44' })).status, 404);
    const list = await h.call('bob', 'GET', '/attachments', undefined, { mv: '3.44' });
    assert.ok(!list.body.attachments.some((a: { id: string }) => a.id === id));
  });
});
