// The next step's noise drawn on a thread (src/dp/noise-ahead.ts): once a request repeats it is
// drawn ahead and handed over synchronously, each array once; what DP-SGD adds from it has the
// same distribution (std noiseMultiplier * maxGradNorm, chi-square bound with failure probability
// below 1e-6); `noiseAhead: false` and a fixed `random` keep every draw on the caller's thread.
import { beforeAll, describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { NoiseAhead, noiseAhead } from '../../src/dp/noise-ahead.js';
import { seededFill } from './helpers.js';

const { nn } = sy;
const flat = (t: sy.Tensor): number[] => [t.arraySync()].flat(Infinity as 1) as number[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await sy.ready();
});

/** Calls take() until an array drawn ahead comes back (the thread needs a moment to start). */
async function firstAhead(a: NoiseAhead, sigma: number, count: number): Promise<Float64Array> {
  for (let i = 0; i < 400; i++) {
    const z = a.take(sigma, count);
    if (z) return z;
    await sleep(25);
  }
  throw new Error('no noise was drawn ahead within 10 s');
}

describe('NoiseAhead', () => {
  test('after a request repeats, arrays drawn ahead come back, each one new, integer and of the right spread', async () => {
    const a = new NoiseAhead();
    expect(a.take(1000, 50_000)).toBeUndefined(); // not drawn ahead until it repeats
    const z1 = await firstAhead(a, 1000, 50_000);
    const z2 = await firstAhead(a, 1000, 50_000);
    expect(z2).not.toBe(z1);
    expect(z1).toHaveLength(50_000);
    for (const z of [z1, z2]) {
      expect(z.every(Number.isInteger)).toBe(true);
      const n = z.length;
      const mean = z.reduce((s, v) => s + v, 0) / n;
      const variance = z.reduce((s, v) => s + v * v, 0) / n;
      expect(Math.abs(mean)).toBeLessThan((5.4 * 1000) / Math.sqrt(n));
      expect(Math.abs(variance / 1000 ** 2 - 1)).toBeLessThan(5.4 * Math.sqrt(2 / n));
    }
    // Two arrays are not the same draw.
    expect(z1.some((v, i) => v !== z2[i])).toBe(true);
    expect(a.stats.ahead).toBeGreaterThanOrEqual(2);
    await a.close();
    expect(a.take(1000, 50_000)).toBeUndefined();
  });
});

describe('DP-SGD with noise drawn ahead', () => {
  function privateLinear(options: { noiseAhead?: boolean; random?: (b: Uint8Array) => void }) {
    const net = new nn.Linear(250, 200); // 50,200 parameters
    const engine = new sy.dp.PrivacyEngine();
    const x = sy.randn([10, 250]);
    const y = sy.tensor(Array.from({ length: 10 }, (_, i) => i % 2), { dtype: 'int64' });
    const { optimizer } = engine.makePrivate({
      module: net,
      optimizer: new sy.optim.SGD(net.parameters(), { lr: 1 }),
      dataLoader: new sy.DataLoader(new sy.BaseDataset(x, y), { batchSize: 10 }),
      noiseMultiplier: 1.3,
      maxGradNorm: 0.7,
      lossReduction: 'sum',
    });
    const dp = optimizer as sy.dp.DPOptimizer;
    return { net, dp: options.noiseAhead === false || options.random ? new sy.dp.DPOptimizer({ optimizer: dp.original, gradSample: dp.gradSample, noiseMultiplier: 1.3, maxGradNorm: 0.7, expectedBatchSize: 10, lossReduction: 'sum', ...options }) : dp };
  }

  test('the steps that use it add noise of std noiseMultiplier * maxGradNorm', async () => {
    const { net, dp } = privateLinear({});
    const before = noiseAhead().stats.ahead;
    let stepsAhead = 0;
    for (let i = 0; i < 40 && stepsAhead < 2; i++) {
      const was = noiseAhead().stats.ahead;
      dp.zeroGrad();
      dp.step(); // no batch: the gradient is the noise alone
      if (noiseAhead().stats.ahead > was) stepsAhead++;
      await sleep(50);
    }
    expect(noiseAhead().stats.ahead).toBeGreaterThan(before);
    const g = net.parameters().flatMap((p) => flat(p.grad!));
    const n = g.length;
    const std = 1.3 * 0.7;
    const mean = g.reduce((a, b) => a + b, 0) / n;
    const variance = g.reduce((a, b) => a + b * b, 0) / n;
    expect(Math.abs(mean)).toBeLessThan((5.4 * std) / Math.sqrt(n));
    expect(Math.abs(variance / std ** 2 - 1)).toBeLessThan(5.4 * Math.sqrt(2 / n));
  });

  test('noiseAhead: false, or a fixed random source, draws every sample on the caller (a fixed fill reproduces the noise)', async () => {
    const before = noiseAhead().stats.ahead;
    const off = privateLinear({ noiseAhead: false });
    for (let i = 0; i < 6; i++) {
      off.dp.zeroGrad();
      off.dp.step();
      await sleep(20);
    }
    const grads = (seed: number) => {
      const { net, dp } = privateLinear({ random: seededFill(seed) });
      dp.zeroGrad();
      dp.step();
      return net.parameters().flatMap((p) => flat(p.grad!));
    };
    expect(grads(5)).toEqual(grads(5));
    expect(noiseAhead().stats.ahead).toBe(before);
  });
});
