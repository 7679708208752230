/**
 * Block storage: how long a volume takes from `POST /volumes` to
 * `available`, blank and from an image already in the volume service's image
 * cache, and how many volumes per second a burst of concurrent creations
 * completes, through a `nimbus up` child process (file backend, qcow2).
 *
 * Method:
 * - blank latency: 15 sequential creations of 1 GiB volumes; each timed from
 *   the request to the first GET that shows `available` (polled every 10 ms);
 *   median and p90. Anchor: `qemu-img create -f qcow2 <file> 1G` in the same
 *   data dir (the storage work alone), median of 15.
 * - from a cached image: a 64 MiB qcow2 image with 16 MiB of data is uploaded
 *   to the image service; a first volume from it fills the cache (not
 *   counted); then 8 sequential creations, median. Anchor: `qemu-img convert
 *   -f qcow2 -O qcow2` of the same image file plus a resize to 1 GiB (the
 *   storage work alone), median of 8.
 * - throughput: 40 creations sent at once (quota raised first); volumes per
 *   second from the first request to the moment all are `available`.
 *   Anchor: the rate of the blank anchor run back to back (1 / its median).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNimbusProcess } from '../test/support/nimbus-process.js';
import { passwordToken } from '../test/support/image-http.js';
import type { Benchmark, BenchResult } from './lib/report.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))]!;

function timeMs(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export const volumeBenchmark: Benchmark = {
  name: 'volume',
  async run(): Promise<BenchResult[]> {
    const nimbus = await startNimbusProcess({ env: { NIMBUS_LOG__LEVEL: 'warn', NIMBUS_LOG__REQUESTS: 'false' } });
    const scratch = mkdtempSync(join(tmpdir(), 'nimbus-volume-bench-'));
    const results: BenchResult[] = [];
    try {
      const { token, projectId } = await passwordToken(nimbus.authUrl, 'admin', nimbus.adminPassword, 'admin');
      const volumeUrl = `http://127.0.0.1:${nimbus.ports['volume']}/v3/${projectId}`;
      const imageUrl = `http://127.0.0.1:${nimbus.ports['image']}/v2`;
      const headers = { 'x-auth-token': token, 'content-type': 'application/json' };
      const call = async (method: string, url: string, body?: unknown) => {
        const r = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        const text = await r.text();
        return { status: r.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} }; // eslint-disable-line @typescript-eslint/no-explicit-any
      };
      const waitAvailable = async (id: string) => {
        for (;;) {
          const r = await call('GET', `${volumeUrl}/volumes/${id}`);
          const status = r.body['volume']?.status;
          if (status === 'available') return;
          if (status === 'error') throw new Error(`volume ${id} went to error`);
          await new Promise((res) => setTimeout(res, 10));
        }
      };
      const createTimed = async (body: Record<string, unknown>) => {
        const t = performance.now();
        const r = await call('POST', `${volumeUrl}/volumes`, { volume: { size: 1, ...body } });
        if (r.status !== 202) throw new Error(`create failed: ${r.status} ${JSON.stringify(r.body)}`);
        await waitAvailable(r.body['volume'].id);
        return { ms: performance.now() - t, id: r.body['volume'].id as string };
      };
      await call('PUT', `${volumeUrl}/os-quota-sets/${projectId}`, { quota_set: { volumes: -1, gigabytes: -1 } });

      // Blank volumes.
      const blank: number[] = [];
      for (let i = 0; i < 15; i++) blank.push((await createTimed({ name: `bench-blank-${i}` })).ms);
      const anchorBlank: number[] = [];
      for (let i = 0; i < 15; i++) anchorBlank.push(timeMs(() => execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(scratch, `a${i}.qcow2`), '1G'])));
      results.push({
        name: 'volume: create-to-available, blank 1 GiB (median)',
        value: Math.round(median(blank)),
        unit: 'ms',
        anchor: { name: 'qemu-img create (median)', value: Math.round(median(anchorBlank) * 10) / 10, unit: 'ms' },
        goal: '< 1000 ms',
        met: median(blank) < 1000,
        note: `p90 ${Math.round(p90(blank))} ms`,
      });

      // From an image in the cache.
      const image = join(scratch, 'image.qcow2');
      const raw = join(scratch, 'image.raw');
      writeFileSync(raw, Buffer.concat([randomBytes(16 * 1024 * 1024), Buffer.alloc(48 * 1024 * 1024)]));
      execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, image]);
      const img = await call('POST', `${imageUrl}/images`, { name: 'bench-image', disk_format: 'qcow2', container_format: 'bare' });
      const put = await fetch(`${imageUrl}/images/${img.body['id']}/file`, {
        method: 'PUT',
        headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
        body: readFileSync(image),
      });
      if (put.status !== 204) throw new Error(`image upload failed: ${put.status}`);
      await createTimed({ imageRef: img.body['id'], name: 'bench-image-warm' });
      const fromImage: number[] = [];
      for (let i = 0; i < 8; i++) fromImage.push((await createTimed({ imageRef: img.body['id'], name: `bench-image-${i}` })).ms);
      const anchorImage: number[] = [];
      for (let i = 0; i < 8; i++) {
        anchorImage.push(
          timeMs(() => {
            const out = join(scratch, `c${i}.qcow2`);
            execFileSync('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'qcow2', image, out]);
            execFileSync('qemu-img', ['resize', '-q', '-f', 'qcow2', out, '1G']);
          }),
        );
      }
      results.push({
        name: 'volume: create-to-available, 1 GiB from a cached 64 MiB image (median)',
        value: Math.round(median(fromImage)),
        unit: 'ms',
        anchor: { name: 'qemu-img convert + resize (median)', value: Math.round(median(anchorImage)), unit: 'ms' },
        goal: '< 3x anchor + 500 ms',
        met: median(fromImage) < 3 * median(anchorImage) + 500,
        note: `p90 ${Math.round(p90(fromImage))} ms`,
      });

      // Burst throughput.
      const N = 40;
      const t0 = performance.now();
      const created = await Promise.all(Array.from({ length: N }, (_, i) => call('POST', `${volumeUrl}/volumes`, { volume: { size: 1, name: `bench-burst-${i}` } })));
      if (created.some((r) => r.status !== 202)) throw new Error('burst creation refused');
      await Promise.all(created.map((r) => waitAvailable(r.body['volume'].id)));
      const seconds = (performance.now() - t0) / 1000;
      results.push({
        name: `volume: create throughput, ${N} concurrent blank volumes`,
        value: Math.round((N / seconds) * 10) / 10,
        unit: 'volumes/s',
        anchor: { name: 'qemu-img create back to back', value: Math.round((1000 / median(anchorBlank)) * 10) / 10, unit: 'files/s' },
        goal: '>= 10 volumes/s',
        met: N / seconds >= 10,
      });
    } finally {
      await nimbus.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
    return results;
  },
};
