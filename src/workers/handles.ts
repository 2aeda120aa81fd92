/**
 * How the workers hand user-facing objects out without importing the tensor layer above them.
 *
 * Two places in the workers give the user a tensor: a search on a worker returns pointers to
 * published data, and a worker's `objects` view shows what it holds. Both need the `Tensor`
 * wrapper, which lives above the workers (and imports them). So the tensor layer registers how
 * to make them (`registerHandles`, at the bottom of src/tensor.ts) and the workers ask for them
 * (`handles()`); the type the user gets is filled in the same way, by declaration merging into
 * {@link HandleTypes}. A program that deep-imports the workers without the tensor layer gets a
 * clear error naming what to import.
 */
import { StateError } from '../errors.js';
import type { ObjectId } from './messages.js';
import type { ObjectMeta } from './tags.js';
import type { RemoteWorker, Worker } from './worker.js';

/**
 * The types of the handles. Empty here; the tensor layer adds `tensor: Tensor` to it
 * (`declare module './workers/handles.js'`), so the workers' signatures name `Tensor` without an
 * import.
 */
export interface HandleTypes {}

/** The user-facing tensor handle (`Tensor` once the tensor layer is loaded). */
export type TensorHandle = HandleTypes extends { tensor: infer T } ? T : object;

export interface Handles {
  /**
   * A user-facing handle on a pointer to object `id` held by `location`, owned by `owner`, for a
   * search result: it carries the object's tags and description, and it is borrowed (dropping it
   * frees nothing: the object stays its owner's).
   */
  pointer(location: RemoteWorker, id: ObjectId, shape: number[], owner: Worker, meta: ObjectMeta): TensorHandle;
  /** How an `objects` view shows a stored object: tensor layers wrapped, anything else as it is. */
  view(obj: object): TensorHandle | object;
}

let registered: Handles | undefined;

/** Called once by the tensor layer (src/tensor.ts). */
export function registerHandles(h: Handles): void {
  registered = h;
}

/** The registered handles; throws a StateError that says what to import when there are none. */
export function handles(): Handles {
  if (!registered) {
    throw new StateError(
      "the tensor layer is not loaded, so workers cannot hand out tensors: import 'syft-ts' " +
        "(or src/index.ts, or at least src/tensor.ts) before using search() or a worker's objects",
    );
  }
  return registered;
}
