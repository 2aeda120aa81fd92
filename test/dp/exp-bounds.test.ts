// The enclosures of e^{-y} the exact sampler decides with, against floor(2^256 e^{-y}) computed
// with mpmath at 200 digits, and the doubles behind the fast path.
import { describe, expect, test } from 'vitest';
import { E1, expNegApprox, expNegBounds, expNegError } from '../../src/dp/exp-bounds.js';
import { floatToRational, nextUp, productRoundedUp } from '../../src/dp/exact-float.js';

// [yNum, yDen, floor(2^256 e^{-yNum/yDen})]
const REF: [bigint, bigint, bigint][] = [
  [0n, 1n, 0x10000000000000000000000000000000000000000000000000000000000000000n],
  [1n, 1n, 0x5e2d58d8b3bcdf1abadec7829054f90dda9805aab56c77333024b9d0a507daedn],
  [1n, 2n, 0x9b4597e37cb04ff3d675a35530cdd767e347bf8ad0e80abbce4ae95861014318n],
  [29n, 4n, 0x2e8abfc647f5faa77574769ee917008332db845c31f30341d1fff0ca21ac7cn],
  [100n, 3n, 0xf08b9e46d486353bc4be227fb349fb289eddaf91c7381d40b68fn],
  [1n, 1000000000n, 0xfffffffbb47d05ff8389bc22622eacedf0ecd2bb895ecb1a2f9678e4702748b2n],
  [750n, 1n, 0x0n],
  [3000n, 1n, 0x0n],
  [123456789n, 1000000n, 0x3b47fcb8798ed3a14e7cn],
];

describe('expNegBounds', () => {
  test.each(REF)('e^-(%s/%s) lies in [lo, hi] at 256 bits, and the bounds are tight', (n, d, floorRef) => {
    const [lo, hi] = expNegBounds(n, d, 256);
    // the true value is in [floorRef, floorRef + 1), and is an integer only for y = 0
    expect(lo <= floorRef).toBe(true);
    expect(hi >= (n === 0n ? floorRef : floorRef + 1n)).toBe(true);
    expect(hi - lo <= 3n).toBe(true);
  });

  test('more precision narrows the same enclosure', () => {
    for (const [n, d] of REF) {
      const [lo64, hi64] = expNegBounds(n, d, 64);
      const [lo, hi] = expNegBounds(n, d, 256);
      expect(lo64 << 192n <= lo).toBe(true);
      expect(hi64 << 192n >= hi).toBe(true);
    }
  });
});

describe('the fast double enclosure', () => {
  test('E1 is the double nearest e^-1', () => {
    const { m, e } = floatToRational(E1);
    const scaled = m << BigInt(256 + e); // E1 * 2^256 exactly
    const half = 1n << BigInt(256 - 55); // half an ulp of doubles in [1/4, 1/2), at scale 2^256
    const [lo, hi] = expNegBounds(1n, 1n, 256);
    expect(scaled + half >= hi && scaled - half <= lo).toBe(true);
  });

  test('expNegApprox is within expNegError of e^-y (checked against exact bounds)', () => {
    const ys = [0, 1e-300, 1e-9, 0.25, 0.5, 0.999999, 1, 2.5, 17.125, 63.9, 100, 400.5, 700, 708.5, 709, 800];
    for (let i = 0; i < 300; i++) ys.push(((i * 7919) % 100003) / 137);
    for (const y of ys) {
      const v = expNegApprox(y);
      const err = expNegError(v, y);
      const { m, e } = y === 0 ? { m: 0n, e: 0 } : floatToRational(y);
      const [yNum, yDen] = e >= 0 ? [m << BigInt(e), 1n] : [m, 1n << BigInt(-e)];
      const prec = 1200;
      const [lo, hi] = expNegBounds(yNum, yDen, prec);
      const toScaled = (x: number): bigint => (x <= 0 ? 0n : (() => { const r = floatToRational(x); return r.e + prec >= 0 ? r.m << BigInt(r.e + prec) : r.m >> BigInt(-(r.e + prec)); })());
      // [v - err, v + err] must contain [lo, hi] / 2^prec
      expect(toScaled(v + err) + 1n >= hi, `y = ${y}`).toBe(true);
      expect(v - err <= 0 || toScaled(v - err) <= lo + 1n, `y = ${y}`).toBe(true);
      // and the bound is useful: below 2^-38 relative while e^-y is far above 2^-1020
      if (y < 600) expect(err / v).toBeLessThan(2 ** -38);
    }
  });
});

describe('exact floats', () => {
  test('floatToRational, nextUp, productRoundedUp', () => {
    expect(floatToRational(0.375)).toEqual({ m: 3n, e: -3 });
    expect(floatToRational(2 ** 60)).toEqual({ m: 1n, e: 60 });
    expect(nextUp(1)).toBe(1 + 2 ** -52);
    // 0.1 * 3: the double product rounds up already; 0.7 * 0.1 rounds down, so one ulp is added
    expect(productRoundedUp(0.1, 3)).toBe(0.1 * 3);
    expect(0.7 * 0.1).toBe(0.06999999999999999);
    expect(productRoundedUp(0.7, 0.1)).toBe(nextUp(0.7 * 0.1));
    expect(productRoundedUp(1.5, 1000)).toBe(1500);
  });
});
