/**
 * Node's side of {@link FrameSocket}: sockets of the `ws` package, accepted (listener.ts) or
 * dialled ({@link dialNode}). The only file of the transport besides the listener that knows
 * the `ws` package.
 */
import { WebSocket } from 'ws';
import { ProtocolError } from '../../errors.js';
import type { DialOptions, FrameSocket } from './socket.js';
import { checkPinned, normalizeFingerprint } from './tls.js';

/** A `ws` socket as a {@link FrameSocket}. */
export class NodeSocket implements FrameSocket {
  onBinary: ((frame: Uint8Array) => void) | undefined;
  onText: ((text: string, bytes: number) => void) | undefined;
  onClose: ((code: number, reason: string) => void) | undefined;
  onError: ((e: Error) => void) | undefined;
  onOpen: (() => void) | undefined;

  constructor(
    readonly ws: WebSocket,
    explain: (e: Error) => Error = (e) => e,
  ) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.onBinary?.(data);
      else this.onText?.(data.toString('utf8'), data.length);
    });
    ws.on('open', () => this.onOpen?.());
    ws.on('close', (code: number, reason: Buffer) => this.onClose?.(code, reason.toString()));
    // Always listened to: an 'error' nobody listens to would take the process down.
    ws.on('error', (e: Error) => this.onError?.(explain(e)));
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: Uint8Array | string): void {
    this.ws.send(frame);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }
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

/** Dials `url` with the `ws` package; errors come explained (nothing listening, an untrusted certificate). */
export function dialNode(url: string, opts: DialOptions): FrameSocket {
  const ws = new WebSocket(url, {
    maxPayload: opts.maxMessageBytes,
    perMessageDeflate: false,
    handshakeTimeout: opts.timeoutMs,
    ...(needsMask(url) ? {} : { generateMask: zeroMask }),
    ...(opts.ca === undefined ? {} : { ca: opts.ca as string | Buffer | (string | Buffer)[] }),
    // A pinned certificate is checked by its fingerprint below, not against a CA.
    ...(opts.fingerprint === undefined ? {} : { rejectUnauthorized: false }),
  });
  const socket = new NodeSocket(ws, (e) => connectError(url, e));
  if (opts.fingerprint !== undefined) {
    const pinned = normalizeFingerprint(opts.fingerprint);
    ws.once('upgrade', (res) => {
      const wrong = checkPinned(res.socket, pinned, url);
      if (!wrong) return;
      socket.onError?.(wrong);
      ws.terminate();
    });
  }
  return socket;
}
