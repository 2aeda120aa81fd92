import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { privateBatches } from '../../src/federated/private-loader.js';
import { SeededRandom } from '../../src/util/seeded.js';
import { data, flat, parties } from './helpers.js';

// Every GradFunc the MLP uses, on shared fixed-precision values, against plaintext gradients.
describe('autograd over shared values gives the plaintext gradients', () => {
  const rng = new SeededRandom(9);
  const { workers, cryptoProvider } = parties(2, 'grad');
  const shareGrad = (t: sy.Tensor) => t.fixPrecision().share(...workers, { cryptoProvider, requiresGrad: true });
  const cases: [string, number[][], (xs: sy.Tensor[]) => sy.Tensor][] = [
    ['matmul', [[3, 4], [4, 2]], ([a, w]) => a!.matmul(w!).sum()],
    ['add with broadcast', [[3, 4], [4]], ([a, b]) => a!.add(b!).mul(sy.tensor([0.5, -1, 2, 1])).sum()],
    ['sub', [[3, 2], [3, 2]], ([a, b]) => a!.sub(b!).pow(2).sum()],
    ['relu', [[4, 3]], ([a]) => a!.relu().mul(sy.tensor([1, -2, 0.5])).sum()],
    ['mean', [[4, 3]], ([a]) => a!.mean(1).mul(sy.tensor([1, 2, -1, 0.5])).sum()],
    ['pow and div by public', [[3, 3]], ([a]) => a!.pow(2).sum().div(9)],
    ['linear layer + relu + mse', [[4, 5], [5, 3], [3], [4, 3]], ([x, w, b, t]) => x!.matmul(w!).add(b!).relu().sub(t!).pow(2).sum().div(4)],
  ];
  for (const [name, shapes, f] of cases) {
    test(name, async () => {
      const values = shapes.map((s) => data(rng, s, -1.5, 1.5));
      const plain = values.map((v) => sy.tensor(flat(v), { shape: v.shape, requiresGrad: true }));
      f(plain).backward();
      const shared = values.map(shareGrad);
      f(shared).backward();
      for (let i = 0; i < values.length; i++) {
        const got = flat((await shared[i]!.grad!.get()).floatPrecision());
        const want = flat(plain[i]!.grad!);
        got.forEach((g, j) => expect(Math.abs(g - want[j]!)).toBeLessThan(0.02 + 0.01 * Math.abs(want[j]!)));
      }
    });
  }
});

test('a small encrypted MNIST run: the loss falls and the workers hold the same objects every epoch', async () => {
  sy.manualSeed(2);
  const { workers, cryptoProvider } = parties(2, 'train');
  const { train } = await sy.datasets.loadMnist({ train: 96, test: 0, seed: 3 });
  const targets = sy.datasets.oneHot(train.labels);
  const owners = workers.map((w, i) => ({
    data: sy.tensor(train.images.subarray(i * 48 * 784, (i + 1) * 48 * 784), { shape: [48, 784] }).send(w),
    target: sy.tensor(targets.subarray(i * 480, (i + 1) * 480), { shape: [48, 10] }).send(w),
  }));
  const batches = privateBatches(owners, { parties: workers, cryptoProvider, batchSize: 16 });
  const model = new sy.nn.Sequential(new sy.nn.Linear(784, 32), new sy.nn.ReLU(), new sy.nn.Linear(32, 10));
  model.fixPrecision().share(...workers, { cryptoProvider, requiresGrad: true });
  const optimizer = new sy.optim.SGD(model.parameters(), { lr: 0.05 }).fixPrecision();
  const epochLoss: number[] = [];
  const objects: number[][] = [];
  for (let epoch = 0; epoch < 4; epoch++) {
    let sum = 0;
    for (const { data: x, target, size } of batches) {
      const loss = sy.tidy(() => {
        optimizer.zeroGrad();
        const l = model.forward(x).sub(target).pow(2).sum().refresh().div(size);
        l.backward();
        optimizer.step();
        return l;
      });
      sum += (await loss.get()).floatPrecision().item();
    }
    epochLoss.push(sum / batches.length);
    for (const w of [...workers, cryptoProvider]) await w.sync();
    objects.push([...workers, cryptoProvider].map((w) => w.objectCount));
  }
  expect(epochLoss[3]!).toBeLessThan(epochLoss[0]!);
  // memory is flat: after every epoch the same objects (data shares, parameters and their gradients)
  expect(new Set(objects.map((o) => o.join())).size).toBe(1);
  expect(objects[0]![2]).toBe(0); // the dealer keeps nothing
});
