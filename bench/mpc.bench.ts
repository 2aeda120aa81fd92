// Secure computation figures, in process (virtual workers), dealer included: the private matmul
// of issue 4 and the encrypted MNIST training and inference batches of issue 5, each beside the
// same work in plaintext, measured in the same run.
import * as sy from '../src/index.js';
import { privateBatches } from '../src/federated/private-loader.js';
import { net } from '../tutorials/06-encrypted-training-mnist.js';
import type { Harness } from './harness.js';

const quick = process.env.BENCH_QUICK === '1';

export async function run(h: Harness): Promise<void> {
  await sy.ready();
  await primitives(h);
  await mnist(h);
}

function setup(tag: string) {
  const parties = [new sy.VirtualWorker({ id: `${tag}-alice` }), new sy.VirtualWorker({ id: `${tag}-bob` })];
  const cryptoProvider = new sy.VirtualWorker({ id: `${tag}-dealer` });
  const sync = () => Promise.all([...parties, cryptoProvider].map((w) => w.sync()));
  return { parties, cryptoProvider, sync };
}

async function primitives(h: Harness): Promise<void> {
  const { parties, cryptoProvider, sync } = setup('prim');
  const share = (t: sy.Tensor) => t.fixPrecision().share(...parties, { cryptoProvider });
  const x = sy.randn([64, 784]);
  const w = sy.randn([784, 128]).mul(0.05);
  const X = share(x);
  const W = share(w);
  await sync();

  // Issue each op and wait until every party is done; the result is then freed.
  const run = (f: () => sy.Tensor) => async () => {
    const r = f();
    await sync();
    r.dispose();
  };
  const secure = await h.time('private matmul 64x784 by 784x128, 2 parties + dealer', run(() => X.matmul(W)), {
    reps: quick ? 5 : 40,
    target: 20,
  });
  const plain = await h.time('float matmul 64x784 by 784x128 (tfjs)', () => x.matmul(w), { reps: quick ? 5 : 100 });
  h.record('private / float matmul', secure.median / plain.median, 'x');

  const a = share(sy.randn([64, 128]));
  const b = share(sy.randn([64, 128]));
  await sync();
  await h.time('private mul 64x128', run(() => a.mul(b)), { reps: quick ? 5 : 40 });
  await h.time('relu 64x128 (comparison + mul)', run(() => a.relu()), { reps: quick ? 5 : 40 });
  await h.time('gt 64x128 (comparison only)', run(() => a.gt(0)), { reps: quick ? 5 : 40 });
  await h.time('truncation 64x128 (x * public 0.5)', run(() => a.mul(0.5)), { reps: quick ? 5 : 40 });
}

async function mnist(h: Harness): Promise<void> {
  const { parties, cryptoProvider, sync } = setup('mnist');
  const batchSize = 64;
  const nBatches = quick ? 3 : 10;
  const { train } = await sy.datasets.loadMnist({ train: batchSize * nBatches, test: 0 });
  const targets = sy.datasets.oneHot(train.labels);
  const half = (train.count / 2) | 0;
  const owners = parties.map((p, i) => {
    const [s, e] = i === 0 ? [0, half] : [half, train.count];
    return {
      data: sy.tensor(train.images.subarray(s * 784, e * 784), { shape: [e - s, 784] }).send(p),
      target: sy.tensor(targets.subarray(s * 10, e * 10), { shape: [e - s, 10] }).send(p),
    };
  });
  const batches = privateBatches(owners, { parties, cryptoProvider, batchSize });
  sy.manualSeed(1);
  const model = net();
  const plainModel = model.copy();
  model.fixPrecision().share(...parties, { cryptoProvider, requiresGrad: true });
  const optimizer = new sy.optim.SGD(model.parameters(), { lr: 0.02 }).fixPrecision();
  await sync();

  let i = 0;
  const train1 = async () => {
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
  const enc = await h.time('encrypted training, batch of 64 (MNIST MLP, 2 parties + dealer)', train1, {
    reps: quick ? 3 : 30,
    warmup: 2,
    target: 100,
  });
  const infer = async () => {
    const { data } = batches[i++ % batches.length]!;
    const pred = sy.tidy(() => sy.noGrad(() => model.forward(data).argmax(1)));
    await pred.get();
  };
  const inf = await h.time('encrypted inference, batch of 64 (shared model, shared data)', infer, {
    reps: quick ? 3 : 30,
    warmup: 2,
    target: 20,
  });

  const plainOpt = new sy.optim.SGD(plainModel.parameters(), { lr: 0.02 });
  const x = sy.tensor(train.images.subarray(0, batchSize * 784), { shape: [batchSize, 784] });
  const y = sy.tensor(targets.subarray(0, batchSize * 10), { shape: [batchSize, 10] });
  const plain = await h.time('plaintext training, batch of 64 (same model)', () => {
    plainOpt.zeroGrad();
    const l = plainModel.forward(x).sub(y).pow(2).sum().div(batchSize);
    l.backward();
    plainOpt.step();
    return l.item();
  }, { reps: quick ? 5 : 50 });
  h.record('encrypted / plaintext training', enc.median / plain.median, 'x');
  const plainInf = await h.time('plaintext inference, batch of 64', () => sy.noGrad(() => plainModel.forward(x).argmax(1)), {
    reps: quick ? 5 : 50,
  });
  h.record('encrypted / plaintext inference', inf.median / plainInf.median, 'x');
}
