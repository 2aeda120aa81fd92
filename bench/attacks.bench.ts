// How long a legitimate client waits while a hostile network attacks the workers: three
// `syft-ts worker` processes on loopback (test/websocket/helpers/attacks.ts), the orchestrator's
// ping round trip to bob and its private 4x8 @ 8x3 matmul (bob, alice, crypto provider) timed
// with no attack and under each attack, alternating (quiet, attacked, quiet, attacked) in one
// process so the machine's drift hits both alike. Each attack runs in a process of its own
// (helpers/attack-child.ts): the attacker's work shares the machine's cores, not the client's
// event loop. `npm run bench -- attacks`.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as sy from '../src/index.js';
import { summarize } from './harness.js';
import type { Harness } from './harness.js';
import { ATTACKS, type Cluster, privateMatmul, startCluster } from '../test/websocket/helpers/attacks.js';

const quick = process.env.BENCH_QUICK === '1';
const ROUNDS = quick ? 1 : 2;
const PINGS = quick ? 10 : 30;
const MATMULS = quick ? 3 : 8;

const child = fileURLToPath(new URL('../test/websocket/helpers/attack-child.ts', import.meta.url));
const tsx = createRequire(import.meta.url).resolve('tsx');

/** Starts attack `name` in a child process; `stop()` ends it and resolves with its counts. */
async function startAttack(name: string, target: object): Promise<{ stop(): Promise<Record<string, number>> }> {
  const p = spawn(process.execPath, ['--import', tsx, child, name, JSON.stringify(target)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: p.stdout! });
  const next = () => new Promise<string>((r, j) => (lines.once('line', r), p.once('exit', (code) => j(new Error(`attack ${name} exited (${code})`)))));
  if ((await next()) !== 'started') throw new Error(`attack ${name} did not start`);
  return {
    async stop() {
      const out = next();
      p.stdin!.end();
      return JSON.parse(await out) as Record<string, number>;
    },
  };
}

async function sample(c: Cluster, pings: number[], products: number[]): Promise<void> {
  for (let i = 0; i < PINGS; i++) {
    const t0 = performance.now();
    await c.bob.ping();
    pings.push(performance.now() - t0);
  }
  for (let i = 0; i < MATMULS; i++) {
    const { ms, maxError } = await privateMatmul(c);
    if (maxError > 0.05) throw new Error(`a private matmul was wrong by ${maxError}`);
    products.push(ms);
  }
}

export async function run(h: Harness): Promise<void> {
  await sy.ready();
  const c = await startCluster();
  try {
    await privateMatmul(c);
    const held = sy.tensor([1, 2, 3]).send(c.bob);
    await c.bob.sync();
    const id = (held.child as unknown as { idAtLocation: number }).idAtLocation;
    const target = { urls: c.urls, mallory: c.mallory, ids: [id] };
    for (const name of [...Object.keys(ATTACKS), 'crossIdentity']) {
      const quiet = { pings: [] as number[], products: [] as number[] };
      const loud = { pings: [] as number[], products: [] as number[] };
      let counts: Record<string, number> = {};
      for (let r = 0; r < ROUNDS; r++) {
        await sample(c, quiet.pings, quiet.products);
        const a = await startAttack(name, target);
        await new Promise((res) => setTimeout(res, 300));
        await sample(c, loud.pings, loud.products);
        counts = await a.stop();
      }
      for (const [what, q, l] of [['ping', quiet.pings, loud.pings], ['private matmul', quiet.products, loud.products]] as const) {
        const s = summarize(l);
        const base = summarize(q).median;
        h.record({ name: `${what} under ${name}`, unit: 'ms', reps: l.length, ...s, extra: { quietMedian: Number(base.toFixed(2)), ratio: Number((s.median / base).toFixed(2)), ...(what === 'ping' ? { attack: counts } : {}) } });
      }
    }
    if (!c.procs.every((p) => p.child.exitCode === null)) throw new Error('a worker process died during the attacks');
  } finally {
    await c.close();
  }
}
