/**
 * Lesson 8: Federated Learning with Paillier-encrypted updates.
 *
 * Five hospitals (say) each hold MNIST digits on their own worker and train the same MLP
 * (784-128-64-10, ReLU) together with FedAvg. In plain FedAvg the server sees every client's
 * update, and updates leak the data they were computed from. Here, as with AIJack's
 * `PaillierGradientClientManager`, the clients share a Paillier key pair that the server never
 * gets: each client encrypts its update, the server adds ciphertexts, and each client decrypts
 * the sum on its own worker and applies it. The key pair is generated on the first client's
 * worker and copied worker to worker to the others: this script (the orchestrator) only ever
 * holds the public key.
 *
 * To see what encryption costs, the lesson trains twice from the same initial weights, on the
 * same client splits, for the same rounds: once in the clear, once encrypted. Paillier adds
 * exactly, so the only difference is the fixed-point rounding of the updates (2^-20), and both
 * runs end at the same accuracy.
 *
 *     npx tsx tutorials/08-federated-learning-paillier.ts [--clients 5] [--rounds 3] [--train 2500]
 *       [--test 1000] [--bits 1024] [--local-steps 30] [--batch-size 50] [--lr 0.3] [--serialize]
 *       [--plot accuracy.svg]
 *
 * Key size: 1024 bits keeps the default run to a few minutes on two cores; use --bits 2048 (or
 * more) for anything real. Before each encrypted round the clients fill their pools of r^n
 * factors (almost all of an encryption's cost), shown as a progress bar; the round time printed
 * includes it. `--help` lists the flags; the last line printed is one JSON object with the figures.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';

const { batches, IMAGE_SIZE, loadMnist, oneHot } = sy.datasets;
const { federated } = sy;
const { EncryptedVector, shutdownThreads } = sy.paillier;
type MnistSplit = sy.datasets.MnistSplit;

/** The command-line flags (`--help` prints them). */
export const flags = {
  clients: { type: 'number', default: 5, integer: true, min: 1, max: 100, help: 'clients, each on its own worker with its own digits' },
  rounds: { type: 'number', default: 3, integer: true, min: 1, max: 1000, help: 'FedAvg rounds of each run (plaintext, then encrypted)' },
  train: { type: 'number', default: 2500, integer: true, min: 1, max: sy.datasets.MNIST_TRAIN_SIZE, help: 'training digits, split evenly among the clients' },
  test: { type: 'number', default: 1000, integer: true, min: 1, max: sy.datasets.MNIST_TEST_SIZE, help: 'test digits the accuracy is measured on' },
  bits: { type: 'number', default: 1024, integer: true, min: 256, max: 8192, help: 'Paillier key size in bits (2048 or more for real use)' },
  localSteps: { type: 'number', default: 30, integer: true, min: 1, max: 100_000, help: 'SGD steps per client per round' },
  batchSize: { type: 'number', default: 50, integer: true, min: 1, max: 10_000, help: 'digits per SGD step' },
  lr: { type: 'number', default: 0.3, min: 0, max: 100, help: 'learning rate of the local SGD' },
  serialize: { type: 'boolean', default: false, help: 'encode every message to bytes and back, as over a network' },
  plot: { type: 'optional-string', help: 'write test accuracy per round, plaintext beside encrypted, to this SVG file' },
} as const satisfies Record<string, sy.utils.FlagSpec>;

export interface PaillierLessonOptions {
  /** Number of clients, each on its own worker. Default 5. */
  readonly clients?: number;
  /** FedAvg rounds. Default 3. */
  readonly rounds?: number;
  /** Training digits, split evenly among the clients. Default 2500. */
  readonly train?: number;
  /** Test digits. Default 1000. */
  readonly test?: number;
  /** Paillier key size in bits. Default 1024 (use 2048+ for real use). */
  readonly bits?: number;
  /** SGD steps per client per round. Default 30 (three passes over 500 digits). */
  readonly localSteps?: number;
  /** Default 50. */
  readonly batchSize?: number;
  /** Default 0.3. */
  readonly lr?: number;
  /** Make every worker encode each message to bytes and back, as over a network. Default false. */
  readonly serialize?: boolean;
  /** Write test accuracy per round (plaintext and encrypted) to this SVG file. */
  readonly plot?: string;
  readonly log?: (line: string) => void;
  /** Where the pool-filling progress bar goes (default: standard error). */
  readonly progress?: sy.utils.ProgressSink;
}

/** One run (plaintext or encrypted), round by round. */
export interface RunFigures {
  readonly protocol: string;
  readonly rounds: { round: number; loss: number; accuracy: number; seconds: number; fillSeconds: number; ms: sy.federated.RoundReport['ms'] }[];
  /** Test accuracy after the last round, in [0, 1]. */
  readonly accuracy: number;
  readonly seconds: number;
}

export interface PaillierLessonResult {
  readonly options: Required<Omit<PaillierLessonOptions, 'log' | 'plot' | 'progress'>>;
  readonly parameters: number;
  readonly plaintext: RunFigures;
  readonly paillier: RunFigures;
  /** |paillier − plaintext| test accuracy, in percentage points. */
  readonly accuracyGapPoints: number;
  /** Ciphertexts and bytes one client uploads per round. */
  readonly upload: { ciphertexts: number; bytes: number };
  /** Largest difference between a weight of the two final models. */
  readonly maxWeightDifference: number;
  /** Whether every client of a run ended with the same model. */
  readonly clientsInSync: boolean;
}

function mlp(): sy.nn.Module {
  return new sy.nn.Sequential(
    new sy.nn.Linear(IMAGE_SIZE, 128),
    new sy.nn.ReLU(),
    new sy.nn.Linear(128, 64),
    new sy.nn.ReLU(),
    new sy.nn.Linear(64, 10),
  );
}

/** A model's parameters, read here (the orchestrator may read the trained model; not the updates). */
async function weightsOf(model: sy.nn.Module): Promise<Float32Array[]> {
  return Promise.all(model.parameters().map(async (p) => Float32Array.from([(await p.copy().get()).arraySync()].flat(3) as number[])));
}

/** Test accuracy of the given weights, computed here. */
function accuracy(weights: readonly Float32Array[], test: MnistSplit): number {
  const model = mlp();
  model.parameters().forEach((p, i) => (p.data = new sy.Tensor(new sy.FloatTensor(p.shape, weights[i]!))));
  const logits = sy.noGrad(() => model.forward(new sy.Tensor(new sy.FloatTensor([test.count, IMAGE_SIZE], test.images))));
  const predicted = logits.argmax(1).arraySync() as number[];
  return predicted.filter((c, i) => c === test.labels[i]).length / test.count;
}

export async function main(opts: PaillierLessonOptions = {}): Promise<PaillierLessonResult> {
  const log = opts.log ?? console.log;
  const options = {
    clients: opts.clients ?? flags.clients.default,
    rounds: opts.rounds ?? flags.rounds.default,
    train: opts.train ?? flags.train.default,
    test: opts.test ?? flags.test.default,
    bits: opts.bits ?? flags.bits.default,
    localSteps: opts.localSteps ?? flags.localSteps.default,
    batchSize: opts.batchSize ?? flags.batchSize.default,
    lr: opts.lr ?? flags.lr.default,
    serialize: opts.serialize ?? flags.serialize.default,
  };
  if (!Number.isInteger(options.clients) || options.clients < 1) throw new sy.ValueError('--clients must be a positive integer');
  if (options.train < options.clients) throw new sy.ValueError('--train must give every client at least one digit');
  await sy.ready();

  // The data: real MNIST digits, split evenly among the clients.
  const { train, test } = await loadMnist({ train: options.train, test: options.test, seed: 8 });
  const perClient = Math.floor(train.count / options.clients);
  const splits = Array.from({ length: options.clients }, (_, c) => {
    const images = train.images.subarray(c * perClient * IMAGE_SIZE, (c + 1) * perClient * IMAGE_SIZE);
    const labels = train.labels.subarray(c * perClient, (c + 1) * perClient);
    return batches(images, IMAGE_SIZE, oneHot(labels), 10, options.batchSize);
  });

  // One initial model for both runs.
  sy.manualSeed(8);
  const initial = mlp();
  const parameters = initial.parameters().reduce((n, p) => n + p.numel(), 0);
  log(`MNIST MLP 784-128-64-10 (${parameters} parameters), ${options.clients} clients x ${perClient} digits, ` +
    `${options.rounds} rounds of ${options.localSteps} local steps, ${options.test} test digits`);

  let upload = { ciphertexts: 0, bytes: 0 };
  const run = async (protocol: 'plaintext' | 'paillier'): Promise<{ figures: RunFigures; models: Float32Array[][] }> => {
    const t0 = performance.now();
    const serialize = options.serialize;
    const workers = splits.map((_, c) => new sy.VirtualWorker({ id: `${protocol}-client-${c}`, serialize }));
    const serverWorker = new sy.VirtualWorker({ id: `${protocol}-server`, serialize });
    let keys: sy.federated.SharedKeyPair | undefined;
    let manager: sy.federated.PaillierGradientManager | undefined;
    if (protocol === 'paillier') {
      // The key pair is made on client 0's worker and copied worker to worker to the others.
      keys = await federated.SharedKeyPair.generate(workers, { bits: options.bits });
      manager = new federated.PaillierGradientManager(keys);
      log(`[paillier ] ${options.bits}-bit key pair generated on ${workers[0]!.id}, copied to ${keys.holders.length - 1} more clients`);
      const { publicKey } = keys;
      const settings = { encoding: manager.encoding, pack: manager.pack };
      const ciphertexts = initial.parameters().reduce((n, p) => n + EncryptedVector.ciphertextsNeeded(p.numel(), publicKey, settings), 0);
      upload = { ciphertexts, bytes: ciphertexts * publicKey.ciphertextBytes };
    }
    const clients = workers.map((worker, c) => {
      const client = new federated.FedAvgClient({ worker, model: initial, batches: splits[c]!, lr: options.lr, localSteps: options.localSteps });
      return manager === undefined ? client : manager.attach(client);
    });
    const server = new federated.FedAvgServer({ worker: serverWorker, clients });
    const rounds: RunFigures['rounds'] = [];
    for (let r = 0; r < options.rounds; r++) {
      // Each client makes the r^n factors of its next upload on its own worker (threads), in
      // tenths, so that the wait shows as a bar; encrypting is then one multiplication each.
      const fillMs = keys === undefined ? 0 : await fillPools(keys, workers, upload.ciphertexts, `[paillier ] round ${r + 1}: r^n pools`, opts.progress);
      // The round itself (train, encrypt, add, decrypt) shows its elapsed time every 10 s when it is long.
      const report = await withHeartbeat(`[${protocol.padEnd(9)}] round ${r + 1}: training, uploading, adding, decrypting`, () => server.round(), opts.progress);
      const acc = accuracy(await weightsOf(clients[0]!.model), test);
      const seconds = (fillMs + report.ms.total) / 1000;
      rounds.push({ round: report.round, loss: report.loss, accuracy: acc, seconds, fillSeconds: fillMs / 1000, ms: report.ms });
      const s = (ms: number) => (ms / 1000).toFixed(1);
      log(`[${protocol.padEnd(9)}] round ${report.round}/${options.rounds}  loss ${report.loss.toFixed(4)}  ` +
        `test accuracy ${(acc * 100).toFixed(2)}%  ${s(fillMs + report.ms.total)} s ` +
        `(${keys === undefined ? '' : `fill pools ${s(fillMs)}, `}train ${s(report.ms.train)}, upload ${s(report.ms.upload)}, add ${s(report.ms.aggregate)}, apply ${s(report.ms.apply)})`);
    }
    const models = await Promise.all(clients.map((c) => weightsOf(c.model)));
    for (const c of clients) c.dispose();
    keys?.dispose();
    const figures: RunFigures = { protocol, rounds, accuracy: rounds[rounds.length - 1]?.accuracy ?? accuracy(models[0]!, test), seconds: (performance.now() - t0) / 1000 };
    return { figures, models };
  };

  try {
    const plain = await run('plaintext');
    const enc = await run('paillier');
    const same = (a: Float32Array[], b: Float32Array[]) => a.every((w, i) => w.every((x, j) => x === b[i]![j]));
    const clientsInSync = [plain, enc].every((r) => r.models.every((m) => same(m, r.models[0]!)));
    let maxWeightDifference = 0;
    enc.models[0]!.forEach((w, i) => w.forEach((x, j) => (maxWeightDifference = Math.max(maxWeightDifference, Math.abs(x - plain.models[0]![i]![j]!)))));

    const result: PaillierLessonResult = {
      options,
      parameters,
      plaintext: plain.figures,
      paillier: enc.figures,
      accuracyGapPoints: Math.abs(enc.figures.accuracy - plain.figures.accuracy) * 100,
      upload,
      maxWeightDifference,
      clientsInSync,
    };
    log(`accuracy: plaintext ${(plain.figures.accuracy * 100).toFixed(2)}%, paillier ${(enc.figures.accuracy * 100).toFixed(2)}% ` +
      `(gap ${result.accuracyGapPoints.toFixed(2)} points); largest weight difference ${maxWeightDifference.toExponential(2)}; ` +
      `upload ${(upload.bytes / 1e6).toFixed(2)} MB per client per round`);
    log(JSON.stringify({
      ...options,
      parameters,
      plaintextAccuracy: plain.figures.accuracy,
      paillierAccuracy: enc.figures.accuracy,
      accuracyGapPoints: result.accuracyGapPoints,
      plaintextSeconds: plain.figures.seconds,
      paillierSeconds: enc.figures.seconds,
      paillierRoundSeconds: enc.figures.rounds.map((r) => r.seconds),
      paillierFillSeconds: enc.figures.rounds.map((r) => r.fillSeconds),
      uploadCiphertexts: upload.ciphertexts,
      uploadBytes: upload.bytes,
      maxWeightDifference,
      clientsInSync,
    }));
    if (opts.plot) {
      const series = [plain, enc].map((r) => ({ name: r.figures.protocol, values: r.figures.rounds.map((x) => 100 * x.accuracy) }));
      writeFileSync(opts.plot, sy.utils.linePlot(series, { title: `Tutorial 08: FedAvg, ${options.clients} clients, ${options.bits}-bit Paillier`, xLabel: 'round', yLabel: 'test accuracy (%)' }));
      log(`wrote ${opts.plot}`);
    }
    return result;
  } finally {
    await shutdownThreads();
  }
}

/** Runs `work`, writing `label ... N s` every `everyMs` until it settles (silent if it is quick). */
async function withHeartbeat<T>(label: string, work: () => Promise<T>, sink?: sy.utils.ProgressSink, everyMs = 10_000): Promise<T> {
  const out = sink ?? { write: (t: string) => void process.stderr.write(t) };
  const t0 = performance.now();
  const timer = setInterval(() => out.write(`${label}... ${sy.utils.formatSeconds((performance.now() - t0) / 1000)}\n`), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * Fills every client's r^n pool to `count` factors, a tenth at a time, with a progress bar.
 * Returns the milliseconds it took.
 */
async function fillPools(
  keys: sy.federated.SharedKeyPair,
  workers: readonly sy.VirtualWorker[],
  count: number,
  label: string,
  sink?: sy.utils.ProgressSink,
): Promise<number> {
  const t0 = performance.now();
  const bar = new sy.utils.Progress(label, count * workers.length, { unit: 'factors', ...(sink ? { sink } : {}) });
  const steps = 10;
  let done = 0;
  for (let k = 1; k <= steps; k++) {
    const target = Math.ceil((k * count) / steps);
    for (const w of workers) keys.privateKeyOn(w).fillPool(target);
    await Promise.all(workers.map((w) => w.sync()));
    bar.tick((target - done) * workers.length);
    done = target;
  }
  bar.done();
  return performance.now() - t0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const o = sy.utils.flagsOrExit(flags, 'npx tsx tutorials/08-federated-learning-paillier.ts', 'Federated averaging of Paillier-encrypted updates beside plaintext FedAvg, from the same start.');
  await main(o);
}
