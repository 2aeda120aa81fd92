/**
 * Where workers that cannot listen are reached (Node): a coordinator listens, takes in the idle
 * connections {@link OutboundWorker}s offer at `/join/<id>`, and when a caller dials
 * `/relay/<id>` — an orchestrator as a client, or a party's peer link — hands the caller one of
 * them (`splice`) and relays frames both ways. The worker then answers the handshake on its end,
 * sealed end to end (seal.ts): the coordinator authenticates no one and reads nothing; it moves
 * bytes and counts them. A caller that finds no offer waits for one up to `waitMs`.
 *
 * Relaying costs a hop: the frame goes caller -> coordinator -> worker. A worker that can listen
 * is dialled directly instead (its own URL); the two kinds mix freely in one computation.
 *
 * Anyone may dial a coordinator, so what a connection costs it is capped ({@link CoordinatorLimits}):
 * connections at once, from one address and waiting for one id, and the ids it remembers; before
 * the WebSocket upgrade the pre-authentication limits of a listening worker apply (admission.ts:
 * bytes, time, plain HTTP answered 426).
 */
import { ValueError } from '../../errors.js';
import { Admission, type AdmissionLimits, resolveCounts } from './admission.js';
import { type CoordinatorLimits, DEFAULT_COORDINATOR_LIMITS, OpenConnections, overCap } from './coordinator-limits.js';
import { randomHex } from './auth.js';
import { Listener } from './listener.js';
import { positive } from './options.js';
import { CLOSE, DEFAULT_MAX_MESSAGE_BYTES, ID_RE, JOIN_PATH, RELAY_PATH, controlText } from './protocol.js';
import { SEAL_OVERHEAD } from './seal.js';
import type { FrameSocket } from './socket.js';

export interface CoordinatorOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Serve `wss:` with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Browser origins allowed to connect (the pages that join). Default none. */
  allowOrigins?: readonly string[];
  /** Largest message relayed, in bytes. Default 64 MiB. */
  maxMessageBytes?: number;
  /** How long a caller waits for the worker it dialled to offer a connection, in ms. Default 10 s. */
  waitMs?: number;
  /** Idle offers kept per worker id; the oldest goes when more come. Default 8. */
  maxOffers?: number;
  /** Caps on connections and ids (defaults in {@link DEFAULT_COORDINATOR_LIMITS}). */
  limits?: Partial<CoordinatorLimits>;
  /** Limits before the WebSocket upgrade: time, bytes, connections not yet upgraded. */
  admission?: Partial<AdmissionLimits>;
  log?: (line: string) => void;
}

/** Bytes relayed for one worker id: `toWorker` from callers, `fromWorker` back to them. */
export interface RelayTraffic {
  toWorker: number;
  fromWorker: number;
  connections: number;
}

interface Waiting {
  socket: FrameSocket;
  timer: ReturnType<typeof setTimeout>;
}

// Close codes a socket may send on (others, such as 1006 for a dropped link, become "going away").
const relayable = (code: number): number => (code === 1000 || (code >= 3000 && code <= 4999) ? code : CLOSE.goingAway);

/**
 * A relay for workers that dial out.
 *
 * @example
 * ```ts
 * const coordinator = await sy.Coordinator.start({ port: 8777, allowOrigins: ['http://localhost:8080'] });
 * // a page: await sy.OutboundWorker.join('ws://localhost:8777', { id: 'alice', token })
 * await coordinator.waitFor('alice');
 * const alice = await sy.WebsocketClientWorker.connect(coordinator.url('alice'), { id: 'alice', token });
 * ```
 */
export class Coordinator {
  readonly #offers = new Map<string, FrameSocket[]>();
  readonly #waiting = new Map<string, Waiting[]>();
  readonly #traffic = new Map<string, RelayTraffic>();
  readonly #arrivals = new Set<() => void>();
  readonly #log: (line: string) => void;
  readonly #waitMs: number;
  readonly #maxOffers: number;
  readonly #limits: CoordinatorLimits;
  readonly #open = new OpenConnections<FrameSocket>();

  private constructor(
    private readonly listener: Listener,
    readonly host: string,
    private readonly secure: boolean,
    opts: CoordinatorOptions,
  ) {
    this.#log = opts.log ?? (() => {});
    this.#waitMs = positive(opts.waitMs, 10_000, 'waitMs');
    this.#maxOffers = opts.maxOffers ?? 8;
    this.#limits = resolveCounts(DEFAULT_COORDINATOR_LIMITS, opts.limits, 'coordinator');
  }

  /** Starts listening. */
  static async start(opts: CoordinatorOptions = {}): Promise<Coordinator> {
    const maxMessageBytes = positive(opts.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes');
    const host = opts.host ?? '127.0.0.1';
    resolveCounts(DEFAULT_COORDINATOR_LIMITS, opts.limits, 'coordinator'); // refuse bad limits before listening
    const admission = new Admission(opts.admission, opts.log);
    let c: Coordinator | undefined;
    const listener = await Listener.open({
      port: opts.port ?? 0,
      host,
      tls: opts.tls,
      maxMessageBytes: maxMessageBytes + SEAL_OVERHEAD,
      allowOrigins: new Set(opts.allowOrigins ?? []),
      log: opts.log ?? (() => {}),
      admission,
      // The coordinator authenticates no one: a connection that reached the upgrade is through.
      accept: (socket, address, path, key) => {
        admission.authenticated(key, address);
        c!.accept(socket, address, path);
      },
    });
    c = new Coordinator(listener, host, opts.tls !== undefined, opts);
    return c;
  }

  /** The port listened on. */
  get port(): number { return this.listener.port; }

  /** Where workers join (`OutboundWorker.join(coordinator.joinUrl, ...)`). */
  get joinUrl(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${this.secure ? 'wss' : 'ws'}://${host}:${this.port}`;
  }

  /** Where callers reach the worker `id` that joined (clients and peer links alike). */
  url(id: string): string {
    if (!ID_RE.test(id)) throw new ValueError(`a worker id is 1-64 letters, digits or _.:- characters, got ${JSON.stringify(id)}`);
    return `${this.joinUrl}${RELAY_PATH}${encodeURIComponent(id)}`;
  }

  /** Ids of the workers with a connection on offer now. */
  get joined(): string[] {
    return [...this.#offers.entries()].filter(([, l]) => l.length > 0).map(([id]) => id);
  }

  /** Connections open now (offers, waiting callers, relayed ends). */
  get connections(): number { return this.#open.size; }

  /** Worker ids remembered now (with offers, waiting callers or traffic counts). */
  get ids(): number {
    return new Set([...this.#offers.keys(), ...this.#waiting.keys(), ...this.#traffic.keys()]).size;
  }

  /** Bytes relayed for worker `id` so far. */
  traffic(id: string): RelayTraffic {
    return { ...(this.#traffic.get(id) ?? { toWorker: 0, fromWorker: 0, connections: 0 }) };
  }

  /** Resolves once worker `id` has joined (offers a connection); rejects after `timeoutMs`. */
  waitFor(id: string, timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if ((this.#offers.get(id)?.length ?? 0) === 0) return false;
        this.#arrivals.delete(check);
        clearTimeout(timer);
        resolve();
        return true;
      };
      const timer = setTimeout(() => {
        this.#arrivals.delete(check);
        reject(new ValueError(`worker '${id}' did not join the coordinator within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) this.#arrivals.add(check);
    });
  }

  private accept(socket: FrameSocket, address: string, path: string): void {
    const join = path.startsWith(JOIN_PATH);
    const relay = path.startsWith(RELAY_PATH);
    const raw = path.slice((join ? JOIN_PATH : RELAY_PATH).length).split('?')[0]!;
    const id = ((): string => { try { return decodeURIComponent(raw); } catch { return ''; } })(); // a bad escape is a bad id
    if ((!join && !relay) || !ID_RE.test(id)) return socket.close(CLOSE.refused, 'dial /join/<id> or /relay/<id>');
    const full = this.#full(address, id, relay);
    if (full) {
      this.#log(`refused a connection from ${address}: ${full}`);
      return socket.close(CLOSE.refused, full);
    }
    this.#open.add(socket, address);
    if (join) return this.offer(id, socket, address);
    const offer = this.take(id);
    if (offer) return this.splice(id, socket, offer);
    // Wait for the worker to offer one (it is reconnecting, or all its offers are in use).
    const w: Waiting = {
      socket,
      timer: setTimeout(() => {
        this.drop(id, w);
        socket.close(CLOSE.goingAway, `worker '${id}' has not joined this coordinator`);
      }, this.#waitMs),
    };
    socket.onBinary = socket.onText = () => socket.close(CLOSE.protocol, 'the worker speaks first');
    socket.onClose = () => {
      this.#open.remove(socket);
      this.drop(id, w);
    };
    this.#waiting.set(id, [...(this.#waiting.get(id) ?? []), w]);
  }

  // Why a new connection may not be taken (a cap it would pass), or undefined.
  #full(address: string, id: string, relay: boolean): string | undefined {
    const waiting = relay && (this.#offers.get(id)?.length ?? 0) === 0 ? (this.#waiting.get(id)?.length ?? 0) : 0;
    const known = this.#offers.has(id) || this.#waiting.has(id) || this.#traffic.has(id);
    return overCap(this.#limits, this.#open, address, id, waiting) ?? (known || this.#forgetIdle() ? undefined : `the coordinator remembers ${this.#limits.maxIds} worker ids, its limit maxIds`);
  }

  // Makes room for one more id by forgetting the oldest idle one; false when every id is busy.
  #forgetIdle(): boolean {
    if (this.ids < this.#limits.maxIds) return true;
    for (const id of this.#traffic.keys()) {
      if ((this.#offers.get(id)?.length ?? 0) === 0 && (this.#waiting.get(id)?.length ?? 0) === 0) {
        this.#traffic.delete(id);
        this.#offers.delete(id);
        this.#waiting.delete(id);
        return true;
      }
    }
    return false;
  }

  private offer(id: string, socket: FrameSocket, address: string): void {
    const list = this.#offers.get(id) ?? [];
    const waiting = this.#waiting.get(id)?.shift();
    if (waiting) {
      clearTimeout(waiting.timer);
      return this.splice(id, waiting.socket, socket);
    }
    list.push(socket);
    this.#offers.set(id, list);
    while (list.length > this.#maxOffers) list.shift()!.close(CLOSE.replaced, 'too many offers: a newer one replaced this');
    socket.onBinary = socket.onText = () => socket.close(CLOSE.protocol, 'an offer carries nothing before its splice');
    socket.onClose = () => {
      this.#open.remove(socket);
      const i = list.indexOf(socket);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0 && this.#offers.get(id) === list) this.#offers.delete(id);
    };
    this.#log(`worker '${id}' offered a connection from ${address}`);
    for (const f of [...this.#arrivals]) f();
  }

  private take(id: string): FrameSocket | undefined {
    const list = this.#offers.get(id);
    while (list && list.length > 0) {
      const s = list.shift()!;
      if (s.isOpen) return s;
    }
    return undefined;
  }

  private drop(id: string, w: Waiting): void {
    clearTimeout(w.timer);
    const list = this.#waiting.get(id);
    const i = list?.indexOf(w) ?? -1;
    if (i >= 0) list!.splice(i, 1);
    if (list?.length === 0) this.#waiting.delete(id);
  }

  // From now on every frame of one goes to the other, unread; a close on either closes both.
  private splice(id: string, caller: FrameSocket, worker: FrameSocket): void {
    const t = this.#traffic.get(id) ?? { toWorker: 0, fromWorker: 0, connections: 0 };
    this.#traffic.set(id, t);
    t.connections++;
    const link = randomHex();
    const pipe = (from: FrameSocket, to: FrameSocket, count: (n: number) => void): void => {
      from.onBinary = (f) => {
        count(f.length);
        if (to.isOpen) to.send(f);
      };
      from.onText = (text, bytes) => {
        count(bytes);
        if (to.isOpen) to.send(text);
      };
      from.onClose = (code, reason) => {
        this.#open.remove(from);
        if (to.isOpen) to.close(relayable(code), reason.slice(0, 120));
      };
      from.onError = () => {};
    };
    pipe(caller, worker, (n) => (t.toWorker += n));
    pipe(worker, caller, (n) => (t.fromWorker += n));
    worker.send(controlText({ t: 'splice', id: link }));
    this.#log(`relaying connection ${link} to worker '${id}'`);
  }

  /** Closes every offer and relayed connection and stops listening. */
  async close(): Promise<void> {
    for (const list of this.#waiting.values()) for (const w of list) clearTimeout(w.timer);
    this.#waiting.clear();
    this.#offers.clear();
    await this.listener.close();
  }
}
