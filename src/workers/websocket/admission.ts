/**
 * What a listening worker lets a connection do before it has authenticated (Node only): nothing
 * costly. Every TCP connection counts as unauthenticated from accept until its hello is proven,
 * and while it does:
 *
 * - it may send at most `maxPreHelloBytes` (the upgrade request and a hello need about 1 KB), so
 *   a 60 MB frame before the hello costs 64 KB, not 60 MB;
 * - it has `handshakeTimeoutMs` (plus half a second) to finish (TCP, TLS, upgrade, hello), then
 *   it is closed;
 * - at most `maxUnauthenticated` such connections exist at once; a new one beyond that closes
 *   the oldest, so a flood of idle connections cannot keep out a client that authenticates
 *   promptly, and file descriptors stay bounded;
 * - an address that failed to log in `loginBurst` times is refused for a backoff that doubles
 *   with each further failure (1 s up to `loginBackoffMaxMs`), with HTTP 429 and Retry-After;
 *   a success forgets its failures.
 *
 * Plain HTTP requests (not an upgrade) get `426 Upgrade Required` and the connection is closed.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ValueError } from '../../errors.js';

export interface AdmissionLimits {
  /** Connections that have not authenticated yet, at once. Default 256. */
  maxUnauthenticated: number;
  /** Bytes a connection may send before its hello is proven. Default 64 KiB. */
  maxPreHelloBytes: number;
  /** Time from TCP accept to a proven hello, in ms. Default 5 s. */
  handshakeTimeoutMs: number;
  /** Failed logins an address may make before it is made to wait. Default 10. */
  loginBurst: number;
  /** Longest wait imposed on an address that keeps failing, in ms. Default 60 s. */
  loginBackoffMaxMs: number;
}

export const DEFAULT_ADMISSION: Readonly<AdmissionLimits> = Object.freeze({
  maxUnauthenticated: 256,
  maxPreHelloBytes: 64 * 1024,
  handshakeTimeoutMs: 5000,
  loginBurst: 10,
  loginBackoffMaxMs: 60_000,
});

/** Limits (positive whole numbers) from user options over `defaults`, checked; `what` names them in errors. */
export function resolveCounts<T extends object>(defaults: Readonly<T>, opts: Partial<T> | undefined, what: string): T {
  const out = { ...defaults } as T;
  if (opts !== undefined && (opts === null || typeof opts !== 'object')) throw new ValueError(`${what} limits must be an object of numbers`);
  for (const [k, v] of Object.entries(opts ?? {})) {
    if (v === undefined) continue;
    if (!(k in defaults)) throw new ValueError(`unknown ${what} limit '${k}'; they are ${Object.keys(defaults).join(', ')}`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ValueError(`${what} limit '${k}' must be a positive whole number, got ${String(v)}`);
    (out as Record<string, number>)[k] = v;
  }
  return out;
}

/** The admission limits from user options over the defaults, checked. */
export function resolveAdmission(opts: Partial<AdmissionLimits> | undefined): AdmissionLimits {
  return resolveCounts(DEFAULT_ADMISSION, opts, 'admission');
}

// Addresses remembered for their failed logins (the oldest is forgotten first).
const MAX_ADDRESSES = 10_000;
// Failures older than this are forgotten.
const FAILURE_MEMORY_MS = 10 * 60_000;

interface Pending {
  socket: Socket;
  bytes: number;
  timer: ReturnType<typeof setTimeout>;
}

interface Failures {
  count: number;
  last: number;
  until: number;
}

/** The key of a connection: its peer's address and port (the same on the TCP and the TLS socket). */
export function connectionKey(s: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string {
  return `${s.remoteAddress ?? '?'}|${s.remotePort ?? 0}`;
}

export class Admission {
  readonly limits: AdmissionLimits;
  // Insertion order is age: the first is the oldest.
  readonly #pending = new Map<string, Pending>();
  readonly #failures = new Map<string, Failures>();
  /** Connections closed before authenticating (too many bytes, too slow, evicted). */
  dropped = 0;

  constructor(
    limits: Partial<AdmissionLimits> | undefined,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.limits = resolveAdmission(limits);
  }

  /** Unauthenticated connections now. */
  get unauthenticated(): number {
    return this.#pending.size;
  }

  /** Watches `http` (and its TLS sockets when `tls`): every connection is held to the limits above. */
  attach(http: HttpServer, tls: boolean): void {
    http.on('connection', (s: Socket) => this.#accepted(s, !tls));
    if (tls) http.on('secureConnection', (s: Socket) => this.#secured(s));
    http.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(426, { Connection: 'close', Upgrade: 'websocket', 'Content-Type': 'text/plain' });
      res.end('this is a syft-ts worker: connect with a WebSocket client (WebsocketClientWorker.connect)\n');
      res.socket?.destroySoon?.();
    });
  }

  #accepted(socket: Socket, count: boolean): void {
    const key = connectionKey(socket);
    while (this.#pending.size >= this.limits.maxUnauthenticated) {
      const [oldKey] = this.#pending.keys();
      this.#drop(oldKey!, 'evicted: too many unauthenticated connections');
    }
    // Half a second more than the handshake's own timer, so a connection that got as far as the
    // WebSocket hears why it is closed (the handshake's refusal) before this drops it.
    const ms = this.limits.handshakeTimeoutMs + 500;
    const timer = setTimeout(() => this.#drop(key, `not authenticated within ${ms} ms`), ms);
    timer.unref?.();
    const p: Pending = { socket, bytes: 0, timer };
    this.#pending.set(key, p);
    socket.once('close', () => {
      if (this.#pending.get(key) === p) this.#forget(key);
    });
    if (count) this.#count(socket, key);
  }

  #secured(socket: Socket): void {
    const key = connectionKey(socket);
    if (this.#pending.has(key)) this.#count(socket, key);
  }

  #count(socket: Socket, key: string): void {
    const onData = (chunk: Buffer) => {
      const p = this.#pending.get(key);
      if (p === undefined) return socket.off('data', onData);
      p.bytes += chunk.length;
      if (p.bytes > this.limits.maxPreHelloBytes) this.#drop(key, `sent more than ${this.limits.maxPreHelloBytes} bytes before authenticating`);
    };
    socket.on('data', onData);
  }

  #forget(key: string): Pending | undefined {
    const p = this.#pending.get(key);
    if (p === undefined) return undefined;
    clearTimeout(p.timer);
    this.#pending.delete(key);
    return p;
  }

  #drop(key: string, why: string): void {
    const p = this.#forget(key);
    if (p === undefined) return;
    this.dropped++;
    this.log(`closed a connection from ${p.socket.remoteAddress ?? '?'}: ${why}`);
    p.socket.destroy();
  }

  /** The connection authenticated: the pre-hello limits no longer apply to it. */
  authenticated(key: string, address: string): void {
    this.#forget(key);
    this.#failures.delete(address);
  }

  /** A login from `address` failed (wrong token or ticket, bad hello). */
  failed(address: string): void {
    const now = Date.now();
    let f = this.#failures.get(address);
    if (f !== undefined && now - f.last > FAILURE_MEMORY_MS) f = undefined;
    f ??= { count: 0, last: now, until: 0 };
    f.count++;
    f.last = now;
    const over = f.count - this.limits.loginBurst;
    if (over >= 0) f.until = now + Math.min(this.limits.loginBackoffMaxMs, 1000 * 2 ** Math.min(over, 30));
    this.#failures.delete(address);
    this.#failures.set(address, f);
    if (this.#failures.size > MAX_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value!);
  }

  /** Seconds `address` must wait before it may try to log in again (0: it may now). */
  waitSeconds(address: string): number {
    const f = this.#failures.get(address);
    if (f === undefined) return 0;
    const ms = f.until - Date.now();
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  /** Stops every timer (the listener is closing). */
  close(): void {
    for (const key of [...this.#pending.keys()]) this.#forget(key);
  }
}
