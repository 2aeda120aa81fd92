import { describe, expect, it } from 'vitest';
import { ValueError, WireFormatError } from '../../src/errors.js';
import { BitBudget } from '../../src/he/budget.js';
import { FixedPointEncoding } from '../../src/he/encoding.js';
import { EncodingRangeError, PaillierOverflowError } from '../../src/he/errors.js';

describe('FixedPointEncoding', () => {
  it('encodes with one binary scale and decodes exactly', () => {
    const enc = new FixedPointEncoding({ fractionalBits: 16, valueBits: 32 });
    expect(enc.scale).toBe(65536n);
    expect(enc.encode(-1.5)).toBe(-98304n);
    expect(enc.decode(-98304n)).toBe(-1.5);
    expect(enc.encode(1 / 3)).toBe(21845n); // round(21845.33)
    expect(enc.maxEncoded).toBe(2n ** 31n - 1n);
    expect(enc.minEncoded).toBe(-(2n ** 31n));
    expect(enc.maxValue).toBe((2 ** 31 - 1) / 65536);
    expect(enc.minValue).toBe(-32768);
    expect(enc.encode(enc.maxValue)).toBe(enc.maxEncoded);
    expect(enc.encode(enc.minValue)).toBe(enc.minEncoded);
    expect(enc.scaleBits).toBe(16);
    // A product of two scales decodes with exponent 2.
    expect(enc.decode(3n * 65536n * 65536n, 2)).toBe(3);
  });

  it('supports PySyft-style base 10 scales', () => {
    const enc = new FixedPointEncoding({ base: 10, precisionFractional: 3 });
    expect(enc.scale).toBe(1000n);
    expect(enc.encode(3.14159)).toBe(3142n);
    expect(enc.decode(3142n)).toBe(3.142);
    expect(enc.encodeScalar(0.5)).toEqual({ value: 500n, scaled: true });
  });

  it('offset and two\'s complement agree on values, differ in storage', () => {
    const twos = new FixedPointEncoding({ signed: 'twos-complement' });
    const off = new FixedPointEncoding({ signed: 'offset' });
    expect(twos.offset).toBe(0n);
    expect(off.offset).toBe(2n ** 31n);
    expect(off.encode(-2)).toBe(twos.encode(-2));
    expect(off.equals(twos)).toBe(false);
  });

  it('refuses NaN, infinities and out-of-range values, or clips them when asked', () => {
    const enc = new FixedPointEncoding({ fractionalBits: 8, valueBits: 16 });
    expect(() => enc.encode(NaN)).toThrow(EncodingRangeError);
    expect(() => enc.encode(Infinity)).toThrow(EncodingRangeError);
    expect(() => enc.encode(128)).toThrow(EncodingRangeError);
    expect(() => enc.encode(-128.01)).toThrow(EncodingRangeError);
    expect(enc.encode(1e9, true)).toBe(enc.maxEncoded);
    expect(enc.encode(-Infinity, true)).toBe(enc.minEncoded);
    expect(() => enc.encode(NaN, true)).toThrow(EncodingRangeError);
    expect(() => enc.encodeAll([1, 2, 500])).toThrow(/index 2/);
  });

  it('encodes scalars: integers keep the scale, fractions add one', () => {
    const enc = new FixedPointEncoding({ fractionalBits: 4 });
    expect(enc.encodeScalar(3)).toEqual({ value: 3n, scaled: false });
    expect(enc.encodeScalar(-7n)).toEqual({ value: -7n, scaled: false });
    expect(enc.encodeScalar(0.25)).toEqual({ value: 4n, scaled: true });
    expect(enc.encodeScalars([1, 2n, 3])).toEqual({ values: [1n, 2n, 3n], scaled: false });
    expect(enc.encodeScalars([1, 2n, 0.5])).toEqual({ values: [16n, 32n, 8n], scaled: true });
    expect(() => enc.encodeScalar(NaN)).toThrow(ValueError);
  });

  it('validates its options and its JSON', () => {
    expect(() => new FixedPointEncoding({ fractionalBits: -1 })).toThrow(ValueError);
    expect(() => new FixedPointEncoding({ valueBits: 1 })).toThrow(ValueError);
    expect(() => new FixedPointEncoding({ fractionalBits: 31, valueBits: 32 })).toThrow(ValueError);
    expect(() => new FixedPointEncoding({ fractionalBits: 8, base: 10 })).toThrow(ValueError);
    expect(() => new FixedPointEncoding({ signed: 'sign-magnitude' as never })).toThrow(ValueError);
    const enc = new FixedPointEncoding({ base: 10, precisionFractional: 4, valueBits: 40, signed: 'offset' });
    expect(FixedPointEncoding.fromJSON(JSON.parse(JSON.stringify(enc))).equals(enc)).toBe(true);
    expect(() => FixedPointEncoding.fromJSON(null)).toThrow(WireFormatError);
    expect(() => FixedPointEncoding.fromJSON({ base: 2, precision: 16, valueBits: 'x', signed: 'offset' })).toThrow(WireFormatError);
    expect(() => FixedPointEncoding.fromJSON({ base: 2, precision: 16, valueBits: 32, signed: 'nope' })).toThrow(WireFormatError);
  });
});

describe('BitBudget', () => {
  const slot = { kind: 'slot', slotBits: 36 } as const;

  it('tracks sums and products exactly and counts the additions left', () => {
    const fresh = new BitBudget(0n, 2n ** 32n - 1n, slot);
    expect(fresh.bits).toBe(32);
    expect(fresh.additionsLeft).toBe(15);
    let total = fresh;
    for (let i = 1; i < 16; i++) total = total.plus(fresh, 'add');
    expect(total.hi).toBe(16n * (2n ** 32n - 1n));
    expect(total.additionsLeft).toBe(0);
    expect(() => total.plus(fresh, 'add')).toThrow(PaillierOverflowError);
    expect(fresh.times(3n, 'mul').hi).toBe(3n * (2n ** 32n - 1n));
    expect(() => fresh.times(-1n, 'mul')).toThrow(RangeError);
    expect(fresh.complement().hi).toBe(fresh.hi);
  });

  it('checks a modular plaintext by the width of its range', () => {
    const n = (1n << 64n) + 13n;
    const b = new BitBudget(-(2n ** 31n), 2n ** 31n - 1n, { kind: 'plaintext', n });
    expect(b.times(-5n, 'mul').lo).toBe(-5n * (2n ** 31n - 1n));
    expect(b.times(2n ** 31n, 'mul').fits).toBe(true);
    expect(() => b.times(2n ** 33n, 'mul')).toThrow(PaillierOverflowError);
  });

  it('says how much room there was and what to do', () => {
    const b = new BitBudget(0n, 2n ** 35n, slot);
    try {
      b.plus(b, 'addMany of 11 vectors');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PaillierOverflowError);
      const err = e as PaillierOverflowError;
      expect(err.op).toBe('addMany of 11 vectors');
      expect(err.neededBits).toBe(37);
      expect(err.availableBits).toBe(36);
      expect(err.message).toMatch(/36 bits/);
      expect(err.message).toMatch(/additions/);
      expect(err.message).toMatch(/Nothing was computed/);
    }
  });
});
