// No silently wrong number from a fixed-precision product (issue 18): the two products the issue
// names (4e6 · 4e6 and 1e7 · 1e7 at the default 3 digits) raise, local and shared, and products
// that fit are still exact. Shared values carry a magnitude bound from encoding or from
// share({ bound }); without one, sy.config({ checkOverflow: true }) counts out-of-range entries
// with secure comparisons and raises at get().
import { afterEach, describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { parties } from '../mpc/helpers.js';

afterEach(() => void sy.config({ checkOverflow: false }));

describe('fixed-precision products that leave the ring raise', () => {
  test('local: the issue\'s two products raise with the precision that fits; one that fits is exact', () => {
    for (const v of [4e6, 1e7]) {
      const x = sy.tensor([v, 1]).fixPrecision();
      expect(() => x.mul(x)).toThrow(sy.FixedPointOverflowError);
      expect(() => x.mul(x)).toThrow(/precisionFractional <= \d/);
    }
    const ok = sy.tensor([3e6, -2]).fixPrecision();
    const [nine, four] = ok.mul(ok).floatPrecision().arraySync() as number[];
    expect(nine! / 9e12).toBeCloseTo(1, 6); // float32 on the way out
    expect(four).toBe(4);
    // matmul: each factor fits, the sum of the inner dimension does not.
    const a = sy.full([1, 4], 1.6e6).fixPrecision();
    const b = sy.full([4, 1], 1.6e6).fixPrecision();
    expect(() => a.matmul(b)).toThrow(sy.FixedPointOverflowError);
    expect(a.matmul(sy.full([4, 1], 1e5).fixPrecision()).floatPrecision().arraySync()).toEqual([[6.4e11]]);
  });

  test('local: the exact check sees one large entry among small ones, and lets a near miss through', () => {
    const big = sy.tensor([1, 2, 3037000, 4]).fixPrecision();   // 3.037e9² ≈ 9.2234e18 < 2^63
    expect(((big.mul(big).floatPrecision().arraySync() as number[])[2]! / 3037000 ** 2)).toBeCloseTo(1, 6);
    const over = sy.tensor([1, 2, 3037001, 4]).fixPrecision();  // 3.037001e9² > 2^63
    expect(() => over.mul(over)).toThrow(sy.FixedPointOverflowError);
  });

  test('shared: encoded data carries its bound, so the product raises before it runs', async () => {
    const { workers, cryptoProvider } = parties(2, 'ovf-shared');
    for (const v of [4e6, 1e7]) {
      const x = sy.tensor([v, 1]).fixPrecision().share(...workers, { cryptoProvider });
      expect(() => x.mul(x)).toThrow(sy.FixedPointOverflowError);
    }
    // Shared products stay below 2^43 before truncation (which is exact only with room to spare):
    // 3e6² fits the ring but not that margin; at 3 digits the largest safe product is about 8.8e6.
    const big = sy.tensor([3e6, -2]).fixPrecision().share(...workers, { cryptoProvider });
    expect(() => big.mul(big)).toThrow(/43 bits a shared product may use/);
    const ok = sy.tensor([2900, -2]).fixPrecision().share(...workers, { cryptoProvider });
    expect((await ok.mul(ok).get()).floatPrecision().arraySync()).toEqual([8410000, 4]);
    // A relu mask has precision 0: no truncation, the whole ring is available.
    const r = sy.tensor([3e6, -2]).fixPrecision().share(...workers, { cryptoProvider }).relu();
    expect((await r.get()).floatPrecision().arraySync()).toEqual([3e6, 0]);
  });

  test('shared: bounds follow sums and products; share({ bound }) states one', async () => {
    const { workers, cryptoProvider } = parties(2, 'ovf-bound');
    const x = sy.tensor([10, 20]).fixPrecision().share(...workers, { cryptoProvider });
    const y = x.mul(x).add(x).mul(x);           // ≤ (400 + 20) · 20 = 8400: fine
    expect((await y.get()).floatPrecision().arraySync()).toEqual([1100, 8400]);
    expect(() => y.mul(y)).toThrow(sy.FixedPointOverflowError); // ≤ 7.1e7: beyond 8.8e6
    const stated = sy.tensor([1, 2]).fixPrecision().share(...workers, { cryptoProvider, bound: 1e7 });
    expect(() => stated.mul(stated)).toThrow(sy.FixedPointOverflowError);
    expect(() => sy.tensor([1]).fixPrecision().share(...workers, { cryptoProvider, bound: -1 })).toThrow(sy.ValueError);
  });

  test('shared without a bound: checkOverflow finds the overflow with secure comparisons, off by default', async () => {
    const { workers, cryptoProvider } = parties(2, 'ovf-secure');
    const unbounded = () => {
      // A value written by a step (assign_) has no known bound.
      const w = sy.tensor([0, 0]).fixPrecision().share(...workers, { cryptoProvider });
      w.copy_(sy.tensor([4e6, 1]).fixPrecision().share(...workers, { cryptoProvider }));
      return w;
    };
    const w = unbounded();
    expect(await w.mul(w).get().then(() => 'no error')).toBe('no error'); // wraps, silently: the off state
    sy.config({ checkOverflow: true });
    const v = unbounded();
    await expect(v.mul(v).get()).rejects.toThrow(/may overflow the ring: 1 entry/);
    const fine = unbounded().mul(sy.tensor([1e-3, 1e-3]).fixPrecision());
    expect((await fine.get()).floatPrecision().arraySync()).toEqual([4e3, Math.fround(0.001)]);
    // Two unbounded operands of moderate size share the room evenly and pass.
    const small = sy.tensor([0, 0]).fixPrecision().share(...workers, { cryptoProvider });
    small.copy_(sy.tensor([1500, -3]).fixPrecision().share(...workers, { cryptoProvider }));
    expect((await small.mul(small).get()).floatPrecision().arraySync()).toEqual([2250000, 9]);
    expect(() => sy.config({ checkOverflw: true } as never)).toThrow(/no setting 'checkOverflw'/);
  });
});
