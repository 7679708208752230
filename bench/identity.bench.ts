import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/ports.js';
import { anchorUnavailable, runKeystoneAnchor, type KeystoneFigures } from './lib/keystone-anchor.js';
import { cpuMs, median, rssMiB } from './lib/proc.js';
import type { Benchmark, BenchResult } from './lib/report.js';
import { runWrk, type WrkResult } from './lib/wrk.js';

/**
 * Identity: token issue and validation throughput and latency (wrk, c=1 and
 * c=16), validation latency while passwords are being checked at full load,
 * cold start (launch to first token; first start with bootstrap, later starts)
 * and resident memory after the load — for `nimbus up` as users run it
 * (default config: scrypt at Keystone's bcrypt-12 cost, request logging on).
 *
 * Debian's Keystone 22 is measured side by side with NIMBUS_BENCH_KEYSTONE=1
 * (../shared/tools/anchors/keystone/bench.sh, variant dictcache; a few minutes).
 * Env: NIMBUS_BENCH_DURATION (seconds per wrk run, default 10).
 */
const ROOT = new URL('..', import.meta.url).pathname;
const PASSWORD = 'benchpass';
const DURATION = Number(process.env['NIMBUS_BENCH_DURATION'] ?? 10);
const CONCS = [1, 16];

interface Running {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

const authBody = JSON.stringify({
  auth: {
    identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: PASSWORD } } },
    scope: { project: { name: 'admin', domain: { id: 'default' } } },
  },
});

async function issue(port: number): Promise<string | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/v3/auth/tokens?nocatalog`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: authBody });
    return r.status === 201 ? (r.headers.get('x-subject-token') ?? undefined) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `nimbus up` and returns when the first token is issued, with the seconds it took. */
async function start(dataDir: string, port: number): Promise<{ running: Running; seconds: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['dist/cli/main.js', 'up'], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', NIMBUS_DATA_DIR: dataDir, NIMBUS_IDENTITY__PORT: String(port), NIMBUS_ADMIN_PASSWORD: PASSWORD },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  for (;;) {
    if (child.exitCode !== null) throw new Error('nimbus up exited during start');
    if (await issue(port)) break;
    if (performance.now() - t0 > 60_000) throw new Error('no token after 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    seconds,
    running: {
      child,
      port,
      async stop() {
        child.kill('SIGTERM');
        await exited;
      },
    },
  };
}

async function load(pid: number, run: () => Promise<WrkResult>): Promise<WrkResult & { cpuMsPerReq: number }> {
  const c0 = cpuMs(pid);
  const r = await run();
  return { ...r, cpuMsPerReq: r.requests > 0 ? (cpuMs(pid) - c0) / r.requests : NaN };
}

/** Waits (up to 60 s) until the process uses under 5% of a core over a second. */
async function untilIdle(pid: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const c0 = cpuMs(pid);
    await new Promise((r) => setTimeout(r, 1000));
    if (cpuMs(pid) - c0 < 50) return;
  }
}

export const identityBenchmark: Benchmark = {
  name: 'identity',
  async run(): Promise<BenchResult[]> {
    const out: BenchResult[] = [];
    const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-identity-'));
    const port = await freePort();
    let running: Running | undefined;
    try {
      const first = await start(dataDir, port);
      await first.running.stop();
      const later: number[] = [];
      for (let i = 0; i < 3; i++) {
        const s = await start(dataDir, port);
        later.push(s.seconds);
        if (i < 2) await s.running.stop();
        else running = s.running;
      }
      const pid = running!.child.pid!;
      const url = `http://127.0.0.1:${port}/v3/auth/tokens`;
      const adminToken = (await issue(port))!;
      const subject = (await issue(port))!;
      const validateHeaders = { 'X-Auth-Token': adminToken, 'X-Subject-Token': subject };
      // Warm up the code paths (JIT) and the token cache, as the anchor does.
      await runWrk({ url, connections: 4, durationS: 2, headers: validateHeaders });

      const issueRuns: Record<number, WrkResult & { cpuMsPerReq: number }> = {};
      const validateRuns: Record<number, WrkResult & { cpuMsPerReq: number }> = {};
      for (const c of CONCS) issueRuns[c] = await load(pid, () => runWrk({ url, connections: c, durationS: DURATION, postJson: authBody }));
      for (const c of CONCS) validateRuns[c] = await load(pid, () => runWrk({ url, connections: c, durationS: DURATION, headers: validateHeaders }));
      // Validation while password checks saturate their workers: hashing must stay off the event loop.
      const [underLoad] = await Promise.all([
        runWrk({ url, connections: 16, durationS: DURATION, headers: validateHeaders }),
        runWrk({ url, connections: 16, durationS: DURATION, postJson: authBody }),
      ]);
      // Like the anchor (which waits for idle uwsgi workers), measure once the work wrk left behind is done.
      await untilIdle(pid);
      const rss = rssMiB(pid);

      let ks: KeystoneFigures | undefined;
      let ksNote: string | undefined;
      await running!.stop();
      running = undefined;
      if (process.env['NIMBUS_BENCH_KEYSTONE'] === '1') {
        ksNote = await anchorUnavailable();
        if (!ksNote) {
          try {
            ks = await runKeystoneAnchor(DURATION, CONCS);
          } catch (err) {
            ksNote = (err as Error).message.slice(0, 200);
          }
        }
      } else ksNote = 'Keystone not measured (NIMBUS_BENCH_KEYSTONE=1 runs it, ~4 min); the issue quotes 150-200 validations/s, 8 issues/s, 2.7 s, 300 MB';
      const anchor = (name: string, value: number | undefined, unit: string) => (ks && value !== undefined && !Number.isNaN(value) ? { anchor: { name: `keystone ${name}`, value, unit } } : {});
      const note = ks ? undefined : ksNote;

      for (const c of CONCS) {
        const v = validateRuns[c]!;
        const kv = ks?.validate[c];
        const goal50x = c === 16 ? { goal: '>= 50x keystone', ...(kv ? { met: v.rps >= 50 * kv.rps } : {}) } : {};
        out.push({ name: `identity: validate c=${c}`, value: v.rps, unit: 'req/s', ...anchor('validate', kv?.rps, 'req/s'), ...goal50x, ...(note ? { note } : {}) });
        out.push({ name: `identity: validate c=${c} p50/p99`, value: v.p50Ms, unit: `ms / ${v.p99Ms.toFixed(2)} ms`, ...anchor('p50', kv?.p50Ms, `ms / ${kv?.p99Ms ?? NaN} ms`) });
        out.push({ name: `identity: validate c=${c} cpu/req`, value: v.cpuMsPerReq, unit: 'ms', ...anchor('cpu/req', kv?.cpuMsPerReq, 'ms') });
      }
      for (const c of CONCS) {
        const i = issueRuns[c]!;
        const ki = ks?.issue[c];
        out.push({ name: `identity: issue c=${c}`, value: i.rps, unit: 'req/s', ...anchor('issue', ki?.rps, 'req/s'), ...(i.non2xx ? { note: `${i.non2xx} non-2xx` } : {}) });
        out.push({ name: `identity: issue c=${c} p50/p99`, value: i.p50Ms, unit: `ms / ${i.p99Ms.toFixed(1)} ms`, ...anchor('p50', ki?.p50Ms, `ms / ${ki?.p99Ms ?? NaN} ms`) });
        out.push({ name: `identity: issue c=${c} cpu/req`, value: i.cpuMsPerReq, unit: 'ms', ...anchor('cpu/req', ki?.cpuMsPerReq, 'ms') });
      }
      out.push({ name: 'identity: validate p99 under password load (c=16+16)', value: underLoad.p99Ms, unit: 'ms', goal: '< 50 ms', met: underLoad.p99Ms < 50, note: `${underLoad.rps.toFixed(0)} validations/s meanwhile` });
      out.push({ name: 'identity: first start (bootstrap) to first token', value: first.seconds, unit: 's', ...anchor('cold start', ks?.coldStartS, 's'), goal: '< 2 s', met: first.seconds < 2 });
      out.push({ name: 'identity: later start to first token (median of 3)', value: median(later), unit: 's', ...anchor('cold start', ks?.coldStartS, 's') });
      out.push({ name: 'identity: RSS after the benchmark', value: rss, unit: 'MiB', ...anchor('RSS after load', ks?.rssMiB, 'MiB'), goal: '< 150 MB', met: rss * 1.048576 < 150 });
      return out;
    } finally {
      await running?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
