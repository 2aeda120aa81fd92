/**
 * Lesson 10: Split learning (PySyft 0.2's "SplitNN Introduction").
 *
 * A neural network is cut in two. Alice holds the handwritten digits and the bottom of the
 * network (784-128-640 with ReLU); Bob holds the labels and the top (640-10, log-softmax and the
 * negative log-likelihood, which together are the cross entropy). Neither has the other's data or
 * the other's half of the model. Each step:
 *
 *   1. Alice runs her half on a batch of images: an activation of 640 numbers per image;
 *   2. the activation crosses the cut (`a.detach().move(bob).requiresGrad_()`): the only thing Bob
 *      ever receives from Alice;
 *   3. Bob runs his half, computes the loss against his labels and calls `backward()`, down to the
 *      cut;
 *   4. the gradient of the activation crosses back (`remoteA.grad.copy().move(alice)`): the only
 *      thing Alice ever receives from Bob;
 *   5. Alice calls `a.backward(gradA)` and both update their halves.
 *
 * We (the orchestrator) see the loss and, at the end, the number of test digits classified
 * right. To check the cut changes nothing, the same network from the same initial weights is
 * trained in one piece here on the same batches in the same order: its losses are the split
 * network's.
 *
 *     npx tsx tutorials/10-split-learning.ts [--train 6000] [--test 1000] [--epochs 3] [--batch 64]
 *         [--lr 0.03] [--seed 0] [--twin=false]
 *
 * The last line printed is one JSON object with the figures.
 */
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';

const FLAGS = {
  train: { type: 'number', default: 6000, integer: true, min: 1, max: 8000, help: 'training digits (Alice has the images, Bob the labels)' },
  test: { type: 'number', default: 1000, integer: true, min: 1, max: 2000, help: 'test digits' },
  epochs: { type: 'number', default: 3, integer: true, min: 1, help: 'passes over the training digits' },
  batch: { type: 'number', default: 64, integer: true, min: 1, help: 'digits per batch' },
  lr: { type: 'number', default: 0.03, min: 0, help: 'SGD learning rate of both halves' },
  seed: { type: 'number', default: 0, integer: true, help: 'initial weights and batch order' },
  twin: { type: 'boolean', default: true, help: 'also train the uncut network here on the same batches (--twin=false skips it)' },
} as const satisfies Record<string, sy.utils.FlagSpec>;

export type Options = sy.utils.Flags<typeof FLAGS> & {
  /** Where lines go (default console.log). */
  log: (line: string) => void;
  /** Progress bars on stderr (default true). */
  progress: boolean;
};

export interface Result {
  trainItems: number;
  testItems: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Mean loss of each epoch, split network. */
  splitLoss: number[];
  /** Mean loss of each epoch, the uncut twin (null without --twin). */
  twinLoss: number[] | null;
  /** Largest difference between a split step's loss and the twin's on the same batch. */
  maxLossDifference: number | null;
  /** Largest difference between a trained weight of the split network and the twin's. */
  maxWeightDifference: number | null;
  splitTestAccuracy: number;
  twinTestAccuracy: number | null;
  /** Numbers that cross the cut per training batch: the activation one way, its gradient the other. */
  valuesAcrossCutPerBatch: number;
  msPerSplitBatch: number;
  msPerTwinBatch: number | null;
}

const HIDDEN = [128, 640] as const;

/** The two halves of PySyft's SplitNN: Alice's bottom and Bob's top. */
export function halves(): [bottom: sy.nn.Sequential, top: sy.nn.Sequential] {
  return [
    new sy.nn.Sequential(new sy.nn.Linear(28 * 28, HIDDEN[0]), new sy.nn.ReLU(), new sy.nn.Linear(HIDDEN[0], HIDDEN[1]), new sy.nn.ReLU()),
    new sy.nn.Sequential(new sy.nn.Linear(HIDDEN[1], 10)),
  ];
}

// PySyft's top ends in LogSoftmax and trains with NLLLoss: together, the cross entropy of the logits.
const criterion = (logits: sy.Tensor, target: sy.Tensor) => sy.nn.crossEntropy(logits, target);

/** MNIST as the SplitNN tutorial reads it: ToTensor, Normalize((0.5,), (0.5,)), images as rows of 784. */
async function digits(split: 'train' | 'test', count: number): Promise<sy.BaseDataset> {
  const ds = await sy.datasets.mnist({ split, count, flatten: true, oneHot: true });
  return new sy.BaseDataset(ds.data, ds.targets, { transform: sy.transforms.normalize(0.5, 0.5) });
}

export async function main(partial: Partial<Options> = {}): Promise<Result> {
  const defaults = Object.fromEntries(Object.entries(FLAGS).map(([k, s]) => [k, s.default])) as sy.utils.Flags<typeof FLAGS>;
  const o: Options = { ...defaults, log: console.log, progress: true, ...partial };
  const log = o.log;
  await sy.ready();
  sy.manualSeed(o.seed);

  const alice = new sy.VirtualWorker({ id: 'alice' });
  const bob = new sy.VirtualWorker({ id: 'bob' });
  const [bottom, top] = halves();
  const twin = o.twin ? [bottom.copy(), top.copy()] : undefined; // same initial weights
  bottom.send(alice);
  top.send(bob);
  const optimizers = [bottom, top].map((m) => new sy.optim.SGD(m.parameters(), { lr: o.lr }));
  const twinOptimizers = twin?.map((m) => new sy.optim.SGD(m.parameters(), { lr: o.lr }));

  log(`the network is cut in two: ${bottom.toString().replace(/\s+/g, ' ')} on ${bottom.location!.id}, ${top.toString().replace(/\s+/g, ' ')} on ${top.location!.id}`);
  log('who holds what:');
  log(`  alice: the images and the bottom half; each step she receives the gradient of her activation (${o.batch} x ${HIDDEN[1]} numbers), never a label or a weight of Bob's`);
  log(`  bob:   the labels and the top half; each step he receives the activation (${o.batch} x ${HIDDEN[1]} numbers), never an image or a weight of Alice's`);
  log('  us:    the orchestrator; we see the loss of each step and, at the end, how many test digits were classified right');
  log('  (here we hand the digits out, and keep them to train the uncut twin; in a deployment each party loads its own)');

  const train = await digits('train', o.train);
  const test = await digits('test', o.test);
  const loader = new sy.DataLoader(train, { batchSize: o.batch, shuffle: true, seed: o.seed });

  const splitLoss: number[] = [];
  const twinLoss: number[] = [];
  let maxLossDifference = 0;
  let splitMs = 0;
  let twinMs = 0;
  let steps = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const t0 = performance.now();
    const bar = o.progress ? new sy.utils.Progress(`epoch ${epoch}/${o.epochs}`, loader.length, { unit: 'batches' }) : undefined;
    let sum = 0;
    let twinSum = 0;
    for (const [data, target] of loader) {
      const s0 = performance.now();
      const images = data.send(alice);
      const labels = target.send(bob);
      const loss = sy.tidy(() => {
        for (const opt of optimizers) opt.zeroGrad();
        const a = bottom.forward(images); // 1. on alice
        const remoteA = a.detach().move(bob).requiresGrad_(); // 2. the activation crosses the cut
        const pred = top.forward(remoteA); // 3. on bob
        const loss = criterion(pred, labels);
        loss.backward(); // on bob, down to the cut
        const gradA = remoteA.grad!.copy().move(alice); // 4. the gradient crosses back
        a.backward(gradA); // 5. on alice
        for (const opt of optimizers) opt.step();
        return loss;
      });
      const value = (await loss.get()).item();
      images.dispose();
      labels.dispose();
      splitMs += performance.now() - s0;
      sum += value;
      steps++;

      if (twin && twinOptimizers) {
        const w0 = performance.now();
        const l = sy.tidy(() => {
          for (const opt of twinOptimizers) opt.zeroGrad();
          const l = criterion(twin[1]!.forward(twin[0]!.forward(data)), target);
          l.backward();
          for (const opt of twinOptimizers) opt.step();
          return l;
        });
        const v = l.item();
        twinMs += performance.now() - w0;
        twinSum += v;
        maxLossDifference = Math.max(maxLossDifference, Math.abs(v - value));
      }
      bar?.tick();
    }
    bar?.done();
    splitLoss.push(sum / loader.length);
    if (twin) twinLoss.push(twinSum / loader.length);
    log(sy.utils.epochLine({ epoch, epochs: o.epochs, loss: splitLoss.at(-1)!, seconds: (performance.now() - t0) / 1000, ...(twin ? { twinLoss: twinLoss.at(-1)! } : {}) }));
  }

  // Test: Alice's half on her images, the activation to Bob, his half and his labels; only the
  // count of right answers comes back.
  let right: sy.Tensor | undefined;
  for (const [data, target] of new sy.DataLoader(test, { batchSize: 256 })) {
    const hits = sy.tidy(() =>
      sy.noGrad(() => {
        const a = bottom.forward(data.send(alice)).move(bob);
        const h = top.forward(a).argmax(1).eq(target.send(bob).argmax(1)).sum();
        return right ? right.add(h) : h;
      }),
    );
    right?.dispose();
    right = hits;
  }
  const splitTestAccuracy = (await right!.get()).item() / test.length;
  log(`\nsplit network: ${Math.round(splitTestAccuracy * test.length)}/${test.length} test digits right (${(100 * splitTestAccuracy).toFixed(1)}%)`);

  let twinTestAccuracy: number | null = null;
  let maxWeightDifference: number | null = null;
  if (twin) {
    let hits = 0;
    for (const [data, target] of new sy.DataLoader(test, { batchSize: 256 })) {
      hits += sy.noGrad(() => twin[1]!.forward(twin[0]!.forward(data)).argmax(1).eq(target.argmax(1)).sum().item());
    }
    twinTestAccuracy = hits / test.length;
    log(`uncut twin:    ${hits}/${test.length} (${(100 * twinTestAccuracy).toFixed(1)}%)`);
    // The model owner may bring the halves home to compare them with the twin.
    await Promise.all([bottom.get(), top.get()]);
    const mine = [...bottom.parameters(), ...top.parameters()];
    const theirs = [...twin[0]!.parameters(), ...twin[1]!.parameters()];
    maxWeightDifference = 0;
    const values = (t: sy.Tensor) => [t.arraySync()].flat(2) as number[];
    for (const [i, p] of mine.entries()) {
      const b = values(theirs[i]!);
      values(p).forEach((v, j) => (maxWeightDifference = Math.max(maxWeightDifference!, Math.abs(v - b[j]!))));
    }
    log(`largest difference from the twin: ${maxLossDifference.toExponential(2)} in a step's loss, ${maxWeightDifference.toExponential(2)} in a weight`);
  }

  const result: Result = {
    trainItems: train.length,
    testItems: test.length,
    epochs: o.epochs,
    batchSize: o.batch,
    lr: o.lr,
    splitLoss,
    twinLoss: twin ? twinLoss : null,
    maxLossDifference: twin ? maxLossDifference : null,
    maxWeightDifference,
    splitTestAccuracy,
    twinTestAccuracy,
    valuesAcrossCutPerBatch: 2 * o.batch * HIDDEN[1],
    msPerSplitBatch: splitMs / steps,
    msPerTwinBatch: twin ? twinMs / steps : null,
  };
  log(JSON.stringify(result));
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flags = sy.utils.flagsOrExit(FLAGS, 'npx tsx tutorials/10-split-learning.ts', 'Split learning on MNIST: a network cut between Alice (images) and Bob (labels).');
  await main(flags);
}
