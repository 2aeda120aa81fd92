// What a relay costs: the private matmul 64x784 by 784x128 (2 parties + dealer) with every
// worker listening and dialled directly, beside the same with the two parties behind a
// Coordinator (OutboundWorkers: every frame to or from them goes through the relay, sealed with
// AES-GCM), all in this process on loopback, interleaved round by round. `npm run bench -- reverse`.
import * as sy from '../src/index.js';
import type { Harness } from './harness.js';

const quick = process.env.BENCH_QUICK === '1';
const TOKEN = 'bench-reverse-token-61f0';

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function run(h: Harness): Promise<void> {
  await sy.ready();
  const coordinator = await sy.Coordinator.start();
  const closers: (() => Promise<void>)[] = [() => coordinator.close()];
  const connect = async (url: string, id: string) => {
    const c = await sy.WebsocketClientWorker.connect(url, { id, token: TOKEN, timeoutMs: 120_000 });
    closers.push(() => c.close());
    return c;
  };
  const listening = async (id: string) => {
    const s = await sy.WebsocketServerWorker.start({ id, token: TOKEN });
    closers.push(() => s.close());
    return connect(s.url, id);
  };
  const relayed = async (id: string) => {
    const w = await sy.OutboundWorker.join(coordinator.joinUrl, { id, token: TOKEN });
    closers.push(() => w.close());
    return connect(coordinator.url(id), id);
  };
  try {
    const x = sy.randn([64, 784]);
    const w = sy.randn([784, 128]).mul(0.05);
    const nets = {
      direct: await Promise.all([listening('d_alice'), listening('d_bob'), listening('d_dealer')]),
      relayed: await Promise.all([relayed('r_alice'), relayed('r_bob'), listening('r_dealer')]),
    };
    const prepared = Object.entries(nets).map(([name, [a, b, dealer]]) => {
      const share = (t: sy.Tensor) => t.fixPrecision().share(a, b, { cryptoProvider: dealer });
      const sync = () => Promise.all([a, b, dealer].map((c) => c.sync()));
      return { name, X: share(x), W: share(w), sync };
    });
    const rounds = quick ? 2 : 5;
    const reps = quick ? 3 : 8;
    const times: Record<string, number[]> = { direct: [], relayed: [] };
    for (const p of prepared) {
      await p.sync();
      for (let i = 0; i < 2; i++) {
        const r = p.X.matmul(p.W);
        await p.sync();
        r.dispose();
      }
    }
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const med: Record<string, number> = {};
      for (const p of prepared) {
        const ms: number[] = [];
        for (let i = 0; i < reps; i++) {
          const t = performance.now();
          const r = p.X.matmul(p.W);
          await p.sync();
          ms.push(performance.now() - t);
          r.dispose();
        }
        med[p.name] = median(ms);
        times[p.name]!.push(med[p.name]!);
      }
      ratios.push(med.relayed! / med.direct!);
    }
    const extra = { rounds, reps, ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios) };
    h.record('private matmul 64x784 by 784x128, all listening (direct links)', median(times.direct!), 'ms', extra);
    h.record('private matmul 64x784 by 784x128, parties behind a coordinator (relayed, sealed)', median(times.relayed!), 'ms', extra);
    h.record('relayed / direct', median(ratios), 'x', extra);
    console.log(`  relayed / direct: ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}); bytes relayed for r_alice: ${JSON.stringify(coordinator.traffic('r_alice'))}`);
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
  }
}
