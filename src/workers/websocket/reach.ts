/**
 * How an orchestrator introduces network workers to each other: for each worker it holds a
 * handle to, the URL other workers dial to reach it (its own, or its coordinator's relay) and the
 * token the tickets for it are derived from. Kept here, in a module-private table, so a token
 * never becomes a property of a public object.
 */
import type { RemoteWorker } from '../worker.js';

export interface Reach {
  /** Where peers dial this worker. */
  url: string;
  /** The secret its tickets come from (undefined: a worker without a token). */
  token: string | undefined;
}

const table = new WeakMap<RemoteWorker, Reach>();

/** Records how peers reach `worker` (its handle's constructor calls this). */
export function setReach(worker: RemoteWorker, reach: Reach): void {
  table.set(worker, reach);
}

/** How peers reach `worker`, when it is a network worker this process introduces. */
export function reachOf(worker: RemoteWorker): Reach | undefined {
  return table.get(worker);
}
