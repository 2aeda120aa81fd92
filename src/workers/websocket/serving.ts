/**
 * A worker that serves parties over sessions, whatever carries them: the base of
 * {@link WebsocketServerWorker} (which listens and accepts connections), and of any worker that
 * serves over connections it dialled out. It puts the session table (sessions.ts), the peer
 * links (peers.ts) and the published data's policy (published.ts) around the worker's store and
 * requests, and answers the worker's half of the handshake for whichever socket a transport
 * brings (`handshakeHost`). No Node-only module is needed here: how peer links dial is given.
 */
import { ProtocolError, ValueError } from '../../errors.js';
import type { Caller } from '../caller.js';
import { decodeObject, encodeObject } from '../codec.js';
import { type TensorHandle, handles } from '../handles.js';
import { inProcessCaller } from '../in-process.js';
import { type Message, type ObjectId, type RequestMessage, type WireValue, isObjectId } from '../messages.js';
import { cloneMessage } from '../serde.js';
import { type RemoteWorker, type Sender, Worker, type WorkerOptions } from '../worker.js';
import { randomId } from '../../util/random.js';
import type { HandshakeHost } from './handshake.js';
import { PeerLinks } from './peers.js';
import type { Role } from './protocol.js';
import { PublishedData, checkTag, localTensor } from './published.js';
import { addMeta } from '../tags.js';
import type { ServedSession } from './session.js';
import { type SessionLimits, SessionTable } from './sessions.js';
import type { Dial, DialOptions } from './socket.js';
import type { WorkerStats, WorkerTraffic } from './traffic.js';

export interface ServingOptions extends WorkerOptions {
  maxMessageBytes: number;
  sessionGraceMs: number;
  log: (line: string) => void;
  /** Caps on sessions and unacknowledged replies (sessions.ts); the peers `connectPeer` may reach (peer-policy.ts; default any). */
  sessionLimits?: Partial<SessionLimits> | undefined;
  peerPolicy?: { check(url: string): void } | undefined;
  /** How peer links dial their peers, and which certificates they trust. */
  dial: Dial;
  peerCa: DialOptions['ca'];
}

/**
 * A worker serving parties over authenticated sessions: what {@link WebsocketServerWorker} is
 * apart from listening. Its sessions own the objects they create, its owner's published data
 * follows its policy on every path in, and it links to its peers when an orchestrator
 * introduces them.
 */
export abstract class ServingWorker extends Worker implements RemoteWorker {
  readonly maxMessageBytes: number;
  readonly sessionGraceMs: number;
  /** Handshakes refused (wrong token or ticket, bad hello). */
  authFailures = 0;
  /** Its links to other workers carry protocol values only: it holds no pointers to them. */
  readonly holdsPointers = false;
  protected readonly log: (line: string) => void;
  readonly #caller: Caller = inProcessCaller(this, { copyIn: cloneMessage, copyOut: (r) => r });
  readonly #published = new PublishedData(this.id);
  readonly #sessions: SessionTable;
  readonly #links: PeerLinks;

  constructor(opts: ServingOptions) {
    super(opts);
    this.maxMessageBytes = opts.maxMessageBytes;
    this.sessionGraceMs = opts.sessionGraceMs;
    const log = (this.log = opts.log);
    this.#sessions = new SessionTable({
      graceMs: opts.sessionGraceMs,
      limits: opts.sessionLimits,
      log,
      deliver: (s, msg) => this.deliver(s, msg),
      refused: (error) => {
        this.rejected++;
        this.lastRejection = error;
      },
      // Through the session's own queue, so its commands still waiting to run go first.
      free: (ids, queue) => this.receive({ kind: 'del', ids }, this.id, undefined, { queue }),
      noClientsLeft: () => this.dropOrphanedValues(),
    });
    this.#links = new PeerLinks({
      owner: this,
      maxMessageBytes: opts.maxMessageBytes,
      ca: opts.peerCa,
      dial: opts.dial,
      allowed: opts.peerPolicy && ((url) => opts.peerPolicy!.check(url)),
      log,
      add: (link) => this.addWorker(link),
      remove: (id) => this.peers.delete(id),
    });
  }

  /** Traffic and process figures (see `WebsocketServerWorker.stats`). */
  abstract stats(): WorkerStats;

  /** What the worker's half of the handshake needs, for a socket that came in by any means. */
  protected handshakeHost(token: string | undefined, timeoutMs: number, clients?: HandshakeHost['clients']): HandshakeHost {
    return {
      id: this.id,
      token,
      clients,
      maxMessageBytes: this.maxMessageBytes,
      timeoutMs,
      roles: ['client', 'peer'],
      log: this.log,
      admit: (hello, issuer) => this.#sessions.admit(hello, issuer),
      refused: () => this.authFailures++,
    };
  }

  /** Sessions alive (connected, or waiting for their client to come back). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Who holds a session here: clients by the name they gave, peers by their authenticated id. */
  sessions(): { role: Role; from: string; connected: boolean; objects: number }[] {
    return [...this.#sessions.values()].map((s) => ({ role: s.role, from: s.from, connected: s.socket !== undefined, objects: s.owned.size }));
  }

  /** Ids of the peers this worker has a link to. */
  get linkedPeers(): string[] {
    return this.#links.ids;
  }

  /**
   * What this worker's connections carried since it started: `clients` (orchestrators' commands
   * in, replies out), `peers` (protocol values other parties sent here) and `links` (protocol
   * values this worker sent to other parties). A client reads it, with {@link stats}, as
   * `await client.workerStats()`.
   *
   * @example
   * ```ts
   * const { links } = alice.traffic();
   * console.log(`alice sent ${links.bytesSent} bytes to her peers`);
   * ```
   */
  traffic(): WorkerTraffic {
    return { ...this.#sessions.traffic(), links: this.#links.traffic() };
  }

  // ---- data the worker's owner publishes (published.ts) ----

  /**
   * Publishes a tensor held in this process under `tag`, for clients to find with
   * `await client.search(tag)` (PySyft's tags and search): how a data owner offers its data for
   * computation without sending it anywhere. The worker keeps a copy. Clients compute on it by
   * pointer; they cannot fetch it with `get()`, move it away, delete it or change it in place,
   * and it outlives every session. (Results computed from it are ordinary objects: a worker that
   * must not reveal anything derived from its data needs a policy on the commands it runs.)
   * Returns the id it is stored under.
   *
   * @example
   * ```ts
   * const alice = await sy.WebsocketServerWorker.start({ id: 'alice', port: 8778, token });
   * alice.publish('#housing', sy.tensor(myRows));
   * // elsewhere: const [data] = await aliceClient.search('#housing');
   * ```
   */
  publish(tag: string, tensor: TensorHandle): ObjectId {
    checkTag(tag);
    const { layer, shape } = localTensor(tensor);
    const id = randomId();
    // A copy through the codec: the caller's tensor stays the caller's (its own tags come along).
    const copy = decodeObject(encodeObject(layer), { worker: this });
    addMeta(copy, [tag]);
    this.put(id, copy);
    // Everyone may use it (and find it with search): the published data's policy refuses the rest.
    this.store.grant(id, this.id, '*');
    this.#published.add(id, tag, shape);
    return id;
  }

  /** Withdraws a tensor published with {@link publish}; pointers to it stop working. */
  unpublish(id: ObjectId): void {
    if (!this.#published.remove(id)) throw new ValueError(`worker '${this.id}' has published no object ${id}`);
    super.forget(id);
  }

  /** Ids and shapes of the tensors published under `tag`. */
  published(tag: string): { id: ObjectId; shape: number[] }[] {
    return this.#published.list(tag);
  }

  // ---- messages of sessions -----------------------------------------------------------------

  // A message of a session that its role may send: the published data's policy, then the worker.
  private deliver(s: ServedSession, msg: Message): void {
    const refusal = this.#published.refusal(msg);
    if (refusal) return s.refuse(refusal, msg);
    const held = (id: ObjectId) => this.peek(id) !== undefined;
    this.#sessions.receive(s, msg, held, (reply) => {
      const before = this.rejected;
      this.receive(msg, s.from, reply);
      return this.rejected === before;
    });
  }

  /**
   * Protocol values nobody will read: a step that failed early (its input had failed) leaves the
   * values its peers and the dealer sent it in the mailbox. Once no orchestrator holds a session
   * here and every command they queued has run, no step can still claim one, so they all go.
   * (A `sync` request rides the queue: its answer comes after everything queued before it.)
   */
  private dropOrphanedValues(): void {
    this.receive({ kind: 'req', req: 0, op: 'sync', args: [] }, this.id, () => {
      if (this.mailbox.size === 0 || this.#sessions.hasClients()) return;
      this.log(`dropped ${this.mailbox.size} protocol value(s) no step will read: no orchestrator is connected`);
      this.mailbox.abortAll(new ProtocolError('no orchestrator is connected any more'));
    });
  }

  // ---- the store: published data stays, sessions own the rest ------------------------------

  protected override forget(id: ObjectId, who = this.id): void {
    // Pointers found with search() free nothing when dropped: the data stays its owner's.
    if (this.#published.has(id)) return;
    // This worker holds no pointers of its own making (see holdsPointers): one a client stored
    // here is dropped without freeing what it names, which may be someone else's.
    this.store.delete(id, who);
    if (this.peek(id) === undefined) this.#sessions.disown(id);
  }

  protected override clearStore(who = this.id): void {
    if (who !== this.id) {
      // A sender clears what it owns; the worker's owner's published data is the worker's own.
      for (const id of this.objectIds()) if (this.store.ownerOf(id) === who) this.#sessions.disown(id);
      this.store.clear(who, false);
      return;
    }
    const kept = this.#published.ids().map((id) => [id, this.peek(id)!] as const);
    this.store.clear(who, false);
    for (const [id, v] of kept) {
      this.put(id, v);
      this.store.grant(id, this.id, '*');
    }
    this.#sessions.disownAll();
  }

  protected override handleRequest(m: RequestMessage, from: string): WireValue | Promise<WireValue> {
    if (m.op === 'connectPeer') return this.#links.connect(m.args);
    if (m.op === 'get' && isObjectId(m.args[0]) && this.#published.has(m.args[0])) this.#published.refuseGet(m.args[0]);
    if (m.op === 'stats') {
      if (m.args.length !== 0) throw new ValueError('stats takes no arguments');
      return this.stats() as unknown as WireValue;
    }
    if (m.op === 'get' && isObjectId(m.args[0]) && m.args[1] !== true) {
      const id = m.args[0];
      try {
        return super.handleRequest(m, from);
      } finally {
        if (this.peek(id) === undefined) this.#sessions.disown(id);
      }
    }
    return super.handleRequest(m, from);
  }

  // ---- in-process use -----------------------------------------------------------------------

  asRemote(): RemoteWorker {
    return this;
  }

  /** In-process delivery (code running in the worker's own process). */
  post(msg: Message, from: Sender): void {
    this.#caller.post(msg, from);
  }

  request(msg: RequestMessage, from: Sender): Promise<WireValue> {
    return this.#caller.request(msg, from);
  }

  introduce(peer: RemoteWorker, _from: Sender): void {
    if (!this.peers.has(peer.id)) {
      throw new ValueError(
        `worker '${this.id}' reaches other workers through links that a connected orchestrator sets up ` +
          `(WebsocketClientWorker.introduce); it has none to '${peer.id}'`,
      );
    }
  }

  /** A read-only view of the objects held, tensors wrapped so they print as tensors. */
  get objects(): ReadonlyMap<ObjectId, TensorHandle | object> {
    const view = new Map<ObjectId, TensorHandle | object>();
    const ids = this.objectIds();
    if (ids.length === 0) return view;
    const show = handles().view;
    for (const id of ids) view.set(id, show(this.peek(id)!));
    return view;
  }

  /** Drops every session's connection at once, as a lost network would; the sessions wait for their clients. */
  protected dropSessionSockets(): void {
    for (const s of this.#sessions.values()) s.socket?.terminate();
  }

  /** Closes every peer link, ends every session without freeing objects one by one, and fails waiting protocol steps. */
  protected async stopServing(): Promise<void> {
    await this.#links.closeAll();
    this.#sessions.clear();
    this.abortPending(`worker '${this.id}' is shutting down`);
  }
}
