/**
 * Networking benchmarks over HTTP against an in-process Nimbus (SQLite):
 * the Rally scenarios real Neutron is usually quoted with (network
 * create+delete; a network plus 10 ports), port create throughput, and
 * GET /v2.0/ports latency with 10,000 ports.
 *
 * Anchors are Rally's published medians for real Neutron (0.36 s for
 * NeutronNetworks.create_and_delete_networks, 8.5 s for a network plus 10
 * ports); no Neutron runs here to measure them again.
 */
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startNimbusProcess } from '../test/support/nimbus-process.js';
import { neutronAt, tokenFor, type Neutron } from '../test/support/network-http.js';
import type { Benchmark, BenchResult } from './lib/report.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

/** CPU time (ms) the cloud process has used so far: load-independent, unlike wall-clock figures on a busy machine. */
function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

async function must(r: Promise<{ status: number; body: Record<string, any> }>, status: number): Promise<Record<string, any>> {
  const x = await r;
  if (x.status !== status) throw new Error(`expected ${status}, got ${x.status}: ${JSON.stringify(x.body).slice(0, 300)}`);
  return x.body;
}

async function run(): Promise<BenchResult[]> {
  // The cloud runs in its own process, as `nimbus up` does; this process is the client.
  const nimbus = await startNimbusProcess({
    env: { NIMBUS_LOG__REQUESTS: 'false', NIMBUS_NETWORK__NOTIFY_COMPUTE: 'false', NIMBUS_NETWORK__PUBLIC_NETWORK__CREATE: 'false' },
  });
  try {
    const token = await tokenFor(nimbus.authUrl, 'admin', nimbus.adminPassword, 'admin');
    const api: Neutron = neutronAt(`http://127.0.0.1:${nimbus.ports['network']}/v2.0`, token);
    const load = `load average ${loadavg()[0]!.toFixed(1)} on this machine at start`;
    const me = (await api.get('/quotas/project')).body['project'].project_id as string;
    await must(api.put(`/quotas/${me}`, { quota: { network: -1, subnet: -1, port: -1 } }), 200);
    const results: BenchResult[] = [];

    // Rally NeutronNetworks.create_and_delete_networks.
    const pid = nimbus.child.pid;
    const cdCpu0 = cpuMs(pid);
    const cd: number[] = [];
    for (let i = 0; i < 60; i++) {
      const [ms] = await timed(async () => {
        const net = await must(api.post('/networks', { network: { name: `cd-${i}` } }), 201);
        await must(api.del(`/networks/${net['network'].id}`), 204);
      });
      if (i >= 10) cd.push(ms);
    }
    const cdMs = median(cd);
    const cdCpu = (cpuMs(pid) - cdCpu0) / 60;
    results.push({
      name: 'network: create + delete a network (median)',
      value: cdMs,
      unit: 'ms',
      anchor: { name: 'Rally, real Neutron (published)', value: 360, unit: 'ms' },
      goal: '<= 3.6 ms (100x faster)',
      met: cdMs <= 3.6,
      note: `server CPU ${cdCpu.toFixed(1)} ms per create+delete; ${load}`,
    });

    // A network, a subnet and 10 ports.
    const npCpu0 = cpuMs(pid);
    const np: number[] = [];
    for (let i = 0; i < 20; i++) {
      const [ms] = await timed(async () => {
        const net = await must(api.post('/networks', { network: { name: `np-${i}` } }), 201);
        await must(api.post('/subnets', { subnet: { network_id: net['network'].id, ip_version: 4, cidr: '10.0.0.0/24' } }), 201);
        for (let p = 0; p < 10; p++) await must(api.post('/ports', { port: { network_id: net['network'].id } }), 201);
      });
      np.push(ms);
    }
    const npMs = median(np);
    results.push({
      name: 'network: network + subnet + 10 ports (median)',
      value: npMs,
      unit: 'ms',
      anchor: { name: 'Rally, real Neutron (published)', value: 8500, unit: 'ms' },
      goal: '<= 85 ms (100x faster)',
      met: npMs <= 85,
      note: `server CPU ${((cpuMs(pid) - npCpu0) / 20).toFixed(1)} ms per network + subnet + 10 ports`,
    });

    // Port create throughput, 16 clients, into one /16.
    const big = await must(api.post('/networks', { network: { name: 'big' } }), 201);
    const bigId = big['network'].id as string;
    await must(api.post('/subnets', { subnet: { network_id: bigId, ip_version: 4, cidr: '10.128.0.0/16' } }), 201);
    const total = 2000;
    let made = 0;
    const tputCpu0 = cpuMs(pid);
    const [tputMs] = await timed(async () => {
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (made < total) {
            made++;
            await must(api.post('/ports', { port: { network_id: bigId } }), 201);
          }
        }),
      );
    });
    results.push({ name: 'network: port create throughput (16 clients)', value: (total / tputMs) * 1000, unit: 'ports/s', note: `${total} ports into a /16; server CPU ${((cpuMs(pid) - tputCpu0) / total).toFixed(2)} ms per port` });

    // Fill up to 10,000 ports (bulk creates), then time listing them.
    while (made < 10_000) {
      const n = Math.min(200, 10_000 - made);
      await must(api.post('/ports', { ports: Array.from({ length: n }, () => ({ network_id: bigId })) }), 201);
      made += n;
    }
    const count = (await api.get('/ports?fields=id')).body['ports'].length as number;
    const listAll: number[] = [];
    const listCpu0 = cpuMs(pid);
    for (let i = 0; i < 7; i++) listAll.push((await timed(() => api.get('/ports')))[0]);
    results.push({ name: 'network: GET /v2.0/ports (all)', value: median(listAll), unit: 'ms', note: `${count} ports, full dicts; server CPU ${((cpuMs(pid) - listCpu0) / 7).toFixed(0)} ms per list` });
    const page: number[] = [];
    for (let i = 0; i < 30; i++) page.push((await timed(() => api.get('/ports?limit=100')))[0]);
    results.push({ name: 'network: GET /v2.0/ports?limit=100', value: median(page), unit: 'ms', note: `${count} ports` });
    const byDevice: number[] = [];
    for (let i = 0; i < 30; i++) byDevice.push((await timed(() => api.get('/ports?device_id=nothing-here')))[0]);
    results.push({ name: 'network: GET /v2.0/ports?device_id=x', value: median(byDevice), unit: 'ms', note: `${count} ports` });
    return results;
  } finally {
    await nimbus.stop();
    rmSync(nimbus.dataDir, { recursive: true, force: true });
  }
}

export const networkBenchmark: Benchmark = { name: 'network', run };
