/**
 * ThreadWorker: a worker in its own `node:worker_threads` thread, used like a VirtualWorker.
 *
 * Why: a VirtualWorker runs on the caller's thread, so the parties of a protocol take turns on
 * one core. Thread workers compute at the same time — on a 2-core machine Alice, Bob and the
 * crypto provider share both cores — while the protocol code stays exactly the same: messages
 * are structured-cloned over ports, and protocol values go thread to thread over direct
 * MessageChannels, never through the main thread.
 *
 * @example
 * ```ts
 * const [alice, bob, dealer] = await Promise.all(['alice', 'bob', 'dealer'].map((id) => sy.ThreadWorker.start({ id })));
 * const x = sy.tensor([1, 2]).fixPrecision().share(alice, bob, { cryptoProvider: dealer });
 * // ...
 * await Promise.all([alice, bob, dealer].map((w) => w.close()));
 * ```
 */
import { MessageChannel, type TransferListItem, type Worker as NodeWorker } from 'node:worker_threads';
import { ProtocolError, StateError } from '../../errors.js';
import { spawnModuleThread } from '../../util/threads.js';
import { ready } from '../../backend.js';
import { Caller } from '../caller.js';
import { local } from '../local.js';
import type { TensorHandle } from '../handles.js';
import type { Message, ObjectId, RequestMessage, WireError, WireValue } from '../messages.js';
import { type SearchQuery, searchWorker } from '../search.js';
import { findVirtualWorker } from '../virtual.js';
import type { RemoteWorker, Sender } from '../worker.js';
import type { FromThread, ThreadInit, ToThread } from './protocol.js';

export interface ThreadWorkerOptions {
  id: string;
  /** How long protocol steps in the thread wait for peers (ms). Default 60 s. */
  timeoutMs?: number;
}

// Pairs of thread workers already linked by a MessageChannel (links are two-way).
const linked = new Set<string>();

// The thread's entry point: src/thread-host.ts (thread-host.js when built), which loads the library.
const ENTRY = new URL('../../thread-host', import.meta.url);

export class ThreadWorker implements RemoteWorker {
  readonly #caller: Caller;
  private readonly relayTargets = new Map<string, RemoteWorker>();
  private closed = false;
  // Messages posted to the thread, and whether it may still be working on them (which keeps
  // the process alive: others may be waiting on its results, not only our own requests).
  private sent = 0;
  private busy = false;

  private constructor(
    readonly id: string,
    private readonly thread: NodeWorker,
  ) {
    this.#caller = new Caller({
      peer: () => this.id,
      owner: local,
      transmit: (msg, from) => this.send({ t: 'msg', from: from.id, msg }),
    });
    thread.on('message', (m: FromThread) => this.onMessage(m));
    thread.on('error', (e) => this.fail(e));
    thread.on('exit', () => this.fail(new ProtocolError(`thread worker '${id}' stopped`)));
    thread.unref();
  }

  /** Starts a thread worker; resolves once it is ready (library loaded in the thread). */
  static async start(opts: ThreadWorkerOptions): Promise<ThreadWorker> {
    const info = await ready();
    const init: ThreadInit = { id: opts.id, timeoutMs: opts.timeoutMs ?? 60_000, backend: info.backend };
    const thread = await spawnModuleThread(ENTRY, init);
    if (!thread) throw new StateError('thread workers need Node.js worker_threads; use a VirtualWorker here');
    const w = new ThreadWorker(opts.id, thread);
    await new Promise<void>((resolve, reject) => {
      const onReady = (m: FromThread) => {
        if (m.t !== 'ready') return;
        thread.off('message', onReady);
        resolve();
      };
      thread.on('message', onReady);
      thread.once('error', reject);
      thread.ref();
    });
    thread.unref();
    return w;
  }

  /** Refused posts, as the thread reported them (and posts relayed for it that their target refused). */
  get lastRejection(): WireError | undefined {
    return this.#caller.lastRejection;
  }

  // As a Sender (the relay posts for the thread's worker), refusals of its posts are kept here.
  set lastRejection(error: WireError | undefined) {
    if (error) this.#caller.noteRejection(error);
  }

  /** How many posts the thread refused. */
  get rejected(): number {
    return this.#caller.rejected;
  }

  private onMessage(m: FromThread): void {
    switch (m.t) {
      case 'reply':
        this.#caller.settle(m.reply);
        this.refreshRef();
        return;
      case 'idle':
        // Only an idle report that has seen everything we sent means the thread is done.
        if (m.seen === this.sent) {
          this.busy = false;
          this.refreshRef();
        }
        return;
      case 'relay': {
        const target = this.relayTargets.get(m.to) ?? findVirtualWorker(m.to);
        // This handle speaks for the thread's worker: a refusal of the relayed post is kept here.
        target?.post(m.msg, this);
        return;
      }
      default:
        return;
    }
  }

  private fail(e: Error): void {
    this.closed = true;
    this.#caller.fail(e);
  }

  // A thread with work in flight keeps the process alive (others may be waiting on it, not
  // only our own requests); an idle one does not.
  private refreshRef(): void {
    if (this.closed) return;
    if (this.busy || this.#caller.pendingCount > 0) this.thread.ref();
    else this.thread.unref();
  }

  private send(m: ToThread, transfer?: readonly TransferListItem[]): void {
    if (this.closed) throw new ProtocolError(`thread worker '${this.id}' is closed`);
    this.thread.postMessage(m, transfer);
    this.sent++;
    if (!this.busy) {
      this.busy = true;
      this.refreshRef();
    }
  }

  post(msg: Message, from: Sender): void {
    this.#caller.post(msg, from);
  }

  request(msg: RequestMessage, from: Sender): Promise<WireValue> {
    return this.#caller.request(msg, from);
  }

  // Synchronous on purpose: the link must reach both threads before any command that uses it.
  introduce(peer: RemoteWorker, _from: Sender): void {
    if (!(peer instanceof ThreadWorker)) {
      this.relayTargets.set(peer.id, peer);
      return;
    }
    const key = [this.id, peer.id].sort().join('\u0000');
    if (linked.has(key)) return;
    linked.add(key);
    const { port1, port2 } = new MessageChannel();
    this.send({ t: 'link', peer: peer.id, port: port1 }, [port1]);
    peer.send({ t: 'link', peer: this.id, port: port2 }, [port2]);
  }

  /** Resolves once every message sent here so far has run (pending frees included). */
  async sync(): Promise<void> {
    await this.#caller.sync();
  }

  /**
   * Pointers to the tensors the thread's worker holds that carry every tag of `query` (see
   * `VirtualWorker.search`); borrowed, owned by `sy.local`.
   */
  search(query: SearchQuery): Promise<TensorHandle[]> {
    return searchWorker(this.#caller, this, local, query);
  }

  /** Ids of the objects the thread holds. */
  async objectIds(): Promise<ObjectId[]> {
    return this.#caller.objectIds();
  }

  /** Tells the thread's worker to forget every object it holds. Returns this worker. */
  clearObjects(): this {
    this.#caller.clearObjects();
    return this;
  }

  /** Round trip to the thread. */
  async ping(): Promise<void> {
    await this.#caller.ping();
  }

  /** Stops the thread; pending requests reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const key of [...linked]) if (key.split('\u0000').includes(this.id)) linked.delete(key);
    await this.thread.terminate();
  }

  toString(): string {
    return `<ThreadWorker id:${this.id}>`;
  }
}
