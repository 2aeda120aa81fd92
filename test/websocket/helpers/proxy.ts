// A TCP proxy between a client and a worker, to make the network fail on purpose: cut every
// connection, refuse new ones, or swallow bytes (as a dead link does before anyone notices).
import { type Server, type Socket, createConnection, createServer } from 'node:net';

export class TcpProxy {
  private server!: Server;
  private pairs = new Set<[Socket, Socket]>();
  /** 'pass' forwards; 'blackhole' swallows everything in both directions; 'refuse' drops new connections. */
  mode: 'pass' | 'blackhole' | 'refuse' = 'pass';
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      if (this.mode === 'refuse') return client.destroy();
      const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const forward = (from: Socket, to: Socket) =>
        from.on('data', (d) => {
          if (this.mode === 'pass') to.write(d);
        });
      forward(client, upstream);
      forward(upstream, client);
      const end = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      for (const s of pair) {
        s.on('close', end);
        s.on('error', end);
      }
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Destroys every open connection (both sides see a reset). */
  cut(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  get connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
