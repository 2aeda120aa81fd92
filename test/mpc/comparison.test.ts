import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { SeededRandom } from '../../src/util/seeded.js';
import { data, flat, parties } from './helpers.js';

describe.each([2, 3])('secure comparisons among %i parties', (n) => {
  const rng = new SeededRandom(300 + n);
  const { workers, cryptoProvider } = parties(n, `cmp${n}`);
  const share = (t: sy.Tensor) => t.fixPrecision().share(...workers, { cryptoProvider });
  // Values that exercise the edges: zero, ties, tiny and large magnitudes, both signs.
  const edge = sy.tensor([0, -0.001, 0.001, 1000, -1000, 3.5, -3.5, 2, 2, 0.5, -123456.789, 123456.789]);
  const other = sy.tensor([0, 0, 0, 999.999, -999.999, 3.5, -3.4, 2, 1.999, 0.501, -123456.788, 123456.79]);
  const x = data(rng, [6, 7], -5, 5);

  // The tags of the protocol values the first party receives from its peers while `run` runs.
  async function peerTags<T>(run: () => Promise<T>): Promise<{ tags: string[]; value: T }> {
    const p0 = workers[0]!;
    const tags: string[] = [];
    const original = p0.receive.bind(p0);
    p0.receive = (raw, from, reply) => {
      const m = raw as { kind?: string; tag?: string };
      if (m.kind === 'peer' && from !== cryptoProvider.id) tags.push(m.tag!);
      original(raw, from, reply);
    };
    try {
      return { tags, value: await run() };
    } finally {
      delete (p0 as { receive?: unknown }).receive;
    }
  }
  const y = data(rng, [6, 7], -5, 5);

  const cases: [string, (a: sy.Tensor, b: sy.Tensor) => sy.Tensor][] = [
    ['gt', (a, b) => a.gt(b)],
    ['lt', (a, b) => a.lt(b)],
    ['ge', (a, b) => a.ge(b)],
    ['le', (a, b) => a.le(b)],
    ['eq', (a, b) => a.eq(b)],
  ];
  for (const [name, f] of cases) {
    test(`${name} on edge values and random values`, async () => {
      for (const [a, b] of [[edge, other], [x, y], [x, x]] as const) {
        const got = flat((await f(share(a), share(b)).get()).floatPrecision());
        // the plaintext answer on the same fixed-point numbers
        const want = flat(f(a.fixPrecision(), b.fixPrecision()).floatPrecision());
        expect(got).toEqual(want);
      }
    });
  }

  test('comparison with a public number', async () => {
    expect(flat((await share(edge).gt(0).get()).floatPrecision())).toEqual(flat(edge.gt(0)));
    expect(flat((await share(edge).le(2).get()).floatPrecision())).toEqual(flat(edge.le(2)));
  });

  test('relu and its derivative', async () => {
    const X = share(x);
    const relu = flat((await X.relu().get()).floatPrecision());
    flat(x.relu()).forEach((v, i) => expect(Math.abs(relu[i]! - v)).toBeLessThanOrEqual(1e-3));
    const xs = x.child as sy.FloatTensor;
    const grad = share(x).requiresGrad_(true);
    grad.relu().sum().backward();
    const d = flat((await grad.grad!.get()).floatPrecision());
    expect(d).toEqual(Array.from(xs.values, (v) => (Math.round(v * 1000) > 0 ? 1 : 0)));
  });

  test('relu and its mask come from one protocol: exact, in the rounds of one comparison', async () => {
    for (const t of [edge, x]) {
      const fp = share(t).child as sy.FixedPrecisionTensor;
      const [out, mask] = fp.reluForward();
      // x · mask needs no truncation, so relu is exact on the fixed-point values
      expect(flat((await new sy.Tensor(out).get()).floatPrecision())).toEqual(flat(t.fixPrecision().relu().floatPrecision()));
      expect(flat((await new sy.Tensor(mask).get()).floatPrecision())).toEqual(flat(t.fixPrecision().gt(0).floatPrecision()));
    }
    // What the first party receives from its peers: the comparison's openings and eps = x - a'
    // in its first round, and no Beaver product after it.
    const { tags } = await peerTags(() => share(x).relu().get());
    expect([...new Set(tags)].sort()).toEqual(['and0', 'and1', 'and2', 'and3', 'and4', 'and5', 'b2a', 'c', 'eps']);
    expect(tags.length).toBe(9 * (n - 1));
  });

  test('argmax of 10 classes: one comparison and an AND tree, 12 rounds, ties to the first index', async () => {
    const logits = data(rng, [16, 10], -4, 4);
    const rows = logits.arraySync() as number[][];
    rows[3]![2] = rows[3]![7] = 9; // a tie: the first wins
    rows[5] = rows[5]!.map(() => 1); // all equal: index 0
    const t = sy.tensor(rows);
    const { tags, value } = await peerTags(() => share(t).argmax(1).get());
    const got = flat(value.floatPrecision());
    expect(got).toEqual(flat(t.argmax(1)));
    expect(got[3]).toBe(2);
    expect(got[5]).toBe(0);
    expect([...new Set(tags)].sort()).toEqual(['and0', 'and1', 'and2', 'and3', 'and4', 'and5', 'b2a', 'c', 'tree0', 'tree1', 'tree2', 'tree3']);
    expect(tags.length).toBe(12 * (n - 1));
  });

  test('max and argmax along a dim, ties to the first index', async () => {
    const t = sy.tensor([[1, 5, 3, 5, -2], [-1, -7, -0.5, -3, -0.25], [2, 2, 2, 2, 2]]);
    const T = share(t);
    expect(flat((await T.argmax(1).get()).floatPrecision())).toEqual([1, 4, 0]);
    expect(flat((await T.max(1).get()).floatPrecision())).toEqual([5, -0.25, 2]);
    expect(flat((await T.argmax(0).get()).floatPrecision())).toEqual([2, 0, 0, 0, 2]);
    const r = share(x);
    expect(flat((await r.argmax(1).get()).floatPrecision())).toEqual(flat(x.argmax(1)));
    // wider rows take the tournament instead of the pairwise comparison
    const wide = data(rng, [3, 20], -5, 5);
    expect(flat((await share(wide).argmax(1).get()).floatPrecision())).toEqual(flat(wide.argmax(1)));
    expect(flat((await share(wide).argmax(1, true).get()).floatPrecision())).toEqual(flat(wide.argmax(1)));
    expect(flat((await r.max().get()).floatPrecision())[0]).toBeCloseTo(x.max().item(), 3);
  });
});
