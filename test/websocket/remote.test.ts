// The behaviours of test/workers/remote.test.ts, over real sockets: every test runs against
// in-process WebsocketServerWorkers on 127.0.0.1, once over plain ws with an open worker and once
// over TLS with a token.
import { afterEach, describe, expect, test } from 'vitest';
import { TRANSPORTS, TestNet, sy, until } from './helpers/net.js';

describe.each(TRANSPORTS)('remote tensors over websockets ($name)', (transport) => {
  const net = new TestNet(transport);
  afterEach(() => net.close());

  test('send returns a pointer; the worker holds a copy; get brings it back and removes it', async () => {
    const { server, client: bob } = await net.pair('bob');
    const x = sy.tensor([[1, 2], [3, 4]]);
    const p = x.send(bob);
    expect(p.isPointer).toBe(true);
    expect(p.location).toBe(bob);
    expect(p.shape).toEqual([2, 2]);
    await bob.sync();
    expect(server.objectIds()).toEqual([p.idAtLocation!]);
    expect(await bob.objectIds()).toEqual(server.objectIds());
    expect([...server.objects.values()][0]!.toString()).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    const back = await p.get();
    expect(back.arraySync()).toEqual([[1, 2], [3, 4]]);
    expect(server.objectCount).toBe(0);
    await expect(p.get()).rejects.toThrow(sy.StateError);
  });

  test('ops on pointers run on the worker and return pointers at once', async () => {
    const { client: bob } = await net.pair('bob');
    const a = sy.tensor([[1, -2], [3, 4]]).send(bob);
    const b = sy.tensor([[0.5, 1], [1, 0.5]]).send(bob);
    const c = a.matmul(b).add(1).relu().sum(1);
    expect(c.isPointer).toBe(true);
    expect(c.shape).toEqual([2]);
    expect((await c.get()).arraySync()).toEqual([1, 12.5]);
    const d = a.mul(b).sub(a).div(2).neg().mean();
    const av = [1, -2, 3, 4];
    const bv = [0.5, 1, 1, 0.5];
    const want = av.reduce((s, x, i) => s - (x * bv[i]! - x) / 2, 0) / 4;
    expect((await d.get()).item()).toBeCloseTo(want, 6);
  });

  test('tensor payloads cross as binary, bit for bit', async () => {
    const { client: bob } = await net.pair('bob');
    const values = Float32Array.from({ length: 64 * 784 }, (_, i) => Math.sin(i) * 1e3);
    const x = sy.tensor(Array.from(values)).reshape([64, 784]);
    const back = await x.send(bob).get();
    expect(back.shape).toEqual([64, 784]);
    expect(Float32Array.from((back.arraySync() as number[][]).flat())).toEqual(values);
  });

  test('shapes are checked before anything is sent', async () => {
    const { server, client: bob } = await net.pair('bob');
    const { client: alice } = await net.pair('alice');
    const a = sy.tensor([[1, 2, 3]]).send(bob);
    expect(() => a.matmul(sy.tensor([[1, 2]]).send(bob))).toThrow(sy.ShapeError);
    expect(() => a.add(sy.tensor([1, 2, 3]).send(alice))).toThrow(/move\(\) one of them/);
    expect(() => a.add(sy.tensor([1, 2, 3]))).toThrow(/send\(\) the local one/);
    await bob.sync();
    expect(server.rejected).toBe(0);
  });

  test('move goes worker to worker over a peer link; copy makes a new remote object', async () => {
    const { server: bobServer, client: bob } = await net.pair('bob');
    const { server: aliceServer, client: alice } = await net.pair('alice');
    const p = sy.tensor([5, 6]).send(bob);
    const q = p.copy();
    expect(q.idAtLocation).not.toBe(p.idAtLocation!);
    await bob.sync();
    expect(bobServer.objectCount).toBe(2);
    p.move(alice);
    expect(p.location).toBe(alice);
    await alice.sync();
    await bob.sync();
    expect(bobServer.objectCount).toBe(1);
    expect(aliceServer.objectCount).toBe(1);
    expect(bobServer.linkedPeers).toEqual(['alice']);
    expect((await p.get()).arraySync()).toEqual([5, 6]);
    expect((await q.get()).arraySync()).toEqual([5, 6]);
    // A second move between the same workers reuses the link.
    const r = sy.tensor([7]).send(bob).move(alice);
    expect((await r.get()).arraySync()).toEqual([7]);
    expect(bob.rejected + alice.rejected + bobServer.rejected + aliceServer.rejected).toBe(0);
    // And back the other way: alice gets her own link to bob.
    const s = sy.tensor([8, 9]).send(alice).move(bob);
    expect((await s.get()).arraySync()).toEqual([8, 9]);
    expect(aliceServer.linkedPeers).toEqual(['bob']);
  });

  test('a model trained remotely, moved to a third worker and averaged there', async () => {
    const { client: bob } = await net.pair('bob');
    const { client: alice } = await net.pair('alice');
    const { server: secureServer, client: secure } = await net.pair('secure_worker');
    sy.manualSeed(3);
    const data = sy.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const target = sy.tensor([[0], [0], [1], [1]]);
    const model = new sy.nn.Linear(2, 1);
    const parts = [
      { w: bob, x: data.slice(0, 2).send(bob), y: target.slice(0, 2).send(bob) },
      { w: alice, x: data.slice(2).send(alice), y: target.slice(2).send(alice) },
    ];
    const models: sy.nn.Linear[] = [];
    net.hold(models, parts);
    for (const { w, x, y } of parts) {
      const m = model.copy().send(w);
      const opt = new sy.optim.SGD(m.parameters(), { lr: 0.1 });
      let last = Infinity;
      for (let i = 0; i < 20; i++) {
        opt.zeroGrad();
        const loss = m.forward(x).sub(y).pow(2).sum();
        loss.backward();
        opt.step();
        const l = (await loss.get()).item();
        expect(l).toBeLessThanOrEqual(last + 1e-6);
        last = l;
      }
      models.push(m);
    }
    const trained = await Promise.all(models.map(async (m) => (await m.weight.copy().get()).arraySync() as number[][]));
    for (const m of models) m.move(secure);
    const avg = sy.tidy(() => models[0]!.weight.data.add(models[1]!.weight.data).div(2));
    const avgW = (await avg.get()).arraySync() as number[][];
    avgW[0]!.forEach((v, i) => expect(v).toBeCloseTo((trained[0]![0]![i]! + trained[1]![0]![i]!) / 2, 6));
    await secure.sync();
    // Only the two moved models (weight and bias each) are held by the secure worker.
    expect(secureServer.objectCount).toBe(4);
  });

  test('a remote failure surfaces at get() with the worker, the op and the message', async () => {
    const { server, client: bob } = await net.pair('bob');
    const [p] = net.hold(sy.tensor([0, 5]).send(bob));
    const bad = p.oneHot(3);
    const later = bad.add(1);
    await expect(bad.get()).rejects.toThrow(/worker 'bob' failed to run 'oneHot': ValueError: oneHot: 5 is not a class index/);
    const err = await later.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(sy.RemoteError);
    expect((err as sy.RemoteError).workerId).toBe('bob');
    expect((err as sy.RemoteError).op).toBe('oneHot');
    expect(server.objects.size).toBe(1);
  });

  test('clearObjects empties the store; later use of a freed object fails at get()', async () => {
    const { server, client: bob } = await net.pair('bob');
    const p = sy.tensor([1]).send(bob);
    sy.tensor([2]).send(bob);
    expect(bob.clearObjects()).toBe(bob);
    await bob.sync();
    expect(server.objectCount).toBe(0);
    const err = await p.add(1).get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(sy.RemoteError);
    expect(String(err)).toMatch(/holds no object/);
  });

  test('autograd runs where the tensors are', async () => {
    const { client: bob } = await net.pair('bob');
    const w = sy.tensor([[1, 2]], { requiresGrad: true }).send(bob);
    const x = sy.tensor([[3], [4]]).send(bob);
    const loss = w.matmul(x).pow(2).sum();
    loss.backward();
    expect((await w.grad!.get()).arraySync()).toEqual([[66, 88]]);
    expect((await loss.get()).item()).toBe(121);
  });

  test('in-place ops on pointers keep the remote id', async () => {
    const { server, client: bob } = await net.pair('bob');
    const p = sy.tensor([1, 2]).send(bob);
    const id = p.idAtLocation!;
    p.add_(10).mul_(2);
    expect(p.idAtLocation!).toBe(id);
    expect((await p.get()).arraySync()).toEqual([22, 24]);
    expect(server.objectCount).toBe(0);
  });

  test('dispose and tidy free remote objects; results and kept tensors stay', async () => {
    const { server, client: bob } = await net.pair('bob');
    const p = sy.tensor([1, 2, 3]).send(bob);
    const kept = sy.tidy(() => {
      net.hold(sy.keep(p.mul(10)));
      const r = p.add(1).mul(2).sub(1);
      return { r };
    });
    await bob.sync();
    expect(server.objectCount).toBe(3);
    expect((await kept.r.get()).arraySync()).toEqual([3, 5, 7]);
    p.dispose();
    await bob.sync();
    expect(server.objectCount).toBe(1);
  });

  test('a refused post comes back as a visible rejection, and changes nothing', async () => {
    const { server, client: bob } = await net.pair('bob');
    const [p] = net.hold(sy.tensor([1, 2]).send(bob));
    await bob.sync();
    const seen: sy.SyftError[] = [];
    bob.on('rejection', (e) => seen.push(e as never));
    // A command the worker does not know, sent as any post is.
    bob.post({ kind: 'cmd', op: 'eval', args: ['process.exit()'], ret: [12345] }, sy.local);
    bob.post({ kind: 'cmd', op: 'add', self: p.idAtLocation!, args: [1], ret: [] }, sy.local);
    await bob.sync();
    await until(() => bob.rejected === 2, 2000, 'two rejections');
    expect(bob.lastRejection?.message).toMatch(/'add' fills 1 result id\(s\), the message gives 0/);
    expect(seen).toHaveLength(2);
    expect((seen[0] as unknown as { message: string }).message).toMatch(/unknown operation 'eval'/);
    expect(server.rejected).toBe(2);
    expect(server.objectCount).toBe(1);
  });

  test('a client cannot inject protocol values; a too-large message is refused before it is sent', async () => {
    const { server, client: bob } = await net.pair('bob', { maxMessageBytes: 4096 });
    expect(() => bob.post({ kind: 'peer', session: 'a'.repeat(32), tag: 'move', payload: 1 }, sy.local)).toThrow(sy.ProtocolError);
    expect(() => sy.tensor(Array.from({ length: 2000 }, (_, i) => i)).send(bob)).toThrow(/larger than worker 'bob' accepts/);
    const small = sy.tensor([1, 2, 3]).send(bob);
    expect((await small.get()).arraySync()).toEqual([1, 2, 3]);
    expect(server.mailbox.size).toBe(0);
  });
});
