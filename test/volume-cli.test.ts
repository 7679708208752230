import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestCloud } from './support/cloud.js';
import { newProjectUser } from './support/image-http.js';
import { haveOpenstackCli, openstack, openstackJson, openstackOk } from './support/openstack-cli.js';

const haveQemuImg = existsSync('/usr/bin/qemu-img');
type Row = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test('block storage with the real openstack CLI', { skip: (!haveOpenstackCli && 'python3-openstackclient not installed') || (!haveQemuImg && 'qemu-img not installed') }, async (t) => {
  const cloud = await startTestCloud();
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-volume-cli-'));
  t.after(async () => {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const admin = cloud.env;
  const user = await newProjectUser(cloud, 'vol');
  const env = user.env;

  /** Polls `openstack <kind> show` until the field has the value (failing fast on an error status). */
  async function waitFor(kind: string[], name: string, field: string, want: unknown, who = env): Promise<Row> {
    const end = Date.now() + 60_000;
    for (;;) {
      const r = await openstack(who, [...kind, 'show', name, '-f', 'json']);
      if (r.code === 0) {
        const row = JSON.parse(r.stdout) as Row;
        if (row[field] === want) return row;
        if (typeof row['status'] === 'string' && row['status'].startsWith('error') && want !== row['status']) throw new Error(`${kind.join(' ')} ${name} went to ${row['status']}`);
      } else if (want === 'gone' && /No (volume|snapshot|backup)|could not be found|Not Found/i.test(r.stderr)) return {};
      if (Date.now() > end) throw new Error(`${kind.join(' ')} ${name}: ${field} never became ${String(want)}`);
      await new Promise((r2) => setTimeout(r2, 300));
    }
  }

  const disk = join(dir, 'cirros.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
  await openstackOk(admin, ['image', 'create', 'cirros', '--file', disk, '--disk-format', 'qcow2', '--container-format', 'bare', '--public']);

  await t.test('volume create --size 1, and from an image with --bootable', async () => {
    const v1 = await openstackJson<Row>(env, ['volume', 'create', '--size', '1', 'v1']);
    assert.equal(v1['size'], 1);
    await waitFor(['volume'], 'v1', 'status', 'available');
    await openstackOk(env, ['volume', 'create', '--image', 'cirros', '--size', '1', '--bootable', 'bv']);
    const bv = await waitFor(['volume'], 'bv', 'status', 'available');
    assert.equal(String(bv['bootable']), 'true');
    assert.equal(bv['volume_image_metadata']['image_name'], 'cirros');
  });

  await t.test('volume list', async () => {
    const rows = await openstackJson<Row[]>(env, ['volume', 'list']);
    assert.deepEqual(rows.map((r) => r['Name']).sort(), ['bv', 'v1']);
    assert.ok(rows.every((r) => r['Status'] === 'available' && r['Size'] === 1));
  });

  await t.test('volume snapshot create, and volume create --snapshot', async () => {
    await openstackOk(env, ['volume', 'snapshot', 'create', '--volume', 'v1', 's1']);
    await waitFor(['volume', 'snapshot'], 's1', 'status', 'available');
    await openstackOk(env, ['volume', 'create', '--snapshot', 's1', 'v2']);
    const v2 = await waitFor(['volume'], 'v2', 'status', 'available');
    assert.equal(v2['size'], 1);
  });

  await t.test('volume backup create and restore', async () => {
    await openstackOk(env, ['volume', 'backup', 'create', '--name', 'b1', 'v1']);
    await waitFor(['volume', 'backup'], 'b1', 'status', 'available');
    await waitFor(['volume'], 'v1', 'status', 'available');
    await openstackOk(env, ['volume', 'backup', 'restore', 'b1', 'v3']);
    await waitFor(['volume'], 'v3', 'status', 'available');
    await waitFor(['volume', 'backup'], 'b1', 'status', 'available');
  });

  await t.test('volume set --size 2', async () => {
    await openstackOk(env, ['volume', 'set', '--size', '2', 'v1']);
    await waitFor(['volume'], 'v1', 'size', 2);
  });

  await t.test('another project sees none of it', async () => {
    const other = await newProjectUser(cloud, 'other');
    assert.deepEqual(await openstackJson<Row[]>(other.env, ['volume', 'list']), []);
    assert.deepEqual(await openstackJson<Row[]>(other.env, ['volume', 'snapshot', 'list']), []);
    assert.deepEqual(await openstackJson<Row[]>(other.env, ['volume', 'backup', 'list']), []);
    const r = await openstack(other.env, ['volume', 'show', 'v1']);
    assert.notEqual(r.code, 0);
  });

  await t.test('volume delete (snapshots and backups first)', async () => {
    await openstackOk(env, ['volume', 'backup', 'delete', 'b1']);
    await openstackOk(env, ['volume', 'snapshot', 'delete', 's1']);
    await waitFor(['volume', 'backup'], 'b1', 'status', 'gone');
    await waitFor(['volume', 'snapshot'], 's1', 'status', 'gone');
    await openstackOk(env, ['volume', 'delete', 'v1', 'v2', 'v3', 'bv']);
    for (const v of ['v1', 'v2', 'v3', 'bv']) await waitFor(['volume'], v, 'status', 'gone');
    assert.deepEqual(await openstackJson<Row[]>(env, ['volume', 'list']), []);
  });
});
