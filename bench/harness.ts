/** Benchmark harness: runs system and baseline alternately, summarizes, and computes the median ratio. */

export type Stats = { n: number; min: number; median: number; p99: number; max: number };
export type Comparison = {
  name: string;
  unit: string;
  system: Stats;
  baseline: Stats;
  /** system median / baseline median: how many times the floor the system costs (or, for rates, achieves). */
  ratio: number;
  notes?: Record<string, unknown>;
};

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { n: s.length, min: s[0]!, median: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
}

/** Times `fn` in milliseconds. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Alternates system and baseline `runs` times each (after one untimed warm-up of each). */
export async function compare(
  name: string,
  opts: {
    runs: number;
    unit?: string;
    system: () => Promise<number>;
    baseline: () => Promise<number>;
    warmup?: boolean;
  },
): Promise<Comparison> {
  if (opts.warmup !== false) {
    await opts.system();
    await opts.baseline();
  }
  const sys: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    sys.push(await opts.system());
    base.push(await opts.baseline());
  }
  const system = stats(sys);
  const baseline = stats(base);
  return { name, unit: opts.unit ?? "ms", system, baseline, ratio: system.median / baseline.median };
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

export function printComparison(c: Comparison): void {
  const row = (label: string, s: Stats) =>
    `  ${label.padEnd(9)} min ${fmt(s.min)}  median ${fmt(s.median)}  p99 ${fmt(s.p99)}  max ${fmt(s.max)} ${c.unit}  (n=${s.n})`;
  console.log(
    `\n${c.name}\n${row("system", c.system)}\n${row("baseline", c.baseline)}\n  ratio     ${c.ratio.toFixed(2)}x (system median / baseline median)`,
  );
  if (c.notes)
    for (const [k, v] of Object.entries(c.notes))
      console.log(`  ${k}: ${typeof v === "number" ? fmt(v) : JSON.stringify(v)}`);
}
