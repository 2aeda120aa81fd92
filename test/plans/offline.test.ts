// The offline phase: the crypto provider deals a plan's next runs ahead (sy.mpc.preprocess), the
// parties keep the material in their mailboxes, and an online run sends the provider nothing and
// gives the very shares the same step gives op by op with the same dealer randomness.
import { afterEach, describe, expect, test, vi } from 'vitest';
import * as sy from '../../src/index.js';
import { Prg, type RingTensor } from '../../src/ring/index.js';
import type { AdditiveSharingTensor } from '../../src/tensors/additive-sharing.js';
import type { Message } from '../../src/workers/messages.js';

afterEach(() => vi.restoreAllMocks());

/** Dealer seeds from a counter, for this test only (as encrypted.test.ts does). */
function countedSeeds(): { reset(): void } {
  let n = 0;
  vi.spyOn(Prg, 'randomSeed').mockImplementation(() => {
    const s = new Uint8Array(16);
    new DataView(s.buffer).setUint32(12, ++n);
    s[0] = 0x0f;
    return s;
  });
  return { reset: () => (n = 0) };
}

function sharesOf(t: sy.Tensor): AdditiveSharingTensor {
  let l = t.child;
  while (l.layerName !== 'AdditiveSharingTensor') l = l.child!;
  return l as AdditiveSharingTensor;
}

async function rawShares(t: sy.Tensor): Promise<bigint[][]> {
  return Promise.all(sharesOf(t).shares.map(async (s) => [...((await s.copyRemote().get()) as RingTensor).data]));
}

function setup(tag: string) {
  const parties = [0, 1].map((i) => new sy.VirtualWorker({ id: `${tag}-p${i}`, timeoutMs: 5000 }));
  const cryptoProvider = new sy.VirtualWorker({ id: `${tag}-dealer`, timeoutMs: 5000 });
  sy.manualSeed(5);
  const model = new sy.nn.Sequential(new sy.nn.Linear(10, 6), new sy.nn.ReLU(), new sy.nn.Linear(6, 3));
  model.fixPrecision().share(...parties, { cryptoProvider, requiresGrad: true });
  const share = (t: sy.Tensor) => t.fixPrecision().share(...parties, { cryptoProvider });
  const batches = [0, 1, 2, 3].map(() => ({ x: share(sy.randn([4, 10])), y: share(sy.rand([4, 3])) }));
  const all = [...parties, cryptoProvider];
  const sync = () => Promise.all(all.map((w) => w.sync()));
  return { parties, cryptoProvider, all, model, batches, sync };
}

const stepOf = (model: sy.nn.Module, opt: sy.optim.Optimizer) => (x: sy.Tensor, y: sy.Tensor) => {
  opt.zeroGrad();
  const l = model.forward(x).sub(y).pow(2).sum().div(4);
  l.backward();
  opt.step();
  return l;
};

function recorder(ws: readonly sy.VirtualWorker[]) {
  const logs = new Map<string, { from: string; msg: Message }[]>(ws.map((w) => [w.id, []]));
  for (const w of ws) {
    const original = w.receive.bind(w);
    w.receive = (raw, from, reply) => {
      logs.get(w.id)!.push({ from, msg: raw as Message });
      original(raw, from, reply);
    };
  }
  return { logs, stop: () => ws.forEach((w) => delete (w as { receive?: unknown }).receive) };
}

function holdsRingData(v: unknown): boolean {
  if (v instanceof BigInt64Array) return true;
  if (v === null || typeof v !== 'object') return false;
  return Object.values(v as object).some(holdsRingData);
}

const fromMe = (log: { from: string; msg: Message }[]) => log.filter((e) => e.from === 'me' && e.msg.kind !== 'req');

describe('the offline phase', () => {
  test('runs dealt ahead give op-by-op shares bit for bit, and send the provider nothing online', async () => {
    const { all, cryptoProvider, parties, model, batches, sync } = setup('off-bits');
    const twin = model.copy();
    const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 }).fixPrecision();
    const twinOpt = new sy.optim.SGD(twin.parameters(), { lr: 0.1 }).fixPrecision();
    const plan = sy.func2plan(stepOf(twin, twinOpt), { name: 'trainStep' });
    plan.build(batches[0]!.x, batches[0]!.y);
    plan.send();
    await sync();
    const seeds = countedSeeds();

    seeds.reset();
    const op: bigint[][][] = [];
    for (const b of batches) op.push(await rawShares(sy.tidy(() => stepOf(model, opt)(b.x, b.y))));

    seeds.reset();
    const pool = await sy.mpc.preprocess(plan, { runs: 3 });
    expect(pool.pooled).toBe(3);
    expect(pool.dealsPerRun['mpc.deal'] ?? Object.values(pool.dealsPerRun).reduce((a, b) => a + b, 0)).toBeGreaterThan(3);
    const rec = recorder(all);
    const planned: bigint[][][] = [];
    for (const b of batches.slice(0, 3)) planned.push(await rawShares(plan(b.x, b.y) as sy.Tensor));
    await sync();
    // Online: one run message per party, none to the provider.
    expect(fromMe(rec.logs.get(cryptoProvider.id)!)).toEqual([]);
    for (const p of parties) {
      const runs = fromMe(rec.logs.get(p.id)!).filter((e) => e.msg.kind === 'cmd' && e.msg.op.startsWith('plan.run'));
      expect(runs.length).toBe(3);
    }
    expect(plan.send().pooledRuns).toBe(0);
    // The pool is empty: the next run deals online again (one message to the provider).
    planned.push(await rawShares(plan(batches[3]!.x, batches[3]!.y) as sy.Tensor));
    await sync();
    rec.stop();
    expect(fromMe(rec.logs.get(cryptoProvider.id)!).length).toBe(1);

    expect(planned).toEqual(op);
    const [mine, theirs] = [model.parameters(), twin.parameters()];
    for (let k = 0; k < mine.length; k++) expect(await rawShares(theirs[k]!)).toEqual(await rawShares(mine[k]!));
  });

  test('with refill the pool stays full: each online run has the provider deal one more meanwhile', async () => {
    const { cryptoProvider, model, batches, sync } = setup('off-refill');
    const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 }).fixPrecision();
    const plan = sy.func2plan(stepOf(model, opt));
    plan.build(batches[0]!.x, batches[0]!.y);
    await sy.mpc.preprocess(plan, { runs: 2, refill: true });
    const rec = recorder([cryptoProvider]);
    const losses: number[] = [];
    for (let r = 0; r < 6; r++) {
      const b = batches[r % 2]!;
      losses.push((await (plan(b.x, b.y) as sy.Tensor).get()).floatPrecision().item());
      expect(plan.send().pooledRuns).toBe(2);
    }
    await sync();
    rec.stop();
    // Each run posted the provider one refill (its part, run ahead with a fresh salt), and it trains.
    const runs = fromMe(rec.logs.get(cryptoProvider.id)!);
    expect(runs.length).toBe(6);
    expect(new Set(runs.map((e) => (e.msg as Extract<Message, { kind: 'cmd' }>).args[1])).size).toBe(6);
    expect(losses[4]!).toBeLessThan(losses[0]!);
  });

  test('the provider gets no share or unmasked value, the orchestrator none either; bad requests are refused', async () => {
    const { cryptoProvider, parties, model, batches, sync } = setup('off-transcript');
    const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 }).fixPrecision();
    const plan = sy.func2plan(stepOf(model, opt));
    plan.build(batches[0]!.x, batches[0]!.y);
    plan.send();
    await sync();
    const rec = recorder([sy.local, cryptoProvider, ...parties]);
    await sy.mpc.preprocess(plan, { runs: 2 });
    await (plan(batches[0]!.x, batches[0]!.y) as sy.Tensor).get();
    await sync();
    rec.stop();
    expect(rec.logs.get(sy.local.id)).toEqual([]);
    for (const { from, msg } of rec.logs.get(cryptoProvider.id)!) {
      if (from === cryptoProvider.id && msg.kind === 'req') continue; // the test's own sync() barriers
      expect(from).toBe('me');
      expect(holdsRingData(msg)).toBe(false);
    }
    // Parties: ring data only from peers (the provider's seeds and corrections, the other party's openings).
    for (const p of parties) for (const { from, msg } of rec.logs.get(p.id)!) if (holdsRingData(msg)) expect([from, msg.kind]).toEqual([expect.not.stringMatching(/^me$/), 'peer']);

    const local = sy.func2plan((x: sy.Tensor) => x.add(1), { argShapes: [[2]] });
    await expect(sy.mpc.preprocess(local.send(parties[0]!))).rejects.toThrow(/nothing to preprocess/);
    await expect(sy.mpc.preprocess(plan, { runs: 100_000 })).rejects.toThrow(/at most \d+ runs/);
    await expect(sy.mpc.preprocess(plan, { runs: -1 })).rejects.toThrow(sy.ValueError);
  });
});
