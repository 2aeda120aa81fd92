// sy.datasets.mnist: real digits as torchvision's datasets.MNIST gives them (ToTensor pixels,
// int64 labels), with PySyft's Normalize((0.1307,), (0.3081,)) on request; splits that never
// overlap; consistent with loadMnist (what tutorials 05-07 use).
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

function stats(v: Float32Array): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  for (const x of v) {
    s += x;
    s2 += x * x;
  }
  const mean = s / v.length;
  return { mean, std: Math.sqrt(s2 / v.length - mean * mean) };
}

const values = (t: sy.Tensor) => (t.child as sy.FloatTensor).values;

describe('sy.datasets.mnist', () => {
  test('shapes, counts, pixels of ToTensor, int64 labels 0-9 of every class', async () => {
    const train = await sy.datasets.mnist({ count: 500 });
    expect(train.length).toBe(500);
    expect(train.data.shape).toEqual([500, 1, 28, 28]);
    expect(train.targets.shape).toEqual([500]);
    const labels = train.targets.arraySync() as bigint[];
    expect(labels.every((l) => typeof l === 'bigint' && l >= 0n && l <= 9n)).toBe(true);
    expect(new Set(labels).size).toBe(10);
    // Pixels are k / 255 in float32, as ToTensor gives them.
    const px = values(train.data);
    expect(px.every((p) => p >= 0 && p <= 1 && Math.fround(Math.round(p * 255) / 255) === p)).toBe(true);
    expect((await sy.datasets.mnist()).length).toBe(sy.datasets.MNIST_TRAIN_SIZE);
    expect((await sy.datasets.mnist({ split: 'test' })).length).toBe(sy.datasets.MNIST_TEST_SIZE);
    expect(sy.datasets.MNIST_TRAIN_SIZE + sy.datasets.MNIST_TEST_SIZE).toBe(sy.datasets.MNIST_TOTAL);
  });

  test("pixel statistics match PySyft's figures, and normalize brings them to 0 and 1", async () => {
    const raw = stats(values((await sy.datasets.mnist({ count: 2000 })).data));
    expect(Math.abs(raw.mean - sy.datasets.MNIST_MEAN)).toBeLessThan(0.005);
    expect(Math.abs(raw.std - sy.datasets.MNIST_STD)).toBeLessThan(0.005);
    const d = await sy.datasets.mnist({ count: 2000, normalize: true });
    // The stored data stays raw; the transform runs when batches are read.
    const stored = values(d.data);
    const plain = values((await sy.datasets.mnist({ count: 2000 })).data);
    expect(stored.length).toBe(plain.length);
    expect(stored.every((v, i) => v === plain[i])).toBe(true);
    const [x] = d.batch(Array.from({ length: 2000 }, (_, i) => i));
    const n = stats(values(x));
    expect(Math.abs(n.mean)).toBeLessThan(0.02);
    expect(Math.abs(n.std - 1)).toBeLessThan(0.02);
    // Exactly (x - 0.1307) / 0.3081 in float32.
    const p = values(d.data)[300]!;
    const [item] = d.at(0);
    expect(values(item)[300]).toBe(Math.fround(Math.fround(p - Math.fround(0.1307)) / Math.fround(0.3081)));
  });

  test('flatten and oneHot options', async () => {
    const d = await sy.datasets.mnist({ count: 20, flatten: true, oneHot: true });
    expect(d.data.shape).toEqual([20, 784]);
    expect(d.targets.shape).toEqual([20, 10]);
    const idx = (await sy.datasets.mnist({ count: 20 })).targets.arraySync() as bigint[];
    const rows = d.targets.arraySync() as number[][];
    rows.forEach((r, i) => {
      expect(r.reduce((a, b) => a + b, 0)).toBe(1);
      expect(r[Number(idx[i])]).toBe(1);
    });
  });

  test('train and test never share a digit; the train split is loadMnist\'s digits', async () => {
    const key = (v: Float32Array, i: number) => v.subarray(i * 784, (i + 1) * 784).join(',');
    const train = values((await sy.datasets.mnist({ split: 'train' })).data);
    const test = values((await sy.datasets.mnist({ split: 'test' })).data);
    const seen = new Set(Array.from({ length: 8000 }, (_, i) => key(train, i)));
    const shared = Array.from({ length: 2000 }, (_, i) => key(test, i)).filter((k) => seen.has(k));
    expect(seen.size).toBe(8000); // the package holds no duplicate images
    expect(shared).toEqual([]);
    const old = await sy.datasets.loadMnist({ train: 100, test: 0 });
    const mine = await sy.datasets.mnist({ count: 100 });
    expect((mine.targets.arraySync() as bigint[]).map(Number)).toEqual([...old.train.labels]);
    const a = values(mine.data);
    expect(a.every((p, i) => Math.abs(p - old.train.images[i]!) <= 0.0006)).toBe(true);
  });

  test('bad options are refused', async () => {
    await expect(sy.datasets.mnist({ count: 0 })).rejects.toThrow(/count must be an integer in \[1, 8000\]/);
    await expect(sy.datasets.mnist({ split: 'test', count: 2001 })).rejects.toThrow(/\[1, 2000\] for the test split/);
    await expect(sy.datasets.mnist({ split: 'val' as 'train' })).rejects.toThrow(/split must be 'train' or 'test'/);
  });
});
