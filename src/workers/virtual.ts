/**
 * A worker in this process. Messages still go through the worker's queue and validation, and
 * are copied (typed arrays get new buffers) so workers never share memory. With
 * `{ serialize: true }` (or SYFT_SERIALIZE=1 for every virtual worker) each message is
 * encoded to bytes and decoded again, exactly as it would cross a network.
 */
import { RemoteError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { AbstractTensor } from '../layer/abstract.js';
import type { Message, ObjectId, RequestMessage, WireValue } from './messages.js';
import { cloneMessage, decodeMessage, encodeMessage } from './serde.js';
import { type RemoteWorker, Worker, type WorkerOptions } from './worker.js';

export interface VirtualWorkerOptions extends WorkerOptions {
  /** Encode and decode every message (default: SYFT_SERIALIZE=1 in the environment). */
  serialize?: boolean;
}

// In-process workers can reach each other by id, as PySyft's virtual workers could.
const directory = new Map<string, VirtualWorker>();

// How `objects` shows a stored tensor layer. tensor.ts installs the Tensor wrapper; importing it
// here would make the workers depend on the whole tensor API.
let wrapForView: (layer: AbstractTensor) => Tensor | object = (layer) => layer;

/** The in-process worker named `id`, if any. */
export function findVirtualWorker(id: string): VirtualWorker | undefined {
  return directory.get(id);
}

/** Called once by tensor.ts. */
export function setObjectView(wrap: (layer: AbstractTensor) => Tensor): void {
  wrapForView = wrap;
}

function serializeByDefault(): boolean {
  return typeof process !== 'undefined' && process.env?.SYFT_SERIALIZE === '1';
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

  constructor(opts: VirtualWorkerOptions) {
    super(opts);
    this.serialize = opts.serialize ?? serializeByDefault();
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

  post(msg: Message, from: Worker): void {
    this.receive(this.transfer(msg), from.id, (r) => {
      // A refused post has no caller waiting: keep the error for whoever inspects the worker.
      if (!r.ok) from.lastRejection = r.error;
    });
  }

  request(msg: RequestMessage, from: Worker): Promise<WireValue> {
    return new Promise((resolve, reject) => {
      this.receive(this.transfer(msg), from.id, (reply) => {
        const r = this.transfer(reply);
        if (r.ok) resolve(r.value);
        else reject(new RemoteError(this.id, r.error.op, r.error.name, r.error.message));
      });
    });
  }

  introduce(peer: RemoteWorker, _from: Worker): void {
    this.addWorker(peer);
  }

  /**
   * A read-only view of the objects this worker holds (PySyft's `_objects`), tensors wrapped
   * so they print and read like any other tensor.
   */
  get objects(): ReadonlyMap<ObjectId, Tensor | object> {
    const view = new Map<ObjectId, Tensor | object>();
    for (const id of this.objectIds()) {
      const v = this.peek(id)!;
      view.set(id, v instanceof AbstractTensor ? wrapForView(v) : v);
    }
    return view;
  }

  /** Forgets every object (in order with the messages already sent here). Returns the worker. */
  clearObjects(): this {
    this.receive({ kind: 'clear' }, this.id);
    return this;
  }

  /** Resolves once every message sent here so far has run. */
  async sync(): Promise<void> {
    await this.request({ kind: 'req', req: 0, op: 'sync', args: [] }, this);
  }

  override toString(): string {
    return `<VirtualWorker id:${this.id} #objects:${this.objectCount}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
