/**
 * Differential privacy on MNIST: DP-SGD to a stated (epsilon, delta), in the manner of Opacus.
 *
 * SMPC hides the data while it is used, but a trained model can still remember single examples
 * (membership inference, memorisation). DP-SGD bounds what any one digit can change: every
 * sample's gradient is clipped to `--clip`, Gaussian noise of std sigma * clip is added to their
 * sum, and batches are Poisson samples. The privacy engine picks sigma so that the whole run
 * spends at most epsilon (at delta), and its accountant reports the epsilon spent after every
 * epoch. The same model trained without privacy is the accuracy to compare with.
 *
 *     npx tsx tutorials/12-differential-privacy.ts [--epsilons 1,3,8] [--delta 1e-5] [--epochs 20]
 *         [--batch 256] [--lr 0.5] [--clip 1] [--model mlp|cnn] [--train 8000] [--test 2000]
 *         [--non-private=false] [--non-private-lr 0] [--seed 1] [--fed-clients 10] [--fed-rounds 10] [--fed-sample-rate 1]
 *         [--fed-noise 0.3] [--fed-clip 2] [--fed-lr 0.1]
 *
 * Then DP-FedAvg over 10 virtual clients with secure aggregation (noise added inside it), with
 * the final client-level epsilon.
 * A line per epoch with loss, test accuracy, epsilon so far and time; the last line printed is one
 * JSON object with the figures.
 */
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';

const flagSpec = {
  epsilons: { type: 'string', default: '1,3,8', help: "comma-separated target epsilons, one DP-SGD run each ('none': skip)" },
  delta: { type: 'number', default: 1e-5, min: 1e-12, max: 0.5, help: 'target delta' },
  epochs: { type: 'number', default: 20, integer: true, min: 1, help: 'passes over the training digits' },
  batch: { type: 'number', default: 256, integer: true, min: 1, help: 'expected batch size (Poisson sampling)' },
  lr: { type: 'number', default: 0.5, min: 0, help: 'SGD learning rate' },
  clip: { type: 'number', default: 1, min: 0, help: 'per-sample gradient clipping norm (maxGradNorm)' },
  model: { type: 'string', default: 'mlp', choices: ['mlp', 'cnn'], help: 'the MLP 784-128-64-10 or a small CNN' },
  train: { type: 'number', default: 8000, integer: true, min: 1, max: 8000, help: 'training digits' },
  test: { type: 'number', default: 2000, integer: true, min: 1, max: 2000, help: 'held-out test digits' },
  nonPrivate: { type: 'boolean', default: true, help: 'also train without privacy, for comparison' },
  nonPrivateLr: { type: 'number', default: 0, min: 0, help: 'learning rate of the non-private run (0: the same as --lr; the CNN needs a lower one without clipping)' },
  seed: { type: 'number', default: 1, integer: true, help: 'seed of the initial weights' },
  fedClients: { type: 'number', default: 10, integer: true, min: 1, help: 'DP-FedAvg: virtual clients (the training digits split among them)' },
  fedRounds: { type: 'number', default: 10, integer: true, min: 0, help: 'DP-FedAvg: rounds (0 skips the federated part)' },
  fedSampleRate: { type: 'number', default: 1, min: 0, max: 1, help: 'DP-FedAvg: probability that a client joins a round' },
  fedNoise: { type: 'number', default: 0.3, min: 0, help: 'DP-FedAvg: noise multiplier' },
  fedClip: { type: 'number', default: 2, min: 0, help: 'DP-FedAvg: clipping norm of a client update' },
  fedLr: { type: 'number', default: 0.1, min: 0, help: 'DP-FedAvg: client learning rate (one local pass a round)' },
} as const;

export type Options = sy.utils.Flags<typeof flagSpec> & { log: (s: string) => void };

export const defaults: Options = { ...(sy.utils.parseFlags(flagSpec, [])!), log: console.log };

/** One epoch of a run. */
export interface EpochFigures {
  epoch: number;
  loss: number;
  accuracy: number;
  /** Epsilon spent so far (null for the non-private run). */
  epsilon: number | null;
  seconds: number;
}

/** One training run. */
export interface RunFigures {
  /** The target epsilon (null: no privacy). */
  targetEpsilon: number | null;
  noiseMultiplier: number | null;
  sampleRate: number;
  steps: number;
  finalEpsilon: number | null;
  accuracy: number;
  epochs: EpochFigures[];
}

/** The DP-FedAvg part. */
export interface FederatedFigures {
  clients: number;
  rounds: number;
  clientSampleRate: number;
  noiseMultiplier: number;
  clipNorm: number;
  /** Parties that held the shares of the noisy updates. */
  parties: string[];
  /** Client-level epsilon at delta after the last round. */
  finalEpsilon: number;
  accuracy: number;
  /** Per round: clients joined, epsilon so far, test accuracy. */
  history: { round: number; clients: number; epsilon: number; accuracy: number; seconds: number }[];
}

export interface Result {
  model: string;
  trainItems: number;
  testItems: number;
  delta: number;
  runs: RunFigures[];
  federated: FederatedFigures | null;
}

/** The MLP of the encrypted-training tutorial: 784-128-64-10 with ReLU, log-probabilities out. */
export function mlp(): sy.nn.Module {
  const { nn } = sy;
  return new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 64), new nn.ReLU(), new nn.Linear(64, 10), new nn.LogSoftmax(1));
}

/** A small CNN (no BatchNorm: it is not compatible with DP-SGD). */
export function cnn(): sy.nn.Module {
  const { nn } = sy;
  return new nn.Sequential(
    new nn.Conv2d(1, 8, 5, { stride: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(8 * 6 * 6, 32), new nn.ReLU(), new nn.Linear(32, 10), new nn.LogSoftmax(1),
  );
}

function accuracy(model: sy.nn.Module, test: sy.BaseDataset): number {
  let right = 0;
  for (const [x, y] of new sy.DataLoader(test, { batchSize: 500 })) {
    const predicted = sy.noGrad(() => model.forward(x).argmax(1).arraySync()) as number[];
    const labels = y.arraySync() as number[];
    predicted.forEach((p, i) => (right += p === Number(labels[i]) ? 1 : 0));
  }
  return right / test.length;
}

export async function main(partial: Partial<Options> = {}): Promise<Result> {
  const o: Options = { ...defaults, ...partial };
  const log = o.log;
  await sy.ready();
  const flatten = o.model === 'mlp';
  const train = await sy.datasets.mnist({ split: 'train', count: o.train, normalize: true, flatten });
  const test = await sy.datasets.mnist({ split: 'test', count: o.test, normalize: true, flatten });
  const targets = o.epsilons === 'none' ? [] : o.epsilons.split(',').map((s) => Number(s.trim()));
  if (targets.some((e) => !(e > 0))) throw new sy.ValueError(`--epsilons must be positive numbers, got ${o.epsilons}`);
  log(`DP-SGD on ${o.train} MNIST digits (${o.model}), tested on ${o.test} others; delta ${o.delta}, clip ${o.clip}, batch ${o.batch}, lr ${o.lr}, ${o.epochs} epochs`);

  const runs: RunFigures[] = [];
  for (const target of [...targets, ...(o.nonPrivate ? [null] : [])]) {
    sy.manualSeed(o.seed); // every run starts from the same weights
    const model = o.model === 'mlp' ? mlp() : cnn();
    const optimizer = new sy.optim.SGD(model.parameters(), { lr: target === null && o.nonPrivateLr > 0 ? o.nonPrivateLr : o.lr });
    const loader = new sy.DataLoader(train, { batchSize: o.batch, shuffle: true, seed: o.seed });
    const engine = new sy.dp.PrivacyEngine({ accountant: 'rdp' });
    const run =
      target === null
        ? undefined
        : engine.makePrivateWithEpsilon({ module: model, optimizer, dataLoader: loader, targetEpsilon: target, targetDelta: o.delta, epochs: o.epochs, maxGradNorm: o.clip });
    const label = target === null ? 'non-private' : `epsilon ${target}`;
    if (run) log(`${label}: noise multiplier ${run.noiseMultiplier.toFixed(3)}, sample rate ${run.sampleRate.toFixed(5)}, Poisson batches`);
    const net = run ? run.module : model;
    const opt = run ? run.optimizer : optimizer;
    const batches = run ? run.dataLoader : loader;
    const epochs: EpochFigures[] = [];
    let steps = 0;
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const t0 = performance.now();
      let lossSum = 0;
      let items = 0;
      for (const [x, y] of batches) {
        const l = sy.tidy(() => {
          opt.zeroGrad();
          const loss = sy.nn.nllLoss(net.forward(x), y);
          loss.backward();
          opt.step();
          return loss.item();
        });
        lossSum += l * x.shape[0]!;
        items += x.shape[0]!;
        steps++;
      }
      const acc = accuracy(model, test);
      const epsilon = run ? engine.getEpsilon(o.delta) : null;
      const fig: EpochFigures = { epoch, loss: items ? lossSum / items : NaN, accuracy: acc, epsilon, seconds: (performance.now() - t0) / 1000 };
      epochs.push(fig);
      log(`${label}  ${sy.utils.epochLine({ epoch, epochs: o.epochs, loss: fig.loss, accuracy: acc, ...(epsilon === null ? {} : { epsilon }), seconds: fig.seconds })}`);
    }
    runs.push({
      targetEpsilon: target,
      noiseMultiplier: run ? run.noiseMultiplier : null,
      sampleRate: run ? run.sampleRate : o.batch / o.train,
      steps: run ? engine.accountant.steps : steps,
      finalEpsilon: run ? engine.getEpsilon(o.delta) : null,
      accuracy: epochs.at(-1)!.accuracy,
      epochs,
    });
  }
  log('accuracy against epsilon:');
  for (const r of runs) log(`  ${r.targetEpsilon === null ? 'non-private' : `epsilon ${r.finalEpsilon!.toFixed(3)} (target ${r.targetEpsilon})`}: ${(100 * r.accuracy).toFixed(2)}%`);
  const federated = o.fedRounds > 0 ? await dpFedAvg(o, train, test) : null;
  const result: Result = { model: o.model, trainItems: o.train, testItems: o.test, delta: o.delta, runs, federated };
  log(JSON.stringify(result));
  return result;
}

/**
 * DP-FedAvg over virtual clients with secure aggregation: each chosen client, on its own worker,
 * trains one pass on its digits, clips its update, adds its share of the noise and secret-shares
 * the result between two aggregating parties; only the noisy sum is ever reconstructed. Epsilon
 * here is per client.
 */
async function dpFedAvg(o: Options, train: sy.BaseDataset, test: sy.BaseDataset): Promise<FederatedFigures> {
  const log = o.log;
  sy.manualSeed(o.seed);
  const model = o.model === 'mlp' ? mlp() : cnn();
  const per = Math.floor(train.length / o.fedClients);
  if (per < 1) throw new sy.ValueError(`--fed-clients ${o.fedClients} is more than the ${train.length} training digits`);
  const clients = Array.from({ length: o.fedClients }, (_, c) => {
    const idx = Array.from({ length: per }, (_, i) => c * per + i);
    const batches: (readonly [sy.Tensor, sy.Tensor])[] = [];
    for (let s = 0; s < per; s += 64) batches.push(train.batch(idx.slice(s, s + 64)));
    // Each client is a worker of its own: it trains, clips, adds its noise and shares there.
    return { id: `client${c}`, batches, worker: new sy.VirtualWorker({ id: `dp_client${c}` }) };
  });
  const parties = [new sy.VirtualWorker({ id: 'dp_alice' }), new sy.VirtualWorker({ id: 'dp_bob' })];
  const fl = new sy.dp.DPFedAvg({
    model, clients, clientSampleRate: o.fedSampleRate, noiseMultiplier: o.fedNoise, clipNorm: o.fedClip, lr: o.fedLr, aggregation: { parties },
  });
  log(`DP-FedAvg: ${o.fedClients} clients of ${per} digits, sample rate ${o.fedSampleRate}, noise multiplier ${o.fedNoise}, clip ${o.fedClip}, ` +
    `secure aggregation between ${parties.map((p) => p.id).join(' and ')} with distributed noise`);
  const history: FederatedFigures['history'] = [];
  for (let r = 1; r <= o.fedRounds; r++) {
    const t0 = performance.now();
    const report = await fl.round();
    const acc = accuracy(model, test);
    const epsilon = fl.getEpsilon(o.delta);
    history.push({ round: r, clients: report.clients.length, epsilon, accuracy: acc, seconds: (performance.now() - t0) / 1000 });
    const line = sy.utils.epochLine({ epoch: r, epochs: o.fedRounds, accuracy: acc, clients: report.clients.length, epsilon, seconds: history.at(-1)!.seconds });
    log(`DP-FedAvg  ${line.replace(/^epoch/, 'round')}`);
  }
  const finalEpsilon = fl.getEpsilon(o.delta);
  log(`DP-FedAvg: final client-level epsilon ${finalEpsilon.toFixed(3)} at delta ${o.delta}, accuracy ${(100 * history.at(-1)!.accuracy).toFixed(2)}% ` +
    `(with only ${o.fedClients} clients, client-level privacy is costly: it protects a whole client's data at once)`);
  return {
    clients: o.fedClients, rounds: o.fedRounds, clientSampleRate: o.fedSampleRate, noiseMultiplier: o.fedNoise, clipNorm: o.fedClip,
    parties: parties.map((p) => p.id), finalEpsilon, accuracy: history.at(-1)!.accuracy, history,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flags = sy.utils.flagsOrExit(flagSpec, 'npx tsx tutorials/12-differential-privacy.ts', 'DP-SGD on MNIST at target epsilons, with the accountant.');
  await main({ ...flags, log: console.log });
}
