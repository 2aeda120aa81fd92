// The encrypted-training workload the benchmarks share: tutorial 06's MLP on real MNIST batches
// that two data owners shared themselves, trained with the seed post's loss and optimizer.
import * as sy from '../src/index.js';
import { privateBatches } from '../src/federated/private-loader.js';
import { net } from '../tutorials/06-encrypted-training-mnist.js';

export const BATCH_SIZE = 64;

export async function mnistWorkload(parties: sy.RemoteWorker[], cryptoProvider: sy.RemoteWorker, nBatches: number) {
  const { train: digits } = await sy.datasets.loadMnist({ train: BATCH_SIZE * nBatches, test: 0 });
  const targets = sy.datasets.oneHot(digits.labels);
  const half = (digits.count / 2) | 0;
  const owners = parties.map((p, i) => {
    const [s, e] = i === 0 ? [0, half] : [half, digits.count];
    return {
      data: sy.tensor(digits.images.subarray(s * 784, e * 784), { shape: [e - s, 784] }).send(p),
      target: sy.tensor(targets.subarray(s * 10, e * 10), { shape: [e - s, 10] }).send(p),
    };
  });
  const batches = privateBatches(owners, { parties, cryptoProvider, batchSize: BATCH_SIZE });
  sy.manualSeed(1);
  const model = net();
  model.fixPrecision().share(...parties, { cryptoProvider, requiresGrad: true });
  const optimizer = new sy.optim.SGD(model.parameters(), { lr: 0.02 }).fixPrecision();
  let i = 0;
  /** One training step on the next batch; resolves when the loss is back. */
  const train = async () => {
    const { data, target, size } = batches[i++ % batches.length]!;
    const loss = sy.tidy(() => {
      optimizer.zeroGrad();
      const l = model.forward(data).sub(target).pow(2).sum().refresh().div(size);
      l.backward();
      optimizer.step();
      return l;
    });
    await loss.get();
  };
  /** Classifies the next batch; resolves when the predictions are back. */
  const infer = async () => {
    const { data } = batches[i++ % batches.length]!;
    const pred = sy.tidy(() => sy.noGrad(() => model.forward(data).argmax(1)));
    await pred.get();
  };
  return { batches, model, optimizer, train, infer };
}
