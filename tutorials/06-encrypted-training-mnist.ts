/**
 * Encrypted training and inference on MNIST, as in "Encrypted Training with PySyft".
 *
 * Alice and Bob each hold part of the (real) MNIST digits. They cut their data into batches and
 * secret-share every batch between themselves; the model owner (us) fixes the model's weights and
 * shares them too. Training then runs on shares only — data, weights, activations, gradients —
 * with a crypto provider dealing the correlated randomness. The test set is classified the same
 * way and only the number of correct answers is revealed. The same model, from the same initial
 * weights, trained on the same batches in plaintext gives the accuracy to compare with.
 *
 * The training step and the classification of a test batch are plans (PySyft's Part 8): traced
 * once, then run by the parties with one message to each (and one to the crypto provider) per
 * batch instead of one per command; `--plans=false` sends them op by op instead.
 *
 *     npx tsx tutorials/06-encrypted-training-mnist.ts [--train 640] [--test 640] [--epochs 20]
 *         [--batch 64] [--precision 3] [--lr 0.02] [--parties 2] [--log-interval 1] [--seed 1] [--plans=false]
 *
 * The last line printed is one JSON object with the figures.
 */
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';

const { privateBatches } = sy.federated;

export interface Options {
  train: number;
  test: number;
  epochs: number;
  batch: number;
  precision: number;
  lr: number;
  parties: number;
  logInterval: number;
  seed: number;
  /** Also train the plaintext twin (default true). */
  plaintext: boolean;
  /** Run the training step and the test batches as plans (default true). */
  plans: boolean;
  log: (s: string) => void;
}

export const defaults: Options = {
  train: 640,
  test: 640,
  epochs: 20,
  batch: 64,
  precision: 3,
  lr: 0.02,
  parties: 2,
  logInterval: 1,
  seed: 1,
  plaintext: true,
  plans: true,
  log: console.log,
};

export interface Result {
  trainItems: number;
  testItems: number;
  epochs: number;
  batchSize: number;
  precisionFractional: number;
  parties: number;
  /** Whether the encrypted steps ran as plans. */
  plans: boolean;
  /** Commands each party's part of the training plan holds: the messages a batch takes op by op. */
  commandsPerBatch: number | null;
  encryptedTestAccuracy: number;
  plaintextTestAccuracy: number | null;
  encryptedMsPerBatch: number;
  plaintextMsPerBatch: number | null;
  encryptedInferenceMsPerBatch: number;
  /** Mean loss of each epoch (encrypted run). */
  encryptedLoss: number[];
  plaintextLoss: number[] | null;
}

/** The model of the post: 784-128-64-10 with ReLU. */
export function net(): sy.nn.Sequential {
  return new sy.nn.Sequential(
    new sy.nn.Linear(28 * 28, 128),
    new sy.nn.ReLU(),
    new sy.nn.Linear(128, 64),
    new sy.nn.ReLU(),
    new sy.nn.Linear(64, 10),
  );
}

/** Rows of each owner, interleaved by batch as the private loader does. */
function plainBatches(rows: { x: Float32Array; y: Float32Array; n: number }[], batch: number, yWidth: number) {
  const per = rows.map(({ x, y, n }) =>
    Array.from({ length: Math.ceil(n / batch) }, (_, b) => {
      const s = b * batch;
      const e = Math.min(n, s + batch);
      return {
        data: sy.tensor(x.subarray(s * 784, e * 784), { shape: [e - s, 784] }),
        target: sy.tensor(y.subarray(s * yWidth, e * yWidth), { shape: yWidth === 1 ? [e - s] : [e - s, yWidth] }),
        size: e - s,
      };
    }),
  );
  const out: (typeof per)[number] = [];
  for (let i = 0; per.some((p) => i < p.length); i++) for (const p of per) if (i < p.length) out.push(p[i]!);
  return out;
}

export async function main(partial: Partial<Options> = {}): Promise<Result> {
  const o: Options = { ...defaults, ...partial };
  const log = o.log;
  await sy.ready();
  sy.manualSeed(o.seed);

  // The parties (who also own the data) and the crypto provider.
  const names = ['alice', 'bob', 'charlie', 'dave', 'erin'];
  if (o.parties < 2 || o.parties > names.length) throw new Error(`--parties must be 2..${names.length}`);
  const workers = names.slice(0, o.parties).map((id) => new sy.VirtualWorker({ id }));
  const cryptoProvider = new sy.VirtualWorker({ id: 'crypto_provider' });

  // Each party holds a distinct part of MNIST. (Here we hand the digits out; in a deployment
  // each owner loads its own, and the code below is the same.)
  const { train, test } = await sy.datasets.loadMnist({ train: o.train, test: o.test, seed: o.seed });
  // Pixels in [0, 1], normalized as the post's loader does: Normalize((0.1307,), (0.3081,)).
  const normalize = (images: Float32Array) => images.map((v) => (v - sy.datasets.MNIST_MEAN) / sy.datasets.MNIST_STD);
  train.images = normalize(train.images);
  test.images = normalize(test.images);
  const trainTargets = sy.datasets.oneHot(train.labels);
  const testTargets = Float32Array.from(test.labels);
  const split = (n: number) => workers.map((_, i) => [Math.floor((i * n) / workers.length), Math.floor(((i + 1) * n) / workers.length)] as const);
  const owners = (images: Float32Array, targets: Float32Array, width: number, n: number) =>
    split(n).map(([s, e], i) => ({
      x: images.subarray(s * 784, e * 784),
      y: targets.subarray(s * width, e * width),
      n: e - s,
      worker: workers[i]!,
    }));
  const trainOwners = owners(train.images, trainTargets, 10, train.count);
  const testOwners = owners(test.images, testTargets, 1, test.count);
  const send = (w: (typeof trainOwners)[number], width: number) => ({
    data: sy.tensor(w.x, { shape: [w.n, 784] }).send(w.worker),
    target: sy.tensor(w.y, { shape: width === 1 ? [w.n] : [w.n, width] }).send(w.worker),
  });
  const loaderOpts = { parties: workers, cryptoProvider, batchSize: o.batch, precisionFractional: o.precision };
  const privateTrain = privateBatches(trainOwners.map((w) => send(w, 10)), loaderOpts);
  const privateTest = privateBatches(testOwners.map((w) => send(w, 1)), loaderOpts);
  log(`private data: ${privateTrain.length} training and ${privateTest.length} test batches, shared among ${workers.map((w) => w.id).join(', ')}`);

  const model = net();
  const twin = model.copy(); // same initial weights, for the plaintext run

  // Encrypt the model and the optimizer's hyperparameters.
  model.fixPrecision({ precisionFractional: o.precision }).share(...workers, { cryptoProvider, requiresGrad: true });
  const optimizer = new sy.optim.SGD(model.parameters(), { lr: o.lr }).fixPrecision();
  log(`model.layers[4].bias: ${model.parameters().at(-1)!.toString()}`);

  // One training step on shares. As a plan it is traced once (again for a smaller last batch) and
  // then runs with one message per party: the same commands, the same results.
  const trainStep = (data: sy.Tensor, target: sy.Tensor) => {
    optimizer.zeroGrad();
    const output = model.forward(data);
    const loss = output.sub(target).pow(2).sum().refresh().div(data.shape[0]!);
    loss.backward();
    optimizer.step();
    return loss;
  };
  const trainPlan = sy.func2plan(trainStep, { name: 'trainStep' });
  let commandsPerBatch: number | null = null;
  if (o.plans) {
    trainPlan.build(privateTrain[0]!.data, privateTrain[0]!.target);
    commandsPerBatch = trainPlan.commandCounts[workers[0]!.id]!;
    log(
      `training step traced as a plan: ${commandsPerBatch} commands for each party, ` +
        `sent as one message per party and one to the crypto provider per batch (op by op: ${commandsPerBatch} messages per party)`,
    );
  }

  const encryptedLoss: number[] = [];
  let trainMs = 0;
  let trainBatches = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    let sum = 0;
    let seen = 0;
    const epochStart = performance.now();
    for (const [i, { data, target, size }] of privateTrain.entries()) {
      const t0 = performance.now();
      const loss = o.plans ? (trainPlan(data, target) as sy.Tensor) : sy.tidy(() => trainStep(data, target));
      const value = (await loss.get()).floatPrecision().item();
      const ms = performance.now() - t0;
      trainMs += ms;
      trainBatches++;
      sum += value;
      if (i % o.logInterval === 0) {
        log(
          `Train Epoch: ${epoch} [${seen}/${train.count} (${Math.round((100 * seen) / train.count)}%)]` +
            `\tLoss: ${value.toFixed(6)}\tTime: ${(ms / 1000).toFixed(3)}s`,
        );
      }
      seen += size;
    }
    const epochMs = performance.now() - epochStart;
    encryptedLoss.push(sum / privateTrain.length);
    log(sy.utils.epochLine({ epoch, epochs: o.epochs, loss: sum / privateTrain.length, seconds: epochMs / 1000 }));
  }

  // Encrypted test: only the count of correct answers is revealed.
  const t0 = performance.now();
  const hitsOf = (data: sy.Tensor, target: sy.Tensor) => sy.noGrad(() => model.forward(data).argmax(1).eq(target).sum());
  const testPlan = sy.func2plan(hitsOf, { name: 'countHits' });
  if (o.plans) testPlan.build(privateTest[0]!.data, privateTest[0]!.target);
  const correctShared = sy.tidy(() => {
    let correct: sy.Tensor | undefined;
    for (const { data, target } of privateTest) {
      const hits = o.plans ? (testPlan(data, target) as sy.Tensor) : hitsOf(data, target);
      correct = correct ? correct.add(hits) : hits;
    }
    return correct!;
  });
  const correct = Math.round((await correctShared.get()).floatPrecision().item());
  const inferenceMs = (performance.now() - t0) / privateTest.length;
  const encryptedTestAccuracy = correct / test.count;
  log(`\nTest set: Accuracy: ${correct}/${test.count} (${(100 * encryptedTestAccuracy).toFixed(1)}%)\n`);

  // The plaintext twin: same start, same batches, same loss.
  let plaintextTestAccuracy: number | null = null;
  let plaintextMsPerBatch: number | null = null;
  let plaintextLoss: number[] | null = null;
  if (o.plaintext) {
    const opt = new sy.optim.SGD(twin.parameters(), { lr: o.lr });
    const trainSet = plainBatches(trainOwners, o.batch, 10);
    plaintextLoss = [];
    const p0 = performance.now();
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      let sum = 0;
      for (const { data, target, size } of trainSet) {
        opt.zeroGrad();
        const loss = twin.forward(data).sub(target).pow(2).sum().div(size);
        loss.backward();
        opt.step();
        sum += loss.item();
      }
      plaintextLoss.push(sum / trainSet.length);
    }
    plaintextMsPerBatch = (performance.now() - p0) / (o.epochs * trainSet.length);
    let right = 0;
    for (const { data, target } of plainBatches(testOwners, o.batch, 1)) {
      right += sy.noGrad(() => twin.forward(data).argmax(1).eq(target).sum().item());
    }
    plaintextTestAccuracy = right / test.count;
    log(`Plaintext twin: Accuracy: ${right}/${test.count} (${(100 * plaintextTestAccuracy).toFixed(1)}%)`);
  }

  const result: Result = {
    trainItems: train.count,
    testItems: test.count,
    epochs: o.epochs,
    batchSize: o.batch,
    precisionFractional: o.precision,
    parties: o.parties,
    plans: o.plans,
    commandsPerBatch,
    encryptedTestAccuracy,
    plaintextTestAccuracy,
    encryptedMsPerBatch: trainMs / trainBatches,
    plaintextMsPerBatch,
    encryptedInferenceMsPerBatch: inferenceMs,
    encryptedLoss,
    plaintextLoss,
  };
  log(JSON.stringify(result));
  return result;
}

/** The command-line flags (`--help` prints them); defaults are {@link defaults}. */
export const flags = {
  train: { type: 'number', default: defaults.train, integer: true, min: 2, max: sy.datasets.MNIST_TRAIN_SIZE, help: 'training digits, split evenly among the parties' },
  test: { type: 'number', default: defaults.test, integer: true, min: 2, max: sy.datasets.MNIST_TEST_SIZE, help: 'test digits, classified on shares' },
  epochs: { type: 'number', default: defaults.epochs, integer: true, min: 1, max: 10_000, help: 'passes over the training digits' },
  batch: { type: 'number', default: defaults.batch, integer: true, min: 1, max: 10_000, help: 'digits per batch (each batch is shared separately)' },
  precision: { type: 'number', default: defaults.precision, integer: true, min: 1, max: 8, help: 'decimal digits of the fixed-precision encoding' },
  lr: { type: 'number', default: defaults.lr, min: 0, max: 100, help: 'learning rate of the SGD' },
  parties: { type: 'number', default: defaults.parties, integer: true, min: 2, max: 5, help: 'parties holding the shares (alice, bob, charlie, ...)' },
  logInterval: { type: 'number', default: defaults.logInterval, integer: true, min: 1, max: 1_000_000, help: 'print every n-th batch of an epoch' },
  seed: { type: 'number', default: defaults.seed, integer: true, min: 0, max: 2 ** 31, help: 'seed of the initial weights and of the digits picked' },
  plaintext: { type: 'boolean', default: defaults.plaintext, help: 'also train the plaintext twin, for comparison (--plaintext=false to skip)' },
  plans: { type: 'boolean', default: defaults.plans, help: 'train with plans: each step traced once, then one message per party (--plans=false runs it op by op)' },
} as const satisfies Record<string, sy.utils.FlagSpec>;

/** Parses the command line (`--name value` or `--name=value`); throws a FlagError on a bad flag, undefined on --help. */
export function parseFlags(argv: readonly string[]): Partial<Options> | undefined {
  return sy.utils.parseFlags(flags, argv, COMMAND);
}

const COMMAND = 'npx tsx tutorials/06-encrypted-training-mnist.ts';

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(sy.utils.flagsOrExit(flags, COMMAND, 'Encrypted training and inference of an MLP on real MNIST digits, beside a plaintext twin.'));
}
