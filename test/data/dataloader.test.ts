// sy.DataLoader: PyTorch's DataLoader semantics on local (and single-worker) datasets — len by
// ceil or floor, remainder batches, a reshuffle every epoch, and a seed that makes it reproducible.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

const N = 10;
// Item i has data [i, -i] and target i, so a batch tells which items it holds.
const dataset = () =>
  new sy.BaseDataset(
    sy.tensor(Array.from({ length: N }, (_, i) => [i, -i])),
    sy.tensor(Array.from({ length: N }, (_, i) => i), { dtype: 'int64' }),
  );

function epoch(loader: Iterable<sy.Sample>): number[][] {
  const out: number[][] = [];
  for (const [x, y] of loader) {
    const ids = (y.arraySync() as bigint[]).map(Number);
    expect((x.arraySync() as number[][]).map((r) => r[0])).toEqual(ids);
    out.push(ids);
  }
  return out;
}

describe('DataLoader', () => {
  test('in order: shapes, len = ceil(n / batchSize), a short last batch', () => {
    const loader = new sy.DataLoader(dataset(), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const shapes: number[][] = [];
    for (const [x, y] of loader) shapes.push([...x.shape, ...y.shape]);
    expect(shapes).toEqual([[4, 2, 4], [4, 2, 4], [2, 2, 2]]);
    expect(epoch(loader)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    // PyTorch's default batch size is 1.
    expect(new sy.DataLoader(dataset()).length).toBe(N);
  });

  test('dropLast: len = floor(n / batchSize) and no short batch; exact multiples lose nothing', () => {
    const loader = new sy.DataLoader(dataset(), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect(epoch(loader)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    const exact = new sy.DataLoader(dataset(), { batchSize: 5, dropLast: true });
    expect(exact.length).toBe(2);
    expect(epoch(exact).flat()).toEqual([...Array(N).keys()]);
    expect(new sy.DataLoader(dataset(), { batchSize: 11, dropLast: true }).length).toBe(0);
    expect(epoch(new sy.DataLoader(dataset(), { batchSize: 11, dropLast: true }))).toEqual([]);
  });

  test('shuffle: every epoch a permutation, a new one each epoch, the same run for the same seed', () => {
    const a = new sy.DataLoader(dataset(), { batchSize: 3, shuffle: true, seed: 42 });
    const b = new sy.DataLoader(dataset(), { batchSize: 3, shuffle: true, seed: 42 });
    const runA = [epoch(a), epoch(a), epoch(a)];
    const runB = [epoch(b), epoch(b), epoch(b)];
    expect(runA).toEqual(runB);
    for (const e of runA) {
      expect(e.map((bt) => bt.length)).toEqual([3, 3, 3, 1]);
      expect([...e.flat()].sort((p, q) => p - q)).toEqual([...Array(N).keys()]);
    }
    expect(runA[0]).not.toEqual(runA[1]);
    expect(runA[0]!.flat()).not.toEqual([...Array(N).keys()]);
    const c = new sy.DataLoader(dataset(), { batchSize: 3, shuffle: true, seed: 43 });
    expect(epoch(c)).not.toEqual(runA[0]);
  });

  test('shuffle without a seed follows sy.manualSeed, as torch.manual_seed drives RandomSampler', () => {
    sy.manualSeed(7);
    const first = epoch(new sy.DataLoader(dataset(), { batchSize: 4, shuffle: true }));
    sy.manualSeed(7);
    expect(epoch(new sy.DataLoader(dataset(), { batchSize: 4, shuffle: true }))).toEqual(first);
  });

  test('transforms apply to every batch; for...of and an explicit iterator both work', () => {
    const d = new sy.BaseDataset(dataset().data, dataset().targets, { transform: sy.transforms.normalize(1, 0.5) });
    const it = new sy.DataLoader(d, { batchSize: 2 })[Symbol.iterator]();
    const first = it.next();
    expect(first.done).toBe(false);
    expect((first.value as sy.Sample)[0].arraySync()).toEqual([[-2, -2], [0, -4]]);
  });

  test('a dataset on a worker is batched there', async () => {
    const bob = new sy.VirtualWorker({ id: 'dl-bob' });
    const loader = new sy.DataLoader(dataset().send(bob), { batchSize: 4, shuffle: true, seed: 1 });
    const seen: number[] = [];
    for (const [x, y] of loader) {
      expect(x.location).toBe(bob);
      expect(y.location).toBe(bob);
      seen.push(...((await y.get()).arraySync() as bigint[]).map(Number));
      x.dispose();
    }
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(N).keys()]);
    await bob.sync();
    expect(bob.objectCount).toBe(2);
  });

  test('bad options and datasets are refused', () => {
    expect(() => new sy.DataLoader(dataset(), { batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => new sy.DataLoader(dataset(), { batchSize: 2.5 })).toThrow(sy.ValueError);
    expect(() => new sy.DataLoader(dataset(), { shuffle: 'yes' as unknown as boolean })).toThrow(/shuffle must be true or false/);
    expect(() => new sy.DataLoader(dataset(), { seed: 0.5 })).toThrow(/seed must be a safe integer/);
    expect(() => new sy.DataLoader({} as sy.BaseDataset)).toThrow(/takes a sy.BaseDataset/);
    const bob = new sy.VirtualWorker({ id: 'dl-bob-2' });
    const fed = dataset().federate([bob]);
    expect(() => new sy.DataLoader(fed as unknown as sy.BaseDataset)).toThrow(/use sy.FederatedDataLoader/);
  });
});
