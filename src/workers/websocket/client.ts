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
 * `search(tag)` finds the data a worker's owner published; `traffic` and `workerStats()` count
 * what the connections carried (to check that protocol values went party to party, and to see
 * where a protocol's time goes).
 */
import { WebSocket } from 'ws';
import { AuthenticationError, ProtocolError, RemoteError, TimeoutError, ValueError } from '../../errors.js';
import { Tensor } from '../../tensor.js';
import { PointerTensor } from '../../tensors/pointer.js';
import { flushDeletes } from '../deletes.js';
import { local } from '../local.js';
import type { Message, ObjectId, ReplyMessage, RequestMessage, WireError, WireValue } from '../messages.js';
import type { RemoteWorker, Worker } from '../worker.js';
import { type Transcript, helloProof, proofsMatch, randomHex, refusedError, ticketKey, welcomeProof } from './auth.js';
import { FrameChannel, type Traffic } from './channel.js';
import type { WorkerStats } from './server.js';
import {
  CLOSE,
  type Challenge,
  DEFAULT_MAX_MESSAGE_BYTES,
  ID_RE,
  PROTOCOL_VERSION,
  type Role,
  type Welcome,
  controlText,
  parseControl,
} from './protocol.js';

export interface WebsocketClientOptions {
  /** The worker id expected at `url`: connecting fails if the worker there is another one. Default: learn it. */
  id?: string;
  /** The worker's token (required when the worker was started with one). */
  token?: string;
  /** How long a request (`get()`, `sync()`) waits for its answer, in ms. Default 60 s. */
  timeoutMs?: number;
  /** How long opening a connection (TCP, TLS, handshake) may take, in ms. Default 10 s. */
  connectTimeoutMs?: number;
  /** Reconnect by itself after an unexpected drop (default true). */
  reconnect?: boolean;
  /** How long to keep trying to reconnect, in ms. Default 10 s. */
  reconnectWithinMs?: number;
  /** Largest message accepted from the worker, in bytes. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Certificates (PEM) to trust for a `wss:` worker with a self-signed certificate. */
  ca?: string | Buffer | (string | Buffer)[];
  /** The worker that sends the commands and owns the pointers; its id names this client. Default `sy.local`. */
  owner?: Worker;
  /** How other workers reach this one when objects move between them. Default: `url`. */
  peerUrl?: string;
}

/** A ticket a worker uses to connect to a peer (see auth.ts). */
interface Ticket {
  nonce: string;
  key: Uint8Array;
}

interface Pending {
  op: string;
  resolve: (v: WireValue) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface ClientEvents {
  /** The worker refused a message that had no caller waiting (a post), or sent something unusable. */
  rejection: (error: WireError) => void;
  /** The connection dropped; a reconnection may follow. */
  disconnect: (info: { code: number; reason: string }) => void;
  /** Connected again; `resumed` is false when the worker had dropped the session (its objects are gone). */
  reconnect: (info: { resumed: boolean }) => void;
  /** The client stopped for good (closed, or reconnecting failed). */
  close: (error: Error) => void;
}

type State = 'connecting' | 'open' | 'reconnecting' | 'closed';

const FATAL_CLOSE = new Set<number>([CLOSE.normal, CLOSE.refused, CLOSE.protocol, CLOSE.tooBig, CLOSE.replaced]);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ValueError(`'${url}' is not a URL: a worker's address looks like ws://127.0.0.1:8778`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new ValueError(`'${url}' is not a WebSocket URL: use ws://host:port, or wss://host:port for TLS`);
  }
  return url;
}

/**
 * WebSocket clients mask every frame so that a script in a browser cannot plant bytes a caching
 * proxy would misread. Masking costs a pass over every byte in JavaScript (about 1.3 ms per
 * 200 KB here), and protects nothing where no cleartext intermediary can exist: over TLS and on
 * loopback the mask is zero (ws then skips the pass); elsewhere it stays random.
 */
function needsMask(url: string): boolean {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return u.protocol !== 'wss:' && host !== 'localhost' && host !== '::1' && !/^127\./.test(host);
}

const zeroMask = (mask: Buffer): void => {
  mask.fill(0);
};

function connectError(url: string, e: Error): Error {
  const code = (e as { code?: string }).code;
  if (code === 'ECONNREFUSED') return new ProtocolError(`no worker listens at ${url}: start one with \`npx syft-ts worker --id <id> --port <port>\``);
  if (/certificate|self.signed|CERT_/i.test(`${code} ${e.message}`)) {
    return new ProtocolError(`the TLS certificate of ${url} is not trusted (${e.message}): pass its certificate as { ca }`);
  }
  return new ProtocolError(`cannot connect to the worker at ${url}: ${e.message}`);
}

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
  /** How long requests wait for their answer (ms). */
  timeoutMs: number;
  /** How many messages the worker refused with no caller waiting (posts), and the last one. */
  rejected = 0;
  lastRejection: WireError | undefined;

  #id: string | undefined;
  readonly #token: string | undefined;
  readonly #ticket: Ticket | undefined;
  readonly #role: Role;
  readonly #connectTimeoutMs: number;
  readonly #autoReconnect: boolean;
  readonly #reconnectWithinMs: number;
  readonly #maxIncoming: number;
  readonly #ca: WebsocketClientOptions['ca'];
  #maxOutgoing = DEFAULT_MAX_MESSAGE_BYTES;
  #state: State = 'connecting';
  #socket: WebSocket | undefined;
  #session: string | undefined;
  #closedBy: Error | undefined;
  #reconnecting: Promise<{ resumed: boolean }> | undefined;
  readonly #channel = new FrameChannel();
  readonly #pending = new Map<number, Pending>();
  #nextReq = 1;
  readonly #listeners: { [K in keyof ClientEvents]: Set<ClientEvents[K]> } = {
    rejection: new Set(),
    disconnect: new Set(),
    reconnect: new Set(),
    close: new Set(),
  };

  private constructor(url: string, opts: WebsocketClientOptions, role: Role, ticket: Ticket | undefined) {
    this.url = checkUrl(url);
    this.peerUrl = checkUrl(opts.peerUrl ?? url);
    if (opts.id !== undefined && (typeof opts.id !== 'string' || !ID_RE.test(opts.id))) {
      throw new ValueError(`a worker id is 1-64 letters, digits or _.:- characters, got ${JSON.stringify(opts.id)}`);
    }
    if (opts.token !== undefined && (typeof opts.token !== 'string' || opts.token.length === 0)) {
      throw new ValueError('token must be a non-empty string (or leave it out for a worker without a token)');
    }
    this.#id = opts.id;
    this.#token = opts.token;
    this.#ticket = ticket;
    this.#role = role;
    this.owner = opts.owner ?? local;
    this.timeoutMs = positive(opts.timeoutMs, 60_000, 'timeoutMs');
    this.#connectTimeoutMs = positive(opts.connectTimeoutMs, 10_000, 'connectTimeoutMs');
    this.#autoReconnect = opts.reconnect ?? true;
    this.#reconnectWithinMs = positive(opts.reconnectWithinMs, 10_000, 'reconnectWithinMs');
    this.#maxIncoming = positive(opts.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes');
    this.#ca = opts.ca;
  }

  /**
   * Connects to the worker at `url` and authenticates (both ways, when a token is set).
   * Rejects with an {@link AuthenticationError} for a wrong or missing token or an unexpected
   * worker id, and a {@link ProtocolError} when nothing answers.
   */
  static async connect(url: string, opts: WebsocketClientOptions = {}): Promise<WebsocketClientWorker> {
    const c = new WebsocketClientWorker(url, opts, 'client', undefined);
    await c.open(false);
    c.owner.addWorker(c);
    return c;
  }

  /**
   * A worker's own connection to a peer, authenticated by a ticket (see auth.ts). Carries protocol
   * values only. Used by {@link WebsocketServerWorker} when told to connect to a peer.
   * @internal
   */
  static async connectPeer(
    url: string,
    opts: WebsocketClientOptions & { id: string; owner: Worker },
    ticket: Ticket,
  ): Promise<WebsocketClientWorker> {
    const c = new WebsocketClientWorker(url, opts, 'peer', ticket);
    await c.open(false);
    return c;
  }

  /** The worker's id (as the worker announced it). */
  get id(): string {
    return this.#id ?? '?';
  }

  /**
   * What this client's connection carried since it was made (reconnections included): the
   * messages and bytes this process sent to the worker and received from it.
   */
  get traffic(): Readonly<Traffic> {
    return { ...this.#channel.traffic };
  }

  /**
   * The worker's own counters: its traffic by kind of connection and how busy its process was
   * (see `WebsocketServerWorker.stats`).
   */
  async workerStats(): Promise<WorkerStats> {
    return (await this.call('stats', [])) as unknown as WorkerStats;
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.#state === 'open';
  }

  /** 'connecting', 'open', 'reconnecting' or 'closed'. */
  get state(): State {
    return this.#state;
  }

  /** Listens to an event: `rejection`, `disconnect`, `reconnect`, `close`. Returns a function that stops listening. */
  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    this.#listeners[event].add(listener);
    return () => this.#listeners[event].delete(listener);
  }

  #emit<K extends keyof ClientEvents>(event: K, ...args: Parameters<ClientEvents[K]>): void {
    for (const l of this.#listeners[event]) {
      try {
        (l as (...a: Parameters<ClientEvents[K]>) => void)(...args);
      } catch {
        // A listener's failure is its own business; the transport carries on.
      }
    }
  }

  // ---- connecting ---------------------------------------------------------------------------

  // Opens a connection and runs the handshake; resumes the session when `resume` and one exists.
  private open(resume: boolean, budgetMs = this.#connectTimeoutMs): Promise<{ resumed: boolean }> {
    return this.handshake(resume ? this.#session : undefined, budgetMs);
  }

  // Takes over a connection whose handshake just succeeded. Runs inside the handler of the
  // welcome frame: `ws` emits several messages in one tick, and frames the worker resends right
  // after its welcome must find this client's listener already in place.
  private adopt(ws: WebSocket, welcome: Welcome, serverId: string): { resumed: boolean } {
    if (this.#state === 'closed') {
      // close() was called while this connection was being made.
      ws.terminate();
      throw this.#closedBy ?? new ProtocolError(`the connection to worker '${this.id}' was closed`);
    }
    this.#id ??= serverId;
    const hadSession = this.#session !== undefined;
    if (!welcome.resumed) {
      if (hadSession) {
        this.failPending(
          new ProtocolError(
            `worker '${this.id}' no longer holds this client's session (it restarted, or the connection was down ` +
              'longer than its session grace period): the objects sent to it before are gone',
          ),
        );
      }
      this.#channel.reset();
    }
    try {
      this.#channel.attach(ws, welcome.received);
    } catch (e) {
      ws.close(CLOSE.protocol, 'bad resume point');
      throw new ProtocolError(`worker '${this.id}' resumed the session at an impossible point: ${(e as Error).message}`);
    }
    this.#session = welcome.session;
    this.#socket = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(ws, data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => this.onClose(ws, code, reason.toString()));
    this.#state = 'open';
    if (hadSession) this.#emit('reconnect', { resumed: welcome.resumed });
    return { resumed: welcome.resumed };
  }

  private handshake(session: string | undefined, budgetMs: number): Promise<{ resumed: boolean }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, {
        maxPayload: this.#maxIncoming,
        perMessageDeflate: false,
        handshakeTimeout: budgetMs,
        ...(needsMask(this.url) ? {} : { generateMask: zeroMask }),
        ...(this.#ca === undefined ? {} : { ca: this.#ca }),
      });
      ws.binaryType = 'nodebuffer';
      let done = false;
      let challenge: Challenge | undefined;
      let transcript: Transcript | undefined;
      let key: Uint8Array | string = '';
      const timer = setTimeout(
        () => fail(new TimeoutError(`no handshake with the worker at ${this.url} within ${budgetMs} ms`)),
        budgetMs,
      );
      const fail = (e: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        ws.removeAllListeners('message');
        ws.removeAllListeners('close');
        ws.on('error', () => {});
        ws.terminate();
        reject(e);
      };
      ws.on('error', (e: Error) => {
        if (!done) fail(connectError(this.url, e));
      });
      ws.on('close', (code: number, reason: Buffer) => {
        const why = reason.toString();
        fail(
          code === CLOSE.refused
            ? refusedError(this.url, why)
            : new ProtocolError(`the worker at ${this.url} closed the connection during the handshake (${code}${why ? `: ${why}` : ''})`),
        );
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) return fail(new ProtocolError(`the worker at ${this.url} sent data before the handshake`));
        let c;
        try {
          c = parseControl(data.toString('utf8'));
        } catch (e) {
          return fail(new ProtocolError(`the worker at ${this.url} does not speak the syft-ts protocol: ${(e as Error).message}`));
        }
        if (c.t === 'refused') return fail(refusedError(this.url, c.reason));
        if (!challenge) {
          if (c.t !== 'challenge') return fail(new ProtocolError(`expected a challenge from ${this.url}, got '${c.t}'`));
          if (c.v !== PROTOCOL_VERSION) {
            return fail(new ProtocolError(`the worker at ${this.url} speaks protocol version ${c.v}, this client ${PROTOCOL_VERSION}`));
          }
          if (this.#id !== undefined && c.id !== this.#id) {
            return fail(new AuthenticationError(`expected worker '${this.#id}' at ${this.url}, but the worker there is '${c.id}'`));
          }
          if (this.#role === 'client' && c.auth && this.#token === undefined) {
            return fail(new AuthenticationError(`worker '${c.id}' at ${this.url} requires a token: connect(url, { token })`));
          }
          if (this.#role === 'client' && !c.auth && this.#token !== undefined) {
            return fail(
              new AuthenticationError(
                `worker '${c.id}' at ${this.url} uses no token, but one was given: is it the worker you meant? ` +
                  '(leave the token out to use a worker that has none)',
              ),
            );
          }
          challenge = c;
          this.#maxOutgoing = c.maxMessageBytes;
          key = this.#role === 'peer' ? this.#ticket!.key : (this.#token ?? '');
          transcript = {
            serverId: c.id,
            serverNonce: c.nonce,
            clientNonce: randomHex(),
            role: this.#role,
            clientId: this.owner.id,
            ticket: this.#ticket?.nonce,
          };
          ws.send(
            controlText({
              t: 'hello',
              v: PROTOCOL_VERSION,
              role: this.#role,
              id: this.owner.id,
              nonce: transcript.clientNonce,
              ...(this.#ticket ? { ticket: this.#ticket.nonce } : {}),
              ...(session ? { session } : {}),
              received: session ? this.#channel.received : 0,
              proof: helloProof(key, transcript, session),
            }),
          );
          return;
        }
        if (c.t !== 'welcome') return fail(new ProtocolError(`expected a welcome from ${this.url}, got '${c.t}'`));
        if (!proofsMatch(c.proof, welcomeProof(key, transcript!, c.session, c.resumed))) {
          return fail(
            new AuthenticationError(`the worker at ${this.url} could not prove that it knows the token: it is not the worker you meant`),
          );
        }
        if (!c.resumed && c.received !== 0) return fail(new ProtocolError(`the worker at ${this.url} opened a new session mid-stream`));
        done = true;
        clearTimeout(timer);
        ws.removeAllListeners('message');
        ws.removeAllListeners('close');
        try {
          resolve(this.adopt(ws, c, challenge.id));
        } catch (e) {
          reject(e as Error);
        }
      });
    });
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.#socket) return;
    this.#socket = undefined;
    this.#channel.detach();
    if (this.#state === 'closed') return;
    this.#emit('disconnect', { code, reason });
    const why = `code ${code}${reason ? `: ${reason}` : ''}`;
    if (!this.#autoReconnect || FATAL_CLOSE.has(code)) {
      const hint = code === CLOSE.tooBig ? ' (a message was larger than the other side accepts)' : '';
      this.shutdown(new ProtocolError(`the connection to worker '${this.id}' at ${this.url} closed (${why})${hint}`));
      return;
    }
    this.#state = 'reconnecting';
    this.#reconnecting = this.reconnectLoop(why);
    this.#reconnecting.catch(() => {});
  }

  private async reconnectLoop(why: string): Promise<{ resumed: boolean }> {
    const deadline = Date.now() + this.#reconnectWithinMs;
    let delay = 50;
    let last: Error = new ProtocolError('no attempt made');
    while (this.#state === 'reconnecting') {
      const budget = Math.min(this.#connectTimeoutMs, deadline - Date.now());
      if (budget <= 0) break;
      try {
        return await this.open(true, budget);
      } catch (e) {
        last = e as Error;
        if (e instanceof AuthenticationError) break;
      }
      if (Date.now() + delay >= deadline) break;
      await sleep(delay);
      delay = Math.min(delay * 2, 1000);
    }
    const err = new ProtocolError(
      `lost the connection to worker '${this.id}' at ${this.url} (${why}) and could not reconnect within ` +
        `${this.#reconnectWithinMs} ms (${last.message}); call await worker.reconnect() to try again`,
    );
    if (this.#state === 'reconnecting') this.shutdown(err);
    throw err;
  }

  /**
   * Connects again after the connection was lost (or closed), resuming the session when the
   * worker still holds it. Resolves with `{ resumed }`: false means a new, empty session.
   */
  async reconnect(): Promise<{ resumed: boolean }> {
    if (this.#state === 'open') return { resumed: true };
    if (this.#state === 'reconnecting' && this.#reconnecting) {
      try {
        return await this.#reconnecting;
      } catch {
        // The automatic attempts gave up; try once more below.
      }
    }
    this.#state = 'reconnecting';
    this.#closedBy = undefined;
    try {
      return await this.open(true);
    } catch (e) {
      this.shutdown(e as Error);
      throw e;
    }
  }

  /** Ends the session (the worker frees its objects) and closes the connection. */
  async close(): Promise<void> {
    const ws = this.#socket;
    this.shutdown(new ProtocolError(`the connection to worker '${this.id}' was closed with close()`));
    this.#socket = undefined;
    this.#session = undefined;
    this.#channel.reset();
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.send(controlText({ t: 'bye' }));
      ws.close(CLOSE.normal, 'bye');
    });
  }

  private shutdown(err: Error): void {
    const was = this.#state;
    this.#state = 'closed';
    this.#closedBy = err;
    this.failPending(err);
    if (was !== 'closed') this.#emit('close', err);
  }

  private failPending(err: Error): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
  }

  // ---- receiving ----------------------------------------------------------------------------

  private onFrame(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (ws !== this.#socket) return;
    if (!isBinary) {
      this.#channel.noteControl(data.length);
      try {
        const c = parseControl(data.toString('utf8'));
        if (c.t === 'ack') this.#channel.acknowledge(c.n);
        else if (c.t === 'error') this.reject({ name: 'ProtocolError', message: c.reason, op: 'control' });
        else throw new ProtocolError(`unexpected '${c.t}' frame`);
      } catch (e) {
        // The worker broke the transport's rules: this connection cannot be trusted to continue.
        this.reject({ name: 'ProtocolError', message: (e as Error).message, op: 'control' });
        ws.close(CLOSE.protocol, 'protocol error');
      }
      return;
    }
    this.#channel.noteReceived(data.length);
    let msg: Message;
    try {
      msg = this.#channel.decode(data);
    } catch (e) {
      this.reject({ name: 'WireFormatError', message: `undecodable frame from worker '${this.id}': ${(e as Error).message}`, op: 'reply' });
      return;
    }
    if (msg.kind !== 'reply') {
      this.reject({ name: 'ProtocolError', message: `worker '${this.id}' sent a '${msg.kind}' message to a client`, op: msg.kind });
      return;
    }
    this.onReply(msg);
  }

  private onReply(r: ReplyMessage): void {
    const p = this.#pending.get(r.req);
    if (!p) {
      // A refused post (no caller is waiting), or the answer to a request that timed out.
      if (!r.ok) this.reject(r.error);
      return;
    }
    this.#pending.delete(r.req);
    clearTimeout(p.timer);
    if (r.ok) p.resolve(r.value);
    else p.reject(new RemoteError(this.id, r.error.op, r.error.name, r.error.message));
  }

  // Keeps a refusal visible: counted, remembered, and announced.
  private reject(error: WireError): void {
    this.rejected++;
    this.lastRejection = error;
    this.#emit('rejection', error);
  }

  // ---- sending ------------------------------------------------------------------------------

  private usable(): void {
    if (this.#state === 'closed') {
      throw new ProtocolError(
        `not connected to worker '${this.id}' at ${this.url}: ${this.#closedBy?.message ?? 'closed'}`,
      );
    }
  }

  private sendMessage(msg: Message): void {
    this.usable();
    const frame = this.#channel.encode(msg);
    if (frame.length > this.#maxOutgoing) {
      throw new ValueError(
        `a '${msg.kind}' message of ${frame.length} bytes is larger than worker '${this.id}' accepts ` +
          `(${this.#maxOutgoing} bytes): send the data in smaller pieces, or start the worker with a larger --max-message-bytes`,
      );
    }
    this.#channel.send(frame);
  }

  /** Sends a message; the worker runs it in order with the others from this client. */
  post(msg: Message, from: Worker): void {
    if (msg.kind === 'peer' && (this.#role !== 'peer' || from !== this.owner)) {
      throw new ProtocolError(
        `protocol values travel only between workers introduced to each other; '${from.id}' cannot send one to '${this.id}' over a client connection`,
      );
    }
    this.sendMessage(msg);
  }

  /** Sends a request and resolves with the answer; rejects with a RemoteError, TimeoutError or ProtocolError. */
  request(msg: RequestMessage, _from: Worker): Promise<WireValue> {
    return this.call(msg.op, msg.args);
  }

  private call(op: string, args: WireValue[], timeoutMs = this.timeoutMs): Promise<WireValue> {
    return new Promise((resolve, reject) => {
      const req = this.#nextReq++;
      try {
        this.sendMessage({ kind: 'req', req, op, args });
      } catch (e) {
        reject(e as Error);
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(req);
        reject(
          new TimeoutError(
            `worker '${this.id}' did not answer '${op}' within ${timeoutMs} ms: it may still be busy with earlier work ` +
              '(raise { timeoutMs }), or be unreachable',
          ),
        );
      }, timeoutMs);
      this.#pending.set(req, { op, resolve, reject, timer });
    });
  }

  /**
   * Lets this worker send protocol values (a moved object, masked shares) straight to `peer`:
   * tells it to connect to `peer` with a ticket derived from `peer`'s token. Ordered before
   * everything posted afterwards. Sent every time (a worker with a live link to `peer` answers
   * at once), so a link that died is made again. A failure is reported as a rejection
   * (`lastRejection`, the `rejection` event), and the step waiting for the value times out with
   * a clear error.
   */
  introduce(peer: RemoteWorker, _from: Worker): void {
    if (peer.id === this.id) return;
    if (!(peer instanceof WebsocketClientWorker)) {
      throw new ValueError(
        `worker '${this.id}' runs in another process and can send values only to other network workers; ` +
          `'${peer.id}' is in this process (connect to a syft-ts worker with WebsocketClientWorker.connect instead)`,
      );
    }
    const nonce = randomHex();
    const key = ticketKey(peer.#token, peer.id, this.id, nonce).toString('hex');
    this.call('connectPeer', [peer.id, peer.peerUrl, nonce, key]).catch((e: unknown) => {
      const message = e instanceof RemoteError ? e.remoteMessage : (e as Error).message;
      this.reject({ name: e instanceof RemoteError ? e.remoteName : (e as Error).name, message, op: 'connectPeer' });
    });
  }

  // ---- conveniences -------------------------------------------------------------------------

  /** Resolves once the worker has run everything sent to it so far (pending frees included). */
  async sync(): Promise<void> {
    flushDeletes();
    await this.call('sync', []);
  }

  /**
   * Pointers to the tensors the worker's owner published under `tag` (`WebsocketServerWorker.publish`),
   * in the order published: the way to compute on a data owner's data without it ever leaving
   * the data owner. Empty when there are none.
   *
   * @example
   * ```ts
   * const [houses] = await alice.search('#housing');
   * const shared = houses.fixPrecision().share(alice, bob, { cryptoProvider });  // split by alice
   * ```
   */
  async search(tag: string): Promise<Tensor[]> {
    const found = await this.call('search', [tag]);
    if (!Array.isArray(found)) throw new ProtocolError(`worker '${this.id}' answered a search with something that is not a list`);
    return found.map((f) => {
      const o = f as { id?: unknown; shape?: unknown } | null;
      const shape = o?.shape;
      if (
        typeof o?.id !== 'number' || !Number.isSafeInteger(o.id) || !Array.isArray(shape) ||
        !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
      ) {
        throw new ProtocolError(`worker '${this.id}' answered a search with a malformed entry`);
      }
      return new Tensor(new PointerTensor(this, o.id, shape as number[], this.owner));
    });
  }

  /** Round trip to the worker. */
  async ping(): Promise<void> {
    await this.call('ping', []);
  }

  /** Ids of the objects the worker holds (every session's). */
  async objectIds(): Promise<ObjectId[]> {
    return (await this.call('ids', [])) as ObjectId[];
  }

  /** Tells the worker to forget every object it holds. Returns this client. */
  clearObjects(): this {
    this.post({ kind: 'clear' }, this.owner);
    return this;
  }

  toString(): string {
    return `<WebsocketClientWorker id:${this.id} url:${this.url} ${this.#state}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function positive(v: number | undefined, dflt: number, what: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ValueError(`${what} must be a positive number of ms/bytes, got ${v}`);
  return v;
}
