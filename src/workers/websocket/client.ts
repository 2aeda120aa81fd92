/**
 * The client side of the WebSocket transport: a {@link RemoteWorker} that forwards every message
 * to a {@link WebsocketServerWorker} in another process (or on another machine).
 *
 * Delivery: messages go out in the order posted, each as one binary frame; requests carry a
 * request id and wait for their reply, never longer than `timeoutMs`. Frames are numbered per
 * session and kept until the worker acknowledges them (see `channel.ts`), so an unexpected drop
 * loses nothing: the client reconnects on its own (for `reconnectWithinMs`, default 10 s),
 * resumes its session, and resends what the worker missed. Posts made meanwhile wait for the new
 * connection; requests keep waiting, within their timeout. When reconnecting fails, pending
 * requests reject with a {@link ProtocolError} and later posts throw one; `await
 * worker.reconnect()` tries again. A worker keeps a dropped session's objects for its grace period
 * (default 30 s); after that it frees them and a reconnection starts a new, empty session.
 *
 * The parts: the connection that reconnects and resumes (reconnect.ts), the request/reply core
 * on it (../caller.ts), introductions of peers (peers.ts) and search (published.ts).
 * `traffic` and `workerStats()` count what the connections carried (to check that protocol values
 * went party to party, and to see where a protocol's time goes).
 */
import { ProtocolError, RemoteError, ValueError } from '../../errors.js';
import { Caller } from '../caller.js';
import type { TensorHandle } from '../handles.js';
import { local } from '../local.js';
import type { Message, ObjectId, RequestMessage, WireError, WireValue } from '../messages.js';
import type { RemoteWorker, Sender, Worker } from '../worker.js';
import { defaultDial } from './dial.js';
import { Outbox } from './outbox.js';
import { introduction } from './peers.js';
import { type SearchQuery, searchWorker } from '../search.js';
import { Listeners } from './events.js';
import { checkClientToken, checkUrl, checkWorkerId, positive } from './options.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './protocol.js';
import { reachOf, setReach } from './reach.js';
import { DialledConnection, type DialledOptions, type State } from './reconnect.js';
import type { Traffic, WorkerStats } from './traffic.js';
import type { ClientEvents, WebsocketClientOptions } from './client-options.js';

export type { ClientEvents, WebsocketClientOptions } from './client-options.js';

/**
 * A worker in another process, reached over a WebSocket. Usable wherever a `VirtualWorker` is:
 * `send`, `get`, `move`, ops on pointers, models.
 *
 * @example
 * ```ts
 * // elsewhere: npx syft-ts worker --id bob --port 8778 --token-file bob.token
 * const bob = await sy.WebsocketClientWorker.connect('ws://127.0.0.1:8778', { id: 'bob', token });
 * const x = sy.tensor([1, 2, 3]).send(bob);
 * console.log((await x.add(x).get()).toString());   // tensor([2., 4., 6.])
 * await bob.close();
 * ```
 */
export class WebsocketClientWorker implements RemoteWorker {
  readonly url: string;
  /** Where other workers reach this worker (moves between workers). */
  readonly peerUrl: string;
  readonly owner: Worker;
  /** A worker over a network holds no pointers to other workers (its peer links carry protocol values only). */
  readonly holdsPointers = false;
  readonly #connection: DialledConnection;
  readonly #outbox: Outbox;
  readonly #caller: Caller;
  readonly #listeners = new Listeners<ClientEvents>();

  private constructor(url: string, opts: WebsocketClientOptions) {
    this.url = checkUrl(url);
    this.peerUrl = checkUrl(opts.peerUrl ?? url);
    checkWorkerId(opts.id);
    checkWorkerId(opts.name);
    setReach(this, { url: this.peerUrl, token: checkClientToken(opts.token) });
    this.owner = opts.owner ?? local;
    const connection: DialledOptions = {
      url: this.url,
      role: 'client',
      selfId: opts.name ?? this.owner.id,
      expectId: opts.id,
      token: opts.token,
      ticket: undefined,
      connectTimeoutMs: positive(opts.connectTimeoutMs, 10_000, 'connectTimeoutMs'),
      reconnect: opts.reconnect ?? true,
      reconnectWithinMs: positive(opts.reconnectWithinMs, 10_000, 'reconnectWithinMs'),
      maxIncoming: positive(opts.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes'),
      ca: opts.ca,
      fingerprint: opts.fingerprint,
      dial: opts.dial ?? defaultDial(),
    };
    const failed = (e: unknown, op: string) =>
      this.#caller.noteRejection({ name: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e), op });
    this.#outbox = new Outbox((e) => failed(e, 'connectPeer'));
    this.#caller = new Caller({
      peer: () => this.id,
      owner: this.owner,
      timeoutMs: positive(opts.timeoutMs, 60_000, 'timeoutMs'),
      transmit: (msg) =>
        this.#outbox.send((late) => {
          try {
            this.#connection.send(msg);
          } catch (e) {
            if (!late) throw e; // the caller is on the stack and handles it
            // A message that waited in line: its caller has moved on.
            if (msg.kind === 'req') this.#caller.reject(msg.req, e as Error);
            else failed(e, msg.kind === 'cmd' ? msg.op : msg.kind);
          }
        }),
      onRejection: (e) => this.#listeners.emit('rejection', e),
    });
    this.#connection = new DialledConnection(connection, {
      message: (m) => {
        if (m.kind === 'reply') this.#caller.settle(m);
        else this.#caller.noteRejection({ name: 'ProtocolError', message: `worker '${this.id}' sent a '${m.kind}' message to a client`, op: m.kind });
      },
      problem: (e) => this.#caller.noteRejection(e),
      lost: (e) => this.#caller.fail(e),
      disconnect: (info) => this.#listeners.emit('disconnect', info),
      reconnect: (info) => this.#listeners.emit('reconnect', info),
      close: (e) => this.#listeners.emit('close', e),
    });
  }

  /**
   * Connects to the worker at `url` and authenticates (both ways, when a token is set).
   * Rejects with an {@link AuthenticationError} for a wrong or missing token or an unexpected
   * worker id, and a {@link ProtocolError} when nothing answers.
   */
  static async connect(url: string, opts: WebsocketClientOptions = {}): Promise<WebsocketClientWorker> {
    const c = new WebsocketClientWorker(url, opts);
    await c.#connection.open(false);
    c.owner.addWorker(c);
    return c;
  }

  /** The worker's id (as the worker announced it). */
  get id(): string {
    return this.#connection.id ?? '?';
  }

  /** How long requests wait for their answer (ms). */
  get timeoutMs(): number {
    return this.#caller.timeoutMs!;
  }

  set timeoutMs(ms: number) {
    this.#caller.timeoutMs = positive(ms, 60_000, 'timeoutMs');
  }

  /** How many messages the worker refused with no caller waiting (posts), and the last one. */
  get rejected(): number {
    return this.#caller.rejected;
  }

  get lastRejection(): WireError | undefined {
    return this.#caller.lastRejection;
  }

  /**
   * What this client's connection carried since it was made (reconnections included): the
   * messages and bytes this process sent to the worker and received from it.
   */
  get traffic(): Readonly<Traffic> {
    return { ...this.#connection.channel.traffic };
  }

  /**
   * The worker's own counters: its traffic by kind of connection and how busy its process was
   * (see `WebsocketServerWorker.stats`).
   */
  async workerStats(): Promise<WorkerStats> {
    return (await this.#caller.call('stats', [])) as unknown as WorkerStats;
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.#connection.state === 'open';
  }

  /** 'connecting', 'open', 'reconnecting' or 'closed'. */
  get state(): State {
    return this.#connection.state;
  }

  /** Listens to an event: `rejection`, `disconnect`, `reconnect`, `close`. Returns a function that stops listening. */
  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    return this.#listeners.on(event, listener);
  }

  /**
   * Connects again after the connection was lost (or closed), resuming the session when the
   * worker still holds it. Resolves with `{ resumed }`: false means a new, empty session.
   */
  reconnect(): Promise<{ resumed: boolean }> {
    return this.#connection.reconnect();
  }

  /** Ends the session (the worker frees its objects) and closes the connection. */
  close(): Promise<void> {
    return this.#connection.close();
  }

  /** Sends a message; the worker runs it in order with the others from this client. */
  post(msg: Message, from: Sender): void {
    if (msg.kind === 'peer') {
      throw new ProtocolError(
        `protocol values travel only between workers introduced to each other; '${from.id}' cannot send one to '${this.id}' over a client connection`,
      );
    }
    this.#caller.post(msg, from);
  }

  /** Sends a request and resolves with the answer; rejects with a RemoteError, TimeoutError or ProtocolError. */
  request(msg: RequestMessage, from: Sender): Promise<WireValue> {
    return this.#caller.request(msg, from);
  }

  /**
   * Lets this worker send protocol values (a moved object, masked shares) straight to `peer`:
   * tells it to connect to `peer` with a ticket derived from `peer`'s token. Ordered before
   * everything posted afterwards. Sent every time (a worker with a live link to `peer` answers
   * at once), so a link that died is made again. A failure is reported as a rejection
   * (`lastRejection`, the `rejection` event), and the step waiting for the value times out with
   * a clear error.
   */
  introduce(peer: RemoteWorker, _from: Sender): void {
    if (peer.id === this.id) return;
    const at = reachOf(peer);
    if (at === undefined) {
      throw new ValueError(
        `worker '${this.id}' runs in another process and can send values only to other network workers; ` +
          `'${peer.id}' is in this process (connect to a syft-ts worker with WebsocketClientWorker.connect instead)`,
      );
    }
    const connect = (args: WireValue[]) => () => {
      this.#caller.call('connectPeer', args).catch((e: unknown) => {
        const remote = e instanceof RemoteError;
        const message = remote ? e.remoteMessage : (e as Error).message;
        this.#caller.noteRejection({ name: remote ? e.remoteName : (e as Error).name, message, op: 'connectPeer' });
      });
    };
    const args = introduction(this.id, peer.id, at.url, at.token);
    // In a page the ticket takes a WebCrypto turn: what is posted meanwhile waits behind it.
    if (Array.isArray(args)) this.#outbox.send(connect(args));
    else this.#outbox.later(args.then(connect));
  }

  // ---- conveniences -------------------------------------------------------------------------

  /** Resolves once the worker has run everything sent to it so far (pending frees included). */
  sync(): Promise<void> {
    return this.#caller.sync();
  }

  /**
   * Pointers to the tensors on the worker that carry every tag of `query` (one tag, or a list:
   * PySyft's AND search): the data its owner published (`WebsocketServerWorker.publish`) — the
   * way to compute on a data owner's data without it ever leaving the data owner — and this
   * client's own tagged tensors (`x.tag('#a').send(worker)`); never another client's. In the
   * order stored; borrowed (dropping one frees nothing). Empty when there are none.
   *
   * @example
   * ```ts
   * const [houses] = await alice.search('#housing');
   * const shared = houses.fixPrecision().share(alice, bob, { cryptoProvider });  // split by alice
   * ```
   */
  search(query: SearchQuery): Promise<TensorHandle[]> {
    return searchWorker(this.#caller, this, this.owner, query);
  }

  /** Round trip to the worker. */
  ping(): Promise<void> {
    return this.#caller.ping();
  }

  /** Ids of the objects the worker holds (every session's). */
  objectIds(): Promise<ObjectId[]> {
    return this.#caller.objectIds();
  }

  /** Tells the worker to forget every object it holds. Returns this client. */
  clearObjects(): this {
    this.#caller.clearObjects();
    return this;
  }

  toString(): string {
    return `<WebsocketClientWorker id:${this.id} url:${this.url} ${this.#connection.state}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
