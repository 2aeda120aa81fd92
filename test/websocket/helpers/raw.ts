// A hand-driven connection to a worker: runs the handshake from the protocol's own pieces, then
// lets a test send arbitrary frames and read every frame that comes back.
import { WebSocket } from 'ws';
import { helloProof, randomHex } from '../../../src/workers/websocket/auth.js';
import { type Challenge, type Control, PROTOCOL_VERSION, type Role, type Welcome, parseControl } from '../../../src/workers/websocket/protocol.js';
import type { ReplyMessage } from '../../../src/workers/messages.js';
import { decodeMessage } from '../../../src/workers/serde.js';

export interface RawOptions {
  role?: Role;
  id?: string;
  /** The key proven in the hello: the token, or a peer's ticket key. Default ''. */
  key?: string | Uint8Array;
  ticket?: string;
  ca?: string;
  headers?: Record<string, string>;
  /** Dial from this local address (127.0.0.2: another host, as far as the worker can tell). */
  localAddress?: string;
  /** Replace the hello before it is sent (to forge or break it). */
  tamper?: (hello: Record<string, unknown>, challenge: Challenge) => Record<string, unknown> | string | Uint8Array;
}

export class RawConnection {
  readonly replies: ReplyMessage[] = [];
  readonly controls: Control[] = [];
  challenge!: Challenge;
  welcome: Welcome | undefined;
  refused: string | undefined;
  closed: { code: number; reason: string } | undefined;
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.replies.push(decodeMessage(data) as ReplyMessage);
      else {
        const c = parseControl(data.toString());
        this.controls.push(c);
        if (c.t === 'refused') this.refused = c.reason;
      }
      this.wake();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `cond()` holds (re-checked on every frame and on close). */
  async until(cond: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out waiting on a raw connection');
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, end - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  send(frame: Uint8Array | string): void {
    this.ws.send(frame, { binary: typeof frame !== 'string' });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Opens a connection and runs the handshake (possibly tampered with). Resolves after a welcome or a refusal. */
export async function rawConnect(url: string, opts: RawOptions = {}): Promise<RawConnection> {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...(opts.ca ? { ca: opts.ca } : {}), ...(opts.headers ? { headers: opts.headers } : {}), ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  const conn = new RawConnection(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  await conn.until(() => conn.controls.length > 0 || conn.closed !== undefined);
  const challenge = conn.controls[0] as Challenge;
  conn.challenge = challenge;
  const role = opts.role ?? 'client';
  const id = opts.id ?? 'me';
  const nonce = randomHex();
  const t = { serverId: challenge.id, serverNonce: challenge.nonce, clientNonce: nonce, role, clientId: id, ticket: opts.ticket };
  const hello: Record<string, unknown> = {
    t: 'hello',
    v: PROTOCOL_VERSION,
    role,
    id,
    nonce,
    ...(opts.ticket ? { ticket: opts.ticket } : {}),
    received: 0,
    proof: await helloProof(opts.key ?? '', t, undefined),
  };
  const out = opts.tamper ? opts.tamper(hello, challenge) : hello;
  ws.send(typeof out === 'string' || out instanceof Uint8Array ? out : JSON.stringify(out));
  await conn.until(() => conn.controls.length > 1 || conn.closed !== undefined);
  const answer = conn.controls[1];
  if (answer?.t === 'welcome') conn.welcome = answer;
  return conn;
}
