// The benchmark harness every bench/*.bench.ts suite receives. Times a function (warm-up, then
// N timed repetitions; median, min and p90 in milliseconds) and collects the results that
// bench/run.ts prints and writes to bench/results/.
//
// A suite is a module exporting `async function run(h: Harness): Promise<void>`:
//
//   export async function run(h: Harness): Promise<void> {
//     const a = randomRing([1 << 20]);
//     await h.time('add 1M', () => a.add(a), { target: 3 });
//   }

/** One measured (or derived) figure. Times are in `unit` (ms unless stated). */
export interface BenchResult {
  suite: string;
  name: string;
  unit: string;
  median: number;
  min: number;
  p90: number;
  reps: number;
  extra?: Record<string, unknown>;
}

export interface TimeOptions {
  /** Timed repetitions (default 50; BENCH_QUICK=1 caps it at 5). */
  reps?: number;
  /** Untimed calls first, so JIT tiers and caches settle (default 5; BENCH_QUICK=1 caps it at 2). */
  warmup?: number;
  /** A ceiling for the median, in ms: recorded as extra.target and extra.pass. */
  target?: number;
  /** Anything else worth keeping with the result (engine, sizes, notes). */
  extra?: Record<string, unknown>;
}

/** Median, minimum and 90th percentile of a list of samples. */
export function summarize(samples: readonly number[]): { median: number; min: number; p90: number } {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const median = s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median, min: s[0], p90: q(0.9) };
}

const quick = typeof process !== 'undefined' && process.env.BENCH_QUICK === '1';

export class Harness {
  readonly results: BenchResult[] = [];

  constructor(readonly suite: string) {}

  /**
   * Times `fn` (sync or async: a returned promise is awaited inside the timing) and records the
   * result under `name`.
   */
  async time(name: string, fn: () => unknown, opts: TimeOptions = {}): Promise<BenchResult> {
    const reps = quick ? Math.min(opts.reps ?? 50, 5) : (opts.reps ?? 50);
    const warmup = quick ? Math.min(opts.warmup ?? 5, 2) : (opts.warmup ?? 5);
    for (let i = 0; i < warmup; i++) await settle(fn());
    const samples: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const r = fn();
      if (r instanceof Promise) await r;
      samples.push(performance.now() - t0);
    }
    const extra = { ...opts.extra };
    if (opts.target !== undefined) {
      const { median } = summarize(samples);
      extra.target = opts.target;
      extra.pass = median <= opts.target;
    }
    return this.add({ name, unit: 'ms', reps, ...summarize(samples), extra });
  }

  /**
   * Records a figure that was not timed by {@link time}: a derived value (a ratio, a size), or a
   * complete result a suite measured itself.
   */
  record(result: Omit<BenchResult, 'suite'>): BenchResult;
  record(name: string, value: number, unit: string, extra?: BenchResult['extra']): BenchResult;
  record(
    first: string | Omit<BenchResult, 'suite'>,
    value?: number,
    unit?: string,
    extra?: BenchResult['extra'],
  ): BenchResult {
    if (typeof first !== 'string') return this.add({ ...first });
    const v = value ?? NaN;
    return this.add({ name: first, unit: unit ?? '', median: v, min: v, p90: v, reps: 1, extra });
  }

  /** The result recorded under `name` in this suite. */
  get(name: string): BenchResult | undefined {
    return this.results.find((r) => r.name === name);
  }

  private add(r: Omit<BenchResult, 'suite'>): BenchResult {
    const result: BenchResult = { suite: this.suite, ...r };
    if (result.extra !== undefined && Object.keys(result.extra).length === 0) delete result.extra;
    this.results.push(result);
    process.stdout.write(`  ${formatRow(result)}\n`);
    return result;
  }
}

async function settle(v: unknown): Promise<void> {
  if (v instanceof Promise) await v;
}

// A skipped case is NaN in memory and null once written to JSON: both print as a dash.
function num(x: number | null): string {
  if (x === null || Number.isNaN(x)) return '-';
  if (x === 0) return '0';
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

function extraText(r: BenchResult): string {
  if (r.extra === undefined) return '';
  const { target, pass, ...rest } = r.extra;
  const parts = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  if (target !== undefined) parts.unshift(`${pass ? 'PASS' : 'MISS'} (target <= ${target} ${r.unit})`);
  return parts.join(', ');
}

/** One line of the console table. */
export function formatRow(r: BenchResult): string {
  return `${r.name.padEnd(52)} ${num(r.median).padStart(9)} ${num(r.min).padStart(9)} ${num(r.p90).padStart(9)} ${r.unit.padEnd(3)} x${String(r.reps).padEnd(4)} ${extraText(r)}`;
}

/** Header matching formatRow. */
export function formatHeader(): string {
  return `${'benchmark'.padEnd(52)} ${'median'.padStart(9)} ${'min'.padStart(9)} ${'p90'.padStart(9)} unit reps  notes`;
}

/** A Markdown table of results, for bench/results/README.md. */
export function markdownTable(results: readonly BenchResult[]): string {
  const lines = ['| benchmark | median | min | p90 | unit | reps | notes |', '|---|---:|---:|---:|---|---:|---|'];
  for (const r of results) {
    lines.push(`| ${r.name} | ${num(r.median)} | ${num(r.min)} | ${num(r.p90)} | ${r.unit} | ${r.reps} | ${extraText(r)} |`);
  }
  return lines.join('\n');
}
