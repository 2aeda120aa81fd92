/**
 * Lesson 09: federated learning, then testing on an encrypted dataset and model (the MNIST
 * project of seeds/002: "federated learning training of model and then testing on encrypted
 * dataset and model", with workers client, bob and alice and a crypto provider).
 *
 * Part 1, federated training (PySyft 0.2's "Part 6: Federated Learning on MNIST using a CNN"):
 * the training digits are split between Bob and Alice (`dataset.federate([bob, alice])`) and stay
 * there. A `FederatedDataLoader` makes each batch on the worker that holds it; for every batch the
 * model goes to that worker (`model.send(data.location)`), computes the loss and its gradients
 * there, and comes back with them (`model.get()` brings `.grad` home); the model owner's Adam then
 * updates it. (Adam's moments stay with the model owner: were the step taken on the worker, they
 * would be left behind on the previous one.) With `--twin` the same CNN from the same weights is
 * also trained here on the same batches in the same order; its losses must be the federated ones.
 *
 * Part 2, encrypted testing: the client holds its own test digits. It fixes them to fixed
 * precision and secret-shares them between Alice and Bob from where they are; we do the same with
 * the trained model. The CNN then runs on shares only, with the crypto provider dealing the
 * correlated randomness (Beaver triples, comparison material), and only the number of correct
 * answers is revealed. The same digits classified in plaintext by the same model are printed
 * beside it.
 *
 *     npx tsx tutorials/09-federated-then-encrypted-mnist.ts [--train 6000] [--test 1000]
 *         [--epochs 1] [--batch 64] [--lr 0.001] [--encrypted-test 100] [--encrypted-batch 25]
 *         [--seed 1] [--twin] [--agreement]
 *
 * With `--agreement` the client also gets its own digits' encrypted predictions back (they are
 * its data; alice and bob still see nothing) and counts how many equal the plaintext model's.
 * The issue's check, 1,000 digits (about a minute of encrypted inference on 2 cores):
 *
 *     npx tsx tutorials/09-federated-then-encrypted-mnist.ts --encrypted-test 1000 --encrypted-batch 64 --agreement
 *
 * One line per epoch; the last line printed is one JSON object with the figures.
 */
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';

const F = sy.nn.functional;

const FLAGS = {
  train: { type: 'number', default: 6000, integer: true, min: 2, max: 8000, help: 'training digits, split between bob and alice' },
  test: { type: 'number', default: 1000, integer: true, min: 1, max: 2000, help: 'held-out digits the federated model is tested on (plaintext)' },
  epochs: { type: 'number', default: 1, integer: true, min: 1, help: 'passes over the training digits' },
  batch: { type: 'number', default: 64, integer: true, min: 1, help: 'digits per training batch' },
  lr: { type: 'number', default: 0.001, min: 0, help: 'Adam learning rate' },
  encryptedTest: { type: 'number', default: 100, integer: true, min: 0, max: 2000, help: "the client's digits tested encrypted (0 skips part 2)" },
  encryptedBatch: { type: 'number', default: 25, integer: true, min: 1, help: 'digits per encrypted test batch' },
  seed: { type: 'number', default: 1, integer: true, help: "initial weights and batch order (the digits are always sy.datasets.mnist's split)" },
  twin: { type: 'boolean', default: false, help: 'also train the same CNN here on the same batches and compare losses' },
  agreement: { type: 'boolean', default: false, help: "the client also gets its encrypted predictions back and counts those equal to plaintext's" },
} as const satisfies Record<string, sy.utils.FlagSpec>;

export type Options = sy.utils.Flags<typeof FLAGS> & {
  /** Where lines go (default console.log). */
  log: (line: string) => void;
  /**
   * The two workers the training digits go to (default: virtual workers 'bob' and 'alice'). The
   * WebSocket test passes clients of worker processes here.
   */
  workers?: readonly [sy.RemoteWorker, sy.RemoteWorker];
};

export interface Result {
  trainItems: number;
  testItems: number;
  /** Digits the client tested encrypted (the first of the test digits). */
  encryptedTestItems: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Accuracy of the federated model on the `testItems` held-out digits, in plaintext. */
  federatedTestAccuracy: number;
  /** Accuracy on the client's `encryptedTestItems` digits, data and model secret-shared (null: part 2 skipped). */
  encryptedTestAccuracy: number | null;
  /** Accuracy of the same model on the same `encryptedTestItems` digits in plaintext (null: skipped). */
  plaintextTestAccuracy: number | null;
  /** Share of the encrypted digits whose encrypted prediction equals plaintext's (null without --agreement). */
  encryptedPlaintextAgreement: number | null;
  msPerFederatedBatch: number;
  msPerEncryptedBatch: number | null;
  /** Mean loss of each epoch. */
  epochLoss: number[];
  /** The loss of every federated batch, in order. */
  batchLoss: number[];
  /** Largest difference between a federated batch's loss and the local twin's (null without --twin). */
  maxTwinLossDifference: number | null;
  /** Every trained parameter, flattened in `namedParameters()` order (for comparisons; not printed). */
  weights?: Float32Array;
}

/** PySyft's Part 6 CNN: two 5x5 convolutions with max pooling, then 800-500-10, log-softmax. */
export class Net extends sy.nn.Module {
  conv1 = new sy.nn.Conv2d(1, 20, 5);
  conv2 = new sy.nn.Conv2d(20, 50, 5);
  fc1 = new sy.nn.Linear(4 * 4 * 50, 500);
  fc2 = new sy.nn.Linear(500, 10);

  /** The class scores before log-softmax (argmax of these is the prediction). */
  logits(x: sy.Tensor): sy.Tensor {
    // PySyft pools after the ReLU. The two commute (max is monotone), so pooling first gives the
    // same numbers, and on shares it needs a quarter of the ReLU's secure comparisons.
    let h = F.relu(F.maxPool2d(this.conv1.forward(x), 2, 2));
    h = F.relu(F.maxPool2d(this.conv2.forward(h), 2, 2));
    h = F.relu(this.fc1.forward(h.reshape([-1, 4 * 4 * 50])));
    return this.fc2.forward(h);
  }

  forward(x: sy.Tensor): sy.Tensor {
    return F.logSoftmax(this.logits(x), 1);
  }
}

/** Every parameter of `m`, flattened in order. */
function flatWeights(m: sy.nn.Module): Float32Array {
  const parts = m.parameters().map((p) => Float32Array.from([p.arraySync()].flat(4) as number[]));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let k = 0;
  for (const p of parts) out.set(p, (k += p.length) - p.length);
  return out;
}

/** Plaintext predictions of `model` on a local dataset, in order. */
function predictions(model: Net, dataset: sy.BaseDataset, batchSize: number): number[] {
  const out: number[] = [];
  for (const [x] of new sy.DataLoader(dataset, { batchSize })) out.push(...sy.tidy(() => sy.noGrad(() => model.logits(x).argmax(1).arraySync() as number[])));
  return out;
}

/** Plaintext accuracy of `model` on batches of a local dataset. */
function accuracy(model: Net, dataset: sy.BaseDataset, batchSize: number): number {
  let right = 0;
  for (const [x, y] of new sy.DataLoader(dataset, { batchSize })) {
    const predicted = sy.tidy(() => sy.noGrad(() => model.logits(x).argmax(1).arraySync() as number[]));
    const labels = y.arraySync() as (number | bigint)[];
    predicted.forEach((p, i) => (right += p === Number(labels[i]) ? 1 : 0));
  }
  return right / dataset.length;
}

export async function main(partial: Partial<Options> = {}): Promise<Result> {
  const defaults = Object.fromEntries(Object.entries(FLAGS).map(([k, s]) => [k, s.default])) as sy.utils.Flags<typeof FLAGS>;
  const o: Options = { ...defaults, log: console.log, ...partial };
  const log = o.log;
  await sy.ready();
  sy.manualSeed(o.seed);

  // ---- part 1: federated training over bob and alice --------------------------------------
  const [bob, alice] = o.workers ?? [new sy.VirtualWorker({ id: 'bob' }), new sy.VirtualWorker({ id: 'alice' })];
  const train = await sy.datasets.mnist({ split: 'train', count: o.train, normalize: true });
  const federated = train.federate([bob, alice]);
  const loader = new sy.FederatedDataLoader(federated, { batchSize: o.batch, shuffle: true, seed: o.seed });
  log(`training digits: ${federated.workers.map((w) => `${federated.datasets[w]!.length} on ${w}`).join(', ')}; ${loader.batchCount} batches an epoch`);

  const model = new Net();
  const optimizer = new sy.optim.Adam(model.parameters(), { lr: o.lr });
  const twin = o.twin ? model.copy() : undefined;
  const twinOptimizer = twin ? new sy.optim.Adam(twin.parameters(), { lr: o.lr }) : undefined;

  const epochLoss: number[] = [];
  const batchLoss: number[] = [];
  let maxTwinLossDifference = 0;
  let trainMs = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const t0 = performance.now();
    let sum = 0;
    let batches = 0;
    for (const [data, target] of loader) {
      const s0 = performance.now();
      optimizer.zeroGrad();
      model.send(data.location!);
      const loss = sy.tidy(() => {
        const l = F.nllLoss(model.forward(data), target);
        l.backward();
        return l;
      });
      const value = (await loss.get()).item();
      await model.get(); // the trained weights and their gradients come home
      optimizer.step();
      trainMs += performance.now() - s0;
      if (twin && twinOptimizer) {
        // A check, not part of federated learning: the twin trains here on copies of the batches.
        const [x, y] = await Promise.all([data.copy().get(), target.copy().get()]);
        const twinValue = sy.tidy(() => {
          twinOptimizer.zeroGrad();
          const l = F.nllLoss(twin.forward(x), y);
          l.backward();
          twinOptimizer.step();
          return l.item();
        });
        maxTwinLossDifference = Math.max(maxTwinLossDifference, Math.abs(twinValue - value));
      }
      data.dispose();
      target.dispose();
      batchLoss.push(value);
      sum += value;
      batches++;
    }
    epochLoss.push(sum / batches);
    log(`epoch ${epoch}/${o.epochs}  loss ${(sum / batches).toFixed(4)}  ${batches} batches  ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  }
  const test = await sy.datasets.mnist({ split: 'test', count: o.test, normalize: true });
  const federatedTestAccuracy = accuracy(model, test, 100);
  log(`federated model, ${o.test} held-out digits in plaintext: ${(100 * federatedTestAccuracy).toFixed(1)}%`);
  if (twin) log(`local twin on the same batches: largest loss difference ${maxTwinLossDifference.toExponential(2)}`);

  // ---- part 2: the client's digits and the model, secret-shared between alice and bob -------
  let encryptedTestAccuracy: number | null = null;
  let plaintextTestAccuracy: number | null = null;
  let msPerEncryptedBatch: number | null = null;
  let encryptedPlaintextAgreement: number | null = null;
  const encryptedTestItems = Math.min(o.encryptedTest, o.test);
  if (encryptedTestItems > 0) {
    const client = new sy.VirtualWorker({ id: 'client' });
    const [aliceE, bobE] = [new sy.VirtualWorker({ id: 'alice_mpc' }), new sy.VirtualWorker({ id: 'bob_mpc' })];
    const cryptoProvider = new sy.VirtualWorker({ id: 'crypto_provider' });
    // The client's digits live on the client; it shares them from there (we never see them).
    const own = new sy.DataLoader(test, { batchSize: o.encryptedBatch });
    const clientBatches: { x: sy.Tensor; y: sy.Tensor; n: number }[] = [];
    let taken = 0;
    for (const [x, y] of own) {
      if (taken >= encryptedTestItems) break;
      const n = Math.min(x.shape[0]!, encryptedTestItems - taken);
      const labels = sy.tensor((y.arraySync() as (number | bigint)[]).slice(0, n).map(Number));
      clientBatches.push({ x: x.slice(0, n).send(client), y: labels.send(client), n });
      taken += n;
    }
    const encModel = model.copy().fixPrecision().share(aliceE, bobE, { cryptoProvider });
    const t0 = performance.now();
    let correctShared: sy.Tensor | undefined;
    const encryptedPredictions: sy.Tensor[] = [];
    for (const { x, y } of clientBatches) {
      const xs = x.fixPrecision().share(aliceE, bobE, { cryptoProvider });
      const ys = y.fixPrecision().share(aliceE, bobE, { cryptoProvider });
      // The predictions leave the scope only when the client asked for them back.
      const [hits, predicted] = sy.tidy(() => sy.noGrad(() => {
        const p = encModel.logits(xs).argmax(1);
        return [p.eq(ys).sum(), o.agreement ? p : undefined] as const;
      }));
      if (predicted) encryptedPredictions.push(predicted);
      correctShared = correctShared ? correctShared.add(hits) : hits;
    }
    // The only value revealed: how many digits the encrypted model got right.
    const correct = Math.round((await correctShared!.get()).floatPrecision().item());
    msPerEncryptedBatch = (performance.now() - t0) / clientBatches.length;
    encryptedTestAccuracy = correct / encryptedTestItems;
    const sameDigits = new sy.BaseDataset(test.data.slice(0, encryptedTestItems), test.targets.slice(0, encryptedTestItems), test.transform ? { transform: test.transform } : {});
    plaintextTestAccuracy = accuracy(model, sameDigits, 100);
    if (o.agreement) {
      // The client's own predictions, back to the client (alice and bob saw only shares).
      const plain = predictions(model, sameDigits, 100);
      const enc: number[] = [];
      for (const p of encryptedPredictions) enc.push(...([(await p.get()).floatPrecision().arraySync()].flat() as number[]).map(Math.round));
      encryptedPlaintextAgreement = enc.filter((v, i) => v === plain[i]).length / encryptedTestItems;
      log(`encrypted predictions equal to plaintext's: ${(100 * encryptedPlaintextAgreement).toFixed(1)}% of ${encryptedTestItems} digits`);
    }
    log(
      `client's ${encryptedTestItems} digits, encrypted (data and model shared between alice and bob): ${correct}/${encryptedTestItems} ` +
        `(${(100 * encryptedTestAccuracy).toFixed(1)}%); the same digits in plaintext: ${(100 * plaintextTestAccuracy).toFixed(1)}%`,
    );
  }

  const result: Result = {
    trainItems: o.train,
    testItems: o.test,
    encryptedTestItems,
    epochs: o.epochs,
    batchSize: o.batch,
    lr: o.lr,
    federatedTestAccuracy,
    encryptedTestAccuracy,
    plaintextTestAccuracy,
    encryptedPlaintextAgreement,
    msPerFederatedBatch: trainMs / batchLoss.length,
    msPerEncryptedBatch,
    epochLoss,
    batchLoss,
    maxTwinLossDifference: twin ? maxTwinLossDifference : null,
  };
  log(JSON.stringify(result));
  return { ...result, weights: flatWeights(model) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flags = sy.utils.flagsOrExit(
    FLAGS,
    'npx tsx tutorials/09-federated-then-encrypted-mnist.ts',
    'Federated training of a CNN on MNIST over bob and alice, then testing on encrypted data and model.',
  );
  await main(flags);
}
