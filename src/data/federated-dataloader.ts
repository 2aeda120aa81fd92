/**
 * `FederatedDataLoader`: batches of a FederatedDataset, each made on the worker that holds the
 * part (a gather of its rows: one command per tensor; the data never moves and is never read
 * here), as PySyft 0.2's `sy.FederatedDataLoader`:
 *
 * - every worker has its own sampler over its own part (sequential, or reshuffled every epoch),
 *   cut into batches of `batchSize` with `dropLast`;
 * - by default an epoch yields `[data, target]`: all batches of the first worker, then all of the
 *   second, and so on, in the order of `federated.workers`;
 * - with `iterPerWorker` each step yields one batch of every worker, as a Map from the worker
 *   (the batch's `location`) to `[data, target]`, and the epoch ends when the first worker runs
 *   out of batches (the others' leftover batches are not yielded);
 * - `length` is PySyft's `len`: ceil(total items / batchSize), floor with `dropLast`. It counts
 *   the items of all workers together, so it can differ from the batches an epoch yields (parts
 *   that are not multiples of batchSize each end in a short batch; iterPerWorker stops at the
 *   smallest part): `batchCount` is that number.
 *
 * PySyft's `num_iterators` (several workers' batches at once without iterPerWorker) is not here.
 */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { tidy } from '../tensors/scope.js';
import { SeededRandom } from '../util/seeded.js';
import type { RemoteWorker } from '../workers/worker.js';
import type { Sample } from './dataset.js';
import { FederatedDataset } from './federated-dataset.js';
import { type LoaderOptions, batchCount, batchesOf, epochOrder, loaderSettings } from './sampler.js';

/** Options of a {@link FederatedDataLoader}: those of a DataLoader (batchSize default 8, PySyft's) and `iterPerWorker`. */
export interface FederatedDataLoaderOptions<PerWorker extends boolean = boolean> extends LoaderOptions {
  /** Yield one batch of every worker per step, as a Map from worker to `[data, target]`. Default false. */
  readonly iterPerWorker?: PerWorker;
}

/** One step of an `iterPerWorker` loader: a batch of every worker, keyed by the worker holding it. */
export type WorkerBatches = Map<RemoteWorker, [data: Tensor, target: Tensor]>;

/** What a step yields: `[data, target]`, or {@link WorkerBatches} with `iterPerWorker`. */
export type FederatedStep<PerWorker extends boolean> = PerWorker extends true ? WorkerBatches : Sample;

/**
 * Batches of a federated dataset, made on the workers.
 *
 * @example
 * ```ts
 * const federated = (await sy.datasets.mnist({ count: 6000, normalize: true })).federate([bob, alice]);
 * const loader = new sy.FederatedDataLoader(federated, { batchSize: 64, shuffle: true, seed: 1 });
 * for (const [data, target] of loader) {
 *   model.send(data.location!);
 *   // ... train on the batch where it is, then bring the model back
 *   data.dispose(); target.dispose();
 * }
 * ```
 */
export class FederatedDataLoader<PerWorker extends boolean = false> implements Iterable<FederatedStep<PerWorker>> {
  readonly federatedDataset: FederatedDataset;
  /** The workers' ids, in the order their batches come (PySyft's `workers`). */
  readonly workers: readonly string[];
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly iterPerWorker: PerWorker;
  readonly #rng: SeededRandom | undefined;
  readonly #sizes: readonly number[];

  constructor(federated: FederatedDataset, opts: FederatedDataLoaderOptions<PerWorker> = {}) {
    if (!(federated instanceof FederatedDataset)) {
      throw new ValueError('FederatedDataLoader takes a sy.FederatedDataset (dataset.federate(workers)); for local data use sy.DataLoader');
    }
    const s = loaderSettings(opts, 8);
    if (opts.iterPerWorker !== undefined && typeof opts.iterPerWorker !== 'boolean') throw new ValueError('iterPerWorker must be true or false');
    this.federatedDataset = federated;
    this.workers = Object.freeze(federated.workers);
    if (this.workers.length === 0) throw new ValueError('the federated dataset holds no data: federate a dataset over some workers first');
    this.batchSize = s.batchSize;
    this.shuffle = s.shuffle;
    this.dropLast = s.dropLast;
    this.iterPerWorker = (opts.iterPerWorker ?? false) as PerWorker;
    this.#rng = opts.seed === undefined ? undefined : new SeededRandom(opts.seed);
    this.#sizes = this.workers.map((id) => federated.datasets[id]!.length);
  }

  /** PySyft's `len(loader)`: ceil(total items / batchSize), floor with `dropLast` (see the module notes). */
  get length(): number {
    return batchCount(this.federatedDataset.length, this.batchSize, this.dropLast);
  }

  /** The steps one epoch yields. */
  get batchCount(): number {
    const per = this.#sizes.map((n) => batchCount(n, this.batchSize, this.dropLast));
    return this.iterPerWorker ? Math.min(...per) : per.reduce((a, b) => a + b, 0);
  }

  /** One epoch. Each worker's order is drawn when the epoch starts, in the order of `workers`. */
  *[Symbol.iterator](): Generator<FederatedStep<PerWorker>> {
    const plans = this.workers.map((id, w) => {
      const dataset = this.federatedDataset.datasets[id];
      if (dataset === undefined) throw new ValueError(`the part on '${id}' was taken out of the federated dataset (getDataset); make a new loader`);
      const order = epochOrder(this.#sizes[w]!, this.shuffle, this.#rng);
      return { dataset, batches: batchesOf(order, this.batchSize, this.dropLast) };
    });
    if (!this.iterPerWorker) {
      for (const { dataset, batches } of plans) {
        for (const idx of batches) yield tidy(() => dataset.batch(idx)) as FederatedStep<PerWorker>;
      }
      return;
    }
    for (;;) {
      const step: WorkerBatches = new Map();
      const next = plans.map((p) => p.batches.next());
      if (next.some((r) => r.done)) return;
      tidy(() => {
        plans.forEach((p, w) => step.set(p.dataset.location!, p.dataset.batch(next[w]!.value as Int32Array)));
        return step;
      });
      yield step as FederatedStep<PerWorker>;
    }
  }

  toString(): string {
    return `FederatedDataLoader(${this.federatedDataset}, batchSize=${this.batchSize}, shuffle=${this.shuffle}, dropLast=${this.dropLast}${this.iterPerWorker ? ', iterPerWorker' : ''})`;
  }
}
