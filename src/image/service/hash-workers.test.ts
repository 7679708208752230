import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createHashers } from './hash-workers.js';

test('worker hashers give the same digests as inline hashing, concurrently and under backpressure', async () => {
  const hashers = createHashers(['md5', 'sha512']);
  try {
    const run = async (sizes: number[]) => {
      const job = hashers.start();
      const md5 = createHash('md5');
      const sha = createHash('sha512');
      for (const n of sizes) {
        const chunk = randomBytes(n);
        md5.update(chunk);
        sha.update(chunk);
        await job.update(chunk);
      }
      assert.deepEqual(await job.digest(), { md5: md5.digest('hex'), sha512: sha.digest('hex') });
    };
    await Promise.all([
      run([]),
      run([1]),
      run([1024 * 1024, 1024 * 1024]),
      // 20 MiB in odd-sized chunks: more than the slots of one job, so it must wait for the workers.
      run(Array.from({ length: 320 }, (_, i) => 65536 + (i % 7) * 13)),
    ]);
    const aborted = hashers.start();
    await aborted.update(randomBytes(10));
    aborted.abort();
  } finally {
    await hashers.close();
  }
});

test('a hash worker that dies fails its jobs instead of hanging them, and the next job gets new workers', async () => {
  // An unknown algorithm makes the worker throw: the same path as a crashed worker.
  const broken = createHashers(['md5', 'no-such-hash']);
  try {
    const job = broken.start();
    await job.update(randomBytes(1024));
    await assert.rejects(job.digest());
  } finally {
    await broken.close();
  }
});
