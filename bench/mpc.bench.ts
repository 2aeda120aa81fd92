// Secure computation figures, in process (virtual workers), dealer included: the private matmul
// of issue 4 and the encrypted MNIST training and inference batches of issue 5, each beside the
// same work in plaintext, measured in the same run.
import * as sy from '../src/index.js';
import { mnistWorkload } from './mnist-workload.js';
import { net } from '../tutorials/06-encrypted-training-mnist.js';
import type { Harness } from './harness.js';

const quick = process.env.BENCH_QUICK === '1';

// virtual: everyone in this thread. dealer-thread: the parties here, the crypto provider in a
// thread of its own (as a separate dealer process would be). threads: each worker in a thread.
type Kind = 'virtual' | 'dealer-thread' | 'threads';

export async function run(h: Harness): Promise<void> {
  await sy.ready();
  await primitives(h);
  const plain = await plaintext(h);
  for (const kind of ['virtual', 'dealer-thread', 'threads'] as const) await mnist(h, kind, plain);
}

/** Alice, Bob and the crypto provider: in this thread, or each in a thread of its own. */
async function workers(kind: Kind, tag: string): Promise<{ all: sy.RemoteWorker[]; parties: sy.RemoteWorker[]; cryptoProvider: sy.RemoteWorker; close: () => Promise<void> }> {
  const ids = [`${tag}-alice`, `${tag}-bob`, `${tag}-dealer`];
  if (kind === 'virtual') {
    const all = ids.map((id) => new sy.VirtualWorker({ id }));
    return { all, parties: all.slice(0, 2), cryptoProvider: all[2]!, close: async () => {} };
  }
  if (kind === 'dealer-thread') {
    const parties = ids.slice(0, 2).map((id) => new sy.VirtualWorker({ id }));
    const dealer = await sy.ThreadWorker.start({ id: ids[2]! });
    return { all: [...parties, dealer], parties, cryptoProvider: dealer, close: () => dealer.close() };
  }
  const all = await Promise.all(ids.map((id) => sy.ThreadWorker.start({ id })));
  return { all, parties: all.slice(0, 2), cryptoProvider: all[2]!, close: async () => void (await Promise.all(all.map((w) => w.close()))) };
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
    reps: quick ? 5 : 60,
    warmup: quick ? 2 : 10,
    target: 20,
    extra: { ringThreads: sy.ring.ringEngine().threads },
  });
  const threads = sy.ring.ringEngine().threads;
  if (threads > 1) {
    // The same, with the ring's matmuls on one thread: the matmul pool's share of the figure.
    await sy.ring.initRing({ threads: 1 });
    const one = await h.time('private matmul 64x784 by 784x128, ring matmuls on 1 thread', run(() => X.matmul(W)), {
      reps: quick ? 5 : 60,
      warmup: quick ? 2 : 10,
    });
    h.record(`private matmul speed-up of ${threads} ring threads over 1`, one.median / secure.median, 'x');
    await sy.ring.initRing({ threads });
  }
  await dealerInThread(h, x, w);
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

/** The same private matmul with the crypto provider in a thread of its own, the parties here. */
async function dealerInThread(h: Harness, x: sy.Tensor, w: sy.Tensor): Promise<void> {
  const parties = [new sy.VirtualWorker({ id: 'prim-t-alice' }), new sy.VirtualWorker({ id: 'prim-t-bob' })];
  const cryptoProvider = await sy.ThreadWorker.start({ id: 'prim-t-dealer' });
  const sync = () => Promise.all([...parties, cryptoProvider].map((p) => p.sync()));
  const share = (t: sy.Tensor) => t.fixPrecision().share(...parties, { cryptoProvider });
  const X = share(x);
  const W = share(w);
  await sync();
  await h.time(
    'private matmul 64x784 by 784x128, 2 virtual parties + dealer in a thread',
    async () => {
      const r = X.matmul(W);
      await sync();
      r.dispose();
    },
    { reps: quick ? 5 : 60, warmup: quick ? 2 : 10, target: 20 },
  );
  await cryptoProvider.close();
}

async function plaintext(h: Harness): Promise<{ train: number; infer: number }> {
  sy.manualSeed(1);
  const model = net();
  const opt = new sy.optim.SGD(model.parameters(), { lr: 0.02 });
  const { train } = await sy.datasets.loadMnist({ train: 64, test: 0 });
  const x = sy.tensor(train.images, { shape: [64, 784] });
  const y = sy.tensor(sy.datasets.oneHot(train.labels), { shape: [64, 10] });
  const t = await h.time('plaintext training, batch of 64 (same model)', () => {
    opt.zeroGrad();
    const l = model.forward(x).sub(y).pow(2).sum().div(64);
    l.backward();
    opt.step();
    return l.item();
  }, { reps: quick ? 5 : 50 });
  const i = await h.time('plaintext inference, batch of 64', () => sy.noGrad(() => model.forward(x).argmax(1)), { reps: quick ? 5 : 50 });
  return { train: t.median, infer: i.median };
}

async function mnist(h: Harness, kind: Kind, plain: { train: number; infer: number }): Promise<void> {
  const { parties, cryptoProvider, all, close } = await workers(kind, `mnist-${kind}`);
  const sync = () => Promise.all(all.map((w) => (w as sy.VirtualWorker | sy.ThreadWorker).sync()));
  const workload = await mnistWorkload(parties, cryptoProvider, quick ? 3 : 10);
  await sync();

  const what = {
    virtual: 'virtual workers, one thread',
    'dealer-thread': 'virtual parties, dealer in a thread',
    threads: 'thread workers',
  }[kind];
  const enc = await h.time(`encrypted training, batch of 64 (MNIST MLP, 2 parties + dealer, ${what})`, workload.train, {
    reps: quick ? 3 : 30,
    warmup: 2,
    target: 100,
  });
  const inf = await h.time(`encrypted inference, batch of 64 (${what})`, workload.infer, { reps: quick ? 3 : 30, warmup: 2, target: 20 });
  h.record(`encrypted / plaintext training (${kind})`, enc.median / plain.train, 'x');
  h.record(`encrypted / plaintext inference (${kind})`, inf.median / plain.infer, 'x');
  await close();
}
