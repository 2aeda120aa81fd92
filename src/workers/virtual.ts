/**
 * A worker in this process. Messages still go through the worker's queue and validation, and
 * are copied (typed arrays get new buffers) so workers never share memory. With
 * `{ serialize: true }` (or SYFT_SERIALIZE=1 for every virtual worker) each message is
 * encoded to bytes and decoded again, exactly as it would cross a network.
 */
import type { Caller } from './caller.js';
import { type TensorHandle, handles } from './handles.js';
import { inProcessCaller } from './in-process.js';
import { type SearchQuery, searchWorker } from './search.js';
import type { Message, ObjectId, RequestMessage, WireValue } from './messages.js';
import { cloneMessage, decodeMessage, encodeMessage } from './serde.js';
import { type RemoteWorker, type Sender, Worker, type WorkerOptions } from './worker.js';
import { envVar } from '../util/node.js';

export interface VirtualWorkerOptions extends WorkerOptions {
  /** Encode and decode every message (default: SYFT_SERIALIZE=1 in the environment). */
  serialize?: boolean;
}

// In-process workers can reach each other by id, as PySyft's virtual workers could.
const directory = new Map<string, VirtualWorker>();

/** The in-process worker named `id`, if any. */
export function findVirtualWorker(id: string): VirtualWorker | undefined {
  return directory.get(id);
}

function serializeByDefault(): boolean {
  return envVar('SYFT_SERIALIZE') === '1';
}

/**
 * A worker living in this process.
 *
 * @example
 * ```ts
 * const bob = new sy.VirtualWorker({ id: 'bob' });
 * const x = sy.tensor([1, 2, 3]).send(bob);   // a pointer
 * const y = x.add(x);                           // runs on bob
 * console.log((await y.get()).toString());      // tensor([2., 4., 6.])
 * ```
 */
export class VirtualWorker extends Worker implements RemoteWorker {
  readonly serialize: boolean;
  readonly #caller: Caller;

  constructor(opts: VirtualWorkerOptions) {
    super(opts);
    this.serialize = opts.serialize ?? serializeByDefault();
    const copy = <T extends Message>(m: T): T => this.transfer(m);
    this.#caller = inProcessCaller(this, { copyIn: copy, copyOut: copy });
    directory.set(this.id, this);
  }

  asRemote(): RemoteWorker {
    return this;
  }

  protected override findPeer(id: string): RemoteWorker | undefined {
    return directory.get(id);
  }

  private transfer<T extends Message>(m: T): T {
    return this.serialize ? (decodeMessage(encodeMessage(m)) as T) : cloneMessage(m);
  }

  post(msg: Message, from: Sender): void {
    this.#caller.post(msg, from);
  }

  request(msg: RequestMessage, from: Sender): Promise<WireValue> {
    return this.#caller.request(msg, from);
  }

  introduce(peer: RemoteWorker, _from: Sender): void {
    this.addWorker(peer);
  }

  /**
   * A read-only view of the objects this worker holds (PySyft's `_objects`), tensors wrapped
   * so they print and read like any other tensor.
   */
  get objects(): ReadonlyMap<ObjectId, TensorHandle | object> {
    const view = new Map<ObjectId, TensorHandle | object>();
    const ids = this.objectIds();
    if (ids.length === 0) return view;
    const show = handles().view;
    for (const id of ids) view.set(id, show(this.peek(id)!));
    return view;
  }

  /**
   * Pointers to the tensors this worker holds that carry every tag of `query` (PySyft's
   * `worker.search`), in the order they were stored, with their tags and description. They are
   * borrowed: dropping one frees nothing. An empty list finds every tagged tensor.
   *
   * @example
   * ```ts
   * sy.tensor([1, 2, 3]).tag('#mnist', '#train').send(bob);
   * const [data] = await bob.search(['#mnist', '#train']);
   * data.location === bob;   // true: compute on it by pointer
   * ```
   */
  async search(query: SearchQuery): Promise<TensorHandle[]> {
    // Imported here: the local worker is a VirtualWorker made by a module that imports this one.
    const { local } = await import('./local.js');
    return searchWorker(this.#caller, this, local, query);
  }

  /** Forgets every object (in order with the messages already sent here). Returns the worker. */
  clearObjects(): this {
    this.#caller.clearObjects();
    return this;
  }

  /** Resolves once every message sent here so far has run (pending frees included). */
  async sync(): Promise<void> {
    await this.#caller.sync();
  }

  override toString(): string {
    return `<VirtualWorker id:${this.id} #objects:${this.objectCount}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
