// 200 encrypted CNN training steps (conv > ReLU > max pool > linear, cross-entropy, on shares):
// the workers' stores, bytes held and mailboxes are the same after every step, and the process
// heap stays bounded. Object counts are asserted, not time.
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { parties } from './helpers.js';

test('200 encrypted CNN training steps: flat worker stores and mailboxes, bounded heap', async () => {
  const { workers, cryptoProvider } = parties(2, 'cnnmem');
  const all = [...workers, cryptoProvider];
  sy.manualSeed(3);
  const model = new sy.nn.Sequential(new sy.nn.Conv2d(1, 2, 3), new sy.nn.ReLU(), new sy.nn.MaxPool2d(2), new sy.nn.Flatten(), new sy.nn.Linear(2 * 3 * 3, 3));
  model.fixPrecision().share(...workers, { cryptoProvider, requiresGrad: true });
  const opt = new sy.optim.SGD(model.parameters(), { lr: 0.05 }).fixPrecision();
  const x = sy.randn([2, 1, 8, 8]).fixPrecision().share(...workers, { cryptoProvider });
  const y = sy.tensor([0, 2], { dtype: 'int64' });
  const state = () => all.map((w) => `${w.objectCount}/${w.bytesHeld}/${w.mailbox.size}`).join(' ');
  const states: string[] = [];
  let heapAfterWarmup = 0;
  let heapMax = 0;
  for (let step = 0; step < 200; step++) {
    const loss = sy.tidy(() => {
      opt.zeroGrad();
      const l = sy.nn.functional.crossEntropy(model.forward(x), y);
      l.backward();
      opt.step();
      return l;
    });
    expect(Number.isFinite((await loss.get()).floatPrecision().item())).toBe(true);
    for (const w of all) await w.sync();
    states.push(state());
    const heap = process.memoryUsage().heapUsed;
    if (step === 20) heapAfterWarmup = heap;
    if (step > 20) heapMax = Math.max(heapMax, heap);
  }
  // The first step makes the gradients; from then on every step leaves exactly the same objects.
  expect(new Set(states.slice(1))).toEqual(new Set([states[1]]));
  expect(cryptoProvider.objectCount).toBe(0);
  // A leak of one small tensor per step would be 180 objects here; the heap bound is loose (GC
  // runs when it likes) but far below what 180 steps of kept intermediates would take.
  expect(heapMax - heapAfterWarmup).toBeLessThan(64 * 2 ** 20);
});
