/** The options and events of {@link WebsocketClientWorker} (client.ts), kept apart to keep that file small. */
import type { WireError } from '../messages.js';
import type { Worker } from '../worker.js';
import type { Dial, Pem } from './socket.js';

export interface WebsocketClientOptions {
  /** The worker id expected at `url`: connecting fails if the worker there is another one. Default: learn it. */
  id?: string;
  /** The worker's token (required when the worker was started with one). */
  token?: string;
  /** The name the worker's owner issued `token` to (a worker with tokens per client); your identity there. Default: the owner's id. */
  name?: string;
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
  /** Certificates (PEM) to trust for a `wss:` worker with a self-signed certificate (Node; a page trusts what its browser trusts). */
  ca?: Pem | Pem[];
  /** Pin the worker's certificate by its SHA-256 fingerprint (printed when a `wss:` worker starts) instead of trusting a CA (Node). */
  fingerprint?: string;
  /** The worker that sends the commands and owns the pointers; its id names this client. Default `sy.local`. */
  owner?: Worker;
  /** How other workers reach this one when objects move between them. Default: `url`. */
  peerUrl?: string;
  /** How to open the WebSocket. Default: the `ws` package in Node, the page's own WebSocket in browsers. */
  dial?: Dial;
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
