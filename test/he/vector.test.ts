import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '../../src/errors.js';
import { FixedPointEncoding } from '../../src/he/encoding.js';
import type { SignedEncoding } from '../../src/he/encoding.js';
import { EncodingRangeError, KeyMismatchError, PackingUnsupportedError, PaillierOverflowError, PaillierRangeError } from '../../src/he/errors.js';
import type { PaillierKeyPair } from '../../src/he/paillier/keys.js';
import { RnPool } from '../../src/he/paillier/rn-pool.js';
import { EncryptedVector } from '../../src/he/vector.js';
import { exactScaled, keyPair, TestRandom } from './helpers.js';

const F = 16;

/** Exact expected numerators at scale^exponent for values given at scale^1. */
function lift(values: readonly bigint[], exponent: number): bigint[] {
  return values.map((v) => v * (1n << BigInt(F * (exponent - 1))));
}

describe.each([
  ['unpacked, two\'s complement', false, 'twos-complement'],
  ['unpacked, offset', false, 'offset'],
  ['packed', true, 'offset'],
] as const)('EncryptedVector (%s, 512-bit key)', (_, packed, signed: SignedEncoding) => {
  let pair: PaillierKeyPair;
  const encoding = new FixedPointEncoding({ fractionalBits: F, valueBits: 32, signed });
  const pack = packed ? { additions: 4, extraBits: 40 } : false;
  const rnd = new TestRandom(packed ? 21 : signed === 'offset' ? 22 : 23);
  const randomValues = (len: number): number[] => Array.from({ length: len }, () => rnd.fixed(1000, F));
  const encrypt = (values: number[]): EncryptedVector => EncryptedVector.encrypt(values, pair.publicKey, { encoding, pack });
  const exact = (values: number[]): bigint[] => values.map((v) => exactScaled(v, F));

  beforeAll(async () => {
    pair = await keyPair(512);
  });

  it('round-trips random signed values, including both ends of the range and zero', () => {
    const values = [...randomValues(20), encoding.maxValue, encoding.minValue, 0, -0];
    const enc = encrypt(values);
    expect(enc.packed).toBe(packed);
    expect(enc.length).toBe(values.length);
    expect(Array.from(enc.decrypt(pair.privateKey))).toEqual(values.map((v) => v + 0));
    expect(enc.decryptExact(pair.privateKey)).toEqual({ numerators: exact(values), denominator: 1n << BigInt(F) });
  });

  it('add, sub, neg, addPlain and addMany are exact', () => {
    const a = randomValues(11);
    const b = randomValues(11);
    const c = randomValues(11);
    const ea = encrypt(a);
    const eb = encrypt(b);
    const ec = encrypt(c);
    const A = exact(a);
    const B = exact(b);
    const C = exact(c);
    expect(ea.add(eb).decryptExact(pair.privateKey).numerators).toEqual(A.map((x, i) => x + B[i]!));
    expect(ea.sub(eb).decryptExact(pair.privateKey).numerators).toEqual(A.map((x, i) => x - B[i]!));
    expect(ea.neg().decryptExact(pair.privateKey).numerators).toEqual(A.map((x) => -x));
    expect(ea.addPlain(b).decryptExact(pair.privateKey).numerators).toEqual(A.map((x, i) => x + B[i]!));
    expect(EncryptedVector.addMany([ea, eb, ec]).decryptExact(pair.privateKey).numerators).toEqual(A.map((x, i) => x + B[i]! + C[i]!));
    expect(Array.from(ea.add(eb).decrypt(pair.privateKey))).toEqual(a.map((x, i) => x + b[i]!));
  });

  it('mulScalar by integers and fractions, of either sign, is exact with the scale tracked', () => {
    const a = randomValues(9);
    const A = exact(a);
    const ea = encrypt(a);
    for (const k of [3, -2, 0, 1, 7n, -1n]) {
      const out = ea.mulScalar(k);
      expect(out.scaleExponent).toBe(1);
      expect(out.decryptExact(pair.privateKey).numerators).toEqual(A.map((x) => x * BigInt(k)));
    }
    for (const s of [0.3, -0.75, 1.5]) {
      const K = BigInt(Math.round(s * 2 ** F));
      const out = ea.mulScalar(s);
      expect(out.scaleExponent).toBe(2);
      const got = out.decryptExact(pair.privateKey);
      expect(got.denominator).toBe(1n << BigInt(2 * F));
      expect(got.numerators).toEqual(A.map((x) => x * K));
      // As floats: the value times the scalar as encoded (s rounded to 16 fractional bits).
      const floats = out.decrypt(pair.privateKey);
      a.forEach((x, i) => expect(floats[i]).toBeCloseTo(x * (Number(K) / 2 ** F), 9));
      a.forEach((x, i) => expect(Math.abs(floats[i]! - x * s)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -(F + 1)));
    }
    // Twice fractional: exponent 3, still exact.
    const K = BigInt(Math.round(0.1 * 2 ** F));
    expect(ea.mulScalar(0.1).mulScalar(0.1).decryptExact(pair.privateKey).numerators).toEqual(A.map((x) => x * K * K));
  });

  it('adding vectors at different scales aligns them exactly', () => {
    const a = randomValues(5);
    const b = randomValues(5);
    const A = exact(a);
    const B = exact(b);
    const K = BigInt(Math.round(0.5 * 2 ** F));
    const sum = encrypt(a).mulScalar(0.5).add(encrypt(b));
    expect(sum.scaleExponent).toBe(2);
    expect(sum.decryptExact(pair.privateKey).numerators).toEqual(A.map((x, i) => x * K + lift([B[i]!], 2)[0]!));
    expect(sum.addPlain(a).decryptExact(pair.privateKey).numerators).toEqual(
      A.map((x, i) => x * K + lift([B[i]!], 2)[0]! + lift([A[i]!], 2)[0]!),
    );
  });

  it('uses a pool when given one, and the result decrypts with paillier-bigint too', async () => {
    const pool = new RnPool(pair.publicKey, { privateKey: pair.privateKey });
    const values = randomValues(7);
    const count = EncryptedVector.ciphertextsNeeded(values.length, pair.publicKey, { encoding, pack });
    await pool.fill(count);
    const enc = EncryptedVector.encrypt(values, pair.publicKey, { encoding, pack, pool });
    expect(pool.size).toBe(0);
    expect(pool.computedOnDemand).toBe(0);
    expect(enc.ciphertextCount).toBe(count);
    expect(Array.from(enc.decrypt(pair.privateKey))).toEqual(values);
    // Same plaintexts under the reference implementation.
    const mine = enc.ciphertexts.map((c) => pair.privateKey.decrypt(c));
    expect(enc.ciphertexts.map((c) => pair.privateKey.reference.decrypt(c))).toEqual(mine);
    expect(Array.from(await enc.decryptAsync(pair.privateKey, { threads: 2 }))).toEqual(values);
    const viaAsync = await EncryptedVector.encryptAsync(values, pair.publicKey, { encoding, pack, threads: 0 });
    expect(Array.from(viaAsync.decrypt(pair.privateKey))).toEqual(values);
  });

  it('refuses out-of-range input (or clips it), and vectors that do not fit together', async () => {
    expect(() => encrypt([1, 40000])).toThrow(EncodingRangeError);
    const clipped = EncryptedVector.encrypt([1, 40000, -1e12], pair.publicKey, { encoding, pack, clip: true });
    expect(Array.from(clipped.decrypt(pair.privateKey))).toEqual([1, encoding.maxValue, encoding.minValue]);
    const a = encrypt([1, 2, 3]);
    expect(() => a.add(encrypt([1, 2]))).toThrow(ShapeError);
    expect(() => a.addPlain([1])).toThrow(ShapeError);
    const other = await keyPair(256);
    const foreign = EncryptedVector.encrypt([1, 2, 3], other.publicKey, { encoding, pack: false });
    expect(() => a.add(foreign)).toThrow(KeyMismatchError);
    expect(() => a.decrypt(other.privateKey)).toThrow(KeyMismatchError);
    const otherEncoding = new FixedPointEncoding({ fractionalBits: 8, signed });
    expect(() => a.add(EncryptedVector.encrypt([1, 2, 3], pair.publicKey, { encoding: otherEncoding, pack }))).toThrow(ValueError);
    expect(() => a.add(EncryptedVector.encrypt([1, 2, 3], pair.publicKey, { encoding, pack: packed ? false : { additions: 2 } }))).toThrow(
      PackingUnsupportedError,
    );
    expect(() => EncryptedVector.addMany([])).toThrow(ValueError);
  });
});

describe('unpacked-only operations', () => {
  let pair: PaillierKeyPair;
  const encoding = new FixedPointEncoding({ fractionalBits: F, signed: 'offset' });
  beforeAll(async () => {
    pair = await keyPair(512);
  });

  it('mul (elementwise), sum and dot are exact, with integer or fractional public operands', () => {
    const rnd = new TestRandom(30);
    const x = Array.from({ length: 6 }, () => rnd.fixed(100, F));
    const X = x.map((v) => exactScaled(v, F));
    const ex = EncryptedVector.encrypt(x, pair.publicKey, { encoding });
    const ints = [3, -1, 0, 7, -20, 2];
    expect(ex.mul(ints).decryptExact(pair.privateKey).numerators).toEqual(X.map((v, i) => v * BigInt(ints[i]!)));
    const fr = [0.5, -0.25, 1, 2, -3.5, 0.125];
    const got = ex.mul(fr);
    expect(got.scaleExponent).toBe(2);
    expect(got.decryptExact(pair.privateKey).numerators).toEqual(X.map((v, i) => v * BigInt(fr[i]! * 2 ** F)));
    expect(ex.sum().decryptExact(pair.privateKey).numerators).toEqual([X.reduce((a, b) => a + b)]);
    const matrix = x.map((_, i) => [i - 2, 1, -3 * i]);
    const dot = ex.dot(matrix);
    expect(dot.length).toBe(3);
    const expected = [0, 1, 2].map((j) => X.reduce((acc, v, i) => acc + v * BigInt(matrix[i]![j]!), 0n));
    expect(dot.decryptExact(pair.privateKey).numerators).toEqual(expected);
    const fmatrix = x.map((_, i) => [0.5 * i - 1, 0.25]);
    const fdot = ex.dot(fmatrix).decrypt(pair.privateKey);
    const fexp = [0, 1].map((j) => x.reduce((acc, v, i) => acc + v * fmatrix[i]![j]!, 0));
    fexp.forEach((v, j) => expect(fdot[j]).toBeCloseTo(v, 6));
    expect(() => ex.dot([[1]])).toThrow(ShapeError);
    expect(() => ex.mul([1, 2])).toThrow(ShapeError);
  });

  it('packed vectors refuse what packing cannot do, with a typed error', () => {
    const packed = EncryptedVector.encrypt([1, 2, 3], pair.publicKey, { encoding, pack: { additions: 2 } });
    expect(() => packed.mul([1, 2, 3])).toThrow(PackingUnsupportedError);
    expect(() => packed.sum()).toThrow(PackingUnsupportedError);
    expect(() => packed.dot([[1], [2], [3]])).toThrow(/pack: false/);
  });
});

describe('overflow is refused before anything is computed', () => {
  let pair: PaillierKeyPair;
  beforeAll(async () => {
    pair = await keyPair(256);
  });

  it('unpacked: repeated fractional scalar products hit the key\'s plaintext space', () => {
    const encoding = new FixedPointEncoding({ fractionalBits: 32, valueBits: 64 });
    let v = EncryptedVector.encrypt([1.5, -2.25], pair.publicKey, { encoding });
    // 256-bit key: 64 bits fresh, +~33 bits per multiplication by 1.5 at scale 2^32.
    let steps = 0;
    let error: unknown;
    try {
      for (;;) {
        v = v.mulScalar(1.5);
        steps++;
      }
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PaillierOverflowError);
    expect(steps).toBeGreaterThanOrEqual(4);
    expect(steps).toBeLessThanOrEqual(6);
    expect((error as PaillierOverflowError).op).toBe('mulScalar(1.5)');
    // Everything computed so far is exact.
    const expected = [1.5, -2.25].map((x) => x * 1.5 ** steps);
    expect(Array.from(v.decrypt(pair.privateKey))).toEqual(expected);
    // The refused operation left its operand usable.
    expect(Array.from(v.mulScalar(1n).decrypt(pair.privateKey))).toEqual(expected);
  });

  it('unpacked: an encoding wider than the key is refused at encryption', () => {
    const wide = new FixedPointEncoding({ fractionalBits: 16, valueBits: 300 });
    expect(() => EncryptedVector.encrypt([1], pair.publicKey, { encoding: wide })).toThrow(PaillierOverflowError);
  });

  it('packed: summing more vectors than declared is refused; the declared number fits exactly', () => {
    const encoding = new FixedPointEncoding({ fractionalBits: 8, valueBits: 16 });
    const pack = { additions: 5 }; // 16 + 3 bits per slot: room for 8 values
    const v = EncryptedVector.encrypt([encoding.maxValue, encoding.minValue, 0], pair.publicKey, { encoding, pack });
    expect(v.layout!.slotBits).toBe(19);
    expect(v.budget.additionsLeft).toBe(7);
    const eight = EncryptedVector.addMany(Array.from({ length: 8 }, () => v));
    expect(Array.from(eight.decrypt(pair.privateKey))).toEqual([8 * encoding.maxValue, 8 * encoding.minValue, 0]);
    expect(() => EncryptedVector.addMany(Array.from({ length: 9 }, () => v))).toThrow(PaillierOverflowError);
    expect(() => eight.add(v)).toThrow(PaillierOverflowError);
    expect(() => v.mulScalar(9)).toThrow(PaillierOverflowError);
    expect(() => v.mulScalar(0.5)).toThrow(PaillierOverflowError); // needs 8 more bits than the slot has
  });

  it('decryption refuses values that break the budget the metadata claims (tampering)', () => {
    const encoding = new FixedPointEncoding({ fractionalBits: 8, valueBits: 16 });
    for (const pack of [false, { additions: 2 }] as const) {
      const v = EncryptedVector.encrypt([100, -100], pair.publicKey, { encoding, pack });
      const wire = v.toWire();
      // Claim a narrower range than the one the values were encrypted in.
      const lying = { ...wire.meta, budget: { lo: '0x0', hi: '0x10' } };
      const forged = EncryptedVector.fromWire({ meta: lying, data: wire.data });
      expect(() => forged.decrypt(pair.privateKey)).toThrow(PaillierRangeError);
    }
  });
});
