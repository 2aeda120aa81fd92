/**
 * A worker serving other processes over WebSockets (PySyft's WebsocketServerWorker, made safe).
 *
 * Every binary frame is one message in the serde format; it is size-checked by `ws` before
 * anything reads it (`maxPayload`), decoded and validated, then handed to `Worker.receive` — the
 * same entry point, allow-list and checks as an in-process worker. Nothing in a message is ever
 * evaluated, imported or looked up outside the registered commands and codecs. A message that
 * is refused gets an error reply and changes nothing.
 *
 * Sessions: a client that authenticated gets a session (see protocol.ts). The objects its
 * messages create belong to the session; when the session ends — `close()` on the client, or
 * its connection stayed down longer than `sessionGraceMs` — the worker frees those still held.
 * Objects that left (fetched with `get()`, moved to another worker, deleted) are no longer the
 * session's. A client that reconnects in time resumes its session and loses nothing.
 *
 * Data a worker's owner publishes (`publish(tag, tensor)`) belongs to no session: clients find it
 * with `search(tag)` and compute on it by pointer, but cannot fetch, move, overwrite, change or
 * delete it. `stats()` (remotely: `client.workerStats()`) counts what every connection carried
 * and how busy the process was, to see where the time of a protocol goes.
 */
import { type Server as HttpServer, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance as nodePerformance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';
import { ProtocolError, RemoteError, StateError, ValueError } from '../../errors.js';
import { Tensor } from '../../tensor.js';
import { AbstractTensor } from '../../layer/abstract.js';
import { randomId } from '../../util/random.js';
import { decodeObject, encodeObject } from '../codec.js';
import { type Message, type ObjectId, type ReplyMessage, type RequestMessage, type WireValue, isObjectId } from '../messages.js';
import { cloneMessage } from '../serde.js';
import { type RemoteWorker, Worker, type WorkerOptions, toWireError } from '../worker.js';
import { type Transcript, checkToken, helloProof, proofsMatch, randomHex, ticketKey, welcomeProof } from './auth.js';
import { FrameChannel, type Traffic, addTraffic, noTraffic } from './channel.js';
import { WebsocketClientWorker } from './client.js';
import { PermissionError } from './errors.js';
import { parseConnectPeer } from './peers.js';
import { CLOSE, DEFAULT_MAX_MESSAGE_BYTES, type Hello, PROTOCOL_VERSION, type Role, controlText, parseControl } from './protocol.js';

export interface WebsocketServerWorkerOptions extends WorkerOptions {
  /** TCP port; 0 picks a free one (read it back from `port` / `url`). Default 0. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1 (this machine only). */
  host?: string;
  /** Clients must prove they know this secret. Default: none (anyone who can connect is trusted). */
  token?: string;
  /** Serve `wss:` with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Certificates (PEM) to trust when connecting to peers over `wss:` (self-signed peers). */
  peerCa?: string | Buffer | (string | Buffer)[];
  /** Largest message accepted, in bytes; larger ones are refused before decoding. Default 64 MiB. */
  maxMessageBytes?: number;
  /** How long a dropped session's objects are kept for the client to reconnect, in ms. Default 30 s. */
  sessionGraceMs?: number;
  /** How long a new connection may take to authenticate, in ms. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Browser origins allowed to connect. Default none: connections from web pages are refused. */
  allowOrigins?: readonly string[];
  /** Where to write one line per connection event (default: nowhere). */
  log?: (line: string) => void;
}

/** A worker's traffic by kind of connection (see {@link WebsocketServerWorker.traffic}). */
export interface WorkerTraffic {
  /** Connections of orchestrators (clients): commands and requests in, replies out. */
  clients: Traffic;
  /** Peer links other workers opened to this one: protocol values in. */
  peers: Traffic;
  /** Peer links this worker opened to others: protocol values out. */
  links: Traffic;
}

/** What {@link WebsocketServerWorker.stats} reports. */
export interface WorkerStats {
  traffic: WorkerTraffic;
  process: {
    /** CPU time used by the process (user + system), in ms. */
    cpuMs: number;
    /** Time the event loop spent running code, in ms. */
    activeMs: number;
    /** Time the event loop spent waiting for something to do, in ms. */
    idleMs: number;
  };
}

interface Session {
  id: string;
  role: Role;
  /** The sender id its messages carry: the client's name, or the authenticated peer id. */
  from: string;
  ticket: string | undefined;
  channel: FrameChannel;
  socket: WebSocket | undefined;
  /** Objects its messages created that the worker still holds. */
  owned: Set<ObjectId>;
  grace: ReturnType<typeof setTimeout> | undefined;
}

const MAX_SESSIONS = 4096;

/** A tag names published data: 1-128 printable characters (PySyft's tags look like '#boston'). */
function checkTag(tag: unknown): asserts tag is string {
  if (typeof tag !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(tag)) {
    throw new ValueError(`a tag is 1-128 printable characters without spaces (like '#housing'), got ${JSON.stringify(tag)?.slice(0, 140)}`);
  }
}

function positive(v: number | undefined, dflt: number, what: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ValueError(`${what} must be a positive number, got ${v}`);
  return v;
}

/**
 * A worker that other processes reach over WebSockets. Start one from the command line with
 * `npx syft-ts worker --id alice --port 8778`, or in code:
 *
 * @example
 * ```ts
 * await sy.ready();
 * const alice = await sy.WebsocketServerWorker.start({ id: 'alice', port: 8778, token: secret });
 * console.log(alice.url);   // ws://127.0.0.1:8778
 * // ... clients connect with sy.WebsocketClientWorker.connect(alice.url, { id: 'alice', token: secret })
 * await alice.close();
 * ```
 */
export class WebsocketServerWorker extends Worker implements RemoteWorker {
  readonly host: string;
  readonly maxMessageBytes: number;
  readonly sessionGraceMs: number;
  readonly #token: string | undefined;
  readonly #tls: WebsocketServerWorkerOptions['tls'];
  readonly #peerCa: WebsocketServerWorkerOptions['peerCa'];
  readonly #handshakeTimeoutMs: number;
  readonly #allowOrigins: ReadonlySet<string>;
  readonly #log: (line: string) => void;
  #port: number;
  #http: HttpServer | undefined;
  #wss: WebSocketServer | undefined;
  #closing = false;
  readonly #sessions = new Map<string, Session>();
  readonly #owners = new Map<ObjectId, Session>();
  readonly #links = new Map<string, WebsocketClientWorker>();
  // Tensors this worker's owner published (publish()): id -> tag and shape.
  readonly #published = new Map<ObjectId, { tag: string; shape: number[] }>();
  // Traffic of sessions that ended and links that closed, so the totals never go down.
  readonly #retired = { clients: noTraffic(), peers: noTraffic(), links: noTraffic() };
  /** Handshakes refused (wrong token or ticket, bad hello). */
  authFailures = 0;

  constructor(opts: WebsocketServerWorkerOptions) {
    super(opts);
    const port = opts.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ValueError(`port must be an integer in 0..65535, got ${port}`);
    if (opts.token !== undefined) checkToken(opts.token);
    if (opts.tls && (!opts.tls.cert || !opts.tls.key)) throw new ValueError('tls needs both a cert and a key (PEM)');
    this.#port = port;
    this.host = opts.host ?? '127.0.0.1';
    this.#token = opts.token;
    this.#tls = opts.tls;
    this.#peerCa = opts.peerCa;
    this.maxMessageBytes = positive(opts.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes');
    this.sessionGraceMs = positive(opts.sessionGraceMs, 30_000, 'sessionGraceMs');
    this.#handshakeTimeoutMs = positive(opts.handshakeTimeoutMs, 10_000, 'handshakeTimeoutMs');
    this.#allowOrigins = new Set(opts.allowOrigins ?? []);
    this.#log = opts.log ?? (() => {});
  }

  /** Creates a worker and starts listening. */
  static async start(opts: WebsocketServerWorkerOptions): Promise<WebsocketServerWorker> {
    return new WebsocketServerWorker(opts).listen();
  }

  /** Starts listening; resolves once connections are accepted. */
  async listen(): Promise<this> {
    if (this.#http) throw new StateError(`worker '${this.id}' is already listening on ${this.url}`);
    const http = this.#tls ? createHttpsServer({ cert: this.#tls.cert, key: this.#tls.key }) : createHttpServer();
    const wss = new WebSocketServer({
      server: http,
      maxPayload: this.maxMessageBytes,
      perMessageDeflate: false,
      // Browsers send an Origin; refuse web pages unless allowed, so a page the user visits cannot
      // drive a worker on their machine. Node clients send none.
      verifyClient: (info, done) => {
        const origin = info.origin || info.req.headers.origin;
        if (origin === undefined || this.#allowOrigins.has(origin)) return done(true);
        this.#log(`refused a connection from origin ${origin}`);
        done(false, 403, 'origin not allowed');
      },
    });
    wss.on('connection', (ws, req) => this.onConnection(ws, req.socket.remoteAddress ?? '?'));
    wss.on('error', (e) => this.#log(`websocket server error: ${e.message}`));
    http.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.#port, this.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    http.on('error', (e) => this.#log(`server error: ${e.message}`));
    this.#http = http;
    this.#wss = wss;
    this.#port = (http.address() as AddressInfo).port;
    return this;
  }

  /** The port listened on (the chosen one when started with port 0). */
  get port(): number {
    return this.#port;
  }

  /** The URL clients connect to. */
  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${this.#tls ? 'wss' : 'ws'}://${host}:${this.#port}`;
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
    return [...this.#links.keys()];
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
    const out: WorkerTraffic = {
      clients: { ...this.#retired.clients },
      peers: { ...this.#retired.peers },
      links: { ...this.#retired.links },
    };
    for (const s of this.#sessions.values()) addTraffic(s.role === 'peer' ? out.peers : out.clients, s.channel.traffic);
    for (const l of this.#links.values()) addTraffic(out.links, l.traffic);
    return out;
  }

  /**
   * Traffic (see {@link traffic}) and how busy this worker's process was since it started: CPU
   * time, and the time its event loop spent running code versus waiting (idle: for messages from
   * clients and peers). The process figures cover everything running in the process, so they
   * describe one worker only when it runs alone in its process (`syft-ts worker`).
   */
  stats(): WorkerStats {
    const cpu = process.cpuUsage();
    const elu = nodePerformance.eventLoopUtilization();
    return {
      traffic: this.traffic(),
      process: { cpuMs: (cpu.user + cpu.system) / 1000, activeMs: elu.active, idleMs: elu.idle },
    };
  }

  // ---- data the worker's owner publishes ----

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
  publish(tag: string, tensor: Tensor): ObjectId {
    checkTag(tag);
    if (!(tensor instanceof Tensor) || tensor.isPointer) throw new ValueError('publish() takes a tensor held in this process');
    const id = randomId();
    // A copy through the codec: the caller's tensor stays the caller's.
    this.put(id, decodeObject(encodeObject(tensor.child), { worker: this }));
    this.#published.set(id, { tag, shape: [...tensor.shape] });
    return id;
  }

  /** Withdraws a tensor published with {@link publish}; pointers to it stop working. */
  unpublish(id: ObjectId): void {
    if (!this.#published.delete(id)) throw new ValueError(`worker '${this.id}' has published no object ${id}`);
    super.forget(id);
  }

  /** Ids and shapes of the tensors published under `tag`. */
  published(tag: string): { id: ObjectId; shape: number[] }[] {
    const out: { id: ObjectId; shape: number[] }[] = [];
    for (const [id, h] of this.#published) if (h.tag === tag) out.push({ id, shape: [...h.shape] });
    return out;
  }

  // A command may read a published tensor, never take it away or change it.
  private touchesPublished(msg: Message): string | undefined {
    if (this.#published.size === 0) return undefined;
    if (msg.kind === 'cmd' && msg.self !== undefined && this.#published.has(msg.self)) {
      if (msg.op === 'sendTo') return 'moved to another worker';
      if (msg.op.endsWith('_') || msg.op === 'setGrad' || msg.op === 'backward') return `changed in place ('${msg.op}')`;
    }
    if (msg.kind === 'store' && this.#published.has(msg.id)) return 'overwritten';
    return undefined;
  }

  // ---- connections and the handshake --------------------------------------------------------

  private onConnection(ws: WebSocket, address: string): void {
    ws.binaryType = 'nodebuffer';
    ws.on('error', (e) => this.#log(`connection from ${address}: ${e.message}`));
    if (this.#closing) {
      ws.close(CLOSE.goingAway, 'worker shutting down');
      return;
    }
    const nonce = randomHex();
    let session: Session | undefined;
    const timer = setTimeout(() => this.refuseConnection(ws, CLOSE.handshakeTimeout, `no hello within ${this.#handshakeTimeoutMs} ms`), this.#handshakeTimeoutMs);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (session) {
        if (session.socket === ws) this.onFrame(session, ws, data, isBinary);
        return;
      }
      if (ws.readyState !== WebSocket.OPEN) return;
      clearTimeout(timer);
      if (isBinary) return this.refuseConnection(ws, CLOSE.protocol, 'the handshake comes first: send a hello');
      let hello: Hello;
      try {
        const c = parseControl(data.toString('utf8'));
        if (c.t !== 'hello') throw new ProtocolError(`expected a hello, got '${c.t}'`);
        hello = c;
      } catch (e) {
        return this.refuseConnection(ws, CLOSE.protocol, (e as Error).message);
      }
      session = this.accept(ws, hello, nonce, address);
    });
    ws.on('close', () => {
      clearTimeout(timer);
      if (session && session.socket === ws) this.detach(session);
    });
    ws.send(
      controlText({
        t: 'challenge',
        v: PROTOCOL_VERSION,
        id: this.id,
        nonce,
        auth: this.#token !== undefined,
        maxMessageBytes: this.maxMessageBytes,
      }),
    );
  }

  private refuseConnection(ws: WebSocket, code: number, reason: string): undefined {
    if (code === CLOSE.refused || code === CLOSE.protocol) this.authFailures++;
    if (ws.readyState === WebSocket.OPEN) {
      ws.send(controlText({ t: 'refused', reason }));
      ws.close(code, reason.slice(0, 120));
    }
    return undefined;
  }

  // Checks a hello; returns the session the connection now carries, or undefined (refused).
  private accept(ws: WebSocket, hello: Hello, serverNonce: string, address: string): Session | undefined {
    if (hello.v !== PROTOCOL_VERSION) {
      return this.refuseConnection(ws, CLOSE.protocol, `protocol version ${hello.v} is not supported (this worker speaks ${PROTOCOL_VERSION})`);
    }
    if (hello.role === 'peer' && hello.id === this.id) return this.refuseConnection(ws, CLOSE.refused, 'a peer cannot use this worker\'s own id');
    const t: Transcript = {
      serverId: this.id,
      serverNonce,
      clientNonce: hello.nonce,
      role: hello.role,
      clientId: hello.id,
      ticket: hello.ticket,
    };
    const key = hello.role === 'peer' ? ticketKey(this.#token, this.id, hello.id, hello.ticket!) : (this.#token ?? '');
    if (!proofsMatch(hello.proof, helloProof(key, t, hello.session))) {
      this.#log(`refused ${hello.role} '${hello.id}' from ${address}: bad credentials`);
      return this.refuseConnection(ws, CLOSE.refused, hello.role === 'peer' ? 'invalid peer ticket' : 'wrong or missing token');
    }
    let s = hello.session === undefined ? undefined : this.#sessions.get(hello.session);
    // A session is resumed only by the identity that opened it.
    if (s && (s.role !== hello.role || s.from !== hello.id || s.ticket !== hello.ticket)) s = undefined;
    const resumed = s !== undefined;
    if (s) {
      if (s.grace !== undefined) clearTimeout(s.grace);
      s.grace = undefined;
      const old = s.socket;
      s.socket = undefined;
      s.channel.detach();
      old?.close(CLOSE.replaced, 'replaced by a newer connection of this session');
    } else {
      if (this.#sessions.size >= MAX_SESSIONS) return this.refuseConnection(ws, CLOSE.refused, 'too many sessions: try again later');
      s = {
        id: randomHex(),
        role: hello.role,
        from: hello.id,
        ticket: hello.ticket,
        channel: new FrameChannel(),
        socket: undefined,
        owned: new Set(),
        grace: undefined,
      };
      this.#sessions.set(s.id, s);
    }
    ws.send(
      controlText({
        t: 'welcome',
        session: s.id,
        resumed,
        received: s.channel.received,
        proof: welcomeProof(key, t, s.id, resumed),
      }),
    );
    try {
      s.channel.attach(ws, resumed ? hello.received : 0);
    } catch (e) {
      this.refuseConnection(ws, CLOSE.protocol, (e as Error).message);
      return undefined;
    }
    s.socket = ws;
    this.#log(`${resumed ? 'resumed' : 'opened'} ${s.role} session of '${s.from}' from ${address}`);
    return s;
  }

  private detach(s: Session): void {
    s.socket = undefined;
    s.channel.detach();
    if (!this.#sessions.has(s.id)) return;
    s.grace = setTimeout(() => this.endSession(s, `its connection was down for ${this.sessionGraceMs} ms`), this.sessionGraceMs);
    s.grace.unref?.();
  }

  private endSession(s: Session, why: string): void {
    if (!this.#sessions.delete(s.id)) return;
    if (s.grace !== undefined) clearTimeout(s.grace);
    s.socket = undefined; // frames still arriving on its connection are ignored
    addTraffic(s.role === 'peer' ? this.#retired.peers : this.#retired.clients, s.channel.traffic);
    s.channel.reset();
    const ids = [...s.owned];
    for (const id of ids) this.#owners.delete(id);
    s.owned.clear();
    // Through the queue, so commands of the session still waiting to run go first.
    for (let i = 0; i < ids.length; i += 50_000) this.receive({ kind: 'del', ids: ids.slice(i, i + 50_000) }, this.id);
    this.#log(`ended ${s.role} session of '${s.from}' (${why}); freed ${ids.length} object(s)`);
    if (s.role === 'client') this.dropOrphanedValues();
  }

  /**
   * Protocol values nobody will read: a step that failed early (its input had failed) leaves the
   * values its peers and the dealer sent it in the mailbox. Once no orchestrator holds a session
   * here and every command they queued has run, no step can still claim one, so they all go.
   * (A `sync` request rides the queue: its answer comes after everything queued before it.)
   */
  private dropOrphanedValues(): void {
    const noClients = () => ![...this.#sessions.values()].some((x) => x.role === 'client');
    if (!noClients()) return;
    this.receive({ kind: 'req', req: 0, op: 'sync', args: [] }, this.id, () => {
      if (this.mailbox.size === 0 || !noClients()) return;
      this.#log(`dropped ${this.mailbox.size} protocol value(s) no step will read: no orchestrator is connected`);
      this.mailbox.abortAll(new ProtocolError('no orchestrator is connected any more'));
    });
  }

  // ---- messages -----------------------------------------------------------------------------

  private onFrame(s: Session, ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (!isBinary) return this.onControl(s, ws, data);
    s.channel.noteReceived(data.length);
    let msg: Message;
    try {
      msg = s.channel.decode(data);
    } catch (e) {
      return this.refuseMessage(s, e, undefined);
    }
    if (s.role === 'peer' && msg.kind !== 'peer') {
      return this.refuseMessage(s, new ProtocolError(`a peer connection carries protocol values only, not '${msg.kind}' messages`), msg);
    }
    if (s.role === 'client' && msg.kind === 'peer') {
      return this.refuseMessage(
        s,
        new ProtocolError('protocol values are accepted only from peers that connected with a ticket (introduce the workers to each other)'),
        msg,
      );
    }
    const publishedUse = this.touchesPublished(msg);
    if (publishedUse !== undefined) {
      return this.refuseMessage(
        s,
        new PermissionError(`a tensor that worker '${this.id}' published (its owner's data) cannot be ${publishedUse}: compute on it by pointer`),
        msg,
      );
    }
    const claims = msg.kind === 'store' ? [msg.id] : msg.kind === 'cmd' ? msg.ret : [];
    const unclaimed = claims.filter((id) => !this.#owners.has(id) && this.peek(id) === undefined);
    const before = this.rejected;
    this.receive(msg, s.from, (r) => this.reply(s, r));
    if (this.rejected !== before) return;
    for (const id of unclaimed) {
      this.#owners.set(id, s);
      s.owned.add(id);
    }
  }

  private onControl(s: Session, ws: WebSocket, data: Buffer): void {
    s.channel.noteControl(data.length);
    try {
      const c = parseControl(data.toString('utf8'));
      if (c.t === 'ack') s.channel.acknowledge(c.n);
      else if (c.t === 'bye') {
        this.endSession(s, 'closed by the client');
        ws.close(CLOSE.normal, 'bye');
      } else throw new ProtocolError(`a '${c.t}' frame is not expected after the handshake`);
    } catch (e) {
      this.rejected++;
      this.lastRejection = toWireError(e, 'control');
      s.channel.sendControl({ t: 'error', reason: (e as Error).message.slice(0, 1000) });
    }
  }

  // Refuses a frame the worker itself could not use (undecodable, or wrong for the connection).
  private refuseMessage(s: Session, e: unknown, msg: Message | undefined): void {
    const error = toWireError(e, msg?.kind === 'cmd' || msg?.kind === 'req' ? msg.op : (msg?.kind ?? 'message'));
    this.rejected++;
    this.lastRejection = error;
    this.reply(s, { kind: 'reply', req: msg?.kind === 'req' ? msg.req : 0, ok: false, error });
  }

  private reply(s: Session, r: ReplyMessage): void {
    if (!this.#sessions.has(s.id)) return;
    let frame: Uint8Array;
    try {
      frame = s.channel.encode(r);
    } catch (e) {
      frame = s.channel.encode({ kind: 'reply', req: r.req, ok: false, error: toWireError(e, 'reply') });
    }
    s.channel.send(frame);
  }

  // ---- the store: which session owns what ---------------------------------------------------

  private disown(id: ObjectId): void {
    const s = this.#owners.get(id);
    if (!s) return;
    s.owned.delete(id);
    this.#owners.delete(id);
  }

  protected override forget(id: ObjectId): void {
    // Pointers found with search() free nothing when dropped: the data stays its owner's.
    if (this.#published.has(id)) return;
    super.forget(id);
    this.disown(id);
  }

  protected override clearStore(): void {
    const kept = [...this.#published.keys()].map((id) => [id, this.peek(id)!] as const);
    super.clearStore();
    for (const [id, v] of kept) this.put(id, v);
    this.#owners.clear();
    for (const s of this.#sessions.values()) s.owned.clear();
  }

  protected override handleRequest(m: RequestMessage, from: string): WireValue | Promise<WireValue> {
    if (m.op === 'connectPeer') return this.connectPeer(m.args);
    if (m.op === 'search') {
      if (m.args.length !== 1 || typeof m.args[0] !== 'string') throw new ValueError('search takes one tag (a string)');
      checkTag(m.args[0]);
      return this.published(m.args[0]);
    }
    if (m.op === 'get' && isObjectId(m.args[0]) && this.#published.has(m.args[0])) {
      throw new PermissionError(`object ${m.args[0]} is data that worker '${this.id}' published: it does not leave the worker (compute on it by pointer)`);
    }
    if (m.op === 'stats') {
      if (m.args.length !== 0) throw new ValueError('stats takes no arguments');
      return this.stats() as unknown as WireValue;
    }
    if (m.op === 'get' && isObjectId(m.args[0]) && m.args[1] !== true) {
      const id = m.args[0];
      try {
        return super.handleRequest(m, from);
      } finally {
        if (this.peek(id) === undefined) this.disown(id);
      }
    }
    return super.handleRequest(m, from);
  }

  // ---- peers --------------------------------------------------------------------------------

  private async connectPeer(args: readonly WireValue[]): Promise<WireValue> {
    const p = parseConnectPeer(args, this.id);
    const existing = this.#links.get(p.id);
    if (existing && existing.state !== 'closed' && existing.url === p.url) return null;
    if (existing) {
      this.retireLink(p.id, existing);
      await existing.close().catch(() => {});
    }
    const link = await WebsocketClientWorker.connectPeer(
      p.url,
      {
        id: p.id,
        owner: this as Worker,
        timeoutMs: this.timeoutMs,
        maxMessageBytes: this.maxMessageBytes,
        ...(this.#peerCa === undefined ? {} : { ca: this.#peerCa }),
      },
      { nonce: p.nonce, key: p.key },
    );
    link.on('rejection', (e) => this.#log(`peer '${p.id}' refused a value: ${e.name}: ${e.message}`));
    link.on('close', (e) => {
      // Gone for good (reconnecting failed): the next introduction makes a new link.
      if (this.#links.get(p.id) !== link) return;
      this.retireLink(p.id, link);
      this.peers.delete(p.id);
      this.#log(`lost the link to peer '${p.id}': ${e.message}`);
    });
    this.#links.set(p.id, link);
    this.addWorker(link);
    this.#log(`linked to peer '${p.id}' at ${p.url}`);
    return null;
  }

  private retireLink(id: string, link: WebsocketClientWorker): void {
    if (this.#links.get(id) !== link) return;
    this.#links.delete(id);
    addTraffic(this.#retired.links, link.traffic);
  }

  // ---- in-process use -----------------------------------------------------------------------

  asRemote(): RemoteWorker {
    return this;
  }

  /** In-process delivery (code running in the worker's own process). */
  post(msg: Message, from: Worker): void {
    this.receive(cloneMessage(msg), from.id, (r) => {
      if (!r.ok) from.lastRejection = r.error;
    });
  }

  request(msg: RequestMessage, from: Worker): Promise<WireValue> {
    return new Promise((resolve, reject) => {
      this.receive(cloneMessage(msg), from.id, (r) => {
        if (r.ok) resolve(r.value);
        else reject(new RemoteError(this.id, r.error.op, r.error.name, r.error.message));
      });
    });
  }

  introduce(peer: RemoteWorker, _from: Worker): void {
    if (!this.peers.has(peer.id)) {
      throw new ValueError(
        `worker '${this.id}' reaches other workers through links that a connected orchestrator sets up ` +
          `(WebsocketClientWorker.introduce); it has none to '${peer.id}'`,
      );
    }
  }

  /** A read-only view of the objects held, tensors wrapped so they print as tensors. */
  get objects(): ReadonlyMap<ObjectId, Tensor | object> {
    const view = new Map<ObjectId, Tensor | object>();
    for (const id of this.objectIds()) {
      const v = this.peek(id)!;
      view.set(id, v instanceof AbstractTensor ? new Tensor(v) : v);
    }
    return view;
  }

  // ---- shutting down ------------------------------------------------------------------------

  /** Stops listening, closes every connection and peer link, and fails waiting protocol steps. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await Promise.all([...this.#links.values()].map((l) => l.close().catch(() => {})));
    this.#links.clear();
    for (const s of this.#sessions.values()) if (s.grace !== undefined) clearTimeout(s.grace);
    this.#sessions.clear();
    this.#owners.clear();
    this.abortPending(`worker '${this.id}' is shutting down`);
    const sockets = [...(this.#wss?.clients ?? [])];
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            const timer = setTimeout(() => {
              ws.terminate();
              resolve();
            }, 1000);
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            ws.close(CLOSE.goingAway, 'worker shutting down');
          }),
      ),
    );
    await new Promise<void>((resolve) => (this.#wss ? this.#wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => {
      if (!this.#http) return resolve();
      this.#http.closeAllConnections();
      this.#http.close(() => resolve());
    });
  }

  override toString(): string {
    return `<WebsocketServerWorker id:${this.id} url:${this.url} #objects:${this.objectCount}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
