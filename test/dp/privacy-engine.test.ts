// DP-SGD through the PrivacyEngine: clipping bounds every per-sample norm and the private gradient
// is exactly (sum of clipped per-sample gradients + noise) / expected batch size; the noise has the
// standard deviation noiseMultiplier * maxGradNorm (statistical checks with failure probability
// below 1e-6) and comes from the CSPRNG, never Math.random; Poisson batches have the right sizes;
// every step, empty draws included, is counted by the accountant, whose epsilon the engine reports.
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import * as sy from '../../src/index.js';
import { seededFill } from './helpers.js';

const { nn } = sy;

beforeAll(async () => {
  await sy.ready();
});
afterEach(() => vi.restoreAllMocks());

function flat(t: sy.Tensor): number[] {
  return (t.arraySync() as unknown as number[]).flat(Infinity as 1) as unknown as number[];
}

function dataset(n: number, features: number, classes: number): sy.BaseDataset {
  const x = sy.randn([n, features]).mul(3);
  const y = sy.tensor(Array.from({ length: n }, (_, i) => i % classes), { dtype: 'int64' });
  return new sy.BaseDataset(x, y);
}

function model(features: number, classes: number): sy.nn.Module {
  return new nn.Sequential(new nn.Linear(features, 6), new nn.ReLU(), new nn.Linear(6, classes), new nn.LogSoftmax(1));
}

describe('clipping', () => {
  /** One private step on 10 samples at `maxGradNorm`, checked against per-sample backward passes; returns the norms. */
  function clippedStep(maxGradNorm: number): Float64Array {
    sy.manualSeed(3);
    const ds = dataset(32, 5, 3);
    const net = model(5, 3);
    const twin = net.copy();
    const engine = new sy.dp.PrivacyEngine();
    const { module, optimizer } = engine.makePrivate({
      module: net,
      optimizer: new sy.optim.SGD(net.parameters(), { lr: 1e-9 }),
      dataLoader: new sy.DataLoader(ds, { batchSize: 8 }),
      noiseMultiplier: 0,
      maxGradNorm,
    });
    const [x, y] = ds.batch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    optimizer.zeroGrad();
    nn.nllLoss(module.forward(x), y).backward();
    optimizer.step();
    const { norms, clippedNorms, batchSize } = optimizer.lastStep!;
    expect(batchSize).toBe(10);
    expect(Math.max(...clippedNorms)).toBeLessThanOrEqual(maxGradNorm);
    // Reference: each sample's own gradient by its own backward pass, clipped and summed here.
    const params = twin.parameters();
    const sum = params.map((p) => new Float64Array(p.numel()));
    for (let b = 0; b < 10; b++) {
      twin.zeroGrad();
      nn.nllLoss(twin.forward(x.slice(b, b + 1)), y.slice(b, b + 1)).backward();
      const g = params.map((p) => flat(p.grad!));
      const norm = Math.sqrt(g.flat().reduce((s, v) => s + v * v, 0));
      expect(Math.abs(norm - norms[b]!)).toBeLessThan(1e-5 * norm);
      const f = Math.min(1, maxGradNorm / (norm + 1e-6));
      g.forEach((gi, i) => gi.forEach((v, j) => (sum[i]![j]! += f * v)));
    }
    const expected = 32 / 4; // Poisson: sampleRate (1/4 batches) * 32 examples
    net.parameters().forEach((p, i) => {
      flat(p.grad!).forEach((v, j) => expect(Math.abs(v - sum[i]![j]! / expected)).toBeLessThan(1e-6));
    });
    return norms;
  }

  test('every per-sample norm is bounded by maxGradNorm and the gradient is the clipped sum over the expected batch size', () => {
    const norms = clippedStep(0.01);
    expect(Math.min(...norms)).toBeGreaterThan(0.01); // every sample clipped
    // At the median norm, half the samples are clipped and half are kept as they are.
    const median = [...norms].sort((a, b) => a - b)[5]!;
    const again = clippedStep(median);
    expect(again.filter((n) => n < median).length).toBeGreaterThan(0);
    expect(again.filter((n) => n > median).length).toBeGreaterThan(0);
  });
});

describe('noise', () => {
  test('std noiseMultiplier * maxGradNorm (chi-square bound, failure probability < 1e-6), mean 0, from the CSPRNG only', () => {
    const net = new nn.Linear(250, 200); // 50,200 parameters
    const engine = new sy.dp.PrivacyEngine();
    const sigma = 1.3;
    const maxGradNorm = 0.7;
    const { optimizer } = engine.makePrivate({
      module: net,
      optimizer: new sy.optim.SGD(net.parameters(), { lr: 1 }),
      dataLoader: new sy.DataLoader(dataset(10, 250, 2), { batchSize: 10 }),
      noiseMultiplier: sigma,
      maxGradNorm,
      lossReduction: 'sum',
    });
    vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random used');
    });
    optimizer.zeroGrad();
    optimizer.step(); // no batch: the gradient is the noise alone
    const g = net.parameters().flatMap(flat);
    const n = g.length;
    const std = sigma * maxGradNorm;
    const mean = g.reduce((a, b) => a + b, 0) / n;
    const variance = g.reduce((a, b) => a + b * b, 0) / n;
    // |mean| < 5.4 std/sqrt(n) and |s^2/std^2 - 1| < 5.4 sqrt(2/n): each fails with probability < 1e-7.
    expect(Math.abs(mean)).toBeLessThan((5.4 * std) / Math.sqrt(n));
    expect(Math.abs(variance / std ** 2 - 1)).toBeLessThan(5.4 * Math.sqrt(2 / n));
    expect(engine.accountant.steps).toBe(1);
  });

  test('the noise is a function of the random bytes only: a fixed fill reproduces it, the CSPRNG does not', () => {
    const run = (random?: sy.dp.RandomFill): number[] => {
      sy.manualSeed(1);
      const net = new nn.Linear(20, 10);
      const { optimizer } = new sy.dp.PrivacyEngine().makePrivate({
        module: net,
        optimizer: new sy.optim.SGD(net.parameters(), { lr: 1 }),
        dataLoader: new sy.DataLoader(dataset(4, 20, 2), { batchSize: 4 }),
        noiseMultiplier: 1,
        maxGradNorm: 1,
        random,
      });
      optimizer.step();
      return net.parameters().flatMap(flat);
    };
    expect(run(seededFill(7))).toEqual(run(seededFill(7)));
    expect(run()).not.toEqual(run());
  });
});

describe('Poisson sampling and accounting', () => {
  test('batch sizes are Binomial(N, q) and every step, empty ones included, is counted', () => {
    sy.manualSeed(2);
    const ds = dataset(6, 3, 2);
    const net = model(3, 2);
    const engine = new sy.dp.PrivacyEngine({ accountant: 'rdp' });
    const { module, optimizer, dataLoader, sampleRate } = engine.makePrivate({
      module: net,
      optimizer: new sy.optim.SGD(net.parameters(), { lr: 0.1 }),
      dataLoader: new sy.DataLoader(ds, { batchSize: 2 }),
      noiseMultiplier: 1.1,
      maxGradNorm: 1,
    });
    expect(sampleRate).toBeCloseTo(1 / 3, 15);
    expect(dataLoader.length).toBe(3);
    const sizes: number[] = [];
    const epochs = 400;
    vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random used');
    });
    for (let e = 0; e < epochs; e++) {
      for (const [x, y] of dataLoader) {
        sizes.push(x.shape[0]!);
        optimizer.zeroGrad();
        nn.nllLoss(module.forward(x), y).backward();
        optimizer.step();
      }
    }
    // 1200 steps; P(empty) = (2/3)^6 = 0.088, so about 105 steps had no batch but were still taken.
    expect(engine.accountant.steps).toBe(epochs * 3);
    const empty = epochs * 3 - sizes.length;
    const pEmpty = (2 / 3) ** 6;
    const sd = Math.sqrt(1200 * pEmpty * (1 - pEmpty));
    expect(Math.abs(empty - 1200 * pEmpty)).toBeLessThan(5.4 * sd);
    // Mean size of non-empty batches: E[K | K > 0] = Nq / (1 - P(empty)).
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    const want = 2 / (1 - pEmpty);
    expect(Math.abs(mean - want)).toBeLessThan((5.4 * Math.sqrt(6 * (1 / 3) * (2 / 3))) / Math.sqrt(sizes.length));
    // The engine's epsilon is the accountant's for the same steps.
    const ref = new sy.dp.RDPAccountant();
    ref.history = [{ noiseMultiplier: 1.1, sampleRate: 1 / 3, steps: 1200 }];
    expect(engine.getEpsilon(1e-5)).toBe(ref.getEpsilon(1e-5));
  });

  test('makePrivateWithEpsilon spends just under the target over the planned epochs', () => {
    sy.manualSeed(4);
    const ds = dataset(64, 4, 2);
    const net = model(4, 2);
    const engine = new sy.dp.PrivacyEngine();
    const { module, optimizer, dataLoader, noiseMultiplier } = engine.makePrivateWithEpsilon({
      module: net,
      optimizer: new sy.optim.SGD(net.parameters(), { lr: 0.1 }),
      dataLoader: new sy.DataLoader(ds, { batchSize: 16 }),
      targetEpsilon: 2,
      targetDelta: 1e-5,
      epochs: 5,
      maxGradNorm: 1,
    });
    expect(noiseMultiplier).toBe(sy.dp.getNoiseMultiplier({ targetEpsilon: 2, targetDelta: 1e-5, sampleRate: 1 / 4, epochs: 5 }));
    for (let e = 0; e < 5; e++) {
      for (const [x, y] of dataLoader) {
        optimizer.zeroGrad();
        nn.nllLoss(module.forward(x), y).backward();
        optimizer.step();
      }
    }
    expect(engine.accountant.steps).toBe(20);
    const eps = engine.getEpsilon(1e-5);
    expect(eps).toBeLessThanOrEqual(2);
    expect(eps).toBeGreaterThan(2 - 0.011);
  });

  test('poisson: false keeps the loader (shuffled fixed-size batches) and divides by its batch size', () => {
    const net = model(3, 2);
    const loader = new sy.DataLoader(dataset(8, 3, 2), { batchSize: 4, shuffle: true });
    const { dataLoader, optimizer } = new sy.dp.PrivacyEngine().makePrivate({
      module: net, optimizer: new sy.optim.SGD(net.parameters(), { lr: 0.1 }), dataLoader: loader, noiseMultiplier: 1, maxGradNorm: 1, poisson: false,
    });
    expect(dataLoader).toBe(loader);
    expect(optimizer.expectedBatchSize).toBe(4);
  });
});

describe('bad input', () => {
  test('BatchNorm models, optimizers over other parameters and bad settings are refused', () => {
    const loader = new sy.DataLoader(dataset(8, 3, 2), { batchSize: 4 });
    const engine = new sy.dp.PrivacyEngine();
    const bn = new nn.Sequential(new nn.Linear(3, 3), new nn.BatchNorm1d(3));
    expect(() => engine.makePrivate({ module: bn, optimizer: new sy.optim.SGD(bn.parameters(), { lr: 1 }), dataLoader: loader, noiseMultiplier: 1, maxGradNorm: 1 })).toThrow(/BatchNorm/);
    const a = model(3, 2);
    const b = model(3, 2);
    expect(() => engine.makePrivate({ module: a, optimizer: new sy.optim.SGD(b.parameters(), { lr: 1 }), dataLoader: loader, noiseMultiplier: 1, maxGradNorm: 1 })).toThrow(/not the model's/);
    expect(() => engine.makePrivate({ module: a, optimizer: new sy.optim.SGD(a.parameters(), { lr: 1 }), dataLoader: loader, noiseMultiplier: 1, maxGradNorm: 0 })).toThrow(sy.ValueError);
    expect(() => engine.makePrivate({ module: a, optimizer: new sy.optim.SGD(a.parameters(), { lr: 1 }), dataLoader: loader, noiseMultiplier: -1, maxGradNorm: 1 })).toThrow(/noiseMultiplier/);
  });
});
