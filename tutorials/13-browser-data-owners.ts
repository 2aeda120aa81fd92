/**
 * Data owners in the browser: encrypted training on MNIST where the two computing parties are
 * web pages.
 *
 * We are the model owner, in Node. We start a coordinator (pages cannot listen, so they dial out
 * to it and Node reaches them through it), a crypto provider, and two headless Chromium pages:
 * Alice's and Bob's. Each page loads its own slice of real MNIST digits inside the page and
 * publishes it; published data cannot be fetched, moved or changed from outside. The pages then
 * secret-share their batches between themselves, we share the model, and training runs on
 * shares only — data, weights, activations, gradients — with the crypto provider dealing the
 * correlated randomness. After each epoch the test digits (also held by the pages) are
 * classified on shares and only the count of correct answers is revealed. At the end each page
 * reports what it holds and every byte that left it.
 *
 * The same model, from the same initial weights, trained in plaintext on the same batches gives
 * the accuracy to compare with (a check only: for it we load the same public digits ourselves).
 *
 *     npx tsx tutorials/13-browser-data-owners.ts [--train 640] [--test 256] [--epochs 3]
 *         [--batch 64] [--first-hidden 128] [--second-hidden 64] [--lr 0.05] [--precision 3] [--seed 1] [--plaintext=false]
 *
 * Needs Chromium (Debian: apt-get install chromium, or CHROMIUM=/path/to/chromium); without it,
 * says so and exits with code 1. The last line printed is one JSON object with the figures.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';
import type { DataOwnerReport } from './helpers/data-owner-page.js';
import { joinPage, openPages, pageReport } from './helpers/page-parties.js';
import { partRows } from './helpers/parts.js';

export interface Options {
  train: number;
  test: number;
  epochs: number;
  batch: number;
  firstHidden: number;
  secondHidden: number;
  lr: number;
  precision: number;
  seed: number;
  /** Also train the plaintext twin (default true). */
  plaintext: boolean;
  log: (s: string) => void;
}

export const defaults: Options = { train: 640, test: 256, epochs: 3, batch: 64, firstHidden: 128, secondHidden: 64, lr: 0.05, precision: 3, seed: 1, plaintext: true, log: console.log };

/** What a page held and sent, as the page and the coordinator count it. */
export interface PartyFigures {
  id: string;
  trainRows: number;
  testRows: number;
  /** Objects in the page's worker at the end (its 4 published tensors, shares, temporaries). */
  objects: number;
  /** Bytes the page's connections sent (to the model owner, the other page, the crypto provider). */
  bytesSent: number;
  /** Of those, bytes sent to the model owner (replies: acknowledgements, the revealed losses and counts). */
  toModelOwner: number;
  /** Bytes the coordinator relayed on connections callers made to the page: to it, and back from it. */
  relayed: { toPage: number; fromPage: number };
  pageBackend: string;
}

export interface Result {
  trainItems: number;
  testItems: number;
  epochs: number;
  batchSize: number;
  layers: number[];
  precisionFractional: number;
  /** Mean encrypted loss of each epoch. */
  encryptedLoss: number[];
  /** Accuracy on the test digits after each epoch, classified on shares. */
  encryptedAccuracy: number[];
  encryptedTestAccuracy: number;
  plaintextLoss: number[] | null;
  plaintextTestAccuracy: number | null;
  encryptedMsPerBatch: number;
  parties: PartyFigures[];
  /** Bytes of the script each page loaded (package and digits). */
  pageScriptBytes: number;
}

/** The MLP: 784-firstHidden-secondHidden-10 with ReLU (tutorial 06's 784-128-64-10 by default). */
export function net(firstHidden = 128, secondHidden = 64): sy.nn.Sequential {
  return new sy.nn.Sequential(new sy.nn.Linear(784, firstHidden), new sy.nn.ReLU(), new sy.nn.Linear(firstHidden, secondHidden), new sy.nn.ReLU(), new sy.nn.Linear(secondHidden, 10));
}

const sent = (r: DataOwnerReport) => r.traffic.clients.bytesSent + r.traffic.links.bytesSent + r.traffic.peers.bytesSent;
const kb = (n: number) => (n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);

export async function main(partial: Partial<Options> = {}): Promise<Result> {
  const o: Options = { ...defaults, ...partial };
  const log = o.log;
  await sy.ready();
  sy.manualSeed(o.seed);
  const ids = ['alice', 'bob'];
  const token = randomBytes(16).toString('hex');

  log('starting a coordinator, a crypto provider and two headless Chromium pages (the data owners)...');
  const pages = await openPages(ids);
  const closers: (() => Promise<unknown>)[] = [() => pages.close()];
  try {
    const cpServer = await sy.WebsocketServerWorker.start({ id: 'crypto_provider', token, allowOrigins: [pages.origin] });
    closers.unshift(() => cpServer.close());
    // Each page loads its own digits and joins as a party; what it tells us is counts.
    for (const [part, id] of ids.entries()) {
      const r = await joinPage(pages, { id, token, train: o.train, test: o.test, seed: o.seed, part, parts: ids.length });
      log(`  ${id}'s page joined (tfjs on ${r.backend}); it loaded ${r.trainRows} training and ${r.testRows} test digits inside the page and published them`);
    }
    const connect = (url: string, id: string) => sy.WebsocketClientWorker.connect(url, { id, token, timeoutMs: 120_000 });
    const parties = await Promise.all(ids.map((id) => connect(pages.coordinator.url(id), id)));
    const cryptoProvider = await connect(cpServer.url, 'crypto_provider');
    closers.unshift(...[...parties, cryptoProvider].map((c) => () => c.close()));

    // We find the pages' data by tag: pointers, whose values we cannot fetch.
    const find = async (w: sy.WebsocketClientWorker, tag: string) => {
      const [p] = await w.search(tag);
      if (!p) throw new sy.StateError(`the page '${w.id}' published no ${tag}`);
      return p;
    };
    const owners = async (images: string, targets: string) => Promise.all(parties.map(async (w) => ({ data: await find(w, images), target: await find(w, targets) })));
    const loaderOpts = { parties, cryptoProvider, batchSize: o.batch, precisionFractional: o.precision };
    const trainSet = sy.federated.privateBatches(await owners('#train-images', '#train-targets'), loaderOpts);
    const testSet = sy.federated.privateBatches(await owners('#test-images', '#test-labels'), loaderOpts);
    log(`the pages shared their digits between themselves: ${trainSet.length} training and ${testSet.length} test batches of up to ${o.batch}`);

    const model = net(o.firstHidden, o.secondHidden);
    const twin = model.copy();
    model.fixPrecision({ precisionFractional: o.precision }).share(...parties, { cryptoProvider, requiresGrad: true });
    const optimizer = new sy.optim.SGD(model.parameters(), { lr: o.lr }).fixPrecision();
    const layers = [784, o.firstHidden, o.secondHidden, 10];
    log(`model ${layers.join('-')} shared between ${ids.join(' and ')}; training on shares:`);

    const accuracyOnShares = async (): Promise<number> => {
      const hits = sy.tidy(() =>
        sy.noGrad(() => testSet.map(({ data, target }) => model.forward(data).argmax(1).eq(target).sum()).reduce((a, b) => a.add(b))),
      );
      return Math.round((await hits.get()).floatPrecision().item()) / o.test;
    };
    const encryptedLoss: number[] = [];
    const encryptedAccuracy: number[] = [];
    let trainMs = 0;
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const t0 = performance.now();
      let sum = 0;
      for (const { data, target, size } of trainSet) {
        const s0 = performance.now();
        const loss = sy.tidy(() => {
          optimizer.zeroGrad();
          const l = model.forward(data).sub(target).pow(2).sum().refresh().div(size);
          l.backward();
          optimizer.step();
          return l;
        });
        sum += (await loss.get()).floatPrecision().item();
        trainMs += performance.now() - s0;
      }
      encryptedLoss.push(sum / trainSet.length);
      encryptedAccuracy.push(await accuracyOnShares());
      log(sy.utils.epochLine({ epoch, epochs: o.epochs, loss: encryptedLoss.at(-1)!, accuracy: encryptedAccuracy.at(-1)!, seconds: (performance.now() - t0) / 1000 }));
    }
    const encryptedTestAccuracy = encryptedAccuracy.at(-1)!;
    log(`test digits classified on shares: accuracy ${(100 * encryptedTestAccuracy).toFixed(1)}% (only the count of correct answers was revealed)`);

    let plaintextLoss: number[] | null = null;
    let plaintextTestAccuracy: number | null = null;
    if (o.plaintext) {
      ({ plaintextLoss, plaintextTestAccuracy } = await plaintextTwin(twin, o, ids.length));
      log(`plaintext twin (same start, same batches): loss ${plaintextLoss.map((l) => l.toFixed(4)).join(' ')}, accuracy ${(100 * plaintextTestAccuracy).toFixed(1)}%`);
    }

    // What each party holds, and what left each page.
    await Promise.all([...parties, cryptoProvider].map((c) => c.sync()));
    const figures: PartyFigures[] = [];
    for (const id of ids) {
      const r = await pageReport(pages, id);
      const t = pages.coordinator.traffic(id);
      const relayed = { toPage: t.toWorker, fromPage: t.fromWorker };
      figures.push({ id, trainRows: r.trainRows, testRows: r.testRows, objects: r.objects, bytesSent: sent(r), toModelOwner: r.traffic.clients.bytesSent, relayed, pageBackend: r.backend });
      log(
        `  ${id}'s page holds its ${r.trainRows + r.testRows} digits (4 published tensors, never sent) and ${r.objects - 4} other objects (its shares and temporaries); ` +
          `it sent ${kb(sent(r))} (to us ${kb(r.traffic.clients.bytesSent)}, on peer links ${kb(r.traffic.links.bytesSent + r.traffic.peers.bytesSent)}); the coordinator relayed ${kb(relayed.toPage)} to it and ${kb(relayed.fromPage)} back on the connections made to it`,
      );
    }
      log(`  crypto_provider (in Node) holds ${cpServer.objectCount} objects now: it only deals correlated randomness; we, the model owner, hold pointers only`);

    const result: Result = {
      trainItems: o.train,
      testItems: o.test,
      epochs: o.epochs,
      batchSize: o.batch,
      layers,
      precisionFractional: o.precision,
      encryptedLoss,
      encryptedAccuracy,
      encryptedTestAccuracy,
      plaintextLoss,
      plaintextTestAccuracy,
      encryptedMsPerBatch: trainMs / (o.epochs * trainSet.length),
      parties: figures,
      pageScriptBytes: pages.scriptBytes,
    };
    log(JSON.stringify(result));
    return result;
  } finally {
    for (const c of closers) await c().catch(() => {});
  }
}

/** The plaintext twin, in Node: the digits each page loaded, cut into the same batches in the same order. */
async function plaintextTwin(twin: sy.nn.Sequential, o: Options, parts: number): Promise<{ plaintextLoss: number[]; plaintextTestAccuracy: number }> {
  const { train, test } = await sy.datasets.loadMnist({ train: o.train, test: o.test, seed: o.seed });
  const normalize = (v: Float32Array) => v.map((p) => (p - sy.datasets.MNIST_MEAN) / sy.datasets.MNIST_STD);
  // privateBatches' order: the first batch of each owner, then the second of each, ...
  const batches = (images: Float32Array, targets: Float32Array, width: number, n: number) => {
    const per = Array.from({ length: parts }, (_, part) => {
      const [s, e] = partRows(n, part, parts);
      const out: { x: sy.Tensor; y: sy.Tensor; size: number }[] = [];
      for (let b = s; b < e; b += o.batch) {
        const end = Math.min(e, b + o.batch);
        out.push({
          x: sy.tensor(normalize(images.subarray(b * 784, end * 784)), { shape: [end - b, 784] }),
          y: sy.tensor(targets.subarray(b * width, end * width), { shape: width === 1 ? [end - b] : [end - b, width] }),
          size: end - b,
        });
      }
      return out;
    });
    const out: (typeof per)[number] = [];
    for (let i = 0; per.some((p) => i < p.length); i++) for (const p of per) if (i < p.length) out.push(p[i]!);
    return out;
  };
  const trainSet = batches(train.images, sy.datasets.oneHot(train.labels), 10, train.count);
  const testSet = batches(test.images, Float32Array.from(test.labels), 1, test.count);
  const opt = new sy.optim.SGD(twin.parameters(), { lr: o.lr });
  const plaintextLoss: number[] = [];
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    let sum = 0;
    for (const { x, y, size } of trainSet) {
      opt.zeroGrad();
      const loss = twin.forward(x).sub(y).pow(2).sum().div(size);
      loss.backward();
      opt.step();
      sum += loss.item();
    }
    plaintextLoss.push(sum / trainSet.length);
  }
  let right = 0;
  for (const { x, y } of testSet) right += sy.noGrad(() => twin.forward(x).argmax(1).eq(y).sum().item());
  return { plaintextLoss, plaintextTestAccuracy: right / test.count };
}

/** The command-line flags (`--help` prints them); defaults are {@link defaults}. */
export const flags = {
  train: { type: 'number', default: defaults.train, integer: true, min: 2, max: sy.datasets.MNIST_TRAIN_SIZE, help: 'training digits, split between the two pages' },
  test: { type: 'number', default: defaults.test, integer: true, min: 2, max: sy.datasets.MNIST_TEST_SIZE, help: 'test digits (also held by the pages), classified on shares' },
  epochs: { type: 'number', default: defaults.epochs, integer: true, min: 1, max: 1000, help: 'passes over the training digits' },
  batch: { type: 'number', default: defaults.batch, integer: true, min: 1, max: 4096, help: 'digits per batch (each page shares its batches itself)' },
  firstHidden: { type: 'number', default: defaults.firstHidden, integer: true, min: 1, max: 1024, help: 'width of the first hidden layer' },
  secondHidden: { type: 'number', default: defaults.secondHidden, integer: true, min: 1, max: 1024, help: 'width of the second hidden layer' },
  lr: { type: 'number', default: defaults.lr, min: 0, max: 100, help: 'learning rate of the SGD' },
  precision: { type: 'number', default: defaults.precision, integer: true, min: 1, max: 8, help: 'decimal digits of the fixed-precision encoding' },
  seed: { type: 'number', default: defaults.seed, integer: true, min: 0, max: 2 ** 31, help: 'seed of the initial weights and of the digits picked' },
  plaintext: { type: 'boolean', default: defaults.plaintext, help: 'also train the plaintext twin, for comparison (--plaintext=false to skip)' },
} as const satisfies Record<string, sy.utils.FlagSpec>;

const COMMAND = 'npx tsx tutorials/13-browser-data-owners.ts';

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opts = sy.utils.flagsOrExit(flags, COMMAND, 'Encrypted training of an MLP on MNIST digits held by two headless Chromium pages, the computing parties.');
  try {
    await main(opts);
  } catch (e) {
    console.error(`tutorial 13: ${(e as Error).message}`);
    process.exit(1);
  }
}
