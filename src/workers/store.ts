/**
 * A worker's object store: the id -> object map, which also knows when an object it frees held
 * remote objects of its own.
 *
 * Why: a worker may hold pointers (a pointer chain: Alice holds a pointer to Bob's tensor, as
 * `x.send(bob).send(alice)` leaves it). When such an object is freed — a `del` from its owner, a
 * `clear`, the end of a session — what it points to must be freed too, at once and exactly once,
 * not whenever the garbage collector gets to it. So {@link ObjectStore.free} releases an object
 * (its `dispose()`, which a pointer answers by deleting its remote object on behalf of this
 * worker, the pointer's owner) when no other id of the store still holds it: commands that answer
 * with an object the store already holds (a tensor's `.data`, its `.grad`) store it twice.
 *
 * Taking an object out to hand it to someone else (`get`, `move`) is `delete`, which releases
 * nothing: the receiver owns the object and what it points to from then on.
 */
import type { ObjectId } from './messages.js';

/** Frees what `obj` holds elsewhere, if it holds anything (tensor layers have `dispose`). */
function release(obj: object): void {
  const d = (obj as { dispose?: unknown }).dispose;
  if (typeof d !== 'function') return;
  try {
    (d as () => void).call(obj);
  } catch {
    // Freeing is best effort: a worker that cannot be reached has lost its objects already.
  }
}

export class ObjectStore extends Map<ObjectId, object> {
  // How many ids hold each object.
  readonly #refs = new Map<object, number>();

  override set(id: ObjectId, value: object): this {
    const old = super.get(id);
    if (old === value) return this;
    if (old !== undefined) this.#drop(old);
    this.#refs.set(value, (this.#refs.get(value) ?? 0) + 1);
    return super.set(id, value);
  }

  /** Takes `id` out without freeing what its object points to (it is handed to someone else). */
  override delete(id: ObjectId): boolean {
    const v = super.get(id);
    if (v === undefined) return false;
    super.delete(id);
    this.#drop(v);
    return true;
  }

  override clear(): void {
    super.clear();
    this.#refs.clear();
  }

  /** Removes `id`; when no other id holds its object, frees what that object points to. */
  free(id: ObjectId): boolean {
    const v = super.get(id);
    if (v === undefined) return false;
    super.delete(id);
    if (this.#drop(v) === 0) release(v);
    return true;
  }

  /** Removes every object, freeing what each points to. */
  freeAll(): void {
    const held = [...this.#refs.keys()];
    this.clear();
    for (const v of held) release(v);
  }

  // One id fewer holds `v`; returns how many still do.
  #drop(v: object): number {
    const n = (this.#refs.get(v) ?? 1) - 1;
    if (n > 0) this.#refs.set(v, n);
    else this.#refs.delete(v);
    return n;
  }
}
