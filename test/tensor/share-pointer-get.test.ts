// PySyft's "Part 10 - Federated Learning with Secure Aggregation", ported: each worker trains its
// copy of the model, then each parameter is fixed and shared worker side
// (`param.fix_precision().share(bob, alice, crypto_provider=james)`), and only the sum of the two
// workers' shared parameters is reconstructed. PySyft follows share() with a `.get()` that fetches
// the shared tensor; in syft-ts share() of a pointer returns it already, so that `.get()` would
// reconstruct one worker's parameters in the clear: it is refused (src/tensors/reveal-guard.ts).
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';

const flat = (t: sy.Tensor) => (t.arraySync() as number[]).flat(3);
// What get() gave: its error, or 'revealed' (a tensor is not something to print in a failure).
const outcome = (p: Promise<unknown>) => p.then(() => 'revealed', (e: unknown) => e);

function part10() {
  const bob = new sy.VirtualWorker({ id: 'p10-bob' });
  const alice = new sy.VirtualWorker({ id: 'p10-alice' });
  const james = new sy.VirtualWorker({ id: 'p10-james' });
  sy.manualSeed(10);
  const data = sy.randn([8, 3]);
  const target = data.matmul(sy.tensor([[1], [-2], [0.5]])).add(0.25);
  const compute = [bob, alice];
  const models = compute.map(() => new sy.nn.Linear(3, 1));
  // Part A: one update on each worker's own batch.
  compute.forEach((w, i) => {
    const model = models[i]!.send(w);
    const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 });
    const x = data.slice(4 * i, 4 * i + 4).send(w);
    const y = target.slice(4 * i, 4 * i + 4).send(w);
    opt.zeroGrad();
    sy.nn.mseLoss(model.forward(x), y).backward();
    opt.step();
  });
  return { bob, alice, james, models, compute };
}

test("Part 10's share(...).get() is refused with a PrivacyError that says what to call instead", async () => {
  const { bob, alice, james, models } = part10();
  const param = models[0]!.weight;
  const encrypted = param.fixPrecision().share(bob, alice, { cryptoProvider: james });
  const err = await outcome(encrypted.get());
  expect(err instanceof sy.PrivacyError).toBe(true);
  expect(String(err)).toMatch(/reconstruct, in the clear, the value worker 'p10-bob' just secret-shared/);
  expect(String(err)).toMatch(/drop the \.get\(\)/);
  expect(String(err)).toMatch(/get\(\) only the aggregate/);
  // Also through a model shared where it is, and through autograd on top.
  const trainable = models[1]!.weight.fixPrecision().share(bob, alice, { cryptoProvider: james, requiresGrad: true });
  expect((await outcome(trainable.get())) instanceof sy.PrivacyError).toBe(true);
  const remote = models[1]!.copy();
  remote.fixPrecision().share(bob, alice, { cryptoProvider: james });
  expect((await outcome(remote.get())) instanceof sy.PrivacyError).toBe(true);
  // A tensor of our own, shared here, is ours to reconstruct (Part 5's x.share(bob, alice).get()).
  const mine = sy.tensor([0.5, -1]).fixPrecision().share(bob, alice);
  expect(flat((await mine.get()).floatPrecision())).toEqual([0.5, -1]);
});

test('the syft-ts spelling of Part B: only the sum of the workers\' shared parameters is revealed, and half of it is their mean', async () => {
  const { bob, alice, james, models, compute } = part10();
  // What a trusted aggregator would compute (read here only to check the result).
  const plain = await Promise.all(models.map((m) => Promise.all(m.parameters().map(async (p) => flat(await p.copy().get())))));
  const seen: unknown[] = [];
  for (const w of [bob, alice, james]) {
    const original = w.request.bind(w);
    w.request = async (m, from) => {
      const v = await original(m, from);
      if (m.op === 'get') seen.push(m.args[0]);
      return v;
    };
  }
  const newParams: sy.Tensor[] = [];
  const params = models.map((m) => m.parameters());
  for (let i = 0; i < params[0]!.length; i++) {
    const spdz = compute.map((_, w) => params[w]![i]!.fixPrecision().share(bob, alice, { cryptoProvider: james }));
    const sum = spdz[0]!.add(spdz[1]!);
    newParams.push((await sum.get()).floatPrecision().div(2));
    const shares = (sum.child as sy.FixedPrecisionTensor).child as sy.AdditiveSharingTensor;
    // The only objects fetched: the shares of the sum (one per party), never a share of one worker's value.
    expect(seen.splice(0).sort()).toEqual(shares.shares.map((s) => s.idAtLocation).sort());
  }
  newParams.forEach((p, i) => {
    const want = plain[0]![i]!.map((v, j) => (v + plain[1]![i]![j]!) / 2);
    flat(p).forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThan(2e-3));
  });
});
