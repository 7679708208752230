import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createBackupStore } from './backup-store.js';

const dir = mkdtempSync(join(tmpdir(), 'nimbus-backup-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const CHUNK = 64 * 1024;
const countObjects = () => readdirSync(join(dir, 'store', 'objects')).flatMap((d) => readdirSync(join(dir, 'store', 'objects', d))).length;

test('full and incremental backups restore exactly, share chunks and can be deleted in any order', async () => {
  const store = createBackupStore(join(dir, 'store'), CHUNK);
  const vol = join(dir, 'vol.raw');
  const content = Buffer.alloc(CHUNK * 8);
  randomBytes(CHUNK).copy(content, 0);
  randomBytes(CHUNK).copy(content, CHUNK * 5);
  await writeFile(vol, content);

  const full = await store.backup('b1', 'v1', vol, null);
  assert.equal(full.objectCount, 2, 'zero chunks are not stored');
  assert.equal(full.newObjects, 2);

  // Change one chunk: the incremental stores only that one.
  const fh = await open(vol, 'r+');
  const changed = randomBytes(CHUNK);
  await fh.write(changed, 0, CHUNK, CHUNK * 2);
  await fh.close();
  const incr = await store.backup('b2', 'v1', vol, 'b1');
  assert.equal(incr.newObjects, 1);
  assert.equal(incr.objectCount, 3);

  const out1 = join(dir, 'r1.raw');
  await store.restore('b1', out1);
  assert.deepEqual(await readFile(out1), content);
  const out2 = join(dir, 'r2.raw');
  await store.restore('b2', out2);
  const expected = Buffer.from(content);
  changed.copy(expected, CHUNK * 2);
  assert.deepEqual(await readFile(out2), expected);

  // An imported copy of b1, then delete the original first: the copy still restores.
  await store.importManifest('b1-copy', (await store.readManifest('b1'))!);
  await store.delete('b1');
  await store.restore('b1-copy', out1);
  assert.deepEqual(await readFile(out1), content);
  assert.equal(countObjects(), 3);
  await store.delete('b1-copy');
  assert.equal(countObjects(), 3, 'b2 still uses every chunk');
  await store.delete('b2');
  assert.equal(countObjects(), 0);
});
