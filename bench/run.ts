/**
 * `npm run bench`: runs every benchmark (or those named on the command line)
 * and prints each figure with the anchor it is compared to, measured in the
 * same run. Benchmarks live in bench/<service>.bench.ts.
 */
import { identityBenchmark } from './identity.bench.js';
import { printResults, type Benchmark, type BenchResult } from './lib/report.js';
import { hypervisorBench } from './hypervisor.bench.js';
import { imageBenchmark } from './image.bench.js';
import { networkBenchmark } from './network.bench.js';
import { volumeBenchmark } from './volume.bench.js';

const benchmarks: Benchmark[] = [identityBenchmark, imageBenchmark, networkBenchmark, hypervisorBench, volumeBenchmark];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const selected = benchmarks.filter((b) => wanted.length === 0 || wanted.some((w) => b.name.includes(w)));
  const results: BenchResult[] = [];
  for (const b of selected) {
    process.stderr.write(`bench: ${b.name}…\n`);
    try {
      results.push(...(await b.run()));
    } catch (err) {
      results.push({ name: b.name, value: NaN, unit: '', note: `failed: ${(err as Error).message}` });
    }
  }
  printResults(results);
}

void main();
