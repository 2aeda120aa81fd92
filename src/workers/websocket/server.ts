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
 */
import { type Server as HttpServer, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { ProtocolError, RemoteError, StateError, ValueError } from '../../errors.js';
import { Tensor } from '../../tensor.js';
import { AbstractTensor } from '../../tensors/abstract.js';
import { type Message, type ObjectId, type ReplyMessage, type RequestMessage, type WireValue, isObjectId } from '../messages.js';
import { cloneMessage, decodeMessage, encodeMessage } from '../serde.js';
import { type RemoteWorker, Worker, type WorkerOptions, toWireError } from '../worker.js';
import { type Transcript, checkToken, helloProof, proofsMatch, randomHex, ticketKey, welcomeProof } from './auth.js';
import { FrameChannel } from './channel.js';
import { WebsocketClientWorker } from './client.js';
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

  /** Ids of the peers this worker has a link to. */
  get linkedPeers(): string[] {
    return [...this.#links.keys()];
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
    s.channel.reset();
    const ids = [...s.owned];
    for (const id of ids) this.#owners.delete(id);
    s.owned.clear();
    // Through the queue, so commands of the session still waiting to run go first.
    for (let i = 0; i < ids.length; i += 50_000) this.receive({ kind: 'del', ids: ids.slice(i, i + 50_000) }, this.id);
    this.#log(`ended ${s.role} session of '${s.from}' (${why}); freed ${ids.length} object(s)`);
  }

  // ---- messages -----------------------------------------------------------------------------

  private onFrame(s: Session, ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (!isBinary) return this.onControl(s, ws, data);
    s.channel.noteReceived();
    let msg: Message;
    try {
      msg = decodeMessage(data);
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
      if (ws.readyState === WebSocket.OPEN) ws.send(controlText({ t: 'error', reason: (e as Error).message.slice(0, 1000) }));
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
      frame = encodeMessage(r);
    } catch (e) {
      frame = encodeMessage({ kind: 'reply', req: r.req, ok: false, error: toWireError(e, 'reply') });
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
    super.forget(id);
    this.disown(id);
  }

  protected override clearStore(): void {
    super.clearStore();
    this.#owners.clear();
    for (const s of this.#sessions.values()) s.owned.clear();
  }

  protected override handleRequest(m: RequestMessage, from: string): WireValue | Promise<WireValue> {
    if (m.op === 'connectPeer') return this.connectPeer(m.args);
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
    if (existing) await existing.close().catch(() => {});
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
      this.#links.delete(p.id);
      this.peers.delete(p.id);
      this.#log(`lost the link to peer '${p.id}': ${e.message}`);
    });
    this.#links.set(p.id, link);
    this.addWorker(link);
    this.#log(`linked to peer '${p.id}' at ${p.url}`);
    return null;
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
