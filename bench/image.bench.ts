/**
 * Image data path: a 2 GiB upload (PUT file) and download (GET file) through
 * a `nimbus up` child process, against `dd` on the same disk in the same run.
 *
 * Method:
 * - dd write: `dd if=/dev/zero of=<data dir>/dd.bin bs=1M count=2048 conv=fdatasync`
 *   (data reaches the disk before dd reports, as an image upload does: the
 *   file store fdatasyncs before it renames the image into place).
 * - dd read: the file's page cache is dropped first (`dd oflag=nocache
 *   conv=notrunc,fdatasync count=0` = posix_fadvise DONTNEED, no root needed),
 *   then `dd if=dd.bin of=/dev/null bs=1M`.
 * - upload: one PUT of 2 GiB with Content-Length (as the SDK sends it) from
 *   this process; time from request start to the 204 (the image is active,
 *   checksum and os_hash_value computed, data fsynced).
 * - download: the stored file's cache dropped the same way, then one GET,
 *   bytes counted and discarded.
 * - memory: the server's VmRSS (/proc/<pid>/status) sampled every 50 ms;
 *   growth = peak during the transfer − RSS just before it (after a warm-up upload).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Benchmark, BenchResult } from './lib/report.js';
import { startNimbusProcess } from '../test/support/nimbus-process.js';
import { passwordToken } from '../test/support/image-http.js';

const MiB = 1024 * 1024;
const SIZE = 2048 * MiB;

/** Runs dd and returns bytes/second from its summary line. */
function ddRate(args: string[]): number {
  const r = execFileSync('sh', ['-c', `dd ${args.join(' ')} 2>&1 >/dev/null`], { encoding: 'utf8' });
  const m = /(\d+) bytes .* copied, ([\d.]+) s/.exec(r);
  if (!m) throw new Error(`unexpected dd output: ${r}`);
  return Number(m[1]) / Number(m[2]);
}

function dropCache(path: string): void {
  execFileSync('dd', ['if=/dev/null', `of=${path}`, 'oflag=nocache', 'conv=notrunc,fdatasync', 'count=0'], { stdio: 'ignore' });
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Samples a process's RSS until stopped; returns the peak. */
function sampleRss(pid: number): () => number {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
    } catch {
      // process gone
    }
  }, 50);
  return () => {
    clearInterval(timer);
    return Math.max(peak, rssOf(pid));
  };
}

function put(url: string, token: string, size: number): Promise<number> {
  const block = randomBytes(MiB);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'PUT',
      headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', 'content-length': String(size) },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(block.length, size - sent);
        sent += n;
        if (!req.write(n === block.length ? block : block.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

function get(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'x-auth-token': token } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => resolve(n));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function json(url: string, token: string, body: unknown): Promise<Record<string, any>> {
  const r = await fetch(url, { method: 'POST', headers: { 'x-auth-token': token, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await r.json()) as Record<string, any>;
}

export const imageBenchmark: Benchmark = {
  name: 'image',
  async run(): Promise<BenchResult[]> {
    const nimbus = await startNimbusProcess({ env: { NIMBUS_LOG__LEVEL: 'warn', NIMBUS_LOG__REQUESTS: 'false' } });
    const results: BenchResult[] = [];
    try {
      const pid = nimbus.child.pid!;
      const base = `http://127.0.0.1:${nimbus.ports['image']}`;
      const { token } = await passwordToken(nimbus.authUrl, 'admin', nimbus.adminPassword, 'admin');
      const ddFile = join(nimbus.dataDir, 'dd.bin');

      const ddWrite = ddRate(['if=/dev/zero', `of=${ddFile}`, 'bs=1M', `count=${SIZE / MiB}`, 'conv=fdatasync']);
      dropCache(ddFile);
      const ddRead = ddRate([`if=${ddFile}`, 'of=/dev/null', 'bs=1M']);
      rmSync(ddFile);

      // Warm-up: code paths compiled, buffers allocated, before the baseline.
      const warm = await json(`${base}/v2/images`, token, { name: 'warm', disk_format: 'raw', container_format: 'bare' });
      await put(`${base}/v2/images/${warm['id']}/file`, token, 64 * MiB);

      const img = await json(`${base}/v2/images`, token, { name: 'bench-2g', disk_format: 'raw', container_format: 'bare' });
      const before = rssOf(pid);
      let stop = sampleRss(pid);
      let t0 = process.hrtime.bigint();
      const status = await put(`${base}/v2/images/${img['id']}/file`, token, SIZE);
      const upSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const upPeak = stop();
      if (status !== 204) throw new Error(`upload answered ${status}`);

      const stored = join(nimbus.dataDir, 'images', img['id'] as string);
      if (statSync(stored).size !== SIZE) throw new Error('stored size differs');
      dropCache(stored);
      const beforeDown = rssOf(pid);
      stop = sampleRss(pid);
      t0 = process.hrtime.bigint();
      const got = await get(`${base}/v2/images/${img['id']}/file`, token);
      const downSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const downPeak = stop();
      if (got !== SIZE) throw new Error(`downloaded ${got} bytes`);

      const MB = 1e6;
      const up = SIZE / upSeconds;
      const down = SIZE / downSeconds;
      results.push(
        {
          name: 'image: 2 GiB upload (PUT file)',
          value: up / MB,
          unit: 'MB/s',
          anchor: { name: 'dd write conv=fdatasync', value: ddWrite / MB, unit: 'MB/s' },
          goal: '>= 80% of anchor',
          met: up >= 0.8 * ddWrite,
          note: `${Math.round((100 * up) / ddWrite)}% of dd; md5 + sha512 computed inline`,
        },
        {
          name: 'image: 2 GiB download (GET file)',
          value: down / MB,
          unit: 'MB/s',
          anchor: { name: 'dd read, cache dropped', value: ddRead / MB, unit: 'MB/s' },
          goal: '>= 80% of anchor',
          met: down >= 0.8 * ddRead,
          note: `${Math.round((100 * down) / ddRead)}% of dd`,
        },
        {
          name: 'image: RSS growth during 2 GiB upload',
          value: Math.round((upPeak - before) / MiB),
          unit: 'MiB',
          goal: '< 64 MiB',
          met: upPeak - before < 64 * MiB,
          note: `baseline ${Math.round(before / MiB)} MiB`,
        },
        {
          name: 'image: RSS growth during 2 GiB download',
          value: Math.round((downPeak - beforeDown) / MiB),
          unit: 'MiB',
          goal: '< 64 MiB',
          met: downPeak - beforeDown < 64 * MiB,
          note: `baseline ${Math.round(beforeDown / MiB)} MiB`,
        },
      );
    } finally {
      await nimbus.stop();
      rmSync(nimbus.dataDir, { recursive: true, force: true });
    }
    return results;
  },
};

