// sy.FederatedDataLoader with PySyft 0.2's semantics: batches made on the worker that holds them
// (one command per tensor, nothing read back), all of one worker's batches before the next
// worker's, iterPerWorker steps that stop at the first exhausted worker, and PySyft's len.
import { describe, expect, test, vi } from 'vitest';
import * as sy from '../../src/index.js';

// Item g has data [g, 10g] and target g: a batch's values say which items it holds.
function items(from: number, n: number): sy.BaseDataset {
  const ids = Array.from({ length: n }, (_, i) => from + i);
  return new sy.BaseDataset(sy.tensor(ids.map((g) => [g, 10 * g])), sy.tensor(ids, { dtype: 'int64' }));
}

function workers(prefix: string, ...ids: string[]): sy.VirtualWorker[] {
  return ids.map((id) => new sy.VirtualWorker({ id: `${prefix}-${id}` }));
}

/** Bob holds items 0..4, alice 100..106. */
function bobAndAlice(prefix: string) {
  const [bob, alice] = workers(prefix, 'bob', 'alice');
  const fed = new sy.FederatedDataset([items(0, 5).send(bob!), items(100, 7).send(alice!)]);
  return { bob: bob!, alice: alice!, fed };
}

/** One epoch as [worker id, item ids] per batch; checks data and target agree. Reads values back (a test's privilege). */
async function epoch(loader: Iterable<sy.Sample>): Promise<[string, number[]][]> {
  const out: [string, number[]][] = [];
  for (const [x, y] of loader) {
    expect(x.location).toBeDefined();
    expect(y.location).toBe(x.location);
    const ids = ((await y.get()).arraySync() as bigint[]).map(Number);
    expect(((await x.get()).arraySync() as number[][]).map((r) => r[1])).toEqual(ids.map((g) => 10 * g));
    out.push([x.location!.id, ids]);
  }
  return out;
}

describe('FederatedDataLoader', () => {
  test("in order: every batch of the first worker, then the second's; PySyft's len", async () => {
    const { fed } = bobAndAlice('fdl1');
    const loader = new sy.FederatedDataLoader(fed, { batchSize: 3 });
    expect(loader.workers).toEqual(['fdl1-bob', 'fdl1-alice']);
    expect(await epoch(loader)).toEqual([
      ['fdl1-bob', [0, 1, 2]],
      ['fdl1-bob', [3, 4]],
      ['fdl1-alice', [100, 101, 102]],
      ['fdl1-alice', [103, 104, 105]],
      ['fdl1-alice', [106]],
    ]);
    // PySyft's len counts all items together: ceil(12 / 3) = 4, though each worker's part ends in
    // a short batch and the epoch yields 5. batchCount is what an epoch yields.
    expect(loader.length).toBe(4);
    expect(loader.batchCount).toBe(5);
    // PySyft's own test case: 2 + 4 items, batches of 2: len and count agree.
    const [b2, a2] = workers('fdl1b', 'bob', 'alice');
    const even = new sy.FederatedDataLoader(new sy.FederatedDataset([items(0, 2).send(b2!), items(2, 4).send(a2!)]), { batchSize: 2 });
    expect(even.length).toBe(3);
    expect((await epoch(even)).length).toBe(3);
    // PySyft's default batch size is 8.
    expect(new sy.FederatedDataLoader(fed).batchSize).toBe(8);
  });

  test('dropLast drops each worker\'s short batch; len is floor(total / batchSize)', async () => {
    const { fed } = bobAndAlice('fdl2');
    const loader = new sy.FederatedDataLoader(fed, { batchSize: 3, dropLast: true });
    expect(await epoch(loader)).toEqual([
      ['fdl2-bob', [0, 1, 2]],
      ['fdl2-alice', [100, 101, 102]],
      ['fdl2-alice', [103, 104, 105]],
    ]);
    expect(loader.length).toBe(4);
    expect(loader.batchCount).toBe(3);
  });

  test("shuffle: each worker's batches are a permutation of its own part, reshuffled every epoch, reproducible by seed", async () => {
    const { fed } = bobAndAlice('fdl3');
    const a = new sy.FederatedDataLoader(fed, { batchSize: 2, shuffle: true, seed: 9 });
    const b = new sy.FederatedDataLoader(fed, { batchSize: 2, shuffle: true, seed: 9 });
    const runA = [await epoch(a), await epoch(a)];
    const runB = [await epoch(b), await epoch(b)];
    expect(runA).toEqual(runB);
    for (const e of runA) {
      // Still worker by worker, bob's 3 batches first.
      expect(e.map(([w]) => w)).toEqual(['fdl3-bob', 'fdl3-bob', 'fdl3-bob', 'fdl3-alice', 'fdl3-alice', 'fdl3-alice', 'fdl3-alice']);
      expect(e.map(([, ids]) => ids.length)).toEqual([2, 2, 1, 2, 2, 2, 1]);
      const bobs = e.filter(([w]) => w === 'fdl3-bob').flatMap(([, ids]) => ids);
      const alices = e.filter(([w]) => w === 'fdl3-alice').flatMap(([, ids]) => ids);
      expect([...bobs].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4]);
      expect([...alices].sort((p, q) => p - q)).toEqual([100, 101, 102, 103, 104, 105, 106]);
    }
    expect(runA[0]).not.toEqual(runA[1]);
    const other = new sy.FederatedDataLoader(fed, { batchSize: 2, shuffle: true, seed: 10 });
    expect(await epoch(other)).not.toEqual(runA[0]);
  });

  test('iterPerWorker: one batch of every worker per step, keyed by the worker; stops when the first runs out', async () => {
    // PySyft's own case: bob 2 items, alice 4, james 4, batches of 2: bob is done after one step.
    const [bob, alice, james] = workers('fdl4', 'bob', 'alice', 'james');
    const fed = new sy.FederatedDataset([items(0, 2).send(bob!), items(10, 4).send(alice!), items(20, 4).send(james!)]);
    const loader = new sy.FederatedDataLoader(fed, { batchSize: 2, iterPerWorker: true });
    expect(loader.batchCount).toBe(1);
    expect(loader.length).toBe(5); // PySyft's len: ceil(10 / 2)
    const steps: [string, number[]][][] = [];
    for (const step of loader) {
      expect([...step.keys()]).toEqual([bob, alice, james]);
      const row: [string, number[]][] = [];
      for (const [worker, [data, target]] of step) {
        expect(data.location).toBe(worker);
        expect(target.location).toBe(worker);
        row.push([worker.id, ((await target.get()).arraySync() as bigint[]).map(Number)]);
        data.dispose();
      }
      steps.push(row);
    }
    expect(steps).toEqual([[['fdl4-bob', [0, 1]], ['fdl4-alice', [10, 11]], ['fdl4-james', [20, 21]]]]);

    // Equal parts: every batch of every worker, in step.
    const [b2, a2] = workers('fdl4b', 'bob', 'alice');
    const even = new sy.FederatedDataLoader(new sy.FederatedDataset([items(0, 4).send(b2!), items(10, 4).send(a2!)]), {
      batchSize: 2,
      iterPerWorker: true,
      shuffle: true,
      seed: 3,
    });
    expect(even.batchCount).toBe(2);
    const seen = new Map<string, number[]>();
    let count = 0;
    for (const step of even) {
      count++;
      for (const [w, [, t]] of step) seen.set(w.id, [...(seen.get(w.id) ?? []), ...((await t.get()).arraySync() as bigint[]).map(Number)]);
    }
    expect(count).toBe(2);
    expect([...seen.get('fdl4b-bob')!].sort((p, q) => p - q)).toEqual([0, 1, 2, 3]);
    expect([...seen.get('fdl4b-alice')!].sort((p, q) => p - q)).toEqual([10, 11, 12, 13]);
  });

  test('a batch is one command per tensor on its worker; nothing is read back or moved', async () => {
    const { bob, alice, fed } = bobAndAlice('fdl5');
    await Promise.all([bob.sync(), alice.sync()]);
    const spies = [bob, alice].map((w) => ({ post: vi.spyOn(w, 'post'), request: vi.spyOn(w, 'request') }));
    const held: sy.Tensor[] = [];
    for (const [x, y] of new sy.FederatedDataLoader(fed, { batchSize: 2, shuffle: true, seed: 1 })) held.push(x, y);
    const ops = spies.map(({ post }) => post.mock.calls.map(([m]) => (m.kind === 'cmd' ? m.op : m.kind)));
    // Two commands per batch: a gather of the data rows and one of the targets.
    expect(ops[0]).toEqual(Array(2 * 3).fill('indexSelect'));
    expect(ops[1]).toEqual(Array(2 * 4).fill('indexSelect'));
    for (const { request } of spies) expect(request).not.toHaveBeenCalled();
    for (const s of spies) {
      s.post.mockRestore();
      s.request.mockRestore();
    }
    await Promise.all([bob.sync(), alice.sync()]);
    // The parts (2 objects each) plus the batches; freeing the batches leaves the parts.
    expect(bob.objectCount).toBe(2 + 2 * 3);
    expect(alice.objectCount).toBe(2 + 2 * 4);
    for (const t of held) t.dispose();
    await Promise.all([bob.sync(), alice.sync()]);
    expect(bob.objectCount).toBe(2);
    expect(alice.objectCount).toBe(2);
  });

  test('a per-batch transform runs on the worker, after the gather', async () => {
    const [bob] = workers('fdl6', 'bob');
    const part = new sy.BaseDataset(sy.tensor([[1], [3], [5]]).send(bob!), sy.tensor([0, 1, 2]).send(bob!), {
      transform: sy.transforms.normalize(1, 2),
    });
    const post = vi.spyOn(bob!, 'post');
    const loader = new sy.FederatedDataLoader(new sy.FederatedDataset([part]), { batchSize: 2 });
    const batches = [...loader];
    expect(post.mock.calls.map(([m]) => (m.kind === 'cmd' ? m.op : m.kind))).toEqual(['indexSelect', 'sub', 'div', 'indexSelect', 'indexSelect', 'sub', 'div', 'indexSelect']);
    post.mockRestore();
    expect((await batches[0]![0].get()).arraySync()).toEqual([[0], [1]]);
    expect((await batches[1]![0].get()).arraySync()).toEqual([[2]]);
    // The transform's intermediates were freed at once: only the parts and the batches remain.
    await bob!.sync();
    expect(bob!.objectCount).toBe(2 + 2);
  });

  test('bad input is refused with what to do', () => {
    const { fed } = bobAndAlice('fdl7');
    expect(() => new sy.FederatedDataLoader(items(0, 3) as unknown as sy.FederatedDataset)).toThrow(/for local data use sy.DataLoader/);
    expect(() => new sy.FederatedDataLoader(fed, { batchSize: -1 })).toThrow(/batchSize must be a positive integer/);
    expect(() => new sy.FederatedDataLoader(fed, { iterPerWorker: 1 as unknown as boolean })).toThrow(/iterPerWorker must be true or false/);
    expect(() => new sy.FederatedDataLoader(new sy.FederatedDataset([]))).toThrow(/holds no data/);
  });
});
