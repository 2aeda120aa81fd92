/**
 * What the WebSocket transport needs of a connection, whoever opened it: send binary and text
 * frames, close, and report frames, closing and errors. Everything above this interface (the
 * handshake, exactly-once delivery, sessions, requests) is the same whether the socket was
 * accepted by a listening worker or dialled out, and whether it is Node's `ws` (node-socket.ts)
 * or a browser's own WebSocket (browser-socket.ts).
 */

/** A certificate in PEM: text, or its bytes (a Node `Buffer` is one). */
export type Pem = string | Uint8Array;

/** One connection. Handlers are set by assignment; setting one replaces the previous. */
export interface FrameSocket {
  /** True while frames can be sent. */
  readonly isOpen: boolean;
  /** Sends one frame: binary for bytes, text for a string. */
  send(frame: Uint8Array | string): void;
  /** Closes with a WebSocket close code and a short reason. */
  close(code: number, reason: string): void;
  /** Drops the connection at once. */
  terminate(): void;
  /** A binary frame arrived. */
  onBinary: ((frame: Uint8Array) => void) | undefined;
  /** A text frame arrived; `bytes` is its size on the wire. */
  onText: ((text: string, bytes: number) => void) | undefined;
  /** The connection closed. */
  onClose: ((code: number, reason: string) => void) | undefined;
  /** The connection failed (a close follows); dialled sockets explain what went wrong. */
  onError: ((e: Error) => void) | undefined;
  /** A dialled connection is up (sockets that only relay or were accepted need not say). */
  onOpen?: (() => void) | undefined;
}

export interface DialOptions {
  /** Largest frame accepted from the other side, in bytes. */
  maxMessageBytes: number;
  /** How long opening the connection may take, in ms. */
  timeoutMs: number;
  /** Certificates (PEM) to trust for a `wss:` URL with a self-signed certificate. */
  ca?: Pem | Pem[] | undefined;
  /** The SHA-256 fingerprint the worker's certificate must have (pinned, tls.ts; Node only). */
  fingerprint?: string | undefined;
}

/** Opens a connection to `url`; frames come once it is up, failures as `onError` then `onClose`. */
export type Dial = (url: string, opts: DialOptions) => FrameSocket;

/** Stops listening to `socket` (its late events go nowhere) and drops it. */
export function abandon(socket: FrameSocket): void {
  socket.onBinary = socket.onText = socket.onClose = undefined;
  socket.onError = () => {};
  socket.terminate();
}
