import { describe, expect, it } from 'vitest';
import { FixedPointOverflowError, RingTensor, RingValueError, decodeFixed, encodeFixed } from '../../src/ring/index.js';

const PYSYFT = { base: 10, precisionFractional: 3 };

describe('encodeFixed / decodeFixed', () => {
  it('encodes round(v * base^p), half away from zero, and decodes back', () => {
    const t = encodeFixed([1.5, -0.25, 0.0004, 0.0005, -0.0005, 0, -0, 123456.789], [2, 4], PYSYFT);
    expect(t.shape).toEqual([2, 4]);
    expect(Array.from(t.data)).toEqual([1500n, -250n, 0n, 1n, -1n, 0n, 0n, 123456789n]);
    expect(Array.from(decodeFixed(t, PYSYFT))).toEqual([1.5, -0.25, 0, 0.001, -0.001, 0, 0, 123456.789]);
  });

  it('round-trips within half a unit of the last place, for several formats', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 13) - 4));
    for (const opts of [PYSYFT, { base: 10, precisionFractional: 0 }, { base: 2, precisionFractional: 16 }, { base: 2, precisionFractional: 30 }, { base: 10, precisionFractional: 9 }]) {
      const t = encodeFixed(values, [values.length], opts);
      const back = decodeFixed(t, opts);
      const unit = opts.base ** -opts.precisionFractional;
      values.forEach((v, i) => expect(Math.abs(back[i] - v)).toBeLessThanOrEqual(unit / 2 + Math.abs(v) * 1e-15));
    }
  });

  it('encodings add and scale like the numbers (ring arithmetic)', () => {
    const a = encodeFixed([1.25, -3.5], [2], PYSYFT);
    const b = encodeFixed([0.75, 1.5], [2], PYSYFT);
    expect(Array.from(decodeFixed(a.add(b), PYSYFT))).toEqual([2, -2]);
    // A product carries two scale factors; one truncation by base^p restores the format.
    expect(Array.from(decodeFixed(a.mul(b).divScalar(1000n), PYSYFT))).toEqual([0.937, -5.25]);
  });

  it('decodes the extremes of the signed range', () => {
    const t = RingTensor.from([3], [2n ** 63n - 1n, -(2n ** 63n), -1n]);
    expect(Array.from(decodeFixed(t, { base: 2, precisionFractional: 0 }))).toEqual([2 ** 63, -(2 ** 63), -1]);
  });

  it('accepts values up to just under 2^62 and rejects 2^62', () => {
    const opts = { base: 2, precisionFractional: 10 };
    const ok = encodeFixed([2 ** 51 - 1, -(2 ** 51)], [2], opts);
    expect(Array.from(ok.data)).toEqual([(2n ** 51n - 1n) * 1024n, -(2n ** 61n)]);
    expect(() => encodeFixed([2 ** 52], [1], opts)).toThrow(FixedPointOverflowError);
  });

  it('names the offending value and the precision that would fit', () => {
    let err: unknown;
    try {
      encodeFixed([1, 2, 5e15], [3], PYSYFT);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FixedPointOverflowError);
    const e = err as FixedPointOverflowError;
    expect(e.value).toBe(5e15);
    // 5e15 * 10^2 = 5e17 < 2^62 ~ 4.6e18, 5e15 * 10^3 = 5e18 is not.
    expect(e.maxPrecisionFractional).toBe(2);
    expect(e.message).toMatch(/value 5000000000000000 \(index 2\)/);
    expect(e.message).toMatch(/precisionFractional <= 2 would fit/);
    expect(() => encodeFixed([1e300], [1], PYSYFT)).toThrow(/too large for any precision/);
  });

  it('rejects NaN, Infinity, bad formats and mismatched shapes', () => {
    expect(() => encodeFixed([1, NaN], [2], PYSYFT)).toThrow(RingValueError);
    expect(() => encodeFixed([1, NaN], [2], PYSYFT)).toThrow(/value 1 is NaN/);
    expect(() => encodeFixed([Infinity], [1], PYSYFT)).toThrow(/Infinity/);
    expect(() => encodeFixed([1], [1], { base: 1, precisionFractional: 3 })).toThrow(/base must be an integer >= 2/);
    expect(() => encodeFixed([1], [1], { base: 10, precisionFractional: -1 })).toThrow(/precisionFractional must be/);
    expect(() => encodeFixed([1], [1], { base: 10, precisionFractional: 19 })).toThrow(/precisionFractional <= 18/);
    expect(() => encodeFixed([1, 2], [3], PYSYFT)).toThrow(/2 values do not fill shape \[3\]/);
  });
});
