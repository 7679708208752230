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
 * - upload: one PUT of 2 GiB with Content-Length (as the SDK sends it) by
 *   curl from a sparse file (zeros made by the kernel: no disk read competes);
 *   time from request start to the 204 (image active, data fsynced). Twice: with checksums inline (default, Glance's semantics: md5
 *   and sha512 known at the 204) and with `image.checksums=background`.
 *   Single-core md5/sha512 speeds are measured too: inline, they bound the upload.
 * - download: the stored file's cache dropped the same way, then one GET by
 *   curl to /dev/null. (Without curl, a Node client in this process is used.)
 * - memory: the server's VmRSS (/proc/<pid>/status) sampled every 50 ms;
 *   growth = peak during the transfer − RSS just before it (after a warm-up upload).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

const haveCurl = existsSync('/usr/bin/curl');

/** Runs curl (a C client, like a real uploader, so the client's own cost stays small) and resolves with its -w output. */
function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-s', '-S', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`curl ${code}: ${err}`))));
  });
}

/** PUT of `size` bytes: curl streams a sparse file (zeros the kernel makes, no disk read) with Content-Length. */
async function upload(url: string, token: string, size: number, scratch: string): Promise<number> {
  if (!haveCurl) return put(url, token, size);
  const file = join(scratch, `upload-${size}.sparse`);
  if (!existsSync(file)) execFileSync('truncate', ['-s', String(size), file]);
  const code = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT', '-H', `x-auth-token: ${token}`, '-H', 'content-type: application/octet-stream', '-T', file, url]);
  return Number(code);
}

async function download(url: string, token: string): Promise<number> {
  if (!haveCurl) return get(url, token);
  return Number(await curl(['-o', '/dev/null', '-w', '%{size_download}', '-H', `x-auth-token: ${token}`, url]));
}

async function json(url: string, token: string, body: unknown): Promise<Record<string, any>> {
  const r = await fetch(url, { method: 'POST', headers: { 'x-auth-token': token, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await r.json()) as Record<string, any>;
}

/** Single-thread digest speed of this machine (bytes/s), measured on 256 MiB. */
function hashRate(algo: string): number {
  const block = randomBytes(MiB);
  const h = createHash(algo);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 256; i++) h.update(block);
  h.digest();
  return (256 * MiB) / (Number(process.hrtime.bigint() - t0) / 1e9);
}

interface Measured {
  upSeconds: number;
  upGrowth: number;
  baseline: number;
  downSeconds?: number;
  downGrowth?: number;
}

/** Starts a nimbus, uploads (and optionally downloads) 2 GiB, and measures. */
async function measure(env: Record<string, string>, withDownload: boolean, scratch: string, anchors?: (dataDir: string) => void): Promise<Measured> {
  const nimbus = await startNimbusProcess({ env: { NIMBUS_LOG__LEVEL: 'warn', NIMBUS_LOG__REQUESTS: 'false', ...env } });
  try {
    const pid = nimbus.child.pid!;
    const base = `http://127.0.0.1:${nimbus.ports['image']}`;
    const { token } = await passwordToken(nimbus.authUrl, 'admin', nimbus.adminPassword, 'admin');
    anchors?.(nimbus.dataDir);

    // Warm-up: code paths compiled, buffers and worker threads up, before the baseline.
    const warm = await json(`${base}/v2/images`, token, { name: 'warm', disk_format: 'raw', container_format: 'bare' });
    await upload(`${base}/v2/images/${warm['id']}/file`, token, 64 * MiB, scratch);

    const img = await json(`${base}/v2/images`, token, { name: 'bench-2g', disk_format: 'raw', container_format: 'bare' });
    const baseline = rssOf(pid);
    let stop = sampleRss(pid);
    let t0 = process.hrtime.bigint();
    const status = await upload(`${base}/v2/images/${img['id']}/file`, token, SIZE, scratch);
    const upSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const upPeak = stop();
    if (status !== 204) throw new Error(`upload answered ${status}`);
    const out: Measured = { upSeconds, upGrowth: upPeak - baseline, baseline };
    if (!withDownload) return out;

    const stored = join(nimbus.dataDir, 'images', img['id'] as string);
    if (statSync(stored).size !== SIZE) throw new Error('stored size differs');
    // Let background work (none with inline checksums) settle, then read from the disk, not the cache.
    dropCache(stored);
    const beforeDown = rssOf(pid);
    stop = sampleRss(pid);
    t0 = process.hrtime.bigint();
    const got = await download(`${base}/v2/images/${img['id']}/file`, token);
    out.downSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    out.downGrowth = stop() - beforeDown;
    if (got !== SIZE) throw new Error(`downloaded ${got} bytes`);
    return out;
  } finally {
    await nimbus.stop();
    rmSync(nimbus.dataDir, { recursive: true, force: true });
  }
}

export const imageBenchmark: Benchmark = {
  name: 'image',
  async run(): Promise<BenchResult[]> {
    let ddWrite = 0;
    let ddRead = 0;
    const scratch = mkdtempSync(join(tmpdir(), 'nimbus-bench-'));
    try {
      const inline = await measure({}, true, scratch, (dataDir) => {
        const ddFile = join(dataDir, 'dd.bin');
        ddWrite = ddRate(['if=/dev/zero', `of=${ddFile}`, 'bs=1M', `count=${SIZE / MiB}`, 'conv=fdatasync']);
        dropCache(ddFile);
        ddRead = ddRate([`if=${ddFile}`, 'of=/dev/null', 'bs=1M']);
        rmSync(ddFile);
      });
      const background = await measure({ NIMBUS_IMAGE__CHECKSUMS: 'background' }, false, scratch);
      const md5 = hashRate('md5');
      const sha512 = hashRate('sha512');
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

      const MB = 1e6;
      const up = SIZE / inline.upSeconds;
      const upBg = SIZE / background.upSeconds;
      const down = SIZE / inline.downSeconds!;
      const hashBound = Math.min(md5, sha512);
      return [
        {
          name: 'image: 2 GiB upload (PUT file), checksums inline',
          value: up / MB,
          unit: 'MB/s',
          anchor: { name: 'dd write conv=fdatasync', value: ddWrite / MB, unit: 'MB/s' },
          goal: '>= 80% of anchor',
          met: up >= 0.8 * ddWrite,
          note: `${Math.round((100 * up) / ddWrite)}% of dd; md5 ${Math.round(md5 / MB)} MB/s and sha512 ${Math.round(sha512 / MB)} MB/s on one core bound it at ~${Math.round(hashBound / MB)} MB/s (${Math.round((100 * up) / hashBound)}% of that); load ${load}`,
        },
        {
          name: 'image: 2 GiB upload (PUT file), checksums background',
          value: upBg / MB,
          unit: 'MB/s',
          anchor: { name: 'dd write conv=fdatasync', value: ddWrite / MB, unit: 'MB/s' },
          goal: '>= 80% of anchor',
          met: upBg >= 0.8 * ddWrite,
          note: `${Math.round((100 * upBg) / ddWrite)}% of dd (image.checksums=background)`,
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
          value: Math.round(Math.max(inline.upGrowth, background.upGrowth) / MiB),
          unit: 'MiB',
          goal: '< 64 MiB',
          met: Math.max(inline.upGrowth, background.upGrowth) < 64 * MiB,
          note: `baseline ${Math.round(inline.baseline / MiB)} MiB (worst of both modes)`,
        },
        {
          name: 'image: RSS growth during 2 GiB download',
          value: Math.round(inline.downGrowth! / MiB),
          unit: 'MiB',
          goal: '< 64 MiB',
          met: inline.downGrowth! < 64 * MiB,
        },
      ];
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};
