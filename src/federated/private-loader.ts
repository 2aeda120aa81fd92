/**
 * Private data loaders: each data owner cuts its own data into batches and secret-shares every
 * batch among the computing parties, worker to worker. The orchestrator holds only pointers to
 * the owners' data and to the shares; it never sees a value.
 */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { keep, tidy } from '../tensors/scope.js';
import type { RemoteWorker } from '../workers/worker.js';

/** A worker holding data: pointers to its inputs and targets (same number of rows). */
export interface DataOwner {
  data: Tensor;
  target: Tensor;
}

export interface PrivateBatch {
  /** Fixed-precision inputs, shared among the parties. */
  data: Tensor;
  /** Fixed-precision targets, shared among the parties. */
  target: Tensor;
  /** Rows in this batch. */
  size: number;
  /** The worker the rows came from. */
  owner: string;
}

export interface PrivateLoaderOptions {
  /** The computing parties. */
  parties: readonly RemoteWorker[];
  /** Deals correlated randomness for the protocols that will use the batches. */
  cryptoProvider: RemoteWorker;
  batchSize: number;
  /** Fixed-precision settings (PySyft's defaults: base 10, 3 digits). */
  base?: number;
  precisionFractional?: number;
  /** Drop each owner's last batch when smaller than batchSize. */
  dropLast?: boolean;
}

/**
 * Shares every batch of every owner, interleaving owners (first batch of each, then the second
 * of each, ...). Returns at once: the owners split and send in the background.
 *
 * @example
 * ```ts
 * const train = sy.federated.privateBatches(
 *   [{ data: aliceImages, target: aliceLabels }, { data: bobImages, target: bobLabels }],
 *   { parties: [alice, bob], cryptoProvider, batchSize: 64 },
 * );
 * for (const { data, target } of train) { ... }
 * ```
 */
export function privateBatches(owners: readonly DataOwner[], opts: PrivateLoaderOptions): PrivateBatch[] {
  const { batchSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`batchSize must be a positive integer, got ${batchSize}`);
  const fix = { base: opts.base, precisionFractional: opts.precisionFractional };
  const perOwner = owners.map((o) => {
    if (!o.data.isPointer || !o.target.isPointer) throw new ValueError('a data owner holds its data: pass pointers (x.send(owner))');
    const rows = o.data.shape[0]!;
    if (o.target.shape[0] !== rows) throw new ValueError('an owner\'s data and target must have the same number of rows');
    const out: PrivateBatch[] = [];
    for (let start = 0; start < rows; start += batchSize) {
      const end = Math.min(rows, start + batchSize);
      if (end - start < batchSize && opts.dropLast) break;
      // Slices and encodings are temporary objects on the owner: only the shares are kept.
      const [data, target] = tidy(() =>
        keep([o.data, o.target].map((t) => t.slice(start, end).fixPrecision(fix).share(...opts.parties, { cryptoProvider: opts.cryptoProvider }))),
      );
      out.push({ data: data!, target: target!, size: end - start, owner: o.data.location!.id });
    }
    return out;
  });
  const batches: PrivateBatch[] = [];
  for (let i = 0; perOwner.some((b) => i < b.length); i++) for (const b of perOwner) if (i < b.length) batches.push(b[i]!);
  return batches;
}
