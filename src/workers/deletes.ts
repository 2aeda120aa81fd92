/**
 * Batched remote deletes. A pointer that is disposed (or garbage collected) frees its remote
 * object; the frees of one tick go out as one `del` message per worker and owner, on a microtask,
 * so dropping many pointers costs one message, not many. `sync()` flushes them first, so
 * "everything sent so far has run" includes them. Lives with the workers: it is about messages,
 * not tensors.
 *
 * A loop that never yields to the event loop never runs that microtask: every free it makes would
 * wait in the queue while the worker's objects pile up (a training step on a remote model frees
 * eight temporaries of its own). So the queue is bounded: once it holds
 * {@link DELETE_FLUSH_THRESHOLD} ids it is sent at once, synchronously, and a busy loop keeps a
 * bounded number of freed-but-unsent objects. (Pointers only the garbage collector finds are
 * another matter: FinalizationRegistry callbacks are tasks of the event loop, so they too wait
 * for a yield; `sy.tidy` or `dispose()` frees those deterministically.)
 */
import type { ObjectId } from './messages.js';
import type { RemoteWorker, Sender } from './worker.js';

/** An object held at a worker for someone: what a delete needs. */
export interface Held {
  location: RemoteWorker;
  id: ObjectId;
  owner: Sender;
}

/** Queued frees past which the queue is sent synchronously, without waiting for the microtask. */
export const DELETE_FLUSH_THRESHOLD = 256;

// Per worker, per owner: a delete must come from the identity that owns the object.
const pendingDeletes = new Map<RemoteWorker, Map<Sender, ObjectId[]>>();
let pendingCount = 0;
let flushScheduled = false;

/** How many frees are queued and not yet sent. */
export function pendingDeleteCount(): number {
  return pendingCount;
}

/** Queues the delete of `h` (sent with the others of this tick, or at once past the threshold). */
export function scheduleDelete(h: Held): void {
  let byOwner = pendingDeletes.get(h.location);
  if (!byOwner) pendingDeletes.set(h.location, (byOwner = new Map()));
  let ids = byOwner.get(h.owner);
  if (!ids) byOwner.set(h.owner, (ids = []));
  ids.push(h.id);
  pendingCount++;
  if (pendingCount >= DELETE_FLUSH_THRESHOLD) {
    flushDeletes();
    return;
  }
  if (!flushScheduled) {
    flushScheduled = true;
    queueMicrotask(flushScheduledDeletes);
  }
}

function flushScheduledDeletes(): void {
  flushScheduled = false;
  flushDeletes();
}

/** Sends the queued deletes, one message per worker and owner. */
export function flushDeletes(): void {
  if (pendingCount === 0) return;
  // Taken before posting: a post that runs commands (an in-process worker) may queue more.
  const batches = [...pendingDeletes];
  pendingDeletes.clear();
  pendingCount = 0;
  for (const [location, byOwner] of batches) {
    for (const [owner, ids] of byOwner) {
      try {
        location.post({ kind: 'del', ids }, owner);
      } catch {
        // The worker is gone (closed connection): its objects went with it.
      }
    }
  }
}
