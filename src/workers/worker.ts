/**
 * A worker owns an object store and runs the messages it receives. The same class serves
 * in-process workers and network workers: transports only decide how messages arrive and how
 * replies leave, and which identity (`from`) sent them.
 *
 * Guarantees that the rest of syft-ts builds on:
 * - Messages from one sender run in the order sent, in that sender's own queue (queues.ts). A
 *   command may be asynchronous (a protocol step waiting for a peer); that sender's next message
 *   waits for it, other senders' do not. Peer values (`peer`) skip the queues and go to the
 *   mailbox, so parties waiting on each other cannot deadlock.
 * - Objects belong to the sender that made them (store.ts): no other identity can use, change,
 *   take or delete them unless the owner grants it.
 * - Every cost a message can cause has a limit (limits.ts); a message past one is refused with a
 *   QuotaError and changes nothing.
 * - A malformed or refused message changes nothing. A well-formed command that fails records
 *   its error under its result ids (apart from the objects), so the failure surfaces where the
 *   caller waits: `await pointer.get()`; a command without results that fails answers its
 *   sender with the error, naming the op.
 */
import { ProtocolError, SyftError, ValueError, WireFormatError } from '../errors.js';
import { AbstractTensor } from '../layer/abstract.js';
import { type CommandContext, getCommand, unknownCommandMessage } from './commands.js';
import { decodeObject, encodeObject } from './codec.js';
import { withHops } from './forwarding.js';
import { type WorkerLimits, resolveLimits, within } from './limits.js';
import { Mailbox } from './mailbox.js';
import { SenderQueues } from './queues.js';
import { InputFailed, ObjectStore, checkMayLeave } from './store.js';
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
  /** What one sender may cost the worker (see {@link WorkerLimits}); defaults serve the library's workloads. */
  limits?: Partial<WorkerLimits>;
}

type Reply = (r: ReplyMessage) => void;

interface QueueItem {
  msg: Message;
  from: string;
  reply: Reply | undefined;
}

/** How a transport hands a message in (see {@link Worker.receive}). */
export interface ReceiveOptions {
  /** The queue it waits in, when not its sender's own (a worker freeing a session's objects after that session's commands). */
  queue?: string;
}

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

/**
 * Grants `recipient` use of what the pointers inside `v` name, before `v` leaves for it: the
 * pointers that arrive there must work at their locations, whose objects this worker owns.
 */
function grantPointers(v: object, recipient: string): Promise<void>[] {
  if (!(v instanceof AbstractTensor)) return [];
  const grants: Promise<void>[] = [];
  for (const l of v.layers()) {
    const g = (l as { grantTo?: (to: string) => Promise<void> }).grantTo;
    if (g) grants.push(g.call(l, recipient));
  }
  return grants;
}

export abstract class Worker {
  readonly id: string;
  /** How long protocol steps wait for peers (ms). */
  timeoutMs: number;
  /** What one sender may cost this worker. */
  readonly limits: WorkerLimits;
  readonly mailbox: Mailbox;
  /** Objects, their owners and grants; frees what a freed object points to (see store.ts). */
  protected readonly store: ObjectStore;
  protected readonly peers = new Map<string, RemoteWorker>();
  private readonly queues: SenderQueues<QueueItem>;
  // Commands' work that outlives them (CommandContext.background); the worker is idle only at 0.
  private backgroundWork = 0;
  /** How many messages were refused (malformed, unknown op, bad ids, over a limit). */
  rejected = 0;
  /** The last refusal, for diagnostics. */
  lastRejection: WireError | undefined;
  /** Called whenever every queue has run dry (transports use it to know the worker is idle). */
  onIdle: (() => void) | undefined;

  constructor(opts: WorkerOptions) {
    if (typeof opts.id !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(opts.id)) {
      throw new ValueError(`worker id must be 1-64 letters, digits or _.:- characters, got ${JSON.stringify(opts.id)}`);
    }
    this.id = opts.id;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.limits = resolveLimits(opts.limits);
    this.store = new ObjectStore(this.id, () => this.limits);
    this.mailbox = new Mailbox(100_000, () => this.limits.maxMailboxPerSender);
    this.queues = new SenderQueues<QueueItem>((item) => this.process(item), () => this.limits, () => {
      if (this.backgroundWork === 0) this.onIdle?.();
    });
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

  /** Ids of the objects held, in insertion order (all of them: in-process inspection). */
  objectIds(): ObjectId[] {
    return this.store.ids();
  }

  /** The object stored under `id`, or undefined. For inspection and tests. */
  peek(id: ObjectId): object | undefined {
    return this.store.peek(id);
  }

  get objectCount(): number {
    return this.store.size;
  }

  /** Bytes of tensor data held, by every sender. */
  get bytesHeld(): number {
    return this.store.bytes;
  }

  /** Objects and bytes `sender` holds here. */
  usageOf(sender: string): { objects: number; bytes: number } {
    return { ...this.store.usage(sender) };
  }

  /**
   * Stores an object, owned by `owner` (the worker itself by default). Every object a message
   * creates comes through here, so a subclass may watch what the worker holds.
   */
  protected put(id: ObjectId, value: object, owner = this.id): void {
    this.store.put(id, value, owner);
  }

  protected clearStore(who = this.id): void {
    this.store.clear(who);
  }

  // ---- receiving --------------------------------------------------------------------------

  /**
   * Entry point for transports. `from` is the sender's id as the transport authenticated it;
   * `reply` carries the answer to a request, or the error for a refused message.
   */
  receive(raw: unknown, from: string, reply?: Reply, opts: ReceiveOptions = {}): void {
    let msg: Message;
    try {
      msg = validateMessage(raw);
      if (msg.kind === 'cmd') this.checkCommand(msg);
    } catch (e) {
      this.refuse(e, raw, reply);
      return;
    }
    if (msg.kind === 'peer') {
      const why = this.mailbox.deliver(from, msg.session, msg.tag, msg.payload);
      if (why) this.refuse(new ProtocolError(`refused a '${msg.tag}' from '${from}': ${why}`), raw, reply);
      return;
    }
    if (msg.kind === 'reply') {
      this.refuse(new WireFormatError('a worker does not accept replies'), raw, reply);
      return;
    }
    try {
      this.queues.push(opts.queue ?? from, { msg, from, reply });
    } catch (e) {
      this.refuse(e, raw, reply);
    }
  }

  private checkCommand(m: CommandMessage): void {
    const spec = getCommand(m.op);
    if (!spec) throw new WireFormatError(unknownCommandMessage(m.op));
    if (m.ret.length !== spec.results) {
      throw new WireFormatError(`'${m.op}' fills ${spec.results} result id(s), the message gives ${m.ret.length}`);
    }
    if (spec.needsSelf && m.self === undefined) throw new WireFormatError(`'${m.op}' needs a target object`);
    if (new Set(m.ret).size !== m.ret.length) throw new WireFormatError('result ids must differ');
    if (m.hops !== undefined) {
      within(this.limits, 'maxHops', m.hops, `a command forwarded through ${m.hops} pointers (a cycle of pointers?)`);
    }
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

  /** Resolves once every message queued here so far, by any sender, has run. */
  protected settled(): Promise<void> {
    return this.queues.barrier((done) => ({ msg: { kind: 'req', req: 0, op: 'ping', args: [] }, from: this.id, reply: () => done() }), this.id);
  }

  // Runs one message; returns a promise only when its sender's next message must wait for it.
  private process({ msg, from, reply }: QueueItem): Promise<void> | undefined {
    switch (msg.kind) {
      case 'cmd':
        return this.runCommand(msg, from, reply);
      case 'store':
        try {
          this.put(msg.id, decodeObject(msg.obj, { worker: this }), from);
        } catch (e) {
          this.store.fail([msg.id], toWireError(e, 'send'), from);
          reply?.({ kind: 'reply', req: 0, ok: false, error: toWireError(e, 'send') });
        }
        return undefined;
      case 'del':
        for (const id of msg.ids) this.forget(id, from);
        return undefined;
      case 'clear':
        this.clearStore(from);
        return undefined;
      case 'req': {
        const answer = (r: ReplyMessage) => reply?.(r);
        try {
          const v = msg.op === 'sync' && from === this.id ? this.settled().then(() => null) : this.handleRequest(msg, from);
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

  /**
   * Drops an object `who` may delete (a `del` message, or the end of its session), and frees what
   * it points to.
   */
  protected forget(id: ObjectId, who = this.id): void {
    this.store.free(id, who);
  }

  private context(m: CommandMessage, from: string): CommandContext {
    return {
      worker: this,
      from,
      selfId: m.self,
      ret: m.ret,
      limits: this.limits,
      arg: (v) => this.argument(v, from),
      replace: (id, value) => this.store.replace(id, value, from),
      forget: (id) => this.forget(id, from),
      take: (id, who) => this.store.take(id, who ?? from),
      grant: (id, to) => this.store.grant(id, from, to),
      grantPointers: (v, to) => {
        const grants = grantPointers(v, to);
        return grants.length === 0 ? undefined : Promise.all(grants).then(() => undefined);
      },
      send: (to, session, tag, payload) =>
        this.resolvePeer(to).post({ kind: 'peer', session, tag, payload }, this),
      recv: (peer, session, tag) => this.mailbox.wait(peer, session, tag, this.timeoutMs),
      background: (work) => {
        this.backgroundWork++;
        void work.finally(() => {
          this.backgroundWork--;
          if (this.backgroundWork === 0 && this.queues.isIdle) this.onIdle?.();
        });
      },
    };
  }

  private argument(v: WireValue | undefined, from: string): unknown {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      const o = v as Record<string, WireValue>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === 'ref') {
        if (!isObjectId(o.ref)) throw new WireFormatError('a reference must hold an object id');
        return this.store.access(o.ref, from);
      }
      if (keys.length === 1 && keys[0] === 'obj') return decodeObject(o.obj!, { worker: this });
    }
    return v;
  }

  private runCommand(m: CommandMessage, from: string, reply: Reply | undefined): Promise<void> | undefined {
    const spec = getCommand(m.op)!;
    // Results land in the store; a command with none answers its failure to its sender.
    const failed = (e: unknown) => {
      const error = toWireError(e, m.op);
      if (m.ret.length > 0) this.store.fail(m.ret, error, from);
      else reply?.({ kind: 'reply', req: 0, ok: false, error });
    };
    try {
      const self = m.self === undefined ? undefined : this.store.access(m.self, from);
      const out = withHops(m.hops ?? 0, () => spec.run(this.context(m, from), self, m.args));
      if (out instanceof Promise) return out.then((v) => this.storeResults(m, spec.results, v, from), failed);
      this.storeResults(m, spec.results, out, from);
    } catch (e) {
      failed(e);
    }
    return undefined;
  }

  private storeResults(m: CommandMessage, count: number, out: unknown, from: string): void {
    if (count === 0) return;
    const values = count === 1 ? [out] : (out as unknown[]);
    if (!Array.isArray(values) || values.length !== count || !values.every((v) => v !== null && typeof v === 'object')) {
      this.store.fail(m.ret, toWireError(new ValueError(`'${m.op}' produced no object to store`), m.op), from);
      return;
    }
    m.ret.forEach((id, i) => {
      try {
        this.put(id, values[i] as object, from);
      } catch (e) {
        this.store.fail([id], toWireError(e, m.op), from);
      }
    });
  }

  /** Requests that get a reply. Subclasses may add their own. */
  protected handleRequest(m: RequestMessage, from: string): WireValue | Promise<WireValue> {
    switch (m.op) {
      case 'get': {
        const id = m.args[0];
        const keep = m.args[1] === true;
        if (!isObjectId(id)) throw new WireFormatError('get needs an object id');
        const f = this.store.failure(id, from);
        if (f) {
          if (!keep) this.store.delete(id, from);
          throw new InputFailed(f);
        }
        const v = this.store.access(id, from, keep ? 'use' : 'take');
        checkMayLeave(v, this.id, 'fetched with get()');
        const node = encodeObject(v);
        const grants = grantPointers(v, from);
        if (!keep) {
          this.store.delete(id, from);
          handOver(v);
        }
        return grants.length === 0 ? node : Promise.all(grants).then(() => node);
      }
      case 'grant': {
        const [id, to] = m.args;
        if (!isObjectId(id) || typeof to !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(to)) {
          throw new WireFormatError('grant takes an object id and the id of the worker or client to share it with');
        }
        this.store.grant(id, from, to);
        return null;
      }
      case 'sync':
      case 'ping':
        return m.op === 'ping' ? 'pong' : null;
      case 'ids':
        return this.store.ids(from);
      case 'search':
        // What the sender may use: its own objects, those granted to it, and those for everyone.
        return searchObjects(this.store.entries(from), parseQuery(m.args));
      default:
        throw new WireFormatError(`unknown request '${m.op}'`);
    }
  }

  /** Fails everything pending (the worker is going away). */
  protected abortPending(reason: string): void {
    this.mailbox.abortAll(new ProtocolError(reason));
  }
}
