import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AnchorLoad {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerReq: number;
}

/** Debian's Keystone 22 measured here by ../shared/tools/anchors/keystone/bench.sh. */
export interface KeystoneFigures {
  issue: Record<number, AnchorLoad>;
  validate: Record<number, AnchorLoad>;
  coldStartS: number;
  rssMiB: number;
}

export const KEYSTONE_ANCHOR = '/work/shared/tools/anchors/keystone/bench.sh';

const portBusy = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

/** Why the anchor cannot run here, or undefined when it can. */
export async function anchorUnavailable(): Promise<string | undefined> {
  if (!existsSync(KEYSTONE_ANCHOR)) return `${KEYSTONE_ANCHOR} not found`;
  if (!existsSync('/usr/bin/uwsgi') || !existsSync('/usr/bin/keystone-manage')) return 'keystone/uwsgi not installed (run ../shared/tools/anchors/install.sh)';
  for (const port of [5000, 5001]) if (await portBusy(port)) return `port ${port} is in use`;
  return undefined;
}

/**
 * Runs the anchor's `dictcache` variant (Keystone with its in-process cache,
 * 2 uwsgi workers) with the same durations and concurrencies as Nimbus, and
 * reads its summary. Takes a few minutes.
 */
export async function runKeystoneAnchor(durationS: number, concs: number[]): Promise<KeystoneFigures> {
  const results = mkdtempSync(join(tmpdir(), 'nimbus-anchor-keystone-'));
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [KEYSTONE_ANCHOR, 'dictcache'], {
      env: { ...process.env, DURATION: `${durationS}s`, CONCS: concs.join(' '), RESULTS: results, QUIET_MAX: process.env['QUIET_MAX'] ?? '10' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`keystone anchor failed (${code}): ${log.slice(-500)}`))));
  });
  return parseSummary(readFileSync(join(results, 'summary.txt'), 'utf8'));
}

export function parseSummary(text: string): KeystoneFigures {
  const ms = (v: string) => {
    const m = /^([\d.]+)(us|ms|s|m)$/.exec(v);
    if (!m) return NaN;
    const n = Number(m[1]);
    return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
  };
  const out: KeystoneFigures = { issue: {}, validate: {}, coldStartS: NaN, rssMiB: NaN };
  for (const line of text.split('\n')) {
    const load = /^\S+-(issue|validate)-c(\d+)\s+c=\d+\s+req\/s=([\d.]+)\s+p50=(\S+)\s+p99=(\S+)\s+n=\d+\s+server_cpu_ms\/req=([\d.]+)/.exec(line);
    if (load) out[load[1] as 'issue' | 'validate'][Number(load[2])] = { rps: Number(load[3]), p50Ms: ms(load[4]!), p99Ms: ms(load[5]!), cpuMsPerReq: Number(load[6]) };
    const cold = /^cold start \(uwsgi launch -> first 201 token\): ([\d.]+) s/.exec(line);
    if (cold) out.coldStartS = Number(cold[1]);
    const rss = /^RSS after load \(uwsgi master\+workers\): RSS=(\d+) KiB/.exec(line);
    if (rss) out.rssMiB = Number(rss[1]) / 1024;
  }
  return out;
}
