// Training a CNN entirely on shares with cross-entropy: the loss follows the plaintext twin step
// by step, and the workers' stores stay flat (each step frees what it made; the dealer keeps
// nothing), so long runs do not grow.
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { parties } from './helpers.js';

test('CNN steps on shares: losses match plaintext and the workers hold the same objects after every step', async () => {
  const { workers, cryptoProvider } = parties(2, 'cnntrain');
  sy.manualSeed(11);
  const model = new sy.nn.Sequential(new sy.nn.Conv2d(1, 3, 3), new sy.nn.ReLU(), new sy.nn.MaxPool2d(2), new sy.nn.Flatten(), new sy.nn.Linear(3 * 3 * 3, 4));
  const twin = model.copy();
  model.fixPrecision().share(...workers, { cryptoProvider, requiresGrad: true });
  const opt = new sy.optim.SGD(model.parameters(), { lr: 0.2 }).fixPrecision();
  const twinOpt = new sy.optim.SGD(twin.parameters(), { lr: 0.2 });
  const x = sy.randn([8, 1, 8, 8]);
  const y = sy.tensor([0, 1, 2, 3, 0, 1, 2, 3], { dtype: 'int64' });
  const data = x.fixPrecision().share(...workers, { cryptoProvider });
  const counts: string[] = [];
  const losses: [number, number][] = [];
  for (let step = 0; step < 6; step++) {
    const loss = sy.tidy(() => {
      opt.zeroGrad();
      const l = sy.nn.functional.crossEntropy(model.forward(data), y);
      l.backward();
      opt.step();
      return l;
    });
    const value = (await loss.get()).floatPrecision().item();
    twinOpt.zeroGrad();
    const pl = sy.nn.functional.crossEntropy(twin.forward(x), y);
    pl.backward();
    twinOpt.step();
    losses.push([value, pl.item()]);
    for (const w of [...workers, cryptoProvider]) await w.sync();
    counts.push([...workers, cryptoProvider].map((w) => w.objectCount).join());
  }
  for (const [enc, plain] of losses) expect(Math.abs(enc - plain)).toBeLessThan(0.03);
  expect(losses.at(-1)![0]).toBeLessThan(losses[0]![0]);
  // After the first step (which makes the gradients) every step leaves the same objects.
  expect(new Set(counts.slice(1)).size).toBe(1);
  expect(counts.at(-1)!.split(',').at(-1)).toBe('0');
});
