// A WebSocket man in the middle between a client and a worker: forwards every frame both ways
// unchanged (the handshake's proofs do not depend on the TCP connection), except that it can
// swap the worker's next binary frames for frames of the test's choosing, as a hostile or broken
// worker would answer.
import { type AddressInfo } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

export class WsMitm {
  private wss!: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  /** Frames to send to the client instead of the worker's next binary frames, in order. */
  readonly replaceNext: Uint8Array[] = [];
  /** Binary frames swapped so far. */
  swapped = 0;

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 256 << 20 });
    this.wss.on('connection', (down) => {
      const up = new WebSocket(this.target, { perMessageDeflate: false, maxPayload: 256 << 20 });
      this.sockets.add(down).add(up);
      const early: [RawData, boolean][] = [];
      down.on('message', (d: RawData, isBinary: boolean) => {
        if (up.readyState === WebSocket.OPEN) up.send(d, { binary: isBinary });
        else early.push([d, isBinary]);
      });
      up.on('open', () => {
        for (const [d, b] of early.splice(0)) up.send(d, { binary: b });
      });
      up.on('message', (d: RawData, isBinary: boolean) => {
        const swap = isBinary ? this.replaceNext.shift() : undefined;
        if (swap) this.swapped++;
        down.send(swap ?? d, { binary: isBinary });
      });
      const end = () => {
        down.terminate();
        up.terminate();
      };
      for (const s of [up, down]) {
        s.on('close', end);
        s.on('error', end);
      }
    });
    await new Promise<void>((r) => this.wss.once('listening', () => r()));
    return this;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
