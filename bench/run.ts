// Runs the benchmark suites: every bench/*.bench.ts, or those named on the command line
// (`npm run bench -- ring mpc`). Prints a table per suite, writes bench/results/<suite>.json and
// regenerates bench/results/README.md from all result files.
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initRing, ringEngine } from '../src/ring/index.js';
import { Harness, formatHeader, markdownTable, type BenchResult } from './harness.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(benchDir, 'results');

interface SuiteFile {
  suite: string;
  date: string;
  node: string;
  cpu: string;
  cores: number;
  ringEngine: string;
  results: BenchResult[];
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const available = (await readdir(benchDir))
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => basename(f, '.bench.ts'))
    .sort();
  const unknown = wanted.filter((w) => !available.includes(w));
  if (unknown.length > 0) {
    throw new Error(`no suite named ${unknown.join(', ')}; available: ${available.join(', ')}`);
  }
  const suites = wanted.length > 0 ? wanted : available;

  // The engine the library picks by itself is the one figures are reported for.
  await initRing();
  const engine = ringEngine().engine;
  const env = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
  console.log(`node ${env.node}, ${env.cores} x ${env.cpu}, ring engine ${engine}`);

  await mkdir(resultsDir, { recursive: true });
  for (const suite of suites) {
    console.log(`\n[${suite}]\n  ${formatHeader()}`);
    const h = new Harness(suite);
    const mod = (await import(pathToFileURL(join(benchDir, `${suite}.bench.ts`)).href)) as {
      run?: (h: Harness) => Promise<void>;
    };
    if (typeof mod.run !== 'function') throw new Error(`bench/${suite}.bench.ts must export async function run(h: Harness)`);
    await mod.run(h);
    const file: SuiteFile = { suite, date: new Date().toISOString(), ...env, ringEngine: ringEngine().engine, results: h.results };
    await writeFile(join(resultsDir, `${suite}.json`), `${JSON.stringify(file, null, 2)}\n`);
  }
  await writeReadme();
  console.log(`\nwrote ${suites.map((s) => `bench/results/${s}.json`).join(', ')} and bench/results/README.md`);
}

/** Rebuilds the combined README from every bench/results/*.json, so partial runs keep the others. */
async function writeReadme(): Promise<void> {
  const files = (await readdir(resultsDir)).filter((f) => f.endsWith('.json')).sort();
  const sections: string[] = [];
  for (const f of files) {
    const s = JSON.parse(await readFile(join(resultsDir, f), 'utf8')) as SuiteFile;
    sections.push(
      `## ${s.suite}\n\n${s.date.slice(0, 19).replace('T', ' ')} UTC, Node ${s.node}, ${s.cores} x ${s.cpu}, ` +
        `ring engine \`${s.ringEngine}\`\n\n${markdownTable(s.results)}\n`,
    );
  }
  const text =
    `# Benchmark results\n\nWritten by \`npm run bench\` (bench/run.ts). Times are milliseconds per call: the ` +
    `median, minimum and 90th percentile over \`reps\` timed calls after a warm-up. Figures from a shared ` +
    `2-core machine are noisy; compare runs made on the same quiet machine.\n\n${sections.join('\n')}`;
  await writeFile(join(resultsDir, 'README.md'), text);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
