// Encrypted CNN figures (issue 15), 2 virtual parties and a virtual crypto provider, each beside
// its plaintext twin in the same run:
//   - ReLU on shares, time per element at 8K, 100K and 1M elements (should stay flat or fall);
//   - exp on shares by the cubic-and-squarings approximation vs CrypTen's limit exp: time and
//     measured error on [-8, 0] (why src/tensors/approximations.ts picks the first);
//   - inference of a batch of 64 and one cross-entropy training step of it, for the small CNN of
//     tutorial 11 and for PySyft's Part 6 CNN (conv 20 - pool - conv 50 - pool - fc 500 - fc 10).
// The Part 6 rows carry the floors (inference <= 1.5 s per batch of 64, a training step
// <= 6 s, 2 cores, all virtual workers) and print PASS or MISS. Sequential pools before its ReLUs
// on shares (src/nn/relu-pool.ts), so both models here run a quarter of the conv ReLUs' comparisons.
import * as sy from '../src/index.js';
import { expApprox, limitExp } from '../src/tensors/approximations.js';
import { reluNet } from '../tutorials/11-encrypted-cnn.js';
import { type Harness, summarize } from './harness.js';

const quick = process.env.BENCH_QUICK === '1';

function setup(tag: string) {
  const parties = [new sy.VirtualWorker({ id: `${tag}-alice` }), new sy.VirtualWorker({ id: `${tag}-bob` })];
  const cryptoProvider = new sy.VirtualWorker({ id: `${tag}-dealer` });
  const sync = () => Promise.all([...parties, cryptoProvider].map((w) => w.sync()));
  const share = (t: sy.Tensor, requiresGrad = false) => t.fixPrecision().share(...parties, { cryptoProvider, requiresGrad });
  return { parties, cryptoProvider, sync, share };
}

export async function run(h: Harness): Promise<void> {
  await sy.ready();
  await reluScaling(h);
  await expChoice(h);
  await cnn(h, 'tutorial 11 CNN', reluNet);
  // The floors (2 parties + crypto provider, virtual workers, 2 cores): PASS/MISS printed.
  await cnn(h, 'Part 6 CNN', part6, { infer: 1500, train: 6000 });
}

/** PySyft's Part 6 CNN. */
function part6(): sy.nn.Sequential {
  return new sy.nn.Sequential(
    new sy.nn.Conv2d(1, 20, 5), new sy.nn.ReLU(), new sy.nn.MaxPool2d(2),
    new sy.nn.Conv2d(20, 50, 5), new sy.nn.ReLU(), new sy.nn.MaxPool2d(2),
    new sy.nn.Flatten(), new sy.nn.Linear(4 * 4 * 50, 500), new sy.nn.ReLU(), new sy.nn.Linear(500, 10),
  );
}

// Sizes interleaved round by round in one process (the machine's speed swings ~2x from minute
// to minute): each sample is the time per element of ceil(300K / n) ReLUs of n elements.
async function reluScaling(h: Harness): Promise<void> {
  const { sync, share } = setup('relu');
  const sizes = [8192, 100_000, 1_000_000];
  const xs = sizes.map((n) => share(sy.randn([n])));
  await sync();
  const samples: number[][] = sizes.map(() => []);
  const rounds = quick ? 2 : 6;
  for (let round = 0; round < rounds; round++) {
    for (const [k, n] of sizes.entries()) {
      const reps = Math.ceil(300_000 / n);
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) {
        const y = xs[k]!.relu();
        await sync();
        y.dispose();
      }
      if (round > 0) samples[k]!.push(((performance.now() - t0) * 1e6) / (n * reps)); // round 0 warms up
    }
  }
  sizes.forEach((n, k) => h.record({ name: `relu on shares, ${n} elements, time per element`, unit: 'ns', reps: samples[k]!.length, ...summarize(samples[k]!) }));
  const median = (k: number) => summarize(samples[k]!).median;
  h.record('relu per element, 1M / 8K', median(2) / median(0), 'x');
  for (const x of xs) x.dispose();
}

async function expChoice(h: Harness): Promise<void> {
  const { sync, parties, cryptoProvider } = setup('exp');
  const n = 10_000;
  const v = Float32Array.from({ length: n }, (_, i) => -8 + (8 * i) / (n - 1));
  // At the working precision of a 3-digit tensor (5 digits), as the softmax runs them.
  const x = sy.tensor(v).fixPrecision({ precisionFractional: 5 }).share(...parties, { cryptoProvider });
  await sync();
  for (const [name, f] of [['cubic + 6 squarings', (c: sy.Tensor) => new sy.Tensor(expApprox(c.child, 0))], ['limit exp 2^8', (c: sy.Tensor) => new sy.Tensor(limitExp(c.child, 8, 0))]] as const) {
    await h.time(`exp on shares, ${n} elements, ${name}`, async () => {
      const y = f(x);
      await sync();
      y.dispose();
    }, { reps: 10, warmup: 2 });
    const got = [(await f(x).get()).floatPrecision().arraySync()].flat() as number[];
    h.record(`exp on shares, ${name}: largest error on [-8, 0]`, Math.max(...got.map((g, i) => Math.abs(g - Math.exp(v[i]!)))), '');
  }
}

async function cnn(h: Harness, name: string, make: () => sy.nn.Sequential, floors: { infer?: number; train?: number } = {}): Promise<void> {
  const { sync, share, parties, cryptoProvider } = setup(name.replace(/\W+/g, '-'));
  sy.manualSeed(1);
  const ds = await sy.datasets.mnist({ split: 'train', count: 64, normalize: true });
  const [x, y] = ds.batch(Array.from({ length: 64 }, (_, i) => i));
  const plain = make();
  const plainOpt = new sy.optim.SGD(plain.parameters(), { lr: 0.01 });
  const pInfer = await h.time(`${name}: plaintext inference, batch of 64`, () => sy.noGrad(() => plain.forward(x).argmax(1)), { reps: quick ? 2 : 10 });
  const pTrain = await h.time(`${name}: plaintext training step, batch of 64`, () => {
    plainOpt.zeroGrad();
    sy.nn.functional.crossEntropy(plain.forward(x), y).backward();
    plainOpt.step();
  }, { reps: quick ? 2 : 5 });

  const shared = plain.copy();
  shared.fixPrecision().share(...parties, { cryptoProvider, requiresGrad: true });
  const opt = new sy.optim.SGD(shared.parameters(), { lr: 0.01 }).fixPrecision();
  const data = share(x);
  await sync();
  const reps = quick ? 1 : 3;
  const infer = await h.time(`${name}: encrypted inference, batch of 64`, async () => {
    const p = sy.tidy(() => sy.noGrad(() => shared.forward(data).argmax(1)));
    await p.get();
  }, { reps, warmup: 1, ...(floors.infer === undefined ? {} : { target: floors.infer }) });
  const train = await h.time(`${name}: encrypted training step (cross-entropy), batch of 64`, async () => {
    const loss = sy.tidy(() => {
      opt.zeroGrad();
      const l = sy.nn.functional.crossEntropy(shared.forward(data), y);
      l.backward();
      opt.step();
      return l;
    });
    await loss.get();
    await sync();
  }, { reps, warmup: 1, ...(floors.train === undefined ? {} : { target: floors.train }) });
  h.record(`${name}: encrypted / plaintext inference`, infer.median / pInfer.median, 'x');
  h.record(`${name}: encrypted / plaintext training step`, train.median / pTrain.median, 'x');
}
