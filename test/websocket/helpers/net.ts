// Starts in-process servers on 127.0.0.1 (ephemeral ports) and connects clients to them; closes
// everything it made at the end of each test.
import * as sy from '../../../src/index.js';
import {
  WebsocketClientWorker,
  type WebsocketClientOptions,
  WebsocketServerWorker,
  type WebsocketServerWorkerOptions,
} from '../../../src/workers/websocket/index.js';
import { type TestCert, selfSignedCert } from './cert.js';

export interface Transport {
  name: string;
  tls: boolean;
  token: string | undefined;
}

export const TRANSPORTS: Transport[] = [
  { name: 'ws, open worker', tls: false, token: undefined },
  { name: 'wss + token', tls: true, token: 'correct-horse-battery-staple-7f3a' },
];

let cert: TestCert | undefined;
export function testCert(): TestCert {
  cert ??= selfSignedCert();
  return cert;
}

export class TestNet {
  readonly servers: WebsocketServerWorker[] = [];
  readonly clients: WebsocketClientWorker[] = [];
  // Pointers a test counts objects for: a pointer that is garbage collected frees its remote object.
  private held: unknown[] = [];

  constructor(readonly transport: Transport = TRANSPORTS[0]!) {}

  async server(id: string, opts: Partial<WebsocketServerWorkerOptions> = {}): Promise<WebsocketServerWorker> {
    const t = this.transport;
    const s = await WebsocketServerWorker.start({
      id,
      port: 0,
      ...(t.token === undefined ? {} : { token: t.token }),
      ...(t.tls ? { tls: testCert(), peerCa: testCert().cert } : {}),
      ...opts,
    });
    this.servers.push(s);
    return s;
  }

  async client(server: WebsocketServerWorker, opts: WebsocketClientOptions = {}): Promise<WebsocketClientWorker> {
    const t = this.transport;
    const c = await WebsocketClientWorker.connect(server.url, {
      id: server.id,
      ...(t.token === undefined ? {} : { token: t.token }),
      ...(t.tls ? { ca: testCert().cert } : {}),
      ...opts,
    });
    this.clients.push(c);
    return c;
  }

  /** A server and a client connected to it. */
  async pair(id: string, serverOpts: Partial<WebsocketServerWorkerOptions> = {}, clientOpts: WebsocketClientOptions = {}) {
    const server = await this.server(id, serverOpts);
    const client = await this.client(server, clientOpts);
    return { server, client };
  }

  /** Keeps `values` reachable until the end of the test. */
  hold<T extends unknown[]>(...values: T): T {
    this.held.push(...values);
    return values;
  }

  async close(): Promise<void> {
    this.held = [];
    await Promise.all(this.clients.map((c) => c.close().catch(() => {})));
    await Promise.all(this.servers.map((s) => s.close().catch(() => {})));
    this.clients.length = 0;
    this.servers.length = 0;
  }
}

/** Waits until `cond()` holds, polling; fails after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export { sy };
