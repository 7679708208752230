import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createScryptHasher } from './password-hasher.js';

test('scrypt hashes verify, reject wrong passwords and odd encodings, and report old parameters', async () => {
  const h = createScryptHasher({ N: 1024, r: 8, p: 2, maxConcurrent: 2, niceness: 0 });
  const encoded = await h.hash('correct horse');
  assert.match(encoded, /^\$scrypt\$ln=10,r=8,p=2\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  assert.equal(await h.verify('correct horse', encoded), true);
  assert.equal(await h.verify('correct hors', encoded), false);
  assert.notEqual(await h.hash('correct horse'), encoded, 'salted');
  assert.equal(await h.verify('x', 'plain'), false);
  assert.equal(await h.verify('x', '$scrypt$ln=30,r=8,p=1$AAAA$AAAA'), false, 'a stored hash cannot ask for 2^30 work');
  assert.equal(h.needsRehash(encoded), false);
  assert.equal(createScryptHasher({ N: 2048, r: 8, p: 2, maxConcurrent: 1 }).needsRehash(encoded), true);
  // NFKC: the same password typed with composed or decomposed characters.
  const e2 = await h.hash('caf\u00e9');
  assert.equal(await h.verify('cafe\u0301', e2), true);
  await h.close();
  await assert.rejects(h.hash('late'));
});

test('hashing runs on pool threads with a lower priority than the event loop (Linux)', { skip: process.platform !== 'linux' }, () => {
  // A fresh process, so that the thread pool starts when the hasher first uses it.
  const script = `
    import { readdirSync, readFileSync } from 'node:fs';
    const { createScryptHasher } = await import(${JSON.stringify(new URL('./password-hasher.ts', import.meta.url).pathname)});
    const h = createScryptHasher({ N: 1024, r: 8, p: 1, maxConcurrent: 2, niceness: 7 });
    await h.hash('x');
    const nice = (t) => Number(readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[16]);
    const pool = () => readdirSync('/proc/self/task').map(nice).filter((n) => n === 7).length;
    // The renicing runs in the background; give it a moment.
    for (let i = 0; i < 50 && pool() === 0; i++) await new Promise((r) => setTimeout(r, 50));
    console.log(JSON.stringify({ main: nice(process.pid), pool: pool() }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { main: number; pool: number };
  assert.equal(out.main, 0, 'the event loop keeps its priority');
  assert.ok(out.pool >= 1, `pool threads were reniced: ${r.stdout}`);
});

test('a queued check whose caller went away is skipped', async () => {
  const h = createScryptHasher({ N: 16384, r: 8, p: 1, maxConcurrent: 1, niceness: 0 });
  const encoded = await h.hash('pw');
  const gone = new AbortController();
  const first = h.verify('pw', encoded);
  const second = h.verify('pw', encoded, { signal: gone.signal });
  const third = h.verify('pw', encoded);
  gone.abort();
  assert.equal(await first, true);
  await assert.rejects(second, (e: Error) => e.name === 'AbortError');
  assert.equal(await third, true, 'the queue moves on');
});

test('the limiter never runs more than max tasks and serves background tasks last', async () => {
  const { createLimiter } = await import('./password-hasher.js');
  const limit = createLimiter(2);
  let running = 0;
  let peak = 0;
  const order: string[] = [];
  const task = (name: string) => async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 5));
    order.push(name);
    running--;
  };
  await Promise.all([
    limit(task('a')),
    limit(task('b')),
    limit(task('bg'), undefined, true),
    limit(task('c')),
    limit(task('d')),
  ]);
  assert.equal(peak, 2);
  assert.equal(order.at(-1), 'bg', 'background work waits behind the others');
});
