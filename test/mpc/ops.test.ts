import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { SeededRandom } from '../../src/util/seeded.js';
import { data, flat, parties } from './helpers.js';

function expectClose(got: number[], want: number[], tol: number) {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(tol));
}

// Every op on shared fixed-precision values against the same op on floats, for 2, 3 and 5 parties.
describe.each([2, 3, 5])('fixed-precision ops on values shared among %i parties', (n) => {
  const rng = new SeededRandom(100 + n);
  const { workers, cryptoProvider } = parties(n, `ops${n}`);
  const share = (t: sy.Tensor) => t.fixPrecision().share(...workers, { cryptoProvider });
  const x = data(rng, [4, 5]);
  const y = data(rng, [4, 5]);
  const w = data(rng, [5, 3]);
  const b = data(rng, [3]);
  const [X, Y, W, B] = [x, y, w, b].map(share) as [sy.Tensor, sy.Tensor, sy.Tensor, sy.Tensor];

  const cases: [string, () => sy.Tensor, () => sy.Tensor, number][] = [
    ['add', () => X.add(Y), () => x.add(y), 2e-3],
    ['sub', () => X.sub(Y), () => x.sub(y), 2e-3],
    ['neg', () => X.neg(), () => x.neg(), 1e-3],
    ['add public scalar', () => X.add(1.25), () => x.add(1.25), 2e-3],
    ['sub public tensor (broadcast)', () => X.sub(sy.tensor([1, 2, 3, 4, 5])), () => x.sub(sy.tensor([1, 2, 3, 4, 5])), 2e-3],
    ['mul public float', () => X.mul(-0.75), () => x.mul(-0.75), 4e-3],
    ['mul public int', () => X.mul(3), () => x.mul(3), 4e-3],
    ['mul public tensor', () => X.mul(sy.tensor([0.5, -1, 2, 0.25, 1.5])), () => x.mul(sy.tensor([0.5, -1, 2, 0.25, 1.5])), 6e-3],
    ['matmul public', () => X.matmul(w), () => x.matmul(w), 2e-2],
    ['mul private', () => X.mul(Y), () => x.mul(y), 1.5e-2],
    ['square', () => X.pow(2), () => x.pow(2), 1.5e-2],
    ['cube', () => X.pow(3), () => x.pow(3), 8e-2],
    ['matmul private', () => X.matmul(W), () => x.matmul(w), 4e-2],
    ['linear layer', () => X.matmul(W).add(B), () => x.matmul(w).add(b), 4e-2],
    ['div by public int', () => X.div(4), () => x.div(4), 2e-3],
    ['div by public float', () => X.div(2.5), () => x.div(2.5), 2e-3],
    ['sum', () => X.sum(), () => x.sum(), 2e-2],
    ['mean over dim', () => X.mean(1), () => x.mean(1), 3e-3],
    ['reshape and transpose', () => X.reshape([2, 10]).t(), () => x.reshape([2, 10]).t(), 1e-3],
    ['slice', () => X.slice(1, 3), () => x.slice(1, 3), 1e-3],
  ];

  for (const [name, secret, plain, tol] of cases) {
    test(name, async () => {
      const got = (await secret().get()).floatPrecision();
      expectClose(flat(got), flat(plain()), tol);
    });
  }

  test('random shapes: products reconstruct to the plaintext products', async () => {
    for (let k = 0; k < 4; k++) {
      const m = 1 + Math.floor(rng.uniform(1, 7));
      const kk = 1 + Math.floor(rng.uniform(1, 9));
      const q = 1 + Math.floor(rng.uniform(1, 6));
      const a = data(rng, [m, kk], -2, 2);
      const c = data(rng, [kk, q], -2, 2);
      const d = data(rng, [m, kk], -2, 2);
      expectClose(flat((await share(a).matmul(share(c)).get()).floatPrecision()), flat(a.matmul(c)), 5e-3 * kk + 5e-3);
      expectClose(flat((await share(a).mul(share(d)).get()).floatPrecision()), flat(a.mul(d)), 8e-3);
    }
  });
});

describe('shared integers', () => {
  test('the lesson: x + x on int64 shares', async () => {
    const { workers } = parties(3, 'lesson');
    const x = sy.tensor([1, 2, 3, 4, 5], { dtype: 'int64' }).share(...workers);
    const y = x.add(x);
    expect(workers[0]!.objectCount).toBe(2);
    expect((await y.get()).toString()).toBe('tensor([ 2,  4,  6,  8, 10])');
    expect(workers[0]!.objectCount).toBe(1);
    expect(x.child).toBeInstanceOf(sy.AdditiveSharingTensor); // x held to here (no GC frees)
  });

  test('private multiplication without a crypto provider fails loudly', () => {
    const { workers } = parties(2, 'noprovider');
    const x = sy.tensor([1, 2], { dtype: 'int64' }).share(...workers);
    expect(() => x.mul(x)).toThrow(/needs a crypto provider/);
  });

  test('values shared among different workers do not mix', () => {
    const a = parties(2, 'mixA');
    const b = parties(2, 'mixB');
    const x = sy.tensor([1], { dtype: 'int64' }).share(...a.workers);
    const y = sy.tensor([1], { dtype: 'int64' }).share(...b.workers);
    expect(() => x.add(y)).toThrow(/same workers/);
  });
});

describe('fixed precision without sharing', () => {
  test('encodes 0.1 as 100, decodes back, and truncates after products', () => {
    const x = sy.tensor([0.1, 0.2, 0.3]).fixPrecision();
    expect(x.toString()).toBe('(Wrapper)>FixedPrecisionTensor>tensor([100, 200, 300])');
    expect((x.child.child as sy.ring.RingTensor).data[0]).toBe(100n);
    expect(flat(x.floatPrecision())).toEqual([0.1, 0.2, 0.3].map((v) => Math.fround(v)));
    expect(flat(x.mul(x).floatPrecision())).toEqual([0.01, 0.04, 0.09].map((v) => Math.fround(v)));
    expect(flat(sy.tensor([0.5]).fixPrec().floatPrec())).toEqual([0.5]);
  });

  test('a value that does not fit names the value and what would fit', () => {
    expect(() => sy.tensor([1e17]).fixPrecision()).toThrow(/value 99999998430674940.*precisionFractional/s);
    expect(() => sy.tensor([1]).fixPrecision({ precisionFractional: 30 })).toThrow(sy.SyftError);
  });
});
