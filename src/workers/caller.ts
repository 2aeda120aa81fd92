/**
 * The request/reply core every transport uses: the calling end of a link to one worker.
 *
 * A transport only moves messages (`transmit`) and hands back the replies that come in
 * (`settle`); this core does the rest, the same way for every transport:
 * - each request gets a fresh id and waits for the reply carrying it, never longer than its
 *   timeout when one is set;
 * - a failure reported by the worker becomes a {@link RemoteError} naming the worker, the op and
 *   its error, here and nowhere else;
 * - a refusal that no caller waits for (a post the worker would not run, a frame it could not
 *   use) is counted and kept (`rejected`, `lastRejection`) and announced, never dropped;
 * - when the link dies (`fail`), every pending request rejects with the reason at once;
 * - the conveniences every remote worker offers: `sync`, `objectIds`, `clearObjects`, `ping`.
 */
import { RemoteError, TimeoutError } from '../errors.js';
import { flushDeletes } from './deletes.js';
import type { Message, ObjectId, ReplyMessage, RequestMessage, WireError, WireValue } from './messages.js';
import type { Sender } from './worker.js';

export interface CallerOptions {
  /** The id of the worker called (it may be learnt late: a WebSocket client learns it in the handshake). */
  peer: () => string;
  /** Moves one message to the worker; throws when it cannot (the link is closed). */
  transmit: (msg: Message, from: Sender) => void;
  /** Who sends the conveniences' messages (`sync`, `clearObjects`...). */
  owner: Sender;
  /** How long a request waits for its reply (ms); undefined: as long as it takes. */
  timeoutMs?: number | undefined;
  /**
   * Where a refusal nobody waits for goes; `from` is the sender when the transport knows it.
   * Default: {@link Caller.noteRejection}.
   */
  onRefused?: (error: WireError, from: Sender | undefined) => void;
  /** Told of every rejection noted (the WebSocket client's `rejection` event). */
  onRejection?: (error: WireError) => void;
}

interface Pending {
  op: string;
  resolve: (v: WireValue) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The calling end of a link to one worker. A transport makes one with how to move a message
 * (`transmit`) and hands it every reply that comes back (`settle`).
 *
 * @example
 * ```ts
 * const caller = new Caller({ peer: () => 'bob', owner: sy.local, transmit: (msg, from) => socket.send(encode(msg)) });
 * socket.onReply = (reply) => caller.settle(reply);
 * await caller.sync();
 * ```
 */
export class Caller {
  /** How long requests wait for their reply (ms); undefined: no limit. */
  timeoutMs: number | undefined;
  /** Refusals no caller waited for, and the last one. */
  rejected = 0;
  lastRejection: WireError | undefined;
  readonly owner: Sender;
  readonly #opts: CallerOptions;
  readonly #pending = new Map<number, Pending>();
  #next = 1;

  constructor(opts: CallerOptions) {
    this.#opts = opts;
    this.owner = opts.owner;
    this.timeoutMs = opts.timeoutMs;
  }

  /** Requests still waiting for their reply. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Sends a message no reply is awaited for; the worker runs it in order with the others from `from`. */
  post(msg: Message, from: Sender): void {
    this.#opts.transmit(msg, from);
  }

  /** Sends a request; resolves with its reply's value, rejects with a RemoteError, a TimeoutError or the link's failure. */
  request(msg: RequestMessage, from: Sender, timeoutMs = this.timeoutMs): Promise<WireValue> {
    return new Promise((resolve, reject) => {
      const req = this.#next++;
      const p: Pending = { op: msg.op, resolve, reject, timer: undefined };
      // Registered before it leaves: an in-process worker may answer before transmit returns.
      this.#pending.set(req, p);
      if (timeoutMs !== undefined) {
        p.timer = setTimeout(() => {
          this.#pending.delete(req);
          reject(
            new TimeoutError(
              `worker '${this.#opts.peer()}' did not answer '${msg.op}' within ${timeoutMs} ms: it may still be busy with earlier work ` +
                '(raise { timeoutMs }), or be unreachable',
            ),
          );
        }, timeoutMs);
      }
      try {
        this.#opts.transmit({ kind: 'req', req, op: msg.op, args: msg.args }, from);
      } catch (e) {
        this.#pending.delete(req);
        if (p.timer !== undefined) clearTimeout(p.timer);
        reject(e as Error);
      }
    });
  }

  /** A request of the owner's. */
  call(op: string, args: WireValue[], timeoutMs = this.timeoutMs): Promise<WireValue> {
    return this.request({ kind: 'req', req: 0, op, args }, this.owner, timeoutMs);
  }

  /**
   * Hands a reply that came in to the request waiting for it. A reply nobody waits for is the
   * refusal of a post (or a late answer to a request that timed out): kept when it is an error.
   */
  settle(r: ReplyMessage, from?: Sender): void {
    const p = this.#pending.get(r.req);
    if (!p) {
      if (!r.ok) (this.#opts.onRefused ?? ((e) => this.noteRejection(e)))(r.error, from);
      return;
    }
    this.#pending.delete(r.req);
    if (p.timer !== undefined) clearTimeout(p.timer);
    if (r.ok) p.resolve(r.value);
    else p.reject(new RemoteError(this.#opts.peer(), r.error.op, r.error.name, r.error.message));
  }

  /** Keeps a refusal visible: counted, remembered and announced. */
  noteRejection(error: WireError): void {
    this.rejected++;
    this.lastRejection = error;
    this.#opts.onRejection?.(error);
  }

  /** The link died (or the worker lost this side's session): every pending request rejects with `err`. */
  fail(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.reject(err);
    }
  }

  // ---- what every remote worker offers ----------------------------------------------------

  /** Resolves once the worker has run everything sent to it so far (pending frees included). */
  async sync(): Promise<void> {
    flushDeletes();
    await this.call('sync', []);
  }

  /** Ids of the objects the worker holds. */
  async objectIds(): Promise<ObjectId[]> {
    return (await this.call('ids', [])) as ObjectId[];
  }

  /** Tells the worker to forget every object it holds (in order with what was sent before). */
  clearObjects(): void {
    this.post({ kind: 'clear' }, this.owner);
  }

  /** A round trip to the worker. */
  async ping(): Promise<void> {
    await this.call('ping', []);
  }
}
