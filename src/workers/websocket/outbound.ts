/**
 * A worker that serves over connections it dialled: a web page, a phone, a laptop behind NAT —
 * anything that cannot listen. It joins a {@link Coordinator} (coordinator.ts, in Node) by URL
 * and keeps a few idle connections "offered" there. When someone dials the coordinator for this
 * worker (an orchestrator as a client, or a party's peer link), the coordinator hands them one
 * offer (`splice`) and relays bytes; from then on this worker answers the handshake on that
 * socket exactly as a listening worker answers an accepted one, and serves the session: the same
 * commands, objects, ownership, limits and protocols. Only the transport differs.
 *
 * Every relayed connection is sealed end to end (seal.ts): the handshake proofs (the worker's
 * token, or the peer's ticket) cover both ECDH keys, so the coordinator relays bytes it can
 * neither read nor change. Anyone may offer a socket under any id, but a caller's handshake
 * proves the worker knows its token, so an impostor's offer only fails that call.
 *
 * The worker opens a new offer whenever one is taken or drops (with a growing pause while the
 * coordinator is unreachable), so a dropped connection is replaced and its client resumes.
 */
import { StateError, ValueError } from '../../errors.js';
import type { WorkerOptions } from '../worker.js';
import { checkToken } from './auth.js';
import { defaultDial } from './dial.js';
import { answerHandshake } from './handshake.js';
import { checkUrl, positive } from './options.js';
import { CLOSE, DEFAULT_MAX_MESSAGE_BYTES, JOIN_PATH, parseControl } from './protocol.js';
import { SEAL_OVERHEAD } from './seal.js';
import { ServingWorker } from './serving.js';
import type { Dial, FrameSocket, Pem } from './socket.js';
import type { WorkerStats } from './traffic.js';

export interface OutboundWorkerOptions extends WorkerOptions {
  /** Callers must prove they know this secret (orchestrators; peers' tickets derive from it). Default: none. */
  token?: string;
  /** Idle connections kept offered at the coordinator (how many callers can start at once). Default 2. */
  offers?: number;
  /** Largest message accepted, in bytes. Default 64 MiB. */
  maxMessageBytes?: number;
  /** How long a dropped session's objects are kept for its client to come back, in ms. Default 30 s. */
  sessionGraceMs?: number;
  /** How long a caller may take to authenticate once spliced, in ms. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** How long opening a connection may take, in ms. Default 10 s. */
  connectTimeoutMs?: number;
  /** How to open WebSockets. Default: the page's own WebSocket in browsers, the `ws` package in Node. */
  dial?: Dial;
  /** Certificates (PEM) to trust for `wss:` (Node only; a page trusts what its browser trusts). */
  ca?: Pem | Pem[];
  /** Where to write one line per connection event (default: nowhere). */
  log?: (line: string) => void;
}

const MAX_PAUSE_MS = 5_000;

/**
 * A worker that serves over connections it opens to a coordinator.
 *
 * @example
 * ```ts
 * // in a page: be a party of a computation started by a model owner in Node
 * const alice = await sy.OutboundWorker.join('wss://coordinator.example:8777', { id: 'alice', token });
 * // the model owner: await sy.WebsocketClientWorker.connect(coordinator.url('alice'), { id: 'alice', token })
 * ```
 */
export class OutboundWorker extends ServingWorker {
  /** The coordinator this worker joined. */
  readonly coordinatorUrl: string;
  readonly #token: string | undefined;
  readonly #dial: Dial;
  readonly #offers: number;
  readonly #connectTimeoutMs: number;
  readonly #handshakeTimeoutMs: number;
  readonly #ca: OutboundWorkerOptions['ca'];
  readonly #idle = new Set<FrameSocket>();
  #pauseMs = 100;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Connections the coordinator handed to callers so far. */
  spliced = 0;

  constructor(coordinatorUrl: string, opts: OutboundWorkerOptions) {
    const dial = opts.dial ?? defaultDial();
    super({
      ...opts,
      maxMessageBytes: positive(opts.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes'),
      sessionGraceMs: positive(opts.sessionGraceMs, 30_000, 'sessionGraceMs'),
      log: opts.log ?? (() => {}),
      dial,
      peerCa: opts.ca,
    });
    if (opts.id === undefined) throw new ValueError('an OutboundWorker needs an id: callers reach it by id through the coordinator');
    this.coordinatorUrl = checkUrl(coordinatorUrl).replace(/\/+$/, '');
    if (opts.token !== undefined) checkToken(opts.token);
    const offers = opts.offers ?? 2;
    if (!Number.isInteger(offers) || offers < 1 || offers > 16) throw new ValueError(`offers must be an integer in 1..16, got ${offers}`);
    this.#token = opts.token;
    this.#dial = dial;
    this.#offers = offers;
    this.#ca = opts.ca;
    this.#connectTimeoutMs = positive(opts.connectTimeoutMs, 10_000, 'connectTimeoutMs');
    this.#handshakeTimeoutMs = positive(opts.handshakeTimeoutMs, 10_000, 'handshakeTimeoutMs');
  }

  /**
   * Creates a worker, joins the coordinator at `url` and resolves once its first offer is up
   * (callers can reach it from then on). Rejects with a {@link ProtocolError} when the
   * coordinator cannot be reached.
   */
  static async join(url: string, opts: OutboundWorkerOptions): Promise<OutboundWorker> {
    const w = new OutboundWorker(url, opts);
    await new Promise<void>((resolve, reject) => w.offer(resolve, reject));
    w.refill();
    return w;
  }

  /** Connections currently offered and not yet taken. */
  get idleOffers(): number {
    return this.#idle.size;
  }

  /** Traffic, and process figures where the runtime has them (Node); in a page they are NaN. */
  stats(): WorkerStats {
    const proc = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
    const perf = globalThis.performance as Performance & { eventLoopUtilization?: () => { active: number; idle: number } };
    const cpu = proc?.cpuUsage?.();
    const elu = perf?.eventLoopUtilization?.();
    return {
      traffic: this.traffic(),
      process: { cpuMs: cpu ? (cpu.user + cpu.system) / 1000 : NaN, activeMs: elu?.active ?? NaN, idleMs: elu?.idle ?? NaN },
    };
  }

  private refill(): void {
    while (!this.#closed && this.#idle.size < this.#offers) this.offer();
  }

  // Opens one offer; `up`/`down` report the first outcome (join() waits on it).
  private offer(up?: () => void, down?: (e: Error) => void): void {
    const url = `${this.coordinatorUrl}${JOIN_PATH}${encodeURIComponent(this.id)}`;
    let socket: FrameSocket;
    try {
      socket = this.#dial(url, { maxMessageBytes: this.maxMessageBytes + SEAL_OVERHEAD, timeoutMs: this.#connectTimeoutMs, ca: this.#ca });
    } catch (e) {
      if (down) return down(e as Error);
      throw e;
    }
    let failure: Error | undefined;
    let first = up && down ? { up, down } : undefined;
    this.#idle.add(socket);
    socket.onOpen = () => {
      this.#pauseMs = 100;
      first?.up();
      first = undefined;
    };
    socket.onError = (e) => (failure = e);
    socket.onBinary = () => socket.close(CLOSE.protocol, 'an offer carries nothing before its splice');
    socket.onText = (text) => {
      let c;
      try {
        c = parseControl(text);
      } catch (e) {
        return socket.close(CLOSE.protocol, (e as Error).message.slice(0, 120));
      }
      if (c.t !== 'splice') return socket.close(CLOSE.protocol, `expected a splice, got '${c.t}'`);
      this.#idle.delete(socket);
      this.spliced++;
      this.log(`spliced connection ${c.id} from the coordinator`);
      this.refill();
      answerHandshake(socket, this.handshakeHost(this.#token, this.#handshakeTimeoutMs), `relay ${c.id}`, { seal: true });
    };
    socket.onClose = (code, reason) => {
      if (!this.#idle.delete(socket)) return;
      if (first) return first.down(failure ?? new StateError(`the coordinator at ${this.coordinatorUrl} closed the offer (${code}${reason ? `: ${reason}` : ''})`));
      if (this.#closed) return;
      if (code === CLOSE.refused) this.log(`the coordinator refused an offer: ${reason}`);
      this.later();
    };
  }

  // The coordinator is away or refused: offer again after a pause that grows while it stays away.
  private later(): void {
    if (this.#retry !== undefined || this.#closed) return;
    const pause = this.#pauseMs;
    this.#pauseMs = Math.min(MAX_PAUSE_MS, this.#pauseMs * 2);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.refill();
    }, pause);
  }

  /**
   * Drops every connection at once, as a page losing its network would: new offers follow, and
   * clients reconnect and resume their sessions (for tests and demonstrations).
   */
  dropConnections(): void {
    this.dropSessionSockets();
    for (const s of [...this.#idle]) s.terminate();
  }

  /** Stops offering, closes every connection and peer link, and fails waiting protocol steps. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    for (const s of this.#idle) s.close(CLOSE.normal, 'worker closing');
    this.#idle.clear();
    await this.stopServing();
  }

  override toString(): string {
    return `<OutboundWorker id:${this.id} via:${this.coordinatorUrl} #objects:${this.objectCount}>`;
  }
}
