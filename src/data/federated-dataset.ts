/**
 * `FederatedDataset`: datasets that live on workers, one per worker, keyed by the worker's id, as
 * PySyft's `sy.FederatedDataset`. It holds pointers only; the FederatedDataLoader batches each
 * part on its own worker.
 */
import { ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { SCOPE_WALK } from '../tensors/scope.js';
import type { BaseDataset } from './dataset.js';

/**
 * Remote datasets by worker id.
 *
 * @example
 * ```ts
 * const federated = new sy.FederatedDataset([bobsData.send(bob), alicesData.send(alice)]);
 * federated.workers;            // ['bob', 'alice']
 * federated.datasets.bob.length;
 * ```
 */
export class FederatedDataset {
  /** The part each worker holds, by worker id (PySyft's `federated_dataset[worker_id]`). */
  readonly datasets: Readonly<Record<string, BaseDataset>>;

  /** `datasets` must each be on a worker (sent), no two on the same one. */
  constructor(datasets: readonly BaseDataset[]) {
    if (!Array.isArray(datasets)) throw new ValueError('FederatedDataset takes an array of remote datasets');
    const byId: Record<string, BaseDataset> = Object.create(null);
    datasets.forEach((d, i) => {
      if (!(d?.data instanceof Tensor) || !(d.targets instanceof Tensor) || typeof d.batch !== 'function') {
        throw new ValueError(`item ${i} is not a sy.BaseDataset`);
      }
      const at = d.location;
      if (!at) throw new ValueError(`dataset ${i} is local: send() it to its worker first (or federate() a local dataset)`);
      if (Object.hasOwn(byId, at.id)) throw new ValueError(`two datasets are on '${at.id}'; give one dataset per worker`);
      byId[at.id] = d;
    });
    this.datasets = byId;
  }

  /** The workers' ids, in the order the datasets were given (PySyft's `workers`). */
  get workers(): string[] {
    return Object.keys(this.datasets);
  }

  /** Items over all workers (PySyft's `len(federated_dataset)`). */
  get length(): number {
    return Object.values(this.datasets).reduce((n, d) => n + d.length, 0);
  }

  /**
   * Brings one worker's part home and removes it from this federated dataset (PySyft's
   * `get_dataset`): the data leaves the worker.
   */
  async getDataset(workerId: string): Promise<BaseDataset> {
    const d = this.datasets[workerId];
    if (!d) throw new ValueError(`no dataset on '${workerId}'; the workers are ${this.workers.join(', ') || 'none'}`);
    const local = await d.get();
    delete (this.datasets as Record<string, BaseDataset>)[workerId];
    return local;
  }

  /** Frees every part on its worker. */
  dispose(): void {
    for (const d of Object.values(this.datasets)) d.dispose();
  }

  toString(): string {
    return `FederatedDataset(${this.length} items on ${this.workers.join(', ')})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  [SCOPE_WALK](): Iterable<unknown> {
    return Object.values(this.datasets);
  }
}
