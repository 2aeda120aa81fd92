// federate() and FederatedDataset, as PySyft's: the dataset is cut into ceil(n / workers)
// consecutive items per worker, each part sent to its worker once; the federated dataset holds
// pointers only, and nothing of the data stays referenced on this side.
import { describe, expect, test, vi } from 'vitest';
import * as sy from '../../src/index.js';
import { AbstractTensor } from '../../src/layer/abstract.js';
import { PointerTensor } from '../../src/tensors/pointer.js';

function rows(n: number): sy.BaseDataset {
  const data = sy.tensor(Float32Array.from({ length: n * 3 }, (_, i) => i), { shape: [n, 3] });
  return new sy.BaseDataset(data, sy.tensor(Array.from({ length: n }, (_, i) => i % 10), { dtype: 'int64' }));
}

/** Every tensor layer reachable from `root` through fields, arrays and records. */
function layersIn(root: unknown): AbstractTensor[] {
  const out: AbstractTensor[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (v instanceof AbstractTensor) {
      for (const l of v.layers()) out.push(l);
      return;
    }
    if (v instanceof sy.Tensor) return walk(v.child);
    if (ArrayBuffer.isView(v)) throw new Error('a typed array is reachable from the federated dataset');
    for (const x of Array.isArray(v) ? v : Object.values(v)) walk(x);
  };
  walk(root);
  return out;
}

describe('federate', () => {
  test("PySyft's split: ceil(n / workers) consecutive items per worker, in the workers' order", async () => {
    const [bob, alice, carol, dan] = ['bob', 'alice', 'carol', 'dan'].map((id) => new sy.VirtualWorker({ id: `fed-${id}` }));
    const fed = rows(6).federate([bob!, alice!]);
    expect(fed).toBeInstanceOf(sy.FederatedDataset);
    expect(fed.workers).toEqual(['fed-bob', 'fed-alice']);
    expect(fed.length).toBe(6);
    expect(fed.datasets['fed-bob']!.location).toBe(bob);
    expect((await fed.datasets['fed-alice']!.data.copy().get()).arraySync()).toEqual([[9, 10, 11], [12, 13, 14], [15, 16, 17]]);
    expect((await fed.datasets['fed-alice']!.targets.copy().get()).arraySync()).toEqual([3n, 4n, 5n]);

    // 5 items over 4 workers: parts of 2, 2 and 1; the fourth worker gets nothing (as PySyft).
    const small = sy.federate(rows(5), [alice!, bob!, carol!, dan!]);
    expect(small.workers).toEqual(['fed-alice', 'fed-bob', 'fed-carol']);
    expect(small.workers.map((w) => small.datasets[w]!.length)).toEqual([2, 2, 1]);
    expect(small.length).toBe(5);
  });

  test('each worker receives its part once, and the federated dataset holds pointers only', async () => {
    const bob = new sy.VirtualWorker({ id: 'fed2-bob' });
    const alice = new sy.VirtualWorker({ id: 'fed2-alice' });
    const source = rows(10);
    const posts = [vi.spyOn(bob, 'post'), vi.spyOn(alice, 'post')];
    const fed = source.federate([bob, alice]);
    // One store per tensor per worker, nothing else (no command, no whole-dataset copy).
    for (const p of posts) {
      expect(p.mock.calls.map(([m]) => m.kind)).toEqual(['store', 'store']);
      const sizes = p.mock.calls.map(([m]) => (m.kind === 'store' ? (m.obj.shape as number[])[0] : -1));
      expect(sizes).toEqual([5, 5]);
      p.mockRestore();
    }
    await Promise.all([bob.sync(), alice.sync()]);
    expect(bob.objectCount).toBe(2);
    expect(alice.objectCount).toBe(2);
    // Nothing local is reachable from the federated dataset: no float or ring leaf, no array.
    const layers = layersIn(fed);
    expect(layers.length).toBe(4);
    expect(layers.every((l) => l instanceof PointerTensor)).toBe(true);
    // The worker holds its own copy: changing the source afterwards does not reach it.
    (source.data.child as sy.FloatTensor).values.fill(-1);
    expect((await fed.datasets['fed2-bob']!.data.copy().get()).arraySync()).toEqual(
      Array.from({ length: 5 }, (_, r) => [3 * r, 3 * r + 1, 3 * r + 2]),
    );
    fed.dispose();
    await Promise.all([bob.sync(), alice.sync()]);
    expect(bob.objectCount).toBe(0);
    expect(alice.objectCount).toBe(0);
  });

  test('transforms are applied before sending (PySyft sends transformed items)', async () => {
    const bob = new sy.VirtualWorker({ id: 'fed3-bob' });
    const d = new sy.BaseDataset(sy.tensor([[2], [4]]), sy.tensor([0, 1]), { transform: sy.transforms.normalize(1, 2) });
    const fed = d.federate([bob]);
    expect(fed.datasets['fed3-bob']!.transform).toBeUndefined();
    expect((await fed.datasets['fed3-bob']!.data.copy().get()).arraySync()).toEqual([[0.5], [1.5]]);
  });

  test('a FederatedDataset from sent datasets, getDataset, and clear refusals', async () => {
    const bob = new sy.VirtualWorker({ id: 'fed4-bob' });
    const alice = new sy.VirtualWorker({ id: 'fed4-alice' });
    const fed = new sy.FederatedDataset([rows(2).send(bob), rows(4).send(alice)]);
    expect(fed.workers).toEqual(['fed4-bob', 'fed4-alice']);
    expect(fed.length).toBe(6);
    expect(String(fed)).toBe('FederatedDataset(6 items on fed4-bob, fed4-alice)');
    const home = await fed.getDataset('fed4-alice');
    expect(home.location).toBeUndefined();
    expect(home.at(2)[1].arraySync()).toBe(2n);
    expect(fed.workers).toEqual(['fed4-bob']);
    expect(fed.length).toBe(2);
    await alice.sync();
    expect(alice.objectCount).toBe(0);
    await expect(fed.getDataset('nobody')).rejects.toThrow(/no dataset on 'nobody'; the workers are fed4-bob/);

    expect(() => new sy.FederatedDataset([rows(2)])).toThrow(/local: send\(\) it to its worker first/);
    expect(() => new sy.FederatedDataset([rows(2).send(bob), rows(2).send(bob)])).toThrow(/two datasets are on 'fed4-bob'/);
    expect(() => rows(2).send(bob).federate([alice])).toThrow(/already on 'fed4-bob'/);
    expect(() => rows(2).federate([])).toThrow(/non-empty array of workers/);
    expect(() => rows(2).federate([bob, bob])).toThrow(/each worker may appear once/);
  });
});
