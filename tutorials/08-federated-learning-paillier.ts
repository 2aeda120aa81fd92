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
 *
 * Key size: 1024 bits keeps the default run to a few minutes on two cores; use --bits 2048 (or
 * more) for anything real. The last line printed is one JSON object with the figures.
 */
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';
import { batches, IMAGE_SIZE, loadMnist, oneHot } from '../src/data/datasets.js';
import type { MnistSplit } from '../src/data/datasets.js';
import * as federated from '../src/federated/index.js';
import { EncryptedVector } from '../src/he/vector.js';
import { shutdownThreads } from '../src/he/paillier/threads.js';

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
  readonly log?: (line: string) => void;
}

/** One run (plaintext or encrypted), round by round. */
export interface RunFigures {
  readonly protocol: string;
  readonly rounds: { round: number; loss: number; accuracy: number; seconds: number; ms: federated.RoundReport['ms'] }[];
  /** Test accuracy after the last round, in [0, 1]. */
  readonly accuracy: number;
  readonly seconds: number;
}

export interface PaillierLessonResult {
  readonly options: Required<Omit<PaillierLessonOptions, 'log'>>;
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

function parseArgs(argv: readonly string[]): PaillierLessonOptions {
  const out: Record<string, number | boolean> = {};
  const names: Record<string, string> = {
    '--clients': 'clients', '--rounds': 'rounds', '--train': 'train', '--test': 'test', '--bits': 'bits',
    '--local-steps': 'localSteps', '--batch-size': 'batchSize', '--lr': 'lr',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--serialize') out['serialize'] = true;
    else if (names[a] !== undefined && argv[i + 1] !== undefined && Number.isFinite(Number(argv[i + 1]))) out[names[a]] = Number(argv[++i]);
    else throw new sy.ValueError(`unknown or incomplete argument ${a}; see the usage at the top of tutorials/08-federated-learning-paillier.ts`);
  }
  return out as PaillierLessonOptions;
}

export async function main(opts: PaillierLessonOptions = {}): Promise<PaillierLessonResult> {
  const log = opts.log ?? console.log;
  const options = {
    clients: opts.clients ?? 5,
    rounds: opts.rounds ?? 3,
    train: opts.train ?? 2500,
    test: opts.test ?? 1000,
    bits: opts.bits ?? 1024,
    localSteps: opts.localSteps ?? 30,
    batchSize: opts.batchSize ?? 50,
    lr: opts.lr ?? 0.3,
    serialize: opts.serialize ?? false,
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
    let keys: federated.SharedKeyPair | undefined;
    let manager: federated.PaillierGradientManager | undefined;
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
      const report = await server.round();
      const acc = accuracy(await weightsOf(clients[0]!.model), test);
      const seconds = report.ms.total / 1000;
      rounds.push({ round: report.round, loss: report.loss, accuracy: acc, seconds, ms: report.ms });
      const s = (ms: number) => (ms / 1000).toFixed(1);
      log(`[${protocol.padEnd(9)}] round ${report.round}/${options.rounds}  loss ${report.loss.toFixed(4)}  ` +
        `test accuracy ${(acc * 100).toFixed(2)}%  ${s(report.ms.total)} s ` +
        `(train ${s(report.ms.train)}, upload ${s(report.ms.upload)}, add ${s(report.ms.aggregate)}, apply ${s(report.ms.apply)})`);
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
      uploadCiphertexts: upload.ciphertexts,
      uploadBytes: upload.bytes,
      maxWeightDifference,
      clientsInSync,
    }));
    return result;
  } finally {
    await shutdownThreads();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(parseArgs(process.argv.slice(2)));
}
