// sy.transforms: normalize, flatten and compose, each on one item and (through `batch`) on a
// stack of items with the same result, locally and on a worker.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

// Two RGB-like items of 3 channels x 2 x 2.
const items = [
  Array.from({ length: 12 }, (_, i) => i),
  Array.from({ length: 12 }, (_, i) => 2 * i - 5),
];
const item = (k: number) => sy.tensor(items[k]!, { shape: [3, 2, 2] });
const batch = () => sy.tensor(items.flat(), { shape: [2, 3, 2, 2] });

describe('sy.transforms', () => {
  test('normalize per channel: (x - mean[c]) / std[c], item and batch alike', () => {
    const t = sy.transforms.normalize([1, 2, 3], [0.5, 2, 4]);
    const mean = [1, 2, 3];
    const std = [0.5, 2, 4];
    const expected = (k: number) => items[k]!.map((v, i) => Math.fround(Math.fround(v - mean[i >> 2]!) / std[i >> 2]!));
    expect((t(item(0)).child as sy.FloatTensor).values).toEqual(Float32Array.from(expected(0)));
    const b = t.batch!(batch());
    expect(b.shape).toEqual([2, 3, 2, 2]);
    expect((b.child as sy.FloatTensor).values).toEqual(Float32Array.from([...expected(0), ...expected(1)]));
  });

  test('normalize with one number (MNIST) works on any item shape', () => {
    const t = sy.transforms.normalize([0.1307], [0.3081]);
    const x = sy.tensor([[[0, 1]]]);
    const want = [0, 1].map((v) => Math.fround(Math.fround(v - Math.fround(0.1307)) / Math.fround(0.3081)));
    expect(t(x).arraySync()).toEqual([[want]]);
    expect(t.batch!(sy.tensor([[0, 1], [1, 0]])).arraySync()).toEqual([want, [want[1], want[0]]]);
  });

  test('on a worker: the constants go along, the work happens there', async () => {
    const bob = new sy.VirtualWorker({ id: 'tr-bob' });
    const t = sy.transforms.normalize([1, 2, 3], [0.5, 2, 4]);
    const local = t.batch!(batch()).arraySync();
    const remote = t.batch!(batch().send(bob));
    expect(remote.location).toBe(bob);
    expect((await remote.get()).arraySync()).toEqual(local);
  });

  test('flatten and compose', () => {
    const f = sy.transforms.flatten();
    expect(f(item(0)).shape).toEqual([12]);
    expect(f.batch!(batch()).shape).toEqual([2, 12]);
    const c = sy.transforms.compose([sy.transforms.normalize(1, 2), sy.transforms.flatten()]);
    expect(c(item(0)).arraySync()).toEqual(items[0]!.map((v) => (v - 1) / 2));
    expect(c.batch!(batch()).arraySync()).toEqual(items.map((it) => it.map((v) => (v - 1) / 2)));
    // A plain function in the list: the composition works item by item only.
    const mixed = sy.transforms.compose([sy.transforms.flatten(), (x: sy.Tensor) => x.mul(2)]);
    expect(mixed.batch).toBeUndefined();
    expect(mixed(item(1)).arraySync()).toEqual(items[1]!.map((v) => 2 * v));
  });

  test('bad arguments are refused', () => {
    expect(() => sy.transforms.normalize([0, 0], [1, 1, 1])).toThrow(/2 means and 3 standard deviations/);
    expect(() => sy.transforms.normalize(0, 0)).toThrow(/divide by zero/);
    expect(() => sy.transforms.normalize([], 1)).toThrow(/non-empty list/);
    expect(() => sy.transforms.normalize([1, 2], [1, 2])(item(0))).toThrow(/2 channels given, but the item has shape \[3, 2, 2\]/);
    expect(() => sy.transforms.flatten()([1] as unknown as sy.Tensor)).toThrow(/takes a Tensor/);
    expect(() => sy.transforms.compose([1 as unknown as sy.Transform])).toThrow(/array of transforms/);
  });
});
