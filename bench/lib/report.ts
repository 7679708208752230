/** One figure of a benchmark, printed next to what it is compared with. */
export interface BenchResult {
  /** e.g. `identity: token validation c=16` */
  name: string;
  value: number;
  unit: string;
  /** The reference figure in the same run (e.g. Keystone's req/s), when measured. */
  anchor?: { name: string; value: number; unit: string };
  /** The goal, e.g. `>= 50x anchor` or `< 150 MB`. */
  goal?: string;
  /** Whether the goal was met, when it can be judged. */
  met?: boolean;
  note?: string;
}

export interface Benchmark {
  name: string;
  /** Runs the benchmark; a benchmark that cannot run here returns a result with a note saying why. */
  run(): Promise<BenchResult[]>;
}

export function printResults(results: BenchResult[]): void {
  const rows = results.map((r) => [
    r.name,
    `${fmt(r.value)} ${r.unit}`,
    r.anchor ? `${r.anchor.name}: ${fmt(r.anchor.value)} ${r.anchor.unit}` : '-',
    r.goal ?? '-',
    r.met === undefined ? '' : r.met ? 'met' : 'NOT met',
    r.note ?? '',
  ]);
  const header = ['benchmark', 'nimbus', 'anchor (same run)', 'goal', '', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}

function fmt(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
}
