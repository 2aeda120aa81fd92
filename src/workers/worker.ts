/**
 * A worker owns an object store and runs the messages it receives, in arrival order. The same
 * class serves in-process workers and network workers: transports only decide how messages
 * arrive and how replies leave.
 *
 * Guarantees that the rest of syft-ts builds on:
 * - Messages from one sender run in the order sent. A command may be asynchronous (a protocol
 *   step waiting for a peer); the next message waits for it. Peer values (`peer`) skip the
 *   queue and go to the mailbox, so parties waiting on each other cannot deadlock.
 * - A malformed or refused message changes nothing. A well-formed command that fails records
 *   its error under its result ids (apart from the objects), so the failure surfaces where the
 *   caller waits: `await pointer.get()`.
 */
import { ObjectNotFoundError, ProtocolError, SyftError, ValueError, WireFormatError } from '../errors.js';
import { AbstractTensor } from '../layer/abstract.js';
import { type CommandContext, getCommand, unknownCommandMessage } from './commands.js';
import { decodeObject, encodeObject } from './codec.js';
import { Mailbox } from './mailbox.js';
import { ObjectStore } from './store.js';
import { parseQuery, searchObjects } from './tags.js';
import {
  type CommandMessage,
  type Message,
  type ObjectId,
  type ReplyMessage,
  type RequestMessage,
  type WireError,
  type WireValue,
  isObjectId,
  validateMessage,
} from './messages.js';

/**
 * Who sends a message, as far as a transport needs to know: the id its messages carry, and where
 * the refusal of a post it made (one no caller waits for) is kept for inspection. Every
 * {@link Worker} is one.
 */
export interface Sender {
  readonly id: string;
  lastRejection?: WireError | undefined;
}

/** A worker as seen from elsewhere: where pointers point and where commands go. */
export interface RemoteWorker {
  readonly id: string;
  /** Delivers a message. Messages from one sender are processed in the order posted. */
  post(msg: Message, from: Sender): void;
  /** Sends a request, resolving with the reply's value or rejecting with a RemoteError. */
  request(msg: RequestMessage, from: Sender): Promise<WireValue>;
  /** Makes sure this worker can send protocol values to `peer`. */
  introduce(peer: RemoteWorker, from: Sender): void;
  /**
   * False for a worker that cannot hold pointers to other workers (pointer chains): a WebSocket
   * worker's links to its peers carry protocol values only, not forwarded commands. Default true.
   */
  readonly holdsPointers?: boolean;
}

export interface WorkerOptions {
  /** The worker's name, as peers and pointers refer to it. */
  id: string;
  /** How long a protocol step waits for a peer's value (ms). Default 60 s. */
  timeoutMs?: number;
}

/** A command that failed: kept apart from the objects, reported by `get()`. */
interface Failure extends WireError {}

/** Raised when a command reads an object whose own command failed. Carries the first failure. */
class InputFailed extends SyftError {
  constructor(readonly original: Failure) {
    super(original.message);
  }
}

type Reply = (r: ReplyMessage) => void;

interface QueueItem {
  msg: Message;
  from: string;
  reply: Reply | undefined;
}

const MAX_FAILURES = 10_000;

export function toWireError(e: unknown, op: string): WireError {
  if (e instanceof InputFailed) return e.original;
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err instanceof SyftError || err instanceof Error ? err.name : 'Error', message: err.message, op };
}

/** Pointers inside an object that leaves this worker now belong to its receiver. */
export function handOver(v: object): void {
  if (!(v instanceof AbstractTensor)) return;
  for (const l of v.layers()) (l as { handOver?: () => void }).handOver?.();
}

export abstract class Worker {
  readonly id: string;
  /** How long protocol steps wait for peers (ms). */
  timeoutMs: number;
  readonly mailbox = new Mailbox();
  /** Frees what a freed object points to (pointer chains): see store.ts. */
  protected readonly store = new ObjectStore();
  private readonly failures = new Map<ObjectId, Failure>();
  protected readonly peers = new Map<string, RemoteWorker>();
  private queue: QueueItem[] = [];
  private head = 0;
  private draining = false;
  // Commands' work that outlives them (CommandContext.background); the worker is idle only at 0.
  private backgroundWork = 0;
  /** How many messages were refused (malformed, unknown op, bad ids). */
  rejected = 0;
  /** The last refusal, for diagnostics. */
  lastRejection: WireError | undefined;
  /** Called whenever the queue has run dry (transports use it to know the worker is idle). */
  onIdle: (() => void) | undefined;

  constructor(opts: WorkerOptions) {
    if (typeof opts.id !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(opts.id)) {
      throw new ValueError(`worker id must be 1-64 letters, digits or _.:- characters, got ${JSON.stringify(opts.id)}`);
    }
    this.id = opts.id;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  // ---- peers ------------------------------------------------------------------------------

  /** Lets this worker send to `workers` (PySyft's `add_workers`). */
  addWorkers(workers: readonly RemoteWorker[]): this {
    for (const w of workers) if (w.id !== this.id) this.peers.set(w.id, w);
    return this;
  }

  addWorker(worker: RemoteWorker): this {
    return this.addWorkers([worker]);
  }

  /** The worker `id` as this worker reaches it. */
  resolvePeer(id: string): RemoteWorker {
    const p = this.peers.get(id) ?? this.findPeer(id);
    if (!p) {
      throw new ProtocolError(`worker '${this.id}' does not know worker '${id}': call ${this.id}.addWorkers([${id}])`);
    }
    return p;
  }

  /** Transports may know more workers than were added (in-process workers know each other). */
  protected findPeer(_id: string): RemoteWorker | undefined {
    return undefined;
  }

  /** The worker as a message target; `this` for in-process workers. */
  abstract asRemote(): RemoteWorker;

  // ---- the store --------------------------------------------------------------------------

  /** Ids of the objects held, in insertion order. */
  objectIds(): ObjectId[] {
    return [...this.store.keys()];
  }

  /** The object stored under `id`, or undefined. For inspection and tests. */
  peek(id: ObjectId): object | undefined {
    return this.store.get(id);
  }

  get objectCount(): number {
    return this.store.size;
  }

  /** Stores an object directly (no message). Used by the transports and in-process code. */
  protected put(id: ObjectId, value: object): void {
    if (this.store.has(id)) throw new ValueError(`worker '${this.id}' already holds an object ${id}`);
    this.failures.delete(id);
    this.store.set(id, value);
  }

  protected clearStore(): void {
    this.store.freeAll();
    this.failures.clear();
  }

  private resolve(id: ObjectId): object {
    const f = this.failures.get(id);
    if (f) throw new InputFailed(f);
    const v = this.store.get(id);
    if (v === undefined) throw new ObjectNotFoundError(this.id, id);
    return v;
  }

  private fail(ids: readonly ObjectId[], e: unknown, op: string): void {
    const f = toWireError(e, op);
    for (const id of ids) {
      if (this.store.has(id)) continue;
      if (this.failures.size >= MAX_FAILURES) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(id, f);
    }
  }

  // ---- receiving --------------------------------------------------------------------------

  /**
   * Entry point for transports. `from` is the sender's id as the transport authenticated it;
   * `reply` carries the answer to a request, or the error for a refused message.
   */
  receive(raw: unknown, from: string, reply?: Reply): void {
    let msg: Message;
    try {
      msg = validateMessage(raw);
      if (msg.kind === 'cmd') this.checkCommand(msg);
    } catch (e) {
      this.refuse(e, raw, reply);
      return;
    }
    if (msg.kind === 'peer') {
      if (!this.mailbox.deliver(from, msg.session, msg.tag, msg.payload)) {
        this.refuse(new ProtocolError(`refused a duplicate or excess '${msg.tag}' from '${from}'`), raw, reply);
      }
      return;
    }
    if (msg.kind === 'reply') {
      this.refuse(new WireFormatError('a worker does not accept replies'), raw, reply);
      return;
    }
    this.queue.push({ msg, from, reply });
    if (!this.draining) this.drain();
  }

  private checkCommand(m: CommandMessage): void {
    const spec = getCommand(m.op);
    if (!spec) throw new WireFormatError(unknownCommandMessage(m.op));
    if (m.ret.length !== spec.results) {
      throw new WireFormatError(`'${m.op}' fills ${spec.results} result id(s), the message gives ${m.ret.length}`);
    }
    if (spec.needsSelf && m.self === undefined) throw new WireFormatError(`'${m.op}' needs a target object`);
    if (new Set(m.ret).size !== m.ret.length) throw new WireFormatError('result ids must differ');
  }

  private refuse(e: unknown, raw: unknown, reply: Reply | undefined): void {
    this.rejected++;
    const op = raw !== null && typeof raw === 'object' && typeof (raw as { op?: unknown }).op === 'string'
      ? String((raw as { op: string }).op).slice(0, 64)
      : String((raw as { kind?: unknown } | null)?.kind ?? 'message').slice(0, 64);
    const error = toWireError(e, op);
    this.lastRejection = error;
    const req = raw !== null && typeof raw === 'object' && Number.isSafeInteger((raw as { req?: unknown }).req)
      ? (raw as { req: number }).req
      : 0;
    reply?.({ kind: 'reply', req, ok: false, error });
  }

  private drain(): void {
    this.draining = true;
    while (this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as QueueItem;
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        // Long asynchronous runs never empty the queue: drop the consumed front now and then.
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      const pending = this.process(item);
      if (pending) {
        pending.then(() => this.drain());
        return;
      }
    }
    this.queue = [];
    this.head = 0;
    this.draining = false;
    if (this.backgroundWork === 0) this.onIdle?.();
  }

  // Runs one message; returns a promise only when it must be waited for.
  private process({ msg, from, reply }: QueueItem): Promise<void> | undefined {
    switch (msg.kind) {
      case 'cmd':
        return this.runCommand(msg, from);
      case 'store':
        try {
          if (this.store.has(msg.id)) throw new ValueError(`object ${msg.id} exists already`);
          this.put(msg.id, decodeObject(msg.obj, { worker: this }));
        } catch (e) {
          this.fail([msg.id], e, 'send');
        }
        return undefined;
      case 'del':
        for (const id of msg.ids) this.forget(id);
        return undefined;
      case 'clear':
        this.clearStore();
        return undefined;
      case 'req': {
        const answer = (r: ReplyMessage) => reply?.(r);
        try {
          const v = this.handleRequest(msg, from);
          if (v instanceof Promise) {
            return v.then(
              (value) => answer({ kind: 'reply', req: msg.req, ok: true, value }),
              (e: unknown) => answer({ kind: 'reply', req: msg.req, ok: false, error: toWireError(e, msg.op) }),
            );
          }
          answer({ kind: 'reply', req: msg.req, ok: true, value: v });
        } catch (e) {
          answer({ kind: 'reply', req: msg.req, ok: false, error: toWireError(e, msg.op) });
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** Drops an object (a `del` message, or the end of its session), and frees what it points to. */
  protected forget(id: ObjectId): void {
    this.store.free(id);
    this.failures.delete(id);
  }

  private context(m: CommandMessage, from: string): CommandContext {
    return {
      worker: this,
      from,
      selfId: m.self,
      ret: m.ret,
      arg: (v) => this.argument(v),
      replace: (id, value) => {
        if (!this.store.has(id)) throw new ObjectNotFoundError(this.id, id);
        this.store.set(id, value);
      },
      forget: (id) => this.forget(id),
      take: (id) => {
        const v = this.resolve(id);
        this.store.delete(id);
        return v;
      },
      send: (to, session, tag, payload) =>
        this.resolvePeer(to).post({ kind: 'peer', session, tag, payload }, this),
      recv: (peer, session, tag) => this.mailbox.wait(peer, session, tag, this.timeoutMs),
      background: (work) => {
        this.backgroundWork++;
        void work.finally(() => {
          this.backgroundWork--;
          if (this.backgroundWork === 0 && !this.draining) this.onIdle?.();
        });
      },
    };
  }

  private argument(v: WireValue | undefined): unknown {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      const o = v as Record<string, WireValue>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === 'ref') {
        if (!isObjectId(o.ref)) throw new WireFormatError('a reference must hold an object id');
        return this.resolve(o.ref);
      }
      if (keys.length === 1 && keys[0] === 'obj') return decodeObject(o.obj!, { worker: this });
    }
    return v;
  }

  private runCommand(m: CommandMessage, from: string): Promise<void> | undefined {
    const spec = getCommand(m.op)!;
    try {
      const self = m.self === undefined ? undefined : this.resolve(m.self);
      const out = spec.run(this.context(m, from), self, m.args);
      if (out instanceof Promise) {
        return out.then(
          (v) => this.storeResults(m, spec.results, v),
          (e: unknown) => this.fail(m.ret, e, m.op),
        );
      }
      this.storeResults(m, spec.results, out);
    } catch (e) {
      this.fail(m.ret, e, m.op);
    }
    return undefined;
  }

  private storeResults(m: CommandMessage, count: number, out: unknown): void {
    if (count === 0) return;
    const values = count === 1 ? [out] : (out as unknown[]);
    if (!Array.isArray(values) || values.length !== count || !values.every((v) => v !== null && typeof v === 'object')) {
      this.fail(m.ret, new ValueError(`'${m.op}' produced no object to store`), m.op);
      return;
    }
    m.ret.forEach((id, i) => {
      try {
        this.put(id, values[i] as object);
      } catch (e) {
        this.fail([id], e, m.op);
      }
    });
  }

  /** Requests that get a reply. Subclasses may add their own. */
  protected handleRequest(m: RequestMessage, _from: string): WireValue | Promise<WireValue> {
    switch (m.op) {
      case 'get': {
        const id = m.args[0];
        const keep = m.args[1] === true;
        if (!isObjectId(id)) throw new WireFormatError('get needs an object id');
        const f = this.failures.get(id);
        if (f) {
          if (!keep) this.failures.delete(id);
          throw new InputFailed(f);
        }
        const v = this.store.get(id);
        if (v === undefined) throw new ObjectNotFoundError(this.id, id);
        const node = encodeObject(v);
        if (!keep) {
          this.store.delete(id);
          handOver(v);
        }
        return node;
      }
      case 'sync':
      case 'ping':
        return m.op === 'ping' ? 'pong' : null;
      case 'ids':
        return this.objectIds();
      case 'search':
        return searchObjects(this.store, parseQuery(m.args));
      default:
        throw new WireFormatError(`unknown request '${m.op}'`);
    }
  }

  /** Fails everything pending (the worker is going away). */
  protected abortPending(reason: string): void {
    this.mailbox.abortAll(new ProtocolError(reason));
  }
}
