// Pointer chains (src/tensors/chains.ts), ported from PySyft 0.2's "Part 03 - Advanced Remote
// Execution Tools" and its test/generic/pointers/test_pointer_tensor.py: sending a pointer,
// get() peeling one level, ops through a chain, move() of a pointer, remoteGet(), and freeing
// through a chain freeing exactly what it should.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

const flat = (t: sy.Tensor) => (t.arraySync() as number[]).flat(3);

// Every test here runs twice: in-process, and with each message encoded to bytes and back.
describe.each([false, true])('pointer chains on virtual workers (serialize: %s)', (serialize) => {
  let n = 0;
  const workers = () => {
    const k = `${serialize ? 's' : 'p'}${n++}`;
    const bob = new sy.VirtualWorker({ id: `bob-${k}`, serialize });
    const alice = new sy.VirtualWorker({ id: `alice-${k}`, serialize });
    const carol = new sy.VirtualWorker({ id: `carol-${k}`, serialize });
    return { bob, alice, carol };
  };
  const kinds = (w: sy.VirtualWorker) => [...w.objects.values()].map((o) => ((o as sy.Tensor).isPointer ? `pointer->${(o as sy.Tensor).location!.id}` : 'data'));

  test('x.send(bob).send(alice): bob keeps the data, alice holds a pointer to it, we hold a pointer to hers', async () => {
    const { bob, alice } = workers();
    const xPtr = sy.tensor([1, 2, 3, 4]).send(bob);
    const chain = xPtr.send(alice);
    expect(chain.location).toBe(alice);
    expect(chain.owner).toBe(sy.local);
    expect(chain.shape).toEqual([4]);
    // Alice stores the pointer once bob has let her use what it names (under ownership).
    await alice.sync();
    expect(kinds(bob)).toEqual(['data']);
    expect(kinds(alice)).toEqual([`pointer->${bob.id}`]);
    // Alice's pointer names bob's object; ours names alice's.
    const alicesPointer = [...alice.objects.values()][0] as sy.Tensor;
    expect(alicesPointer.idAtLocation).toBe(xPtr.idAtLocation);
    expect(alicesPointer.owner.id).toBe(alice.id);
    // The pointer we sent is spent: its object belongs to alice's pointer now.
    await expect(xPtr.get()).rejects.toThrow(sy.StateError);
  });

  test('get() peels one level: alice gives her pointer back (now ours, pointing at bob), then bob the data', async () => {
    const { bob, alice } = workers();
    const chain = sy.tensor([1, 2]).send(bob).send(alice);
    const xPtr = await chain.get();
    expect(xPtr.isPointer).toBe(true);
    expect(xPtr.location).toBe(bob);
    expect(xPtr.owner).toBe(sy.local);
    expect(alice.objectCount).toBe(0);
    expect(bob.objectCount).toBe(1);
    const x = await xPtr.get();
    expect(x.isPointer).toBe(false);
    expect(flat(x)).toEqual([1, 2]);
    expect(bob.objectCount).toBe(0);
    // chained double send with variable overwriting, as PySyft's test_send_get
    let y = sy.tensor([1, 2]).send(bob);
    y = y.send(alice);
    y = await y.get();
    expect(flat(await y.get())).toEqual([1, 2]);
  });

  test('ops on a chain run where the data is and give a chain: two objects on each worker (Part 03)', async () => {
    const { bob, alice } = workers();
    const p2p2x = sy.tensor([1, 2, 3, 4, 5]).send(bob).send(alice);
    const y = p2p2x.add(p2p2x);
    expect(y.location).toBe(alice);
    expect(y.shape).toEqual([5]);
    await alice.sync();
    await bob.sync();
    expect(kinds(alice)).toEqual([`pointer->${bob.id}`, `pointer->${bob.id}`]);
    expect(kinds(bob)).toEqual(['data', 'data']);
    expect(flat(await (await y.get()).get())).toEqual([2, 4, 6, 8, 10]);
    expect([alice.objectCount, bob.objectCount]).toEqual([1, 1]);
    expect(flat(await (await p2p2x.get()).get())).toEqual([1, 2, 3, 4, 5]);
    expect([alice.objectCount, bob.objectCount]).toEqual([0, 0]);
    // More of the table, and a matmul with another chain to the same data worker.
    const a = sy.tensor([[1, -2], [3, 4]]).send(bob).send(alice);
    const b = sy.tensor([[0.5, 1], [1, 0.5]]).send(bob).send(alice);
    const c = a.matmul(b).add(1).relu().sum(1);
    expect(c.shape).toEqual([2]);
    expect(flat(await (await c.get()).get())).toEqual([1, 12.5]);
  });

  test('fixPrecision and floatPrecision go along the chain: bob encodes, alice keeps a pointer (PySyft test_fix_prec_on_pointer_of_pointer)', async () => {
    const { bob, alice } = workers();
    const chain = sy.tensor([1, 2, 3, 4]).send(bob).send(alice);
    const fp = chain.fixPrecision();
    await alice.sync();
    await bob.sync();
    const onAlice = alice.peek(fp.idAtLocation!) as sy.PointerTensor;
    expect(onAlice).toBeInstanceOf(sy.PointerTensor);
    expect(bob.peek(onAlice.idAtLocation)).toBeInstanceOf(sy.FixedPrecisionTensor);
    const back = fp.floatPrecision();
    expect(flat(await (await back.get()).get())).toEqual([1, 2, 3, 4]);
  });

  test('autograd through a chain: requiresGrad_, backward and .grad run on bob, where the data is', async () => {
    const { bob, alice } = workers();
    const w = sy.tensor([1, 2, 3]).send(bob).send(alice).requiresGrad_();
    const loss = w.mul(w).sum();
    loss.backward();
    const g = w.grad!;
    expect(g.location).toBe(alice);
    expect(flat(await (await g.get()).get())).toEqual([2, 4, 6]);
    await bob.sync();
    // The data on bob is the leaf that requires grad; alice only forwards.
    expect((bob.peek(((await w.copy().get()).child as sy.PointerTensor).idAtLocation) as sy.AbstractTensor).requiresGrad).toBe(true);
  });

  test('move() of a chain moves the pointer alice holds: carol points at bob, the data stays (PySyft test_move)', async () => {
    const { bob, alice, carol } = workers();
    const chain = sy.tensor([1, 2, 3]).send(bob).send(alice);
    chain.move(carol);
    expect(chain.location).toBe(carol);
    await alice.sync();
    await carol.sync();
    expect(alice.objectCount).toBe(0);
    expect(kinds(carol)).toEqual([`pointer->${bob.id}`]);
    expect(bob.objectCount).toBe(1);
    // Ops still reach the data, now through carol.
    const y = chain.mul(2);
    expect(flat(await (await y.get()).get())).toEqual([2, 4, 6]);
    expect(flat(await (await chain.get()).get())).toEqual([1, 2, 3]);
    expect([bob.objectCount, alice.objectCount, carol.objectCount]).toEqual([0, 0, 0]);
  });

  test('a pointer moved to the worker it points at becomes the data there: no worker holds a pointer to itself', async () => {
    const { bob, alice } = workers();
    const chain = sy.tensor([5, 6]).send(bob).send(alice);
    chain.move(bob);
    await alice.sync();
    await bob.sync();
    expect(alice.objectCount).toBe(0);
    expect(kinds(bob)).toEqual(['data']);
    expect(bob.objectIds()).toEqual([chain.idAtLocation]);
    expect(flat(await chain.get())).toEqual([5, 6]); // one level: the data itself
    expect(bob.objectCount).toBe(0);
  });

  test('remoteGet(): alice fetches the data from bob, worker to worker; the handle then points at the data on alice', async () => {
    const { bob, alice } = workers();
    const chain = sy.tensor([7, 8, 9]).send(bob).send(alice);
    const seen: unknown[] = [];
    const original = alice.request.bind(alice);
    alice.request = async (m, from) => {
      const v = await original(m, from);
      seen.push(v);
      return v;
    };
    expect(chain.remoteGet()).toBe(chain);
    await alice.sync();
    expect(bob.objectCount).toBe(0);
    expect(kinds(alice)).toEqual(['data']);
    expect(seen.filter((v) => v !== null)).toEqual([]); // only the barrier's reply came here
    expect(flat(await chain.get())).toEqual([7, 8, 9]);
    expect(() => sy.tensor([1]).remoteGet()).toThrow(sy.ValueError);
  });

  test('freeing a chain frees exactly its objects, on both workers; other objects stay', async () => {
    const { bob, alice } = workers();
    const other = sy.tensor([0]).send(bob);
    const chain = sy.tensor([1, 2]).send(bob).send(alice);
    const y = chain.add(1);
    await alice.sync();
    expect([alice.objectCount, bob.objectCount]).toEqual([2, 3]);
    y.dispose();
    await alice.sync();
    await bob.sync();
    expect([alice.objectCount, bob.objectCount]).toEqual([1, 2]);
    chain.dispose();
    await alice.sync();
    await bob.sync();
    expect([alice.objectCount, bob.objectCount]).toEqual([0, 1]);
    expect(bob.objectIds()).toEqual([other.idAtLocation]);
    // A tidy scope frees the intermediates of a chain the same way.
    const kept = sy.tensor([3, 4]).send(bob).send(alice);
    const z = sy.tidy(() => kept.mul(kept).add(kept).sum());
    await alice.sync();
    await bob.sync();
    expect([alice.objectCount, bob.objectCount]).toEqual([2, 3]);
    expect((await (await z.get()).get()).item()).toBe(3 * 3 + 3 + 4 * 4 + 4);
    // clearObjects() on alice frees what her pointers point to, too.
    alice.clearObjects();
    await bob.sync();
    expect([alice.objectCount, bob.objectCount]).toEqual([0, 1]);
  });

  test('a pointer is never sent to the worker it points at, nor to its own worker', () => {
    const { bob } = workers();
    const x = sy.tensor([1]).send(bob);
    expect(() => x.send(bob)).toThrow(/already on 'bob-.*never holds a pointer to itself/);
    expect(() => x.send(sy.local)).toThrow(/own worker: use get\(\)/);
    expect(() => x.move(sy.local)).toThrow(/own worker: bring the value here with await x.get\(\)/);
    expect(x.isPointer).toBe(true);
  });
});

// Polls `read` until it gives `want` (messages between two other threads arrive when they do).
async function settles<T>(read: () => Promise<T>, want: T, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (JSON.stringify(v) === JSON.stringify(want) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('pointer chains on thread workers', () => {
  test('send a pointer thread to thread; ops, get, remoteGet and frees go through the chain', async () => {
    const [bob, alice] = await Promise.all(['chain-tbob', 'chain-talice'].map((id) => sy.ThreadWorker.start({ id })));
    try {
      const chain = sy.tensor([1, 2, 3]).send(bob).send(alice);
      const y = chain.add(chain);
      const onBob = await y.get();
      expect(onBob.location).toBe(bob);
      expect(flat(await onBob.get())).toEqual([2, 4, 6]);
      expect((await bob.objectIds()).length).toBe(1);
      chain.dispose();
      await alice.sync();
      expect(await alice.objectIds()).toEqual([]);
      // Alice's free of bob's tensor goes thread to thread, not through us: wait for it to land.
      expect(await settles(() => bob.objectIds(), [])).toEqual([]);
      const q = sy.tensor([4, 5]).send(bob).send(alice).remoteGet();
      await alice.sync(); // the fetch is done when alice's queue has passed it
      expect(await bob.objectIds()).toEqual([]);
      expect(flat(await q.get())).toEqual([4, 5]);
    } finally {
      await Promise.all([bob.close(), alice.close()]);
    }
  });

  test('chains between a thread worker and a worker of this thread, both ways', async () => {
    const bob = new sy.VirtualWorker({ id: 'chain-vbob' });
    const alice = await sy.ThreadWorker.start({ id: 'chain-talice2' });
    try {
      const toBob = sy.tensor([1, 2, 3]).send(bob).send(alice);
      expect(flat(await (await toBob.mul(toBob).get()).get())).toEqual([1, 4, 9]);
      toBob.remoteGet();
      await alice.sync();
      expect(bob.objectCount).toBe(0);
      expect(flat(await toBob.get())).toEqual([1, 2, 3]);
      const toAlice = sy.tensor([4]).send(alice).send(bob);
      expect(flat(await (await toAlice.add(1).get()).get())).toEqual([5]);
      toAlice.dispose();
      await bob.sync();
      expect(await settles(() => alice.objectIds(), [])).toEqual([]);
    } finally {
      await alice.close();
    }
  });
});
