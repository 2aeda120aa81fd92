// Workers reached through reverse connections: parties that cannot listen (OutboundWorker) join
// a Coordinator and serve over connections they dialled; the orchestrator and the other parties
// reach them through the coordinator's relay, sealed end to end. They must pass the same SMPC
// checks as listening workers, mixed with listening ones, and come back after a dropped socket.
import { afterEach, describe, expect, onTestFinished, test, vi } from 'vitest';
import { NodeSocket } from '../../src/workers/websocket/node-socket.js';
import { SeededRandom } from '../../src/util/seeded.js';
import {
  Coordinator,
  OutboundWorker,
  WebsocketClientWorker,
  WebsocketServerWorker,
} from '../../src/workers/websocket/index.js';
import { sy, until } from './helpers/net.js';

const TOKEN = 'reverse-connection-token-5b1e';
const flat = (t: sy.Tensor): number[] => [t.arraySync()].flat(Infinity as 1) as number[];
const close = (got: number[], want: number[], tol: number): void => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(tol));
};

let made: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const m of made.reverse()) await m.close().catch(() => {});
  made = [];
});
const keep = <T extends { close(): Promise<void> }>(x: T): T => (made.push(x), x);

async function reverseNet() {
  const coordinator = keep(await Coordinator.start());
  const alice = keep(await OutboundWorker.join(coordinator.joinUrl, { id: 'alice', token: TOKEN }));
  const bob = keep(await OutboundWorker.join(coordinator.joinUrl, { id: 'bob', token: TOKEN }));
  // The crypto provider listens: relayed and direct workers mix in one computation.
  const cp = keep(await WebsocketServerWorker.start({ id: 'crypto_provider', token: TOKEN }));
  const connect = (url: string, id: string) => WebsocketClientWorker.connect(url, { id, token: TOKEN });
  const [a, b, c] = await Promise.all([connect(coordinator.url('alice'), 'alice'), connect(coordinator.url('bob'), 'bob'), connect(cp.url, 'crypto_provider')]);
  for (const x of [a, b, c]) keep(x);
  return { coordinator, alice, bob, cp, a, b, c, share: (t: sy.Tensor) => t.fixPrecision().share(a, b, { cryptoProvider: c }) };
}

describe('workers behind a coordinator', () => {
  const rng = new SeededRandom(1717);
  const data = (shape: number[]) => sy.tensor(Float32Array.from({ length: shape[0]! * shape[1]! }, () => rng.uniform(-3, 3)), { shape });

  test('private mul, matmul and ReLU among relayed parties and a listening crypto provider match plaintext', async () => {
    const { coordinator, alice, bob, share } = await reverseNet();
    const [x, y, w] = [data([4, 5]), data([4, 5]), data([5, 3])];
    const [X, Y, W] = [x, y, w].map(share) as [sy.Tensor, sy.Tensor, sy.Tensor];
    close(flat((await X.mul(Y).get()).floatPrecision()), flat(x.mul(y)), 1.5e-2);
    close(flat((await X.matmul(W).get()).floatPrecision()), flat(x.matmul(w)), 4e-2);
    close(flat((await X.matmul(W).relu().get()).floatPrecision()), flat(x.matmul(w).relu()), 4e-2);
    expect(alice.rejected + bob.rejected).toBe(0);
    // Protocol values went party to party through the relay (alice and bob linked to each other).
    expect(alice.linkedPeers).toContain('bob');
    expect(bob.linkedPeers).toContain('alice');
    const t = coordinator.traffic('alice');
    expect(t.connections).toBeGreaterThanOrEqual(2); // the orchestrator's session and bob's peer link
    expect(t.toWorker).toBeGreaterThan(0);
    expect(t.fromWorker).toBeGreaterThan(0);
  });

  test('the relay carries sealed frames: a value sent to a relayed worker never appears in the relayed bytes', async () => {
    // Every frame the coordinator's accepted sockets send (the only server-side sockets here).
    const relayed: Uint8Array[] = [];
    const send = NodeSocket.prototype.send;
    const spy = vi.spyOn(NodeSocket.prototype, 'send').mockImplementation(function (this: NodeSocket, frame) {
      if ((this.ws as unknown as { _isServer: boolean })._isServer && typeof frame !== 'string') relayed.push(frame);
      send.call(this, frame);
    });
    onTestFinished(() => spy.mockRestore());
    const coordinator = keep(await Coordinator.start());
    keep(await OutboundWorker.join(coordinator.joinUrl, { id: 'alice', token: TOKEN }));
    const a = keep(await WebsocketClientWorker.connect(coordinator.url('alice'), { id: 'alice', token: TOKEN }));
    const marker = new Float32Array(64).fill(1234.5678);
    const x = sy.tensor(marker).send(a);
    expect(flat(await x.get())).toEqual(Array.from(marker));
    expect(coordinator.traffic('alice').toWorker).toBeGreaterThan(marker.byteLength);
    // The value crossed the relay both ways, yet no relayed frame holds its bytes.
    const needle = Buffer.from(new Uint8Array(marker.buffer, 0, 32));
    expect(relayed.length).toBeGreaterThanOrEqual(2);
    for (const f of relayed) expect(Buffer.from(f).includes(needle)).toBe(false);
    // (Sanity: the needle would be found in the clear message.)
    expect(Buffer.from(sy.encodeMessage({ kind: 'reply', req: 1, value: marker } as never)).includes(needle)).toBe(true);
  });

  test('a dropped connection is replaced: the client resumes its session and its objects', async () => {
    const coordinator = keep(await Coordinator.start());
    const alice = keep(await OutboundWorker.join(coordinator.joinUrl, { id: 'alice', token: TOKEN }));
    const a = keep(await WebsocketClientWorker.connect(coordinator.url('alice'), { id: 'alice', token: TOKEN }));
    const x = sy.tensor([1, 2, 3]).send(a);
    await a.sync();
    const resumed = new Promise<{ resumed: boolean }>((r) => a.on('reconnect', r));
    // Drop every connection of alice's side at once (as a page losing its network would).
    for (const s of alice.sessions()) expect(s.connected).toBe(true);
    alice.dropConnections();
    expect((await resumed).resumed).toBe(true);
    expect(flat(await x.add(x).get())).toEqual([2, 4, 6]);
    await until(() => alice.idleOffers > 0);
  });

  test('an impostor offering under a worker id is found out by the handshake', async () => {
    const coordinator = keep(await Coordinator.start());
    keep(await OutboundWorker.join(coordinator.joinUrl, { id: 'alice', token: 'not-the-real-token-4c2a' }));
    await expect(WebsocketClientWorker.connect(coordinator.url('alice'), { id: 'alice', token: TOKEN, reconnect: false })).rejects.toThrow(
      /wrong or missing token|could not prove/,
    );
  });

  test('a caller for a worker that never joins is told so', async () => {
    const coordinator = keep(await Coordinator.start({ waitMs: 300 }));
    await expect(WebsocketClientWorker.connect(coordinator.url('nobody'), { id: 'nobody', connectTimeoutMs: 2000, reconnect: false })).rejects.toThrow(
      /nobody.*has not joined|closed the connection/,
    );
  });
});
