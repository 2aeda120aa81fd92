/**
 * The caller's half of `search` (the worker's half is in tags.ts), shared by every kind of
 * worker: `await worker.search(['#mnist', '#train'])` asks the worker for the objects that carry
 * every tag, and gives back a pointer to each (borrowed: dropping it frees nothing), in the order
 * the worker stored them, carrying their tags and description. The request rides the worker's
 * queue, so it sees everything sent to the worker before it.
 */
import type { Caller } from './caller.js';
import { type TensorHandle, handles } from './handles.js';
import type { RemoteWorker, Worker } from './worker.js';
import { checkTags, parseFound } from './tags.js';

/** What `search` takes: one tag, or a list that found objects must all carry (empty: every tagged object). */
export type SearchQuery = string | readonly string[];

/** Asks `location` (through `caller`) for its objects tagged with all of `query`; pointers owned by `owner`. */
export async function searchWorker(caller: Caller, location: RemoteWorker, owner: Worker, query: SearchQuery): Promise<TensorHandle[]> {
  const tags = checkTags(query, 'search()');
  const found = parseFound(await caller.call('search', [tags]), location.id);
  if (found.length === 0) return [];
  const { pointer } = handles();
  return found.map((f) => pointer(location, f.id, f.shape, owner, { tags: f.tags, description: f.description }));
}
