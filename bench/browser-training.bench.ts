// One encrypted MNIST training step (tutorial 06's MLP 784-128-64-10, batch 64, shared data and
// weights, 2 parties and a crypto provider) with the two parties as headless Chromium pages
// (tutorial 13's pages: tutorials/helpers/page-parties.ts), against the same step with the two
// parties as Node OutboundWorkers behind the same coordinator, so the relay path is the same and
// only where the parties run differs. Interleaved round by round; the ratio is page / Node per
// round, its median and range reported. Node's parties share this process (and its event loop)
// with the orchestrator and the crypto provider; each page has a renderer process of its own.
// Needs Chromium (CHROMIUM=... or chromium on PATH); says so and records nothing without it.
//   npm run bench -- browser-training
import * as sy from '../src/index.js';
import { findChromium } from '../tutorials/helpers/chromium.js';
import { joinPage, openPages } from '../tutorials/helpers/page-parties.js';
import type { Harness } from './harness.js';
import { BATCH_SIZE, mnistWorkload } from './mnist-workload.js';

const quick = process.env.BENCH_QUICK === '1';
const TOKEN = 'bench-browser-training-5c1e';

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function run(h: Harness): Promise<void> {
  if (!findChromium()) {
    console.log('  (no Chromium here: apt-get install chromium, or set CHROMIUM; nothing measured)');
    return;
  }
  await sy.ready();
  const pages = await openPages(['page_alice', 'page_bob']);
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const connect = async (url: string, id: string) => {
      const c = await sy.WebsocketClientWorker.connect(url, { id, token: TOKEN, timeoutMs: 120_000 });
      closers.push(() => c.close());
      return c;
    };
    const dealer = async (id: string) => {
      const s = await sy.WebsocketServerWorker.start({ id, token: TOKEN, allowOrigins: [pages.origin] });
      closers.push(() => s.close());
      return connect(s.url, id);
    };
    // The pages join as parties holding no data of their own: the workload sends each its digits.
    const backends: string[] = [];
    for (const id of pages.pages.keys()) backends.push((await joinPage(pages, { id, token: TOKEN, train: 0, test: 0, seed: 1, part: 0, parts: 1 })).backend);
    for (const id of ['node_alice', 'node_bob']) {
      const w = await sy.OutboundWorker.join(pages.coordinator.joinUrl, { id, token: TOKEN });
      closers.push(() => w.close());
    }
    const nets = {
      page: [await connect(pages.coordinator.url('page_alice'), 'page_alice'), await connect(pages.coordinator.url('page_bob'), 'page_bob'), await dealer('page_dealer')],
      node: [await connect(pages.coordinator.url('node_alice'), 'node_alice'), await connect(pages.coordinator.url('node_bob'), 'node_bob'), await dealer('node_dealer')],
    };
    const rounds = quick ? 2 : 4;
    const reps = quick ? 2 : 3;
    const work: Record<string, Awaited<ReturnType<typeof mnistWorkload>>> = {};
    for (const [name, [a, b, cp]] of Object.entries(nets)) {
      work[name] = await mnistWorkload([a!, b!], cp!, 2);
      await work[name]!.train(); // warm-up: first messages, peer links, kernels
    }
    const times: Record<string, number[]> = { page: [], node: [] };
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const med: Record<string, number> = {};
      for (const name of Object.keys(nets)) {
        const ms: number[] = [];
        for (let i = 0; i < reps; i++) {
          const t = performance.now();
          await work[name]!.train();
          ms.push(performance.now() - t);
        }
        med[name] = median(ms);
        times[name]!.push(med[name]!);
      }
      ratios.push(med.page! / med.node!);
    }
    const extra = { batch: BATCH_SIZE, rounds, reps, pageBackend: backends.join(','), nodeRingThreads: sy.ring.ringEngine().threads, ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios) };
    h.record('encrypted MNIST training step (784-128-64-10, batch 64): parties are Chromium pages', median(times.page!), 'ms', extra);
    h.record('encrypted MNIST training step (784-128-64-10, batch 64): parties are Node workers', median(times.node!), 'ms', extra);
    h.record('training step: page / Node', median(ratios), 'x', extra);
    console.log(
      `  training step: pages ${median(times.page!).toFixed(0)} ms, Node ${median(times.node!).toFixed(0)} ms, ` +
        `ratio ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)} over ${rounds} rounds)`,
    );
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
    await pages.close();
  }
}
