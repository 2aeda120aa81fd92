// 200 encrypted CNN training steps (conv > ReLU > max pool > linear, cross-entropy, on shares):
// the workers' stores, bytes held and mailboxes are the same after every step, and the process
// heap stays bounded. Object counts are asserted, not time.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { parties } from './helpers.js';

// A full collection before each heap reading, so the reading is what is live, not garbage that
// the collector has not got to yet (its timing depends on the load of the machine).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const liveHeap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

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
    if (step === 20) heapAfterWarmup = liveHeap();
  }
  const heapAtEnd = liveHeap();
  // The first step makes the gradients; from then on every step leaves exactly the same objects.
  expect(new Set(states.slice(1))).toEqual(new Set([states[1]]));
  expect(cryptoProvider.objectCount).toBe(0);
  // Live heap after 180 more steps: within 8 MB (the same steps without sy.tidy, which keeps
  // every intermediate, grow it by about 34 MB).
  expect(heapAtEnd - heapAfterWarmup).toBeLessThan(8 * 2 ** 20);
});
