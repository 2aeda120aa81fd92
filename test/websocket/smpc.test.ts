// Secure computation across WebSocket workers: every party and the crypto provider is a
// WebsocketServerWorker on 127.0.0.1 and this process is the orchestrator, a client of each. The
// protocols are the ones the virtual workers run (src/mpc); here their values cross real sockets,
// party to party over the peer links, and the orchestrator's own connections carry commands out
// and replies to its requests back, nothing else.
import { afterEach, describe, expect, test } from 'vitest';
import type { RingTensor } from '../../src/ring/index.js';
import { privateBatches } from '../../src/federated/private-loader.js';
import { SeededRandom } from '../../src/util/seeded.js';
import type { WebsocketClientWorker, WebsocketServerWorker } from '../../src/workers/websocket/index.js';
import { TRANSPORTS, TestNet, sy } from './helpers/net.js';

function flat(t: sy.Tensor): number[] {
  return [t.arraySync()].flat(Infinity as 1) as number[];
}

function expectClose(got: number[], want: number[], tol: number): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(tol));
}

function data(rng: SeededRandom, shape: number[], lo = -3, hi = 3): sy.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return sy.tensor(Float32Array.from({ length: n }, () => rng.uniform(lo, hi)), { shape });
}

/** n parties and a crypto provider, each a server with a client of this process. */
async function smpcNet(net: TestNet, n: number, serverOpts = {}) {
  const names = ['alice', 'bob', 'charlie', 'dave'].slice(0, n);
  const pairs = await Promise.all([...names, 'crypto_provider'].map((id) => net.pair(id, serverOpts)));
  const servers = pairs.map((p) => p.server);
  const clients = pairs.map((p) => p.client);
  return {
    servers,
    parties: clients.slice(0, n),
    cryptoProvider: clients[n]!,
    share: (t: sy.Tensor) => t.fixPrecision().share(...clients.slice(0, n), { cryptoProvider: clients[n]! }),
    sync: () => Promise.all(clients.map((c) => c.sync())),
    rejected: () => servers.reduce((a, s) => a + s.rejected, 0) + clients.reduce((a, c) => a + c.rejected, 0),
  };
}

/** What this process's clients sent and received, summed. */
function orchestratorTraffic(clients: readonly WebsocketClientWorker[]) {
  return clients.reduce(
    (a, c) => {
      const t = c.traffic;
      return { sent: a.sent + t.bytesSent, received: a.received + t.bytesReceived, messagesIn: a.messagesIn + t.messagesReceived };
    },
    { sent: 0, received: 0, messagesIn: 0 },
  );
}

describe.each([2, 3])('fixed-precision SMPC among %i websocket workers', (n) => {
  const net = new TestNet();
  afterEach(() => net.close());
  const rng = new SeededRandom(700 + n);

  test('private mul and matmul, and truncation after products and divisions (with the dealer for 3 parties)', async () => {
    const { share, rejected } = await smpcNet(net, n);
    const [x, y, w] = [data(rng, [4, 5]), data(rng, [4, 5]), data(rng, [5, 3])];
    const [X, Y, W] = [x, y, w].map(share) as [sy.Tensor, sy.Tensor, sy.Tensor];
    expect(X.toString()).toMatch(/FixedPrecisionTensor>\[AdditiveSharingTensor\][\s\S]*-> \[PointerTensor \| me:\d+ -> alice:\d+\]/);
    const cases: [sy.Tensor, sy.Tensor, number][] = [
      [X.mul(Y), x.mul(y), 1.5e-2],
      [X.matmul(W), x.matmul(w), 4e-2],
      [X.mul(-0.75), x.mul(-0.75), 4e-3],
      [X.div(2.5), x.div(2.5), 2e-3],
      [X.matmul(W).relu().sum(1), x.matmul(w).relu().sum(1), 8e-2],
    ];
    for (const [secret, plain, tol] of cases) expectClose(flat((await secret.get()).floatPrecision()), flat(plain), tol);
    expect(rejected()).toBe(0);
  });

  test('comparisons: gt, relu, max and argmax', async () => {
    const { share, rejected } = await smpcNet(net, n);
    const x = sy.tensor([[0, -0.001, 0.001, 1000, -1000], [3.5, -3.5, 2, 2, 0.5]]);
    const y = sy.tensor([[0, 0, 0, 999.999, -999.999], [3.5, -3.4, 2, 1.999, 0.501]]);
    const X = share(x);
    expect(flat((await X.gt(share(y)).get()).floatPrecision())).toEqual(flat(x.fixPrecision().gt(y.fixPrecision()).floatPrecision()));
    expect(flat((await X.relu().get()).floatPrecision())).toEqual(flat(x.relu()));
    expect(flat((await X.argmax(1).get()).floatPrecision())).toEqual([3, 0]);
    expect(flat((await X.max(1).get()).floatPrecision())).toEqual([1000, 3.5]);
    expect(rejected()).toBe(0);
  });

  test('refresh re-randomises every share on its worker and keeps the value', async () => {
    const { share, servers, sync } = await smpcNet(net, n);
    const X = share(sy.tensor([1.5, -2, 3]));
    await sync();
    const before = servers.slice(0, n).map((s) => [...(s.peek(s.objectIds()[0]!) as RingTensor).data]);
    const R = X.refresh();
    await sync();
    servers.slice(0, n).forEach((s, i) => {
      const ids = s.objectIds();
      expect(ids).toHaveLength(2);
      expect([...(s.peek(ids[1]!) as RingTensor).data]).not.toEqual(before[i]);
    });
    expect(flat((await R.get()).floatPrecision())).toEqual([1.5, -2, 3]);
  });
});

describe('values flow party to party, never through the orchestrator', () => {
  const net = new TestNet();
  afterEach(() => net.close());

  test('a private 64x784 by 784x128 matmul: commands out, and only the replies to its own requests back', async () => {
    const { share, parties, cryptoProvider, servers, sync, rejected } = await smpcNet(net, 2);
    const clients = [...parties, cryptoProvider];
    const X = share(sy.randn([64, 784]));
    const W = share(sy.randn([784, 128]).mul(0.05));
    // A first product makes the peer links (the introductions are requests, answered once).
    await X.slice(0, 1).mul(X.slice(1, 2)).get();
    await sync();
    const t0 = orchestratorTraffic(clients);
    const peers0 = servers.map((s) => s.traffic());

    const Z = X.matmul(W);
    await sync();
    const t1 = orchestratorTraffic(clients);
    // Three syncs answered, and nothing else came back (no value, no share, no masked value: the
    // bytes are the three replies and the workers' acknowledgements of the commands)...
    expect(t1.messagesIn - t0.messagesIn).toBe(3);
    expect(t1.received - t0.received).toBeLessThan(2048);
    // ...while commands (ids, shapes, sessions: no values) went out.
    expect(t1.sent - t0.sent).toBeLessThan(4096);
    // The masked factors went party to party: each party received the other's eps and delta.
    const eps = 8 * (64 * 784 + 784 * 128);
    servers.slice(0, 2).forEach((s, i) => {
      const got = s.traffic().peers.bytesReceived - peers0[i]!.peers.bytesReceived;
      expect(got).toBeGreaterThanOrEqual(eps);
    });
    // The dealer sent its material to the parties directly, and to nobody else.
    expect(servers[2]!.linkedPeers.sort()).toEqual(['alice', 'bob']);
    expect(servers[2]!.traffic().links.bytesSent - peers0[2]!.links.bytesSent).toBeGreaterThanOrEqual(8 * 64 * 128);

    // Getting the result brings back exactly its two shares.
    const z = await Z.get();
    const t2 = orchestratorTraffic(clients);
    expect(t2.messagesIn - t1.messagesIn).toBe(2);
    expect(t2.received - t1.received).toBeGreaterThanOrEqual(2 * 8 * 64 * 128);
    expect(t2.received - t1.received).toBeLessThan(2 * 8 * 64 * 128 + 2048);
    expect(z.shape).toEqual([64, 128]);
    expect(rejected()).toBe(0);
  });
});

describe('a data owner publishes its data and shares it worker to worker', () => {
  const net = new TestNet();
  afterEach(() => net.close());

  test('search finds it; the owner splits it among the parties; the orchestrator sees no value', async () => {
    const { parties, cryptoProvider, servers, sync } = await smpcNet(net, 2);
    const { server: ownerServer, client: owner } = await net.pair('hospital');
    const rows = sy.tensor([[0.25, -1.5], [3, 4]]);
    const id = ownerServer.publish('#records', rows);
    ownerServer.publish('#other', sy.tensor([1]));
    expect(ownerServer.published('#records')).toEqual([{ id, shape: [2, 2] }]);
    expect(await owner.search('#nothing')).toEqual([]);
    const [found] = await owner.search('#records');
    expect(found!.isPointer).toBe(true);
    expect(found!.shape).toEqual([2, 2]);

    const clients = [...parties, cryptoProvider, owner];
    const t0 = orchestratorTraffic(clients);
    // The owner is not a party: it splits and sends one share to each (mpc.shareOut).
    const byOwner = found!.fixPrecision().share(...parties, { cryptoProvider });
    // A party that publishes data keeps one share itself (mpc.shareSplit).
    const [onAlice] = await (async () => {
      servers[0]!.publish('#alice-rows', sy.tensor([[5, -6]]));
      return parties[0]!.search('#alice-rows');
    })();
    const byAlice = onAlice!.fixPrecision().share(...parties, { cryptoProvider });
    await sync();
    await owner.sync();
    const t1 = orchestratorTraffic(clients);
    // Replies to its own requests only: the search, four syncs, and the three introductions a
    // holder needs to send its shares (hospital to alice and bob, alice to bob; connectPeer, once).
    expect(t1.messagesIn - t0.messagesIn).toBe(8);
    expect(t1.received - t0.received).toBeLessThan(4096);

    // Computing on the shares works as on any shared value.
    const s = byOwner.add(byAlice.broadcastTo([2, 2]));
    expect(flat((await s.get()).floatPrecision())).toEqual([5.25, -7.5, 8, -2]);
  });

  test('published data cannot be fetched, moved, overwritten, changed in place or deleted, and outlives sessions', async () => {
    const { server, client } = await net.pair('hospital');
    const { client: other } = await net.pair('elsewhere', { timeoutMs: 500 });
    const id = server.publish('#records', sy.tensor([1, 2, 3]));
    const [p] = await client.search('#records');
    await expect(p!.copy().get()).resolves.toBeDefined(); // computing on it by pointer is fine
    const [q] = await client.search('#records');
    const err = await q!.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(sy.RemoteError);
    expect(String(err)).toMatch(/PermissionError: object \d+ is data that worker 'hospital' published: it does not leave the worker/);
    const [r] = await client.search('#records');
    const moved = r!.move(other);
    const [s] = await client.search('#records');
    s!.add_(1);
    client.post({ kind: 'store', id, obj: { type: 'float', shape: [1], dtype: 'float32', data: new Float32Array(1) } }, sy.local);
    client.clearObjects();
    client.post({ kind: 'del', ids: [id] }, sy.local);
    await client.sync();
    expect(server.rejected).toBe(3); // the move, the in-place add and the overwrite
    expect(String(client.lastRejection?.message)).toMatch(/cannot be overwritten/);
    await expect(moved.get()).rejects.toThrow(); // nothing arrived at the other worker
    await client.close();
    const again = await net.client(server);
    const [t] = await again.search('#records');
    expect(flat(await t!.copy().get())).toEqual([1, 2, 3]);
    expect(server.objectIds()).toEqual([id]);
    server.unpublish(id);
    expect(server.objectCount).toBe(0);
    expect(await again.search('#records')).toEqual([]);
    expect(() => server.publish('has space', sy.tensor([1]))).toThrow(sy.ValueError);
  });
});

describe('encrypted training over websocket workers', () => {
  const net = new TestNet();
  afterEach(() => net.close());

  test('steps of the MNIST MLP on private batches give the plaintext twin\'s losses and weights', async () => {
    const { parties, cryptoProvider, servers, sync, rejected } = await smpcNet(net, 2, { timeoutMs: 30_000 });
    const { train } = await sy.datasets.loadMnist({ train: 32, test: 0, seed: 5 });
    const targets = sy.datasets.oneHot(train.labels);
    const owners = parties.map((p, i) => ({
      data: sy.tensor(train.images.subarray(i * 16 * 784, (i + 1) * 16 * 784), { shape: [16, 784] }).send(p),
      target: sy.tensor(targets.subarray(i * 160, (i + 1) * 160), { shape: [16, 10] }).send(p),
    }));
    const batches = privateBatches(owners, { parties, cryptoProvider, batchSize: 16 });
    sy.manualSeed(4);
    const model = new sy.nn.Sequential(
      new sy.nn.Linear(784, 128), new sy.nn.ReLU(), new sy.nn.Linear(128, 64), new sy.nn.ReLU(), new sy.nn.Linear(64, 10),
    );
    const twin = model.copy();
    model.fixPrecision().share(...parties, { cryptoProvider, requiresGrad: true });
    const optimizer = new sy.optim.SGD(model.parameters(), { lr: 0.05 }).fixPrecision();
    const plainOpt = new sy.optim.SGD(twin.parameters(), { lr: 0.05 });
    const objects: number[][] = [];
    for (const [i, { data: x, target, size }] of batches.entries()) {
      const loss = sy.tidy(() => {
        optimizer.zeroGrad();
        const l = model.forward(x).sub(target).pow(2).sum().refresh().div(size);
        l.backward();
        optimizer.step();
        return l;
      });
      const got = (await loss.get()).floatPrecision().item();
      plainOpt.zeroGrad();
      const start = i * 16;
      const px = sy.tensor(train.images.subarray(start * 784, (start + 16) * 784), { shape: [16, 784] });
      const py = sy.tensor(targets.subarray(start * 10, (start + 16) * 10), { shape: [16, 10] });
      const want = twin.forward(px).sub(py).pow(2).sum().div(16);
      want.backward();
      plainOpt.step();
      expect(Math.abs(got - want.item())).toBeLessThan(0.02);
      await sync();
      objects.push(servers.map((s) => s.objectCount));
    }
    // Memory is flat: after each step the same objects (data shares, parameters, gradients).
    expect(objects[1]).toEqual(objects[0]);
    expect(objects[0]![2]).toBe(0); // the dealer keeps nothing
    await model.get();
    model.floatPrecision();
    const bias = flat(model.parameters().at(-1)!);
    expectClose(bias, flat(twin.parameters().at(-1)!), 0.02);
    expect(rejected()).toBe(0);
  });
});

describe.each(TRANSPORTS)('SMPC with authenticated peer links ($name)', (transport) => {
  const net = new TestNet(transport);
  afterEach(() => net.close());

  test('3 parties and a dealer: every party links to every other, the dealer to every party', async () => {
    const { share, servers, rejected } = await smpcNet(net, 3);
    const x = sy.tensor([[1, -2], [3, 4]]);
    const X = share(x);
    expectClose(flat((await X.matmul(X).relu().get()).floatPrecision()), [0, 0, 15, 10], 2e-3);
    // Parties reach each other; the dealer reaches the parties (it only ever sends), nobody it.
    const parties = ['alice', 'bob', 'charlie'];
    servers.forEach((s) => expect(s.linkedPeers.sort()).toEqual(parties.filter((id) => id !== s.id)));
    expect(servers.reduce((a, s) => a + s.authFailures, 0)).toBe(0);
    expect(rejected()).toBe(0);
  });
});
