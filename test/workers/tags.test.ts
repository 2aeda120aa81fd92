// Tags, descriptions and search (src/workers/tags.ts, src/workers/search.ts) on virtual and
// thread workers, as PySyft's `tensor.tag('#mnist')`, `.describe()` and `worker.search([...])`:
// an AND of tags, answered with borrowed pointers; tags travel with the tensor.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

const flat = (t: sy.Tensor) => (t.arraySync() as number[]).flat(3);

describe.each([false, true])('tags and search on virtual workers (serialize: %s)', (serialize) => {
  let n = 0;
  const worker = (name: string) => new sy.VirtualWorker({ id: `${name}-${serialize ? 's' : 'p'}${n++}`, serialize });

  test("search(['#mnist', '#train']) finds what carries every tag, in the order stored, as pointers", async () => {
    const bob = worker('bob');
    const train = sy.tensor([[1, 2]]).tag('#mnist', '#train').describe('digits to train on').send(bob);
    sy.tensor([[3, 4]]).tag('#mnist', '#test').send(bob);
    sy.tensor([5]).tag('#train').send(bob);
    sy.tensor([6]).send(bob); // untagged
    const found = await bob.search(['#mnist', '#train']);
    expect(found).toHaveLength(1);
    const [data] = found;
    expect(data!.isPointer).toBe(true);
    expect(data!.location).toBe(bob);
    expect(data!.owner).toBe(sy.local);
    expect(data!.idAtLocation).toBe(train.idAtLocation);
    expect(data!.shape).toEqual([1, 2]);
    expect(data!.tags).toEqual(['#mnist', '#train']);
    expect(data!.description).toBe('digits to train on');
    expect(flat(await data!.add(1).get())).toEqual([2, 3]); // compute on it by pointer
    expect(await bob.search('#mnist')).toHaveLength(2);
    expect((await bob.search(['#train'])).map((t) => t.shape)).toEqual([[1, 2], [1]]);
    expect(await bob.search(['#mnist', '#nothing'])).toEqual([]);
    expect(await bob.search(['#nothing'])).toEqual([]);
    // An empty query finds every tagged tensor, as PySyft's.
    expect(await bob.search([])).toHaveLength(3);
  });

  test('search results are borrowed: dropping or disposing one frees nothing', async () => {
    const bob = worker('bob');
    const mine = sy.tensor([1, 2, 3]).tag('#a').send(bob);
    const [found] = await bob.search('#a');
    found!.dispose();
    sy.tidy(() => void found);
    await bob.sync();
    expect(bob.objectIds()).toEqual([mine.idAtLocation]);
    const [again] = await bob.search('#a');
    expect(flat(await again!.copy().get())).toEqual([1, 2, 3]);
    // The owner's pointer still frees it.
    mine.dispose();
    await bob.sync();
    expect(await bob.search('#a')).toEqual([]);
  });

  test('tags travel with the tensor: send leaves them, get brings them back, move takes them along', async () => {
    const bob = worker('bob');
    const alice = worker('alice');
    const x = sy.tensor([1, 2]).tag('#a', '#b').describe('two numbers');
    const p = x.send(bob);
    expect(p.tags).toEqual(['#a', '#b']);
    expect((await bob.search(['#a', '#b']))).toHaveLength(1);
    p.move(alice);
    expect(p.tags).toEqual(['#a', '#b']);
    expect(await bob.search('#a')).toEqual([]);
    const [onAlice] = await alice.search(['#b', '#a']);
    expect(onAlice!.description).toBe('two numbers');
    const back = await p.get();
    expect(back.isPointer).toBe(false);
    expect(back.tags).toEqual(['#a', '#b']);
    expect(back.description).toBe('two numbers');
    // A tensor that requires grad keeps its tags when it becomes one.
    const w = sy.tensor([1]).tag('#w').requiresGrad_();
    expect(w.tags).toEqual(['#w']);
    expect((await alice.search('#w'))).toEqual([]);
    w.send(alice);
    expect(await alice.search('#w')).toHaveLength(1);
    // Results of ops are new tensors, without tags.
    expect(sy.tensor([1]).tag('#x').add(1).tags).toEqual([]);
  });

  test('tag() and describe() on a pointer tag the object on the worker', async () => {
    const bob = worker('bob');
    const p = sy.tensor([3]).send(bob);
    expect(await bob.search('#late')).toEqual([]);
    p.tag('#late').describe('tagged after it was sent');
    const [found] = await bob.search('#late');
    expect(found!.idAtLocation).toBe(p.idAtLocation);
    expect(found!.description).toBe('tagged after it was sent');
    p.tag('#later');
    expect(await bob.search(['#late', '#later'])).toHaveLength(1);
    expect(p.tags).toEqual(['#late', '#later']);
  });

  test('a tagged pointer sent along a chain is found on the worker that holds it', async () => {
    const bob = worker('bob');
    const alice = worker('alice');
    sy.tensor([4, 5]).send(bob).tag('#chain').send(alice);
    expect(await bob.search('#chain')).toHaveLength(1); // the data was tagged through the pointer
    const [onAlice] = await alice.search('#chain');
    const onBob = await onAlice!.get(); // a found pointer may be fetched: alice's pointer to bob's data
    expect(onBob.location).toBe(bob);
    expect(flat(await onBob.get())).toEqual([4, 5]);
  });

  test('bad tags and descriptions are refused with what a tag is', () => {
    const x = sy.tensor([1]);
    expect(() => x.tag('has space')).toThrow(sy.ValueError);
    expect(() => x.tag('')).toThrow(/1-128 printable characters/);
    expect(() => x.tag('#' + 'x'.repeat(128))).toThrow(sy.ValueError);
    expect(() => x.tag(...Array.from({ length: 65 }, (_, i) => `#t${i}`))).toThrow(/at most 64 tags/);
    expect(() => x.tag(7 as unknown as string)).toThrow(sy.ValueError);
    expect(() => x.describe('x'.repeat(5000))).toThrow(/at most 4096 characters/);
    expect(x.tags).toEqual([]);
    const bob = worker('bob');
    return expect(bob.search(['ok', 'not ok'])).rejects.toThrow(sy.ValueError);
  });

  test('tags in a message are checked like every other field: a bad one refuses the object', async () => {
    const bob = worker('bob');
    const obj = { type: 'float', shape: [1], values: new Float32Array([1]) };
    for (const tags of [['has space'], 'not-a-list', Array.from({ length: 65 }, (_, i) => `#t${i}`), [7]]) {
      bob.post({ kind: 'store', id: 1000 + (n++), obj: { ...obj, tags } as never }, sy.local);
    }
    bob.post({ kind: 'store', id: 2000, obj: { ...obj, description: 5 } as never }, sy.local);
    bob.post({ kind: 'store', id: 2001, obj: { ...obj, tags: ['#fine'], description: 'fine' } as never }, sy.local);
    await bob.sync();
    expect(bob.objectIds()).toEqual([2001]);
    const [found] = await bob.search('#fine');
    expect(found!.description).toBe('fine');
  });
});

describe('tags and search on thread workers', () => {
  test('the same search, answered by a worker in another thread', async () => {
    const bob = await sy.ThreadWorker.start({ id: 'tags-tbob' });
    try {
      const x = sy.tensor([[1, 2], [3, 4]]).tag('#mnist', '#train').describe('rows').send(bob);
      sy.tensor([9]).tag('#mnist').send(bob);
      const [found, ...rest] = await bob.search(['#mnist', '#train']);
      expect(rest).toEqual([]);
      expect(found!.location).toBe(bob);
      expect(found!.idAtLocation).toBe(x.idAtLocation);
      expect(found!.tags).toEqual(['#mnist', '#train']);
      expect(found!.description).toBe('rows');
      expect(flat(await found!.sum(1).get())).toEqual([3, 7]);
      expect(await bob.search('#mnist')).toHaveLength(2);
      found!.dispose(); // borrowed
      await bob.sync();
      expect(await bob.search('#train')).toHaveLength(1);
      const back = await x.get();
      expect(back.tags).toEqual(['#mnist', '#train']);
    } finally {
      await bob.close();
    }
  });
});
