// indexSelect (PyTorch's index_select): the gather a shuffled data loader batch is made of. One
// entry in the op table makes it run on float and integer leaves, be sent by name from a pointer,
// and be checked by the worker's allow-list (indices in range, a bounded count) before it
// allocates anything.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { PointerTensor } from '../../src/tensors/pointer.js';
import { MAX_INDEX_COUNT } from '../../src/layer/ops.js';

const x = () => sy.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);

describe('indexSelect', () => {
  test('float: along dim 0, 1 and -1, repeats and an empty selection', () => {
    expect(x().indexSelect(0, [2, 0, 2]).arraySync()).toEqual([[7, 8, 9], [1, 2, 3], [7, 8, 9]]);
    expect(x().indexSelect(1, [2, 0]).arraySync()).toEqual([[3, 1], [6, 4], [9, 7], [12, 10]]);
    expect(x().indexSelect(-1, Int32Array.of(1)).arraySync()).toEqual([[2], [5], [8], [11]]);
    expect(x().indexSelect(0, []).shape).toEqual([0, 3]);
    // A rank-4 image batch: rows of [1, 2, 2] each (the slabs are copied whole).
    const imgs = sy.tensor(Float32Array.from({ length: 3 * 64 }, (_, i) => i), { shape: [3, 1, 8, 8] });
    const picked = imgs.indexSelect(0, [2, 1]);
    expect(picked.shape).toEqual([2, 1, 8, 8]);
    expect((picked.child as sy.FloatTensor).values.slice(0, 2)).toEqual(Float32Array.of(128, 129));
    expect((picked.child as sy.FloatTensor).values[64]).toBe(64);
  });

  test('int64 (class labels)', () => {
    const y = sy.tensor([5, 6, 7, 8], { dtype: 'int64' });
    expect(y.indexSelect(0, [3, 0]).arraySync()).toEqual([8n, 5n]);
    const m = sy.tensor([[1, 2], [3, 4]], { dtype: 'int64' });
    expect(m.indexSelect(1, [1, 1, 0]).arraySync()).toEqual([[2n, 2n, 1n], [4n, 4n, 3n]]);
  });

  test('autograd: passes through a tensor that needs no gradient, refuses one that does', () => {
    const w = sy.tensor([[1, 2], [3, 4]], { requiresGrad: true });
    expect(() => w.indexSelect(0, [1])).toThrow(/records no gradient yet; detach\(\) the tensor first/);
    expect(w.detach().indexSelect(0, [1]).arraySync()).toEqual([[3, 4]]);
    expect(sy.noGrad(() => w.indexSelect(0, [1])).arraySync()).toEqual([[3, 4]]);
    // Local data made with requiresGrad (as PySyft's toy datasets are) still batches.
    const d = new sy.BaseDataset(w, sy.tensor([0, 1]));
    expect(d.batch([1, 0])[0].arraySync()).toEqual([[3, 4], [1, 2]]);
    expect(d.batch([1, 0])[0].requiresGrad).toBe(false);
  });

  test('bad indices are refused with a clear error', () => {
    expect(() => x().indexSelect(0, [4])).toThrow(/index 4 is out of range for dimension 0 of size 4/);
    expect(() => x().indexSelect(0, [-1])).toThrow(sy.ValueError);
    expect(() => x().indexSelect(0, [0.5])).toThrow(/non-negative integers/);
    expect(() => x().indexSelect(2, [0])).toThrow(sy.ShapeError);
    expect(() => sy.tensor(3).indexSelect(0, [0])).toThrow(/not a scalar/);
  });

  test('remote: one command, gathered on the worker', async () => {
    const bob = new sy.VirtualWorker({ id: 'isel-bob' });
    const p = x().send(bob);
    const q = p.indexSelect(0, [3, 1]);
    expect(q.location).toBe(bob);
    expect(q.shape).toEqual([2, 3]);
    expect((await q.get()).arraySync()).toEqual([[10, 11, 12], [4, 5, 6]]);
    const y = sy.tensor([1, 2, 3], { dtype: 'int64' }).send(bob);
    expect((await y.indexSelect(0, [2, 2]).get()).arraySync()).toEqual([3n, 3n]);
    // Checked here before anything is sent.
    await bob.sync();
    const before = bob.objectCount;
    expect(() => p.indexSelect(0, [9])).toThrow(sy.ShapeError);
    await bob.sync();
    expect(bob.objectCount).toBe(before);
  });

  test("the worker's allow-list checks what a hostile sender skips", async () => {
    const bob = new sy.VirtualWorker({ id: 'isel-bob-2' });
    const p = x().send(bob).child as PointerTensor;
    // PointerTensor.command sends without the local shape check: the worker must refuse.
    const [outOfRange] = p.command('indexSelect', [0, Int32Array.of(0, 4)], [[2, 3]]);
    await expect(outOfRange!.get()).rejects.toThrow(/failed to run 'indexSelect'.*index 4 is out of range/);
    const [notTyped] = p.command('indexSelect', [0, [0, 1]], [[2, 3]]);
    await expect(notTyped!.get()).rejects.toThrow(/must be an Int32Array/);
    const [tooMany] = p.command('indexSelect', [0, new Int32Array(MAX_INDEX_COUNT + 1)], [[MAX_INDEX_COUNT + 1, 3]]);
    await expect(tooMany!.get()).rejects.toThrow(/more than 65536/);
    const [badDim] = p.command('indexSelect', [5, Int32Array.of(0)], [[1, 3]]);
    await expect(badDim!.get()).rejects.toThrow(sy.RemoteError);
  });
});
