/**
 * The browser's side of {@link FrameSocket}: the page's own `WebSocket` (also in web workers and
 * any runtime with a standard global WebSocket). TLS is the page's: a `wss:` URL is checked
 * against the certificates the browser trusts, and there is no `ca` option to pass. Frames are
 * masked by the browser as the standard requires; the server's Origin check applies to pages.
 */
import { ProtocolError, ValueError } from '../../errors.js';
import type { DialOptions, FrameSocket } from './socket.js';

const encoder = new TextEncoder();

/** A page's WebSocket as a {@link FrameSocket}. */
export class BrowserSocket implements FrameSocket {
  onBinary: ((frame: Uint8Array) => void) | undefined;
  onText: ((text: string, bytes: number) => void) | undefined;
  onClose: ((code: number, reason: string) => void) | undefined;
  onError: ((e: Error) => void) | undefined;
  onOpen: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly ws: WebSocket,
    url: string,
    opts: DialOptions,
  ) {
    ws.binaryType = 'arraybuffer';
    let opened = false;
    // The browser has no handshake timeout of its own to set: close a socket that does not open in time.
    this.#timer = setTimeout(() => {
      if (opened) return;
      this.onError?.(new ProtocolError(`cannot connect to the worker at ${url}: no answer within ${opts.timeoutMs} ms`));
      ws.close();
    }, opts.timeoutMs);
    ws.onopen = () => {
      opened = true;
      clearTimeout(this.#timer);
      this.onOpen?.();
    };
    ws.onmessage = (ev: MessageEvent) => {
      const data: unknown = ev.data;
      if (typeof data === 'string') {
        this.onText?.(data, encoder.encode(data).length);
        return;
      }
      const frame = new Uint8Array(data as ArrayBuffer);
      if (frame.length > opts.maxMessageBytes) {
        // The browser cannot refuse a large frame before it arrives; refuse it now, as ws would.
        ws.close(1009, 'message too big');
        return;
      }
      this.onBinary?.(frame);
    };
    ws.onerror = () => {
      // Browsers hide why a WebSocket failed (no code, no message), by design.
      this.onError?.(
        new ProtocolError(
          opened
            ? `the connection to ${url} failed`
            : `cannot connect to the worker at ${url}: nothing answered, the origin was refused, or the TLS certificate is not trusted by the browser`,
        ),
      );
    };
    ws.onclose = (ev: CloseEvent) => {
      clearTimeout(this.#timer);
      this.onClose?.(ev.code, ev.reason);
    };
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: Uint8Array | string): void {
    this.ws.send(frame as Uint8Array<ArrayBuffer> | string);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    // A page cannot drop a TCP connection; closing at once is the nearest it can do.
    clearTimeout(this.#timer);
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close(4000, 'terminated');
  }
}

/** Dials `url` with the page's WebSocket. `ca` is refused: a page trusts what its browser trusts. */
export function dialBrowser(url: string, opts: DialOptions): FrameSocket {
  if (opts.ca !== undefined) {
    throw new ValueError("a page's WebSocket uses the browser's own certificate store: leave out `ca` (trust the certificate in the browser instead)");
  }
  return new BrowserSocket(new WebSocket(url), url, opts);
}
