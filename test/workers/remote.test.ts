import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

// Every test here runs twice: in-process, and with each message encoded to bytes and back.
describe.each([false, true])('remote tensors (serialize: %s)', (serialize) => {
  const workers = () => {
    const bob = new sy.VirtualWorker({ id: 'bob', serialize });
    const alice = new sy.VirtualWorker({ id: 'alice', serialize });
    return { bob, alice };
  };

  test('send returns a pointer; the worker holds a copy; get brings it back and removes it', async () => {
    const { bob } = workers();
    const x = sy.tensor([[1, 2], [3, 4]]);
    const p = x.send(bob);
    expect(p.isPointer).toBe(true);
    expect(p.location).toBe(bob);
    expect(bob.objectIds()).toEqual([p.idAtLocation]);
    expect([...bob.objects.values()][0]!.toString()).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    expect(p.shape).toEqual([2, 2]);
    const back = await p.get();
    expect(back.arraySync()).toEqual([[1, 2], [3, 4]]);
    expect(bob.objectCount).toBe(0);
    await expect(p.get()).rejects.toThrow(sy.StateError);
  });

  test('ops on pointers run on the worker and return pointers at once', async () => {
    const { bob } = workers();
    const a = sy.tensor([[1, -2], [3, 4]]).send(bob);
    const b = sy.tensor([[0.5, 1], [1, 0.5]]).send(bob);
    const c = a.matmul(b).add(1).relu().sum(1);
    expect(c.isPointer).toBe(true);
    expect(c.shape).toEqual([2]);
    // a @ b = [[-1.5, 0], [5.5, 5]]; +1, relu, row sums
    expect((await c.get()).arraySync()).toEqual([1, 12.5]);
    const d = a.mul(b).sub(a).div(2).neg().mean();
    const av = [1, -2, 3, 4];
    const bv = [0.5, 1, 1, 0.5];
    const want = av.reduce((s, x, i) => s - (x * bv[i]! - x) / 2, 0) / 4;
    expect((await d.get()).item()).toBeCloseTo(want, 6);
  });

  test('shapes are checked before anything is sent', () => {
    const { bob, alice } = workers();
    const a = sy.tensor([[1, 2, 3]]).send(bob);
    expect(() => a.matmul(sy.tensor([[1, 2]]).send(bob))).toThrow(sy.ShapeError);
    expect(() => a.add(sy.tensor([1, 2, 3]).send(alice))).toThrow(/move\(\) one of them/);
    expect(() => a.add(sy.tensor([1, 2, 3]))).toThrow(/send\(\) the local one/);
  });

  test('move goes worker to worker; copy makes a new remote object', async () => {
    const { bob, alice } = workers();
    bob.addWorkers([alice]);
    const p = sy.tensor([5, 6]).send(bob);
    const q = p.copy();
    expect(q.idAtLocation).not.toBe(p.idAtLocation);
    expect(bob.objectCount).toBe(2);
    p.move(alice);
    expect(p.location).toBe(alice);
    await alice.sync();
    expect(bob.objectCount).toBe(1);
    expect(alice.objectCount).toBe(1);
    expect((await p.get()).arraySync()).toEqual([5, 6]);
    expect((await q.get()).arraySync()).toEqual([5, 6]);
  });

  test('a remote failure surfaces at get() with the worker, the op and the message', async () => {
    const { bob } = workers();
    const p = sy.tensor([0, 5]).send(bob);
    const bad = p.oneHot(3); // 5 is not a class index below 3: fails on bob
    const later = bad.add(1); // depends on the failed result
    await expect(bad.get()).rejects.toThrow(/worker 'bob' failed to run 'oneHot': ValueError: oneHot: 5 is not a class index/);
    const err = await later.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(sy.RemoteError);
    expect((err as sy.RemoteError).workerId).toBe('bob');
    expect((err as sy.RemoteError).op).toBe('oneHot');
    expect(bob.objects.size).toBe(1); // failures are not objects
    // p stays referenced until here, so the GC cannot free its remote object mid-test
    expect(p.isPointer).toBe(true);
  });

  test('clearObjects empties the store; later use of a freed object fails at get()', async () => {
    const { bob } = workers();
    const p = sy.tensor([1]).send(bob);
    sy.tensor([2]).send(bob);
    expect(bob.clearObjects()).toBe(bob);
    expect(bob.objectCount).toBe(0);
    const err = await p.add(1).get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(sy.RemoteError);
    expect(String(err)).toMatch(/holds no object/);
  });

  test('autograd runs where the tensors are', async () => {
    const { bob } = workers();
    const w = sy.tensor([[1, 2]], { requiresGrad: true }).send(bob);
    const x = sy.tensor([[3], [4]]).send(bob);
    const loss = w.matmul(x).pow(2).sum(); // (3 + 8)^2
    loss.backward();
    expect((await w.grad!.get()).arraySync()).toEqual([[66, 88]]);
    expect((await loss.get()).item()).toBe(121);
  });

  test('in-place ops on pointers keep the remote id', async () => {
    const { bob } = workers();
    const p = sy.tensor([1, 2]).send(bob);
    const id = p.idAtLocation;
    p.add_(10).mul_(2);
    expect(p.idAtLocation).toBe(id);
    expect((await p.get()).arraySync()).toEqual([22, 24]);
    expect(bob.objectCount).toBe(0);
  });

  test('dispose and tidy free remote objects; results and kept tensors stay', async () => {
    const { bob } = workers();
    const p = sy.tensor([1, 2, 3]).send(bob);
    let held: sy.Tensor | undefined;
    const kept = sy.tidy(() => {
      held = sy.keep(p.mul(10));
      const r = p.add(1).mul(2).sub(1);
      return { r };
    });
    await bob.sync();
    expect(bob.objectCount).toBe(3); // p, the kept product and the result
    expect(held!.isPointer).toBe(true); // held to here: only tidy may free, not the GC
    expect((await kept.r.get()).arraySync()).toEqual([3, 5, 7]);
    p.dispose();
    await bob.sync();
    expect(bob.objectCount).toBe(1);
  });

  test('a worker refuses garbage with an error and keeps its state', () => {
    const { bob } = workers();
    sy.tensor([1, 2]).send(bob);
    const before = bob.objectIds();
    const replies: unknown[] = [];
    const garbage: unknown[] = [
      null, 42, 'cmd', { kind: 'nope' }, { kind: 'cmd', op: 'eval', args: [], ret: [1] },
      { kind: 'cmd', op: 'add', args: [1], ret: [] }, { kind: 'cmd', op: 'add', self: -1, args: [1], ret: [3] },
      { kind: 'store', id: 5, obj: { type: 'float', shape: [2], values: [1, 2] } },
      { kind: 'del', ids: ['x'] }, { kind: 'req', req: 1, op: 'get', args: [before[0], false], extra: 1 },
      { kind: 'cmd', op: 'add', args: [{ ref: 1, x: 2 }], ret: [9], self: before[0], junk: true },
      { kind: 'store', id: 7, obj: { type: 'float', shape: [3], values: new Float32Array(2) } },
    ];
    for (const g of garbage) bob.receive(g, 'mallory', (r) => replies.push(r));
    expect(bob.objectIds()).toEqual(before);
    // The two 'store' messages are well-formed envelopes whose payload fails to decode: they are
    // recorded as failures of their ids (reported at get()) and answered with the error, never
    // stored as objects. The rest are refused.
    expect(bob.rejected).toBe(garbage.length - 2);
    expect(replies).toHaveLength(garbage.length);
    expect(replies.every((r) => (r as { ok: boolean }).ok === false)).toBe(true);
  });
});
