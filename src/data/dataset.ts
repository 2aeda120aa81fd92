/**
 * `BaseDataset`: inputs and targets side by side, as PySyft's `sy.BaseDataset` (PyTorch's
 * TensorDataset with transforms). The two tensors may be local or on one worker; reading an item
 * or a batch runs where they are (on a worker, one command per tensor: a gather of the rows), so
 * a remote dataset is never moved to be batched.
 *
 * Rows are taken with `indexSelect` even when they are consecutive: its kernel copies just the
 * rows, where a float `slice` hands the whole tensor to tfjs (on the wasm backend a copy of all of
 * it: 64 rows of 3,000 digits took 3.5-13 ms by slice, 0.07-0.12 ms by indexSelect, medians of
 * three runs of `npm run bench -- data`).
 */
import { ValueError } from '../errors.js';
import { type Shape, toIndices } from '../shapes.js';
import { Tensor } from '../tensor.js';
import { AutogradTensor } from '../tensors/autograd.js';
import { SCOPE_WALK } from '../tensors/scope.js';
import type { RemoteWorker } from '../workers/worker.js';
import { stack } from './collate.js';
import { FederatedDataset } from './federated-dataset.js';
import type { Transform } from './transforms.js';

/** Options of a {@link BaseDataset}. */
export interface DatasetOptions {
  /** Applied to each input when it is read (torchvision's `transform`). */
  readonly transform?: Transform;
  /** Applied to each target when it is read (torchvision's `target_transform`). */
  readonly targetTransform?: Transform;
}

/** An item or a batch: `[input, target]`. */
export type Sample = [data: Tensor, target: Tensor];

function where(t: Tensor): string {
  return t.location ? `on '${t.location.id}'` : 'local';
}

/**
 * A dataset of `data[i]`, `targets[i]` pairs.
 *
 * @example
 * ```ts
 * const dataset = new sy.BaseDataset(sy.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), sy.tensor([0, 1, 1, 0]));
 * dataset.length;            // 4
 * const [x, y] = dataset.at(2);
 * const federated = dataset.federate([bob, alice]);
 * ```
 */
export class BaseDataset implements Iterable<Sample> {
  readonly data: Tensor;
  readonly targets: Tensor;
  readonly transform: Transform | undefined;
  readonly targetTransform: Transform | undefined;

  constructor(data: Tensor, targets: Tensor, opts: DatasetOptions = {}) {
    if (!(data instanceof Tensor) || !(targets instanceof Tensor)) throw new ValueError('BaseDataset takes two Tensors: data and targets');
    if (data.ndim === 0 || targets.ndim === 0) throw new ValueError('BaseDataset needs data and targets with a first dimension of items, not scalars');
    if (data.shape[0] !== targets.shape[0]) {
      throw new ValueError(`BaseDataset: ${data.shape[0]} inputs but ${targets.shape[0]} targets; give one target per input`);
    }
    if (data.location?.id !== targets.location?.id) {
      throw new ValueError(`BaseDataset: the data is ${where(data)} and the targets are ${where(targets)}; keep them together (send or move both)`);
    }
    for (const k of ['transform', 'targetTransform'] as const) {
      if (opts[k] !== undefined && typeof opts[k] !== 'function') throw new ValueError(`${k} must be a function of a Tensor`);
    }
    this.data = data;
    this.targets = targets;
    this.transform = opts.transform;
    this.targetTransform = opts.targetTransform;
  }

  /** Number of items (PySyft's `len(dataset)`). */
  get length(): number {
    return this.data.shape[0]!;
  }

  /** The worker holding the data, or undefined when it is local. */
  get location(): RemoteWorker | undefined {
    return this.data.location;
  }

  /**
   * Item `index` (negative counts from the end), transforms applied: PySyft's `dataset[index]`.
   * On a remote dataset both are pointers.
   */
  at(index: number): Sample {
    const n = this.length;
    if (!Number.isInteger(index) || index < -n || index >= n) {
      throw new ValueError(`index ${String(index)} is out of range for a dataset of ${n} items; use an integer in [${-n}, ${n - 1}]`);
    }
    const i = index < 0 ? index + n : index;
    const item = (t: Tensor, f: Transform | undefined) => {
      const x = row(t, i);
      return f ? f(x) : x;
    };
    return [item(this.data, this.transform), item(this.targets, this.targetTransform)];
  }

  /**
   * The items at `indices`, stacked along a new first dimension, transforms applied. Made where
   * the data is: one gather per tensor, then a transform's `batch` form; a transform without one
   * runs item by item (local data only).
   */
  batch(indices: readonly number[] | Int32Array): Sample {
    const idx = toIndices(indices, 'batch indices');
    if (idx.length === 0) throw new ValueError('a batch needs at least one index');
    const n = this.length;
    for (const i of idx) if (i >= n) throw new ValueError(`index ${i} is out of range for a dataset of ${n} items`);
    return [this.column(this.data, this.transform, idx), this.column(this.targets, this.targetTransform, idx)];
  }

  private column(t: Tensor, f: Transform | undefined, idx: Int32Array): Tensor {
    if (f && typeof f.batch !== 'function') {
      if (t.isPointer) {
        throw new ValueError(
          `this dataset is on '${t.location!.id}' and its transform works item by item; use a transform from sy.transforms ` +
            '(they carry a batch form that runs on the worker), or transform the data before sending it',
        );
      }
      return stack(Array.from(idx, (i) => f(row(t, i))));
    }
    const rows = plain(t).indexSelect(0, idx);
    return f ? f.batch!(rows) : rows;
  }

  /**
   * Sends data and targets to `worker` (transforms applied first, as PySyft's federate does),
   * returning the remote dataset. This one stays as it is.
   */
  send(worker: RemoteWorker): BaseDataset {
    if (this.location) throw new ValueError(`this dataset is already on '${this.location.id}': move() its tensors to take it elsewhere`);
    const [data, targets] = this.transform || this.targetTransform ? this.transformed(0, this.length) : [plain(this.data), plain(this.targets)];
    return new BaseDataset(data.send(worker), targets.send(worker));
  }

  /** Brings a remote dataset's tensors home (they leave the worker). */
  async get(): Promise<BaseDataset> {
    const [data, targets] = await Promise.all([this.data.get(), this.targets.get()]);
    return new BaseDataset(data, targets, { transform: this.transform, targetTransform: this.targetTransform });
  }

  /**
   * Splits the dataset into `workers.length` parts of ceil(length / workers) consecutive items
   * (fewer when there are fewer items) and sends part i to worker i, as PySyft's `federate`.
   * Transforms are applied before sending; each worker receives only its part, and nothing of the
   * data stays referenced here.
   */
  federate(workers: readonly RemoteWorker[]): FederatedDataset {
    if (this.location) throw new ValueError(`this dataset is already on '${this.location.id}': federate a local dataset`);
    if (!Array.isArray(workers) || workers.length === 0 || !workers.every((w) => typeof w?.post === 'function')) {
      throw new ValueError('federate takes a non-empty array of workers: dataset.federate([bob, alice])');
    }
    if (new Set(workers.map((w) => w.id)).size !== workers.length) throw new ValueError('federate: each worker may appear once');
    const n = this.length;
    if (n === 0) throw new ValueError('cannot federate an empty dataset');
    const size = Math.ceil(n / workers.length);
    const parts: BaseDataset[] = [];
    for (let start = 0, j = 0; start < n; start += size, j++) {
      const [data, targets] = this.transformed(start, Math.min(n, start + size));
      parts.push(new BaseDataset(data.send(workers[j]!), targets.send(workers[j]!)));
    }
    return new FederatedDataset(parts);
  }

  // Items [start, end) with transforms applied (local data).
  private transformed(start: number, end: number): Sample {
    if (end === start) return [this.data.slice(start, end), this.targets.slice(start, end)];
    const idx = Int32Array.from({ length: end - start }, (_, i) => start + i);
    return this.batch(idx);
  }

  /** Frees what the dataset holds on a worker. */
  dispose(): void {
    this.data.dispose();
    this.targets.dispose();
  }

  /** Every item in order, as `at(i)` gives it. */
  *[Symbol.iterator](): Generator<Sample> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  toString(): string {
    const shape = (s: Shape) => `[${s.join(', ')}]`;
    const at = this.location ? ` on ${this.location.id}` : '';
    return `BaseDataset(${this.length} items${at}: data ${shape(this.data.shape)}, targets ${shape(this.targets.shape)}${this.transform ? ', transform' : ''})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  [SCOPE_WALK](): Iterable<unknown> {
    return [this.data, this.targets];
  }
}

/** Item `i` of `t`: row i without its first dimension. */
function row(t: Tensor, i: number): Tensor {
  return plain(t).indexSelect(0, Int32Array.of(i)).reshape(t.shape.slice(1));
}

// Local data made with requiresGrad (PySyft's toy datasets are) is read without its graph: a batch
// of data is an input, not a parameter.
function plain(t: Tensor): Tensor {
  return t.child instanceof AutogradTensor ? t.detach() : t;
}

/**
 * `dataset.federate(workers)` as a free function (PySyft's `dataset_federate`).
 *
 * @example
 * ```ts
 * const federated = sy.federate(await sy.datasets.mnist({ count: 6000 }), [bob, alice]);
 * ```
 */
export function federate(dataset: BaseDataset, workers: readonly RemoteWorker[]): FederatedDataset {
  if (!(dataset instanceof BaseDataset)) throw new ValueError('federate takes a sy.BaseDataset and an array of workers');
  return dataset.federate(workers);
}
