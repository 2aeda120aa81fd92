/**
 * Data a worker's owner publishes, and its policy.
 *
 * A data owner offers data for computation without sending it anywhere: the worker's owner
 * publishes a tensor under a tag (`WebsocketServerWorker.publish`), clients find it by tag
 * (`client.search(tag)`, answered by the worker's search over tagged objects: ../tags.ts) and
 * compute on it by pointer. The policy, checked on every path in: a published object cannot be
 * fetched (`get`), moved (`sendTo`), overwritten (`store`), changed in place (ops ending in `_`,
 * tags included, `setGrad`, `backward`) or deleted; it belongs to no session and outlives them all.
 * (Results computed from it are ordinary objects.)
 */
import { ValueError } from '../../errors.js';
import type { Message, ObjectId } from '../messages.js';
import { PermissionError } from './errors.js';

export { checkTag } from '../tags.js';

/** A published object, as `published(tag)` lists it. */
export type Published = { id: ObjectId; shape: number[] };

// ---- the worker's half ----------------------------------------------------------------------

/**
 * The tensor layer inside a user's tensor held in this process, found without importing the
 * tensor layer: a `Tensor` has its first layer as `child`, a `shape`, and says whether it is a
 * pointer. Anything else (a pointer, a bare layer, a number) is refused.
 */
export function localTensor(value: unknown): { layer: object; shape: number[] } {
  const t = value as { child?: unknown; shape?: unknown; isPointer?: unknown } | null;
  if (t === null || typeof t !== 'object' || t.isPointer !== false || typeof t.child !== 'object' || t.child === null || !Array.isArray(t.shape)) {
    throw new ValueError('publish() takes a tensor held in this process');
  }
  return { layer: t.child, shape: [...(t.shape as number[])] };
}

export class PublishedData {
  // id -> tag and shape.
  readonly #byId = new Map<ObjectId, { tag: string; shape: number[] }>();

  constructor(private readonly workerId: string) {}

  get size(): number {
    return this.#byId.size;
  }

  has(id: ObjectId): boolean {
    return this.#byId.has(id);
  }

  ids(): ObjectId[] {
    return [...this.#byId.keys()];
  }

  add(id: ObjectId, tag: string, shape: number[]): void {
    this.#byId.set(id, { tag, shape });
  }

  /** Forgets `id`; false when it was not published. */
  remove(id: ObjectId): boolean {
    return this.#byId.delete(id);
  }

  /** Ids and shapes of what is published under `tag`. */
  list(tag: string): Published[] {
    const out: Published[] = [];
    for (const [id, h] of this.#byId) if (h.tag === tag) out.push({ id, shape: [...h.shape] });
    return out;
  }

  /** The refusal of a message that would take published data away or change it, if it would. */
  refusal(msg: Message): PermissionError | undefined {
    if (this.#byId.size === 0) return undefined;
    let use: string | undefined;
    if (msg.kind === 'cmd' && msg.self !== undefined && this.#byId.has(msg.self)) {
      if (msg.op === 'sendTo') use = 'moved to another worker';
      else if (msg.op.endsWith('_') || msg.op === 'setGrad' || msg.op === 'backward') use = `changed in place ('${msg.op}')`;
    }
    if (msg.kind === 'store' && this.#byId.has(msg.id)) use = 'overwritten';
    if (use === undefined) return undefined;
    return new PermissionError(`a tensor that worker '${this.workerId}' published (its owner's data) cannot be ${use}: compute on it by pointer`);
  }

  /** Refuses a `get` of published data. */
  refuseGet(id: ObjectId): never {
    throw new PermissionError(`object ${id} is data that worker '${this.workerId}' published: it does not leave the worker (compute on it by pointer)`);
  }
}
