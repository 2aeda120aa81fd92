/**
 * Where a listening worker accepts connections (Node only): an HTTP or HTTPS server with a
 * WebSocket server on it. Frames larger than `maxMessageBytes` are refused by `ws` before
 * anything reads them; connections from web pages are refused unless their origin is allowed.
 * Each accepted socket is handed on as a {@link FrameSocket}; what it carries is not this file's
 * business.
 */
import { type Server as HttpServer, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { type Admission, connectionKey } from './admission.js';
import { NodeSocket } from './node-socket.js';
import { CLOSE } from './protocol.js';
import type { FrameSocket } from './socket.js';

export interface ListenerOptions {
  port: number;
  host: string;
  tls: { cert: string | Buffer; key: string | Buffer } | undefined;
  maxMessageBytes: number;
  allowOrigins: ReadonlySet<string>;
  log: (line: string) => void;
  /** Holds connections to the pre-authentication limits (admission.ts), when given. */
  admission?: Admission | undefined;
  /** A connection came in from `address`, for `path` (the request's path and query); `key` names it to the admission. */
  accept: (socket: FrameSocket, address: string, path: string, key: string) => void;
}

export class Listener {
  private constructor(
    private readonly http: HttpServer,
    private readonly wss: WebSocketServer,
    /** The port listened on (the chosen one when asked for port 0). */
    readonly port: number,
    private readonly admission: Admission | undefined,
  ) {}

  /** Starts listening; resolves once connections are accepted. */
  static async open(o: ListenerOptions): Promise<Listener> {
    const handshakeTimeout = o.admission?.limits.handshakeTimeoutMs;
    const http = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key, ...(handshakeTimeout ? { handshakeTimeout } : {}) }) : createHttpServer();
    o.admission?.attach(http, o.tls !== undefined);
    const wss = new WebSocketServer({
      server: http,
      maxPayload: o.maxMessageBytes,
      perMessageDeflate: false,
      // Browsers send an Origin; refuse web pages unless allowed, so a page the user visits cannot
      // drive a worker on their machine. Node clients send none.
      verifyClient: (info, done) => {
        const wait = o.admission?.waitSeconds(info.req.socket.remoteAddress ?? '?') ?? 0;
        if (wait > 0) return done(false, 429, 'too many failed logins from this address', { 'Retry-After': String(wait) });
        const origin = info.origin || info.req.headers.origin;
        if (origin === undefined || o.allowOrigins.has(origin)) return done(true);
        o.log(`refused a connection from origin ${origin}`);
        done(false, 403, 'origin not allowed');
      },
    });
    wss.on('connection', (ws, req) => {
      const address = req.socket.remoteAddress ?? '?';
      const socket = new NodeSocket(ws);
      socket.onError = (e) => o.log(`connection from ${address}: ${e.message}`);
      o.accept(socket, address, req.url ?? '/', connectionKey(req.socket));
    });
    wss.on('error', (e) => o.log(`websocket server error: ${e.message}`));
    http.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(o.port, o.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    http.on('error', (e) => o.log(`server error: ${e.message}`));
    return new Listener(http, wss, (http.address() as AddressInfo).port, o.admission);
  }

  /** Closes every connection (they are told the worker goes away) and stops listening. */
  async close(): Promise<void> {
    this.admission?.close();
    await Promise.all(
      [...this.wss.clients].map(
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
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.http.closeAllConnections();
      this.http.close(() => resolve());
    });
  }
}
