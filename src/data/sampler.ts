/**
 * Which items go into which batch: PyTorch's SequentialSampler / RandomSampler under a
 * BatchSampler, as plain index lists. Both loaders plan an epoch with these and then ask the
 * dataset for each batch (made where the data lives). Shuffling is reproducible, not secret: it
 * draws from the seeded generator (src/util/seeded.ts).
 */
import { ValueError } from '../errors.js';
import { type SeededRandom, globalRandom } from '../util/seeded.js';

/** What both loaders take. */
export interface LoaderOptions {
  /** Items per batch. */
  readonly batchSize?: number;
  /** A new random order of the items every epoch. Default false. */
  readonly shuffle?: boolean;
  /** Drop the last batch when it has fewer than `batchSize` items. Default false. */
  readonly dropLast?: boolean;
  /**
   * Seeds the shuffle, so that a run's order of batches is reproducible (epochs still differ).
   * Without it the order comes from the generator `sy.manualSeed` seeds, as in PyTorch.
   */
  readonly seed?: number;
}

/** The options checked, with defaults filled in. */
export function loaderSettings(opts: LoaderOptions, defaultBatchSize: number): { batchSize: number; shuffle: boolean; dropLast: boolean } {
  if (opts === null || typeof opts !== 'object') throw new ValueError('loader options must be an object: { batchSize, shuffle, dropLast, seed }');
  const batchSize = opts.batchSize ?? defaultBatchSize;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ValueError(`batchSize must be a positive integer, got ${String(batchSize)}`);
  for (const k of ['shuffle', 'dropLast'] as const) {
    if (opts[k] !== undefined && typeof opts[k] !== 'boolean') throw new ValueError(`${k} must be true or false, got ${String(opts[k])}`);
  }
  if (opts.seed !== undefined && !Number.isSafeInteger(opts.seed)) throw new ValueError(`seed must be a safe integer, got ${String(opts.seed)}`);
  return { batchSize, shuffle: opts.shuffle ?? false, dropLast: opts.dropLast ?? false };
}

/** Batches of `n` items: ceil(n / size), or floor with `dropLast` (PyTorch's len of a DataLoader). */
export function batchCount(n: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** The order of one epoch: 0..n-1, or a permutation drawn from `rng` (the global generator by default). */
export function epochOrder(n: number, shuffle: boolean, rng: SeededRandom | undefined): Int32Array {
  if (!shuffle) return Int32Array.from({ length: n }, (_, i) => i);
  return Int32Array.from((rng ?? globalRandom()).permutation(n));
}

/** `order` cut into batches of `batchSize` (the last one shorter, or dropped with `dropLast`). */
export function* batchesOf(order: Int32Array, batchSize: number, dropLast: boolean): Generator<Int32Array> {
  for (let start = 0; start < order.length; start += batchSize) {
    const end = Math.min(order.length, start + batchSize);
    if (dropLast && end - start < batchSize) return;
    yield order.slice(start, end);
  }
}
