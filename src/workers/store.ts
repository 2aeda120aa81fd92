/**
 * A worker's objects, and who may touch them.
 *
 * Every object belongs to the identity whose message made it (`from` as the transport
 * authenticated it: a client's name, a peer's id, "me" for code in this process). Another
 * identity can neither use, change, take nor delete it, and does not even learn that it exists
 * (it is "not found"), unless the owner granted it access — as a pointer chain needs. The worker
 * itself (its own id) may do anything: that is how sessions are freed and `clearObjects()` on an
 * in-process worker clears all.
 *
 * Each identity's objects and bytes are counted against the worker's limits, and so are the
 * worker's bytes as a whole; a store that would pass one is refused with a QuotaError before
 * anything changes. Failures (a command's error kept under its result ids) belong to their
 * sender too, and are bounded in number.
 *
 * Freeing: a worker may hold pointers (a pointer chain: Alice holds a pointer to Bob's tensor, as
 * `x.send(bob).send(alice)` leaves it). When such an object is freed — a `del`, a `clear`, the end
 * of a session — what it points to is freed too, at once and exactly once: {@link ObjectStore.free}
 * releases an object (its `dispose()`, which a pointer answers by deleting its remote object) when
 * no other id still holds it (commands that answer with an object the store already holds, a
 * tensor's `.data` or `.grad`, store it twice). Taking an object out to hand it on (`get`,
 * `move`) is {@link ObjectStore.delete}, which releases nothing: the receiver owns it from then on.
 *
 * Grants are capabilities: an identity that may use an object may let another use it too (a
 * pointer handed along a chain takes its grant with it); one that may not is told "not found".
 */
import { ObjectNotFoundError, PermissionError, SyftError, ValueError } from '../errors.js';
import { AbstractTensor } from '../layer/abstract.js';
import { type WorkerLimits, within } from './limits.js';
import type { ObjectId, WireError } from './messages.js';

const MAX_FAILURES = 10_000;

/** Raised when a command reads an object whose own command failed. Carries the first failure. */
export class InputFailed extends SyftError {
  override name = 'InputFailed';
  constructor(readonly original: WireError) {
    super(original.message);
  }
}

/**
 * Marks an object that must never leave the worker holding it (a private key it generated): no
 * `get()` or `move()` takes it away, whoever asks.
 */
export const STAYS: unique symbol = Symbol.for('syft.staysOnWorker');

export function markStays<T extends object>(v: T): T {
  Object.defineProperty(v, STAYS, { value: true, enumerable: false });
  return v;
}

/** Throws a PermissionError for an object marked with {@link markStays}. */
export function checkMayLeave(v: object, workerId: string, how: string): void {
  if ((v as { [STAYS]?: boolean })[STAYS] === true) {
    throw new PermissionError(`this object was made on worker '${workerId}' to stay there (a private key it generated): it cannot be ${how}`);
  }
}

/** How an identity wants to touch an object. */
export type Access = 'use' | 'change' | 'take';

/** Bytes of numbers an object holds (tensor data), for the quotas. */
export function bytesOf(v: object): number {
  if (!(v instanceof AbstractTensor)) return 64;
  let n = 0;
  for (const l of v.layers()) n += l.ownBytes();
  return n;
}

interface Usage {
  objects: number;
  bytes: number;
}

export class ObjectStore {
  readonly #objects = new Map<ObjectId, object>();
  readonly #owner = new Map<ObjectId, string>();
  readonly #bytes = new Map<ObjectId, number>();
  readonly #grants = new Map<ObjectId, Set<string>>();
  readonly #failures = new Map<ObjectId, { error: WireError; owner: string }>();
  readonly #usage = new Map<string, Usage>();
  // How many ids hold each object (see free()).
  readonly #refs = new Map<object, number>();
  #total = 0;

  constructor(
    private readonly workerId: string,
    private readonly limits: () => WorkerLimits,
  ) {}

  get size(): number {
    return this.#objects.size;
  }

  /** Bytes of tensor data held, by everyone. */
  get bytes(): number {
    return this.#total;
  }

  has(id: ObjectId): boolean {
    return this.#objects.has(id);
  }

  /** The object, with no access check (in-process inspection and the worker's own use). */
  peek(id: ObjectId): object | undefined {
    return this.#objects.get(id);
  }

  ownerOf(id: ObjectId): string | undefined {
    return this.#owner.get(id);
  }

  /** Ids of every object, or of those `who` may see, in insertion order. */
  ids(who?: string): ObjectId[] {
    const all = [...this.#objects.keys()];
    return who === undefined || who === this.workerId ? all : all.filter((id) => this.may(id, who));
  }

  /** The objects `who` may see, with their ids, in insertion order (for `search`). */
  *entries(who: string): IterableIterator<[ObjectId, object]> {
    for (const [id, v] of this.#objects) if (this.may(id, who)) yield [id, v];
  }

  /** What `who` holds here. */
  usage(who: string): Readonly<Usage> {
    return this.#usage.get(who) ?? { objects: 0, bytes: 0 };
  }

  private may(id: ObjectId, who: string): boolean {
    if (who === this.workerId || this.#owner.get(id) === who) return true;
    const g = this.#grants.get(id);
    return g !== undefined && (g.has(who) || g.has('*'));
  }

  private notFound(id: ObjectId): never {
    throw new ObjectNotFoundError(this.workerId, id);
  }

  /**
   * The object `id` for `who` to use, change or take; its recorded failure if its command failed.
   * An object `who` may not touch is reported exactly like one that does not exist.
   */
  access(id: ObjectId, who: string, _how: Access = 'use'): object {
    const f = this.#failures.get(id);
    if (f && (who === this.workerId || f.owner === who)) throw new InputFailed(f.error);
    const v = this.#objects.get(id);
    if (v === undefined || !this.may(id, who)) this.notFound(id);
    return v;
  }

  /** A recorded failure `who` may read, or undefined. */
  failure(id: ObjectId, who: string): WireError | undefined {
    const f = this.#failures.get(id);
    return f && (who === this.workerId || f.owner === who) ? f.error : undefined;
  }

  /** Stores `value` under a new id, owned by `owner`, within the limits. */
  put(id: ObjectId, value: object, owner: string): void {
    if (this.#objects.has(id)) throw new ValueError(`worker '${this.workerId}' already holds an object ${id}`);
    const bytes = bytesOf(value);
    const u = this.usage(owner);
    const limits = this.limits();
    if (owner !== this.workerId) {
      within(limits, 'maxObjectsPerSession', u.objects + 1, `the objects '${owner}' would hold`);
      within(limits, 'maxBytesPerSession', u.bytes + bytes, `the bytes '${owner}' would hold`);
    }
    within(limits, 'maxBytes', this.#total + bytes, `the bytes this worker would hold`);
    this.#failures.delete(id);
    this.#objects.set(id, value);
    this.#owner.set(id, owner);
    this.#bytes.set(id, bytes);
    this.#usage.set(owner, { objects: u.objects + 1, bytes: u.bytes + bytes });
    this.#total += bytes;
    this.#refs.set(value, (this.#refs.get(value) ?? 0) + 1);
  }

  /** Puts `value` in place of the object `id` (same id, same owner), for `who` allowed to change it. */
  replace(id: ObjectId, value: object, who: string): void {
    this.access(id, who, 'change');
    const owner = this.#owner.get(id)!;
    const grants = this.#grants.get(id);
    const old = this.remove(id);
    this.put(id, value, owner);
    if (grants) this.#grants.set(id, grants);
    // The old object is replaced, not freed (what it pointed to may live on in the new one).
    this.#drop(old);
  }

  /** Takes `id` out for `who` without freeing what it points to (it is handed on: `move`). */
  take(id: ObjectId, who: string): object {
    const v = this.access(id, who, 'take');
    this.remove(id);
    this.#drop(v);
    return v;
  }

  /**
   * Removes `id` if `who` may delete it, releasing nothing (its object is handed on: `get`);
   * returns whether it was there to remove.
   */
  delete(id: ObjectId, who: string): boolean {
    return this.drop(id, who, false);
  }

  /**
   * Removes `id` if `who` may delete it and, when no other id holds its object, frees what that
   * object points to (a `del` of a pointer chain's link frees the object at its end).
   */
  free(id: ObjectId, who: string): boolean {
    return this.drop(id, who, true);
  }

  private drop(id: ObjectId, who: string, freeing: boolean): boolean {
    const f = this.#failures.get(id);
    if (f && (who === this.workerId || f.owner === who)) this.#failures.delete(id);
    if (!this.#objects.has(id) || !this.may(id, who)) return false;
    const v = this.remove(id);
    if (this.#drop(v) === 0 && freeing) release(v);
    return true;
  }

  // One id fewer holds `v`; returns how many still do.
  #drop(v: object): number {
    const n = (this.#refs.get(v) ?? 1) - 1;
    if (n > 0) this.#refs.set(v, n);
    else this.#refs.delete(v);
    return n;
  }

  private remove(id: ObjectId): object {
    const value = this.#objects.get(id)!;
    const owner = this.#owner.get(id)!;
    const bytes = this.#bytes.get(id) ?? 0;
    const u = this.usage(owner);
    if (u.objects <= 1) this.#usage.delete(owner);
    else this.#usage.set(owner, { objects: u.objects - 1, bytes: u.bytes - bytes });
    this.#total -= bytes;
    this.#objects.delete(id);
    this.#owner.delete(id);
    this.#bytes.delete(id);
    this.#grants.delete(id);
    return value;
  }

  /**
   * Forgets everything `who` owns (everything, for the worker itself), freeing what the objects
   * point to unless `freeing` is false. Returns the ids removed.
   */
  clear(who: string, freeing = true): ObjectId[] {
    const ids = who === this.workerId ? [...this.#objects.keys()] : [...this.#objects.keys()].filter((id) => this.#owner.get(id) === who);
    for (const id of ids) {
      const v = this.remove(id);
      if (this.#drop(v) === 0 && freeing) release(v);
    }
    for (const [id, f] of this.#failures) if (who === this.workerId || f.owner === who) this.#failures.delete(id);
    return ids;
  }

  /** Records a command's failure under its result ids (those not holding an object). */
  fail(ids: readonly ObjectId[], error: WireError, owner: string): void {
    for (const id of ids) {
      if (this.#objects.has(id)) continue;
      if (this.#failures.size >= MAX_FAILURES) this.#failures.delete(this.#failures.keys().next().value!);
      this.#failures.set(id, { error, owner });
    }
  }

  /**
   * Lets `to` use, change, take and delete `id`, which `who` owns or was granted (pointer chains:
   * a pointer handed on takes its grant along); `'*'` lets everyone (a worker's published data,
   * whose own policy then refuses all but use), and only the owner or the worker may grant that.
   * Granting an identity that may already use the object changes nothing.
   */
  grant(id: ObjectId, who: string, to: string): void {
    if (!this.#objects.has(id) || !this.may(id, who)) this.notFound(id);
    if (to === '*' && who !== this.workerId && this.#owner.get(id) !== who) {
      throw new PermissionError(`only the owner of object ${id} on '${this.workerId}' can share it with everyone`);
    }
    if (to !== '*' && this.may(id, to)) return;
    let set = this.#grants.get(id);
    if (!set) this.#grants.set(id, (set = new Set()));
    if (set.size >= 64) throw new PermissionError(`object ${id} is shared with 64 identities already`);
    set.add(to);
  }
}

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
