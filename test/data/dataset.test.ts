// BaseDataset: PySyft's sy.BaseDataset — length, indexing (transforms applied on access), batches
// made where the data is (a slice or a gather), sending and getting back.
import { describe, expect, test, vi } from 'vitest';
import * as sy from '../../src/index.js';

const xs = () => sy.tensor([[1, 10], [2, 20], [3, 30], [4, 40], [5, 50]]);
const ys = () => sy.tensor([0, 1, 2, 3, 4], { dtype: 'int64' });

describe('BaseDataset', () => {
  test('length, at() (negative from the end) and iteration', () => {
    const d = new sy.BaseDataset(xs(), ys());
    expect(d.length).toBe(5);
    const [x, y] = d.at(2);
    expect(x.arraySync()).toEqual([3, 30]);
    expect(y.shape).toEqual([]);
    expect(y.arraySync()).toBe(2n);
    expect(d.at(-1)[0].arraySync()).toEqual([5, 50]);
    expect([...d].map(([a]) => (a.arraySync() as number[])[0])).toEqual([1, 2, 3, 4, 5]);
    expect(() => d.at(5)).toThrow(/out of range for a dataset of 5 items/);
    expect(() => d.at(-6)).toThrow(sy.ValueError);
    expect(() => d.at(1.5)).toThrow(sy.ValueError);
    expect(d.location).toBeUndefined();
    expect(String(d)).toBe('BaseDataset(5 items: data [5, 2], targets [5])');
  });

  test('transforms run when an item is read, not before', () => {
    const seen: number[][] = [];
    const transform = (x: sy.Tensor) => {
      seen.push(x.shape);
      return x.mul(2);
    };
    const d = new sy.BaseDataset(xs(), sy.tensor([0, 1, 2, 3, 4]), { transform, targetTransform: (y) => y.add(100) });
    expect(seen).toEqual([]);
    const [x, y] = d.at(1);
    expect(seen).toEqual([[2]]);
    expect(x.arraySync()).toEqual([4, 40]);
    expect(y.arraySync()).toBe(101);
    // The stored data is untouched.
    expect(d.data.arraySync()).toEqual(xs().arraySync());
  });

  test('batch(): rows in any order, repeats allowed; transforms per item or per batch alike', () => {
    const d = new sy.BaseDataset(xs(), ys());
    expect(d.batch([1, 2, 3])[0].arraySync()).toEqual([[2, 20], [3, 30], [4, 40]]);
    const [bx, by] = d.batch([4, 0, 4]);
    expect(bx.arraySync()).toEqual([[5, 50], [1, 10], [5, 50]]);
    expect(by.arraySync()).toEqual([4n, 0n, 4n]);
    // A plain function runs item by item and the items are stacked; a sy.transforms one runs on
    // the batch at once. Both give the same batch.
    const perItem = new sy.BaseDataset(xs(), ys(), { transform: (x) => x.sub(1).div(2) });
    const perBatch = new sy.BaseDataset(xs(), ys(), { transform: sy.transforms.normalize(1, 2) });
    expect(perItem.batch([3, 1])[0].arraySync()).toEqual(perBatch.batch([3, 1])[0].arraySync());
    expect(perBatch.batch([3, 1])[0].arraySync()).toEqual([[1.5, 19.5], [0.5, 9.5]]);
    expect(() => d.batch([])).toThrow(/at least one index/);
    expect(() => d.batch([5])).toThrow(/out of range/);
    expect(() => d.batch([-1])).toThrow(sy.ValueError);
  });

  test('bad construction is refused with what to do', () => {
    const bob = new sy.VirtualWorker({ id: 'ds-bad-bob' });
    expect(() => new sy.BaseDataset(xs(), sy.tensor([1, 2]))).toThrow(/5 inputs but 2 targets/);
    expect(() => new sy.BaseDataset(sy.tensor(1), sy.tensor(1))).toThrow(/not scalars/);
    expect(() => new sy.BaseDataset([1, 2] as unknown as sy.Tensor, ys())).toThrow(/two Tensors/);
    expect(() => new sy.BaseDataset(xs().send(bob), ys())).toThrow(/data is on 'ds-bad-bob' and the targets are local/);
    expect(() => new sy.BaseDataset(xs(), ys(), { transform: 3 as unknown as sy.Transform })).toThrow(/function/);
  });

  test('send(): the remote dataset batches on its worker, one gather per tensor, and get() brings it back', async () => {
    const bob = new sy.VirtualWorker({ id: 'ds-bob' });
    const d = new sy.BaseDataset(xs(), ys(), { transform: sy.transforms.normalize(1, 2) }).send(bob);
    expect(d.location).toBe(bob);
    expect(d.data.location).toBe(bob);
    expect(d.targets.location).toBe(bob);
    // Sending applies the transform (as PySyft's federate does); the remote dataset has none.
    expect(d.transform).toBeUndefined();
    const post = vi.spyOn(bob, 'post');
    const [x, y] = d.batch([4, 0]);
    expect(post.mock.calls.map(([m]) => (m.kind === 'cmd' ? m.op : m.kind))).toEqual(['indexSelect', 'indexSelect']);
    post.mockClear();
    d.batch([1, 2]);
    expect(post.mock.calls.map(([m]) => (m.kind === 'cmd' ? m.op : m.kind))).toEqual(['indexSelect', 'indexSelect']);
    post.mockRestore();
    expect(x.location).toBe(bob);
    expect((await x.get()).arraySync()).toEqual([[2, 24.5], [0, 4.5]]);
    expect((await y.get()).arraySync()).toEqual([4n, 0n]);
    const [ix, iy] = d.at(3);
    expect((await ix.get()).arraySync()).toEqual([1.5, 19.5]);
    expect((await iy.get()).arraySync()).toBe(3n);
    const home = await d.get();
    expect(home.location).toBeUndefined();
    expect(home.data.arraySync()).toEqual([[0, 4.5], [0.5, 9.5], [1, 14.5], [1.5, 19.5], [2, 24.5]]);
    expect(() => home.send(bob).send(bob)).toThrow(/already on 'ds-bob'/);
  });

  test('a per-item transform on a remote dataset is refused with what to do instead', () => {
    const bob = new sy.VirtualWorker({ id: 'ds-bob-2' });
    const d = new sy.BaseDataset(xs().send(bob), ys().send(bob), { transform: (x) => x.mul(2) });
    expect(() => d.batch([0, 1])).toThrow(/transform works item by item; use a transform from sy.transforms/);
    // Items still work: the function runs on the pointer, as commands.
    expect(d.at(0)[0].location).toBe(bob);
  });
});
