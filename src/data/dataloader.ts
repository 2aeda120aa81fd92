/**
 * `DataLoader`: batches of a dataset, PyTorch's `torch.utils.data.DataLoader` without worker
 * processes: `len` is ceil(items / batchSize) (floor with `dropLast`), every epoch (every `for`
 * over the loader) reshuffles when `shuffle` is set, and a `seed` makes the order reproducible.
 */
import { ValueError } from '../errors.js';
import { tidy } from '../tensors/scope.js';
import { SeededRandom } from '../util/seeded.js';
import { BaseDataset, type Sample } from './dataset.js';
import { FederatedDataset } from './federated-dataset.js';
import { type LoaderOptions, batchCount, batchesOf, epochOrder, loaderSettings } from './sampler.js';

/** Options of a {@link DataLoader}: `batchSize` (default 1), `shuffle`, `dropLast`, `seed`. */
export type DataLoaderOptions = LoaderOptions;

/**
 * Batches `[data, target]` of a dataset, made where the dataset is (local, or on its worker).
 *
 * @example
 * ```ts
 * const loader = new sy.DataLoader(await sy.datasets.mnist({ count: 640 }), { batchSize: 64, shuffle: true, seed: 1 });
 * loader.length;                      // 10
 * for (const [data, target] of loader) {
 *   // data: [64, 1, 28, 28] float32; target: [64] int64 class indices
 * }
 * ```
 */
export class DataLoader implements Iterable<Sample> {
  readonly dataset: BaseDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly #rng: SeededRandom | undefined;

  constructor(dataset: BaseDataset, opts: DataLoaderOptions = {}) {
    if (dataset instanceof FederatedDataset) throw new ValueError('this dataset is federated: use sy.FederatedDataLoader for it');
    if (!(dataset instanceof BaseDataset)) throw new ValueError('DataLoader takes a sy.BaseDataset');
    const s = loaderSettings(opts, 1);
    this.dataset = dataset;
    this.batchSize = s.batchSize;
    this.shuffle = s.shuffle;
    this.dropLast = s.dropLast;
    this.#rng = opts.seed === undefined ? undefined : new SeededRandom(opts.seed);
  }

  /** Batches per epoch (PyTorch's `len(loader)`). */
  get length(): number {
    return batchCount(this.dataset.length, this.batchSize, this.dropLast);
  }

  /** One epoch of batches. Each batch is made when the loop asks for it. */
  *[Symbol.iterator](): Generator<Sample> {
    const order = epochOrder(this.dataset.length, this.shuffle, this.#rng);
    for (const idx of batchesOf(order, this.batchSize, this.dropLast)) {
      // Intermediates of a transform on a remote dataset are freed at once; the batch is kept.
      yield tidy(() => this.dataset.batch(idx));
    }
  }

  toString(): string {
    return `DataLoader(${this.dataset}, batchSize=${this.batchSize}, shuffle=${this.shuffle}, dropLast=${this.dropLast})`;
  }
}
