/**
 * Batched remote deletes. A pointer that is disposed (or garbage collected) frees its remote
 * object; the frees of one tick go out as one `del` message per worker, on a microtask, so
 * dropping many pointers costs one message, not many. `sync()` flushes them first, so "everything
 * sent so far has run" includes them. Lives with the workers: it is about messages, not tensors.
 */
import type { ObjectId } from './messages.js';
import type { RemoteWorker, Sender } from './worker.js';

/** An object held at a worker for someone: what a delete needs. */
export interface Held {
  location: RemoteWorker;
  id: ObjectId;
  owner: Sender;
}

const pendingDeletes = new Map<RemoteWorker, { owner: Sender; ids: ObjectId[] }>();
let flushScheduled = false;

/** Queues the delete of `h` (sent with the others of this tick). */
export function scheduleDelete(h: Held): void {
  let batch = pendingDeletes.get(h.location);
  if (!batch) pendingDeletes.set(h.location, (batch = { owner: h.owner, ids: [] }));
  batch.ids.push(h.id);
  if (!flushScheduled) {
    flushScheduled = true;
    queueMicrotask(flushDeletes);
  }
}

/** Sends the queued deletes, one message per worker. */
export function flushDeletes(): void {
  flushScheduled = false;
  for (const [location, { owner, ids }] of pendingDeletes) {
    try {
      location.post({ kind: 'del', ids }, owner);
    } catch {
      // The worker is gone (closed connection): its objects went with it.
    }
  }
  pendingDeletes.clear();
}
