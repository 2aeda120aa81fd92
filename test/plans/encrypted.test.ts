// A whole encrypted training step (forward, backward, optimizer step on a fixed-precision model
// shared between two parties, as tutorial 06 trains it) traced once as a plan and run with one
// message per party and one to the crypto provider — bit for bit the step run op by op.
//
// Bit-identical comparisons need the same dealer randomness in both runs: the test replaces
// Prg.randomSeed (the dealer's seeds) with a counter for its length, through vitest's spy, and
// restores it. Nothing in src/ is changed for it.
import { afterEach, describe, expect, test, vi } from 'vitest';
import * as sy from '../../src/index.js';
import { Prg, type RingTensor } from '../../src/ring/index.js';
import type { AdditiveSharingTensor } from '../../src/tensors/additive-sharing.js';
import type { Message } from '../../src/workers/messages.js';

afterEach(() => vi.restoreAllMocks());

/** Dealer seeds from a counter, for this test only. */
function countedSeeds(): { reset(): void } {
  let n = 0;
  vi.spyOn(Prg, 'randomSeed').mockImplementation(() => {
    const s = new Uint8Array(16);
    new DataView(s.buffer).setUint32(12, ++n);
    s[0] = 0x5e;
    return s;
  });
  return { reset: () => (n = 0) };
}

function flat(t: sy.Tensor): number[] {
  return [t.floatPrecision().arraySync()].flat(Infinity as 1) as number[];
}

function sharesOf(t: sy.Tensor): AdditiveSharingTensor {
  let l = t.child;
  while (l.layerName !== 'AdditiveSharingTensor') l = l.child!;
  return l as AdditiveSharingTensor;
}

/** The raw shares of a shared tensor, copied on each party (the tensor stays). */
async function rawShares(t: sy.Tensor): Promise<bigint[][]> {
  return Promise.all(sharesOf(t).shares.map(async (s) => [...((await s.copyRemote().get()) as RingTensor).data]));
}

function setup(tag: string, n = 2) {
  const parties = Array.from({ length: n }, (_, i) => new sy.VirtualWorker({ id: `${tag}-p${i}` }));
  const cryptoProvider = new sy.VirtualWorker({ id: `${tag}-dealer` });
  sy.manualSeed(11);
  const model = new sy.nn.Sequential(new sy.nn.Linear(12, 8), new sy.nn.ReLU(), new sy.nn.Linear(8, 4));
  model.fixPrecision().share(...parties, { cryptoProvider, requiresGrad: true });
  const share = (t: sy.Tensor) => t.fixPrecision().share(...parties, { cryptoProvider });
  const batches = [0, 1, 2].map(() => ({ x: share(sy.randn([6, 12])), y: share(sy.rand([6, 4])) }));
  const sync = () => Promise.all([...parties, cryptoProvider].map((w) => w.sync()));
  return { parties, cryptoProvider, model, batches, share, sync };
}

const stepOf = (model: sy.nn.Module, opt: sy.optim.Optimizer, refresh = false) => (x: sy.Tensor, y: sy.Tensor) => {
  opt.zeroGrad();
  let l = model.forward(x).sub(y).pow(2).sum();
  if (refresh) l = l.refresh();
  l = l.div(6);
  l.backward();
  opt.step();
  return l;
};

/** Messages `w` gets from this process while `fn` runs (and its result is fetched). */
function recorder(ws: readonly sy.VirtualWorker[]) {
  const logs = new Map<string, Message[]>(ws.map((w) => [w.id, []]));
  for (const w of ws) {
    const original = w.receive.bind(w);
    w.receive = (raw, from, reply) => {
      logs.get(w.id)!.push(raw as Message);
      original(raw, from, reply);
    };
  }
  return logs;
}

describe('an encrypted training step as a plan', () => {
  test('gives the same shares, bit for bit, as the same step op by op (same dealer randomness)', async () => {
    const { model, batches, sync } = setup('bits');
    const twin = model.copy();
    const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 }).fixPrecision();
    const twinOpt = new sy.optim.SGD(twin.parameters(), { lr: 0.1 }).fixPrecision();
    await sync();
    const plan = sy.func2plan(stepOf(twin, twinOpt), { name: 'trainStep' });
    plan.build(batches[0]!.x, batches[0]!.y);
    const seeds = countedSeeds();

    seeds.reset();
    const opLosses: bigint[][][] = [];
    for (const b of batches) opLosses.push(await rawShares(sy.tidy(() => stepOf(model, opt)(b.x, b.y))));
    seeds.reset();
    const planLosses: bigint[][][] = [];
    for (const b of batches) planLosses.push(await rawShares(plan(b.x, b.y) as sy.Tensor));

    expect(planLosses).toEqual(opLosses);
    const [mine, theirs] = [model.parameters(), twin.parameters()];
    for (let k = 0; k < mine.length; k++) expect(await rawShares(theirs[k]!)).toEqual(await rawShares(mine[k]!));
    // and it trained: the parameters moved
    const fresh = setup('bits-fresh').model.parameters();
    expect(await rawShares(mine[0]!)).not.toEqual(await rawShares(fresh[0]!));
  });

  test('inference as a plan gives the op-by-op predictions bit for bit', async () => {
    const { model, batches, sync } = setup('infer');
    await sync();
    const infer = sy.func2plan((x: sy.Tensor) => sy.noGrad(() => model.forward(x).argmax(1)), { name: 'infer' });
    infer.build(batches[0]!.x);
    const seeds = countedSeeds();
    seeds.reset();
    const op = await Promise.all(batches.map((b) => rawShares(sy.tidy(() => sy.noGrad(() => model.forward(b.x).argmax(1))))));
    seeds.reset();
    const planned = await Promise.all(batches.map((b) => rawShares(infer(b.x) as sy.Tensor)));
    expect(planned).toEqual(op);
  });

  test('one message per party and one to the crypto provider per step, against dozens op by op', async () => {
    const { parties, cryptoProvider, model, batches, sync } = setup('count');
    const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 }).fixPrecision();
    const plan = sy.func2plan(stepOf(model, opt, true));
    plan.build(batches[0]!.x, batches[0]!.y);
    plan.send();
    await sync();
    const all = [...parties, cryptoProvider];
    const count = async (run: () => sy.Tensor) => {
      const logs = recorder(all);
      const loss = run();
      await sync();
      for (const w of all) delete (w as { receive?: unknown }).receive;
      void loss;
      return all.map((w) => logs.get(w.id)!.filter((m) => m.kind === 'cmd' || m.kind === 'store' || m.kind === 'del').length);
    };
    const planned = await count(() => plan(batches[1]!.x, batches[1]!.y) as sy.Tensor);
    expect(planned).toEqual([1, 1, 1]);
    const op = await count(() => sy.tidy(() => stepOf(model, opt, true)(batches[1]!.x, batches[1]!.y)));
    // op by op: a command per op on each party, a deal per product and comparison (a relu and
    // its mask are one) on the dealer
    expect(op[0]).toBeGreaterThan(40);
    expect(op[1]).toBe(op[0]);
    expect(op[2]).toBeGreaterThanOrEqual(9);
    console.log(`messages per step (party, party, dealer): op by op ${op.join(', ')}; as a plan ${planned.join(', ')}`);
  });

  test('every run uses fresh sessions; a run message that reuses a salt is refused and the workers go on', async () => {
    const { parties, cryptoProvider, model, batches, sync } = setup('fresh');
    const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 }).fixPrecision();
    const plan = sy.func2plan(stepOf(model, opt));
    plan.build(batches[0]!.x, batches[0]!.y);
    plan.send();
    await sync();
    const logs = recorder([...parties, cryptoProvider]);
    // Protocol values travel in bundles (src/plans/bundle.ts): the sessions are those of the entries.
    const sessionsOf = (from: number) =>
      new Set(
        logs.get(parties[0]!.id)!.slice(from).filter((m) => m.kind === 'peer').flatMap((m) => ((m as unknown as { payload: { s: string }[] }).payload).map((e) => e.s)),
      );
    await (plan(batches[0]!.x, batches[0]!.y) as sy.Tensor).get();
    const mark = logs.get(parties[0]!.id)!.length;
    const first = sessionsOf(0);
    await (plan(batches[1]!.x, batches[1]!.y) as sy.Tensor).get();
    const second = sessionsOf(mark);
    expect(first.size).toBeGreaterThan(5);
    expect(second.size).toBe(first.size);
    expect([...second].filter((s) => first.has(s))).toEqual([]);

    // Replaying the last run message (same salt, new result ids) to every worker: each refuses it.
    const runs = [...parties, cryptoProvider].map((w) => {
      const m = logs.get(w.id)!.filter((x) => x.kind === 'cmd').at(-1)! as Extract<Message, { kind: 'cmd' }>;
      return { w, m: { ...m, ret: m.ret.map((r) => r + 1) } };
    });
    for (const { w, m } of runs) w.receive(m, 'me');
    for (const { w, m } of runs) {
      if (m.ret.length === 0) continue;
      await expect(w.request({ kind: 'req', req: 0, op: 'get', args: [m.ret[0]!, false] }, sy.local)).rejects.toThrow(/reuses the salt/);
    }
    for (const w of [...parties, cryptoProvider]) delete (w as { receive?: unknown }).receive;
    // and the plan still trains
    const loss = await (plan(batches[2]!.x, batches[2]!.y) as sy.Tensor).get();
    expect(Number.isFinite(loss.floatPrecision().item())).toBe(true);
  });

  test('memory stays flat over runs; a batch of another shape gets a plan of its own', async () => {
    const { parties, cryptoProvider, model, batches, share, sync } = setup('flat');
    const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 }).fixPrecision();
    const plan = sy.func2plan(stepOf(model, opt));
    plan.build(batches[0]!.x, batches[0]!.y);
    const counts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const b = batches[i % batches.length]!;
      await (plan(b.x, b.y) as sy.Tensor).get();
      await sync();
      counts.push([...parties, cryptoProvider].map((w) => w.objectCount).join());
    }
    expect(new Set(counts).size).toBe(1);
    // data shares (3 batches x 2) + 4 parameters + the plan on each party; the plan alone on the dealer
    expect(counts[0]).toBe('11,11,1');
    // A smaller (last) batch: the plan is traced again for its shapes, once, and runs as well.
    const small = { x: share(sy.randn([5, 12])), y: share(sy.rand([5, 4])) };
    const messages = plan.readablePlan.length;
    for (let i = 0; i < 2; i++) expect(Number.isFinite((await (plan(small.x, small.y) as sy.Tensor).get()).floatPrecision().item())).toBe(true);
    expect(plan.getPointers().length).toBe(2);
    expect(plan.readablePlan.length).toBe(messages);
    // Arguments the step cannot take fail as the step would op by op.
    expect(() => plan(batches[0]!.y, batches[0]!.x)).toThrow(sy.ShapeError);
  });

  test('independent protocol steps of a plan wait on their peers at the same time', async () => {
    const { parties, share, sync } = setup('dataflow');
    const a = share(sy.randn([3, 3]));
    const b = share(sy.randn([3, 3]));
    const plan = sy.func2plan((x: sy.Tensor, y: sy.Tensor) => [x.refresh(), y.refresh()]);
    plan.build(a, b);
    plan.send();
    await sync();
    // Run one after the other, the second refresh would send only once the first got its peer's
    // value, in a frame of its own; run together, both go out in the same bundle.
    const logs = recorder([parties[1]!]);
    const [ra, rb] = plan(a, b) as sy.Tensor[];
    const [va, vb] = await Promise.all([ra!.get(), rb!.get()]);
    delete (parties[1] as { receive?: unknown }).receive;
    const bundles = logs.get(parties[1]!.id)!.filter((m) => m.kind === 'peer').map((m) => (m as unknown as { payload: { s: string }[] }).payload);
    expect(Math.max(...bundles.map((b) => new Set(b.map((e) => e.s)).size))).toBe(2);
    expect(flat(va)).toEqual(flat(await a.get()));
    expect(flat(vb)).toEqual(flat(await b.get()));
  });

  test('three parties with the dealer\'s truncation and a refresh: the plan trains as op by op does', async () => {
    const { model, batches, sync } = setup('three', 3);
    const twin = model.copy();
    const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 }).fixPrecision();
    const twinOpt = new sy.optim.SGD(twin.parameters(), { lr: 0.1 }).fixPrecision();
    await sync();
    const plan = sy.func2plan(stepOf(twin, twinOpt, true));
    plan.build(batches[0]!.x, batches[0]!.y);
    const decoded = async (t: sy.Tensor) => (await t.get()).floatPrecision().item();
    const op: number[] = [];
    const planned: number[] = [];
    for (let e = 0; e < 3; e++) {
      for (const b of batches) {
        op.push(await decoded(sy.tidy(() => stepOf(model, opt, true)(b.x, b.y))));
        planned.push(await decoded(plan(b.x, b.y) as sy.Tensor));
      }
    }
    planned.forEach((v, i) => expect(Math.abs(v - op[i]!)).toBeLessThan(0.02 + 0.01 * Math.abs(op[i]!)));
    expect(planned.at(-1)!).toBeLessThan(planned[0]!);
  });
});
