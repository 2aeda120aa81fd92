/**
 * An object a worker holds, as a protocol sees it: where it is, who owns the handle, its shape,
 * and a way to run a command on it that yields handles to the results. Protocols (src/mpc/) are
 * written against this interface alone, so they know nothing of the tensor layers above them and
 * can be tested against a fake; `PointerTensor` is the implementation users meet.
 */
import type { Shape } from '../shapes.js';
import type { WireValue } from './messages.js';
import type { RemoteWorker, Worker } from './worker.js';

export interface HeldObject<Self extends HeldObject<Self> = HeldObjectAny> {
  /** The worker holding the object. */
  readonly location: RemoteWorker;
  /** The worker on whose behalf commands are sent (the orchestrator's local worker). */
  readonly owner: Worker;
  readonly shape: Shape;
  /**
   * Posts `op` on the object. Other held objects among `args` (on the same worker) travel by
   * reference; everything else as a wire value. Returns a handle per result shape, at once.
   */
  command(op: string, args: readonly (Self | WireValue | undefined)[], resultShapes: readonly Shape[]): Self[];
}

/** A held object of any implementation. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HeldObjectAny = HeldObject<any>;
