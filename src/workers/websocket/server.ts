/**
 * A worker serving other processes over WebSockets (PySyft's WebsocketServerWorker, made safe).
 *
 * Every binary frame is one message in the serde format; it is size-checked by `ws` before
 * anything reads it (`maxPayload`), decoded and validated, then handed to `Worker.receive` — the
 * same entry point, allow-list and checks as an in-process worker. Nothing in a message is ever
 * evaluated, imported or looked up outside the registered commands and codecs. A message that
 * is refused gets an error reply and changes nothing.
 *
 * This file is the listening part: options, the listener (listener.ts), the worker's half of
 * the handshake on every accepted socket (handshake.ts), and the process figures (stats.ts).
 * What the sessions carry, which objects they own, published data and peer links are the same
 * for any worker that serves, and live in serving.ts and the files it puts together.
 */
import { StateError, ValueError } from '../../errors.js';
import type { WorkerOptions } from '../worker.js';
import { Admission, type AdmissionLimits } from './admission.js';
import { answerHandshake } from './handshake.js';
import { type ClientIdentities, checkTokenStrength } from './identities.js';
import { Listener } from './listener.js';
import { dialNode } from './node-socket.js';
import { positive } from './options.js';
import { CLOSE, DEFAULT_MAX_MESSAGE_BYTES } from './protocol.js';
import { ServingWorker } from './serving.js';
import type { SessionLimits } from './sessions.js';
import { isLoopback } from './tls.js';
import { PeerPolicy } from './peer-policy.js';
import type { FrameSocket } from './socket.js';
import { processStats } from './stats.js';
import type { WorkerStats } from './traffic.js';

export interface WebsocketServerWorkerOptions extends WorkerOptions {
  /** TCP port; 0 picks a free one (read it back from `port` / `url`). Default 0. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1 (this machine only). */
  host?: string;
  /**
   * Clients must prove they know this secret (one token shared by all clients, who then name
   * themselves). Default: none (anyone who can connect is trusted). Prefer {@link clients}.
   */
  token?: string;
  /** A token per client, bound to its name (identities.ts): the name is the client's identity here. */
  clients?: ClientIdentities;
  /** Pre-authentication limits (admission.ts): unauthenticated connections, bytes, failed logins. */
  admission?: Partial<AdmissionLimits>;
  /** Session caps and unacknowledged replies (sessions.ts). */
  sessionLimits?: Partial<SessionLimits>;
  /**
   * Peers `connectPeer` may reach: `host:port`, `host` (any port) or `*`. Default: loopback peers
   * when listening on loopback, none beyond it (peer-policy.ts).
   */
  allowPeers?: readonly string[];
  /** Listen beyond loopback without TLS (refused otherwise: the data would travel in the clear). */
  insecure?: boolean;
  /** Serve `wss:` with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Certificates (PEM) to trust when connecting to peers over `wss:` (self-signed peers). */
  peerCa?: string | Buffer | (string | Buffer)[];
  /** Largest message accepted, in bytes; larger ones are refused before decoding. Default 64 MiB. */
  maxMessageBytes?: number;
  /** How long a dropped session's objects are kept for the client to reconnect, in ms. Default 30 s. */
  sessionGraceMs?: number;
  /** How long a new connection may take to authenticate, in ms. Default 5 s. */
  handshakeTimeoutMs?: number;
  /** Browser origins allowed to connect. Default none: connections from web pages are refused. */
  allowOrigins?: readonly string[];
  /** Where to write one line per connection event (default: nowhere). */
  log?: (line: string) => void;
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
export class WebsocketServerWorker extends ServingWorker {
  readonly host: string;
  readonly #opts: WebsocketServerWorkerOptions;
  readonly #handshakeTimeoutMs: number;
  readonly #admission: Admission;
  #port: number;
  #listener: Listener | undefined;
  #closing = false;

  constructor(opts: WebsocketServerWorkerOptions) {
    super({
      ...opts,
      maxMessageBytes: positive(opts.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes'),
      sessionGraceMs: positive(opts.sessionGraceMs, 30_000, 'sessionGraceMs'),
      log: opts.log ?? (() => {}),
      dial: dialNode,
      peerCa: opts.peerCa,
      peerPolicy: new PeerPolicy(opts.allowPeers, opts.host ?? '127.0.0.1'),
    });
    const port = opts.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ValueError(`port must be an integer in 0..65535, got ${port}`);
    if (opts.token !== undefined) checkTokenStrength(opts.token);
    if (opts.token !== undefined && opts.clients !== undefined) throw new ValueError('give either one shared token or tokens per client (clients), not both');
    if (opts.clients?.tokenOf(this.id) !== undefined) throw new ValueError(`no client may be named '${this.id}', the worker's own id`);
    if (opts.tls && (!opts.tls.cert || !opts.tls.key)) throw new ValueError('tls needs both a cert and a key (PEM)');
    this.#opts = opts;
    this.#port = port;
    this.host = opts.host ?? '127.0.0.1';
    if (!opts.tls && !opts.insecure && !isLoopback(this.host)) {
      throw new ValueError(
        `listening on ${this.host} without TLS would send every tensor in the clear: give tls { cert, key } ` +
          '(--tls-cert/--tls-key), listen on 127.0.0.1, or opt out with insecure: true (--insecure)',
      );
    }
    this.#handshakeTimeoutMs = positive(opts.handshakeTimeoutMs, opts.admission?.handshakeTimeoutMs ?? 5000, 'handshakeTimeoutMs');
    this.#admission = new Admission({ ...opts.admission, handshakeTimeoutMs: this.#handshakeTimeoutMs }, this.log);
  }

  /** Creates a worker and starts listening. */
  static async start(opts: WebsocketServerWorkerOptions): Promise<WebsocketServerWorker> {
    return new WebsocketServerWorker(opts).listen();
  }

  /** Starts listening; resolves once connections are accepted. */
  async listen(): Promise<this> {
    if (this.#listener) throw new StateError(`worker '${this.id}' is already listening on ${this.url}`);
    this.#listener = await Listener.open({
      port: this.#port,
      host: this.host,
      tls: this.#opts.tls,
      maxMessageBytes: this.maxMessageBytes,
      allowOrigins: new Set(this.#opts.allowOrigins ?? []),
      log: this.log,
      admission: this.#admission,
      accept: (socket, address, _path, key) => this.accept(socket, address, key),
    });
    this.#port = this.#listener.port;
    return this;
  }

  /** The port listened on (the chosen one when started with port 0). */
  get port(): number {
    return this.#port;
  }

  /** The URL clients connect to. */
  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${this.#opts.tls ? 'wss' : 'ws'}://${host}:${this.#port}`;
  }

  /**
   * Traffic (see {@link traffic}) and how busy this worker's process was since it started: CPU
   * time, and the time its event loop spent running code versus waiting (idle: for messages from
   * clients and peers). The process figures cover everything running in the process, so they
   * describe one worker only when it runs alone in its process (`syft-ts worker`).
   */
  stats(): WorkerStats {
    return processStats(this.traffic());
  }

  /** Connections not yet authenticated, and how many were closed for the pre-authentication limits. */
  get admission(): { unauthenticated: number; dropped: number } {
    return { unauthenticated: this.#admission.unauthenticated, dropped: this.#admission.dropped };
  }

  private accept(socket: FrameSocket, address: string, key: string): void {
    if (this.#closing) return socket.close(CLOSE.goingAway, 'worker shutting down');
    const base = this.handshakeHost(this.#opts.token, this.#handshakeTimeoutMs, this.#opts.clients);
    const admission = this.#admission;
    answerHandshake(
      socket,
      {
        ...base,
        admit: (hello, issuer) => {
          const s = base.admit(hello, issuer);
          if (typeof s !== 'string') admission.authenticated(key, address);
          return s;
        },
        refused: () => {
          base.refused();
          admission.failed(address);
        },
      },
      address,
    );
  }

  /** Stops listening, closes every connection and peer link, and fails waiting protocol steps. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.stopServing();
    await this.#listener?.close();
  }

  override toString(): string {
    return `<WebsocketServerWorker id:${this.id} url:${this.url} #objects:${this.objectCount}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
