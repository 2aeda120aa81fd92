import { beforeAll, describe, expect, it } from 'vitest';
import { ValueError, WireFormatError } from '../../src/errors.js';
import { FixedPointEncoding } from '../../src/he/encoding.js';
import { PaillierOverflowError } from '../../src/he/errors.js';
import type { PaillierKeyPair } from '../../src/he/paillier/keys.js';
import { PackingLayout } from '../../src/he/packing.js';
import { EncryptedVector } from '../../src/he/vector.js';
import { keyPair, TestRandom } from './helpers.js';

describe('PackingLayout', () => {
  it('headroom grows with the declared additions and extra bits', async () => {
    const { publicKey } = await keyPair(512);
    const enc = new FixedPointEncoding({ valueBits: 32 });
    expect(PackingLayout.choose(publicKey, enc).slotBits).toBe(32);
    expect(PackingLayout.choose(publicKey, enc, { additions: 2 }).slotBits).toBe(33);
    expect(PackingLayout.choose(publicKey, enc, { additions: 16 }).slotBits).toBe(36);
    expect(PackingLayout.choose(publicKey, enc, { additions: 17 }).slotBits).toBe(37);
    expect(PackingLayout.choose(publicKey, enc, { additions: 10, extraBits: 16 }).slotBits).toBe(52);
    expect(() => PackingLayout.choose(publicKey, enc, { additions: 0 })).toThrow(ValueError);
    expect(() => PackingLayout.choose(publicKey, enc, { extraBits: -1 })).toThrow(ValueError);
    expect(() => PackingLayout.choose(publicKey, new FixedPointEncoding({ valueBits: 600 }))).toThrow(PaillierOverflowError);
  });

  it('pack/unpack round-trips slot integers with a partly filled last plaintext', () => {
    const layout = new PackingLayout(10, 3);
    const slots = [0n, 1023n, 512n, 7n, 1n];
    const packed = layout.pack(slots, 5n);
    expect(packed.length).toBe(2);
    expect(packed[1]).toBe(7n | (1n << 10n) | (5n << 20n));
    expect(layout.unpack(packed, 5)).toEqual(slots);
    expect(() => new PackingLayout(1, 3)).toThrow(ValueError);
  });

  it('validates its JSON against the key', async () => {
    const { publicKey } = await keyPair(512);
    expect(PackingLayout.fromJSON({ slotBits: 36, slots: 14 }, publicKey).slots).toBe(14);
    expect(() => PackingLayout.fromJSON({ slotBits: 36, slots: 15 }, publicKey)).toThrow(WireFormatError);
    expect(() => PackingLayout.fromJSON({ slotBits: '36', slots: 1 }, publicKey)).toThrow(WireFormatError);
    expect(() => PackingLayout.fromJSON({ slotBits: 36, slots: 0 }, publicKey)).toThrow(WireFormatError);
  });
});

describe('packed aggregation at the edges of the bit budget', () => {
  let pair: PaillierKeyPair;
  beforeAll(async () => {
    pair = await keyPair(512);
  });

  it.each([1, 7, 14, 15, 29, 31])('%i values from 10 clients at the extremes sum exactly', (length) => {
    const encoding = new FixedPointEncoding({ fractionalBits: 16, valueBits: 32 });
    const pack = { additions: 10 };
    const rnd = new TestRandom(length);
    const { maxValue, minValue } = encoding;
    const clients = Array.from({ length: 10 }, (_, c) =>
      Array.from({ length }, (_, i) => (i % 3 === 0 ? maxValue : i % 3 === 1 ? minValue : c === 0 ? 0 : rnd.fixed(30000, 16))),
    );
    const encrypted = clients.map((values) => EncryptedVector.encrypt(values, pair.publicKey, { encoding, pack }));
    expect(encrypted[0]!.ciphertextCount).toBe(Math.ceil(length / 14)); // 511 bits / 36
    const total = EncryptedVector.addMany(encrypted);
    const expected = Array.from({ length }, (_, i) => clients.reduce((acc, values) => acc + BigInt(values[i]! * 65536), 0n));
    expect(total.decryptExact(pair.privateKey).numerators).toEqual(expected);
    // 36-bit slots hold 16 fresh values: 6 more fit, a 17th is refused before computing.
    expect(EncryptedVector.addMany([total, ...encrypted.slice(0, 6)]).budget.fits).toBe(true);
    expect(() => EncryptedVector.addMany([total, ...encrypted.slice(0, 7)])).toThrow(PaillierOverflowError);
  });

  it('the maximum number of additions for a slot fits, even all at the most negative value', () => {
    const encoding = new FixedPointEncoding({ fractionalBits: 4, valueBits: 8 });
    const v = EncryptedVector.encrypt([encoding.minValue, encoding.maxValue, 0, encoding.minValue], pair.publicKey, {
      encoding,
      pack: { additions: 16 },
    });
    expect(v.layout!.slotBits).toBe(12);
    const total = EncryptedVector.addMany(Array.from({ length: 16 }, () => v));
    expect(Array.from(total.decrypt(pair.privateKey))).toEqual([16 * encoding.minValue, 16 * encoding.maxValue, 0, 16 * encoding.minValue]);
    expect(total.budget.additionsLeft).toBe(0);
  });

  it('negation and negative or fractional scalars keep slots non-negative and exact', () => {
    const encoding = new FixedPointEncoding({ fractionalBits: 8, valueBits: 16 });
    const values = [encoding.maxValue, encoding.minValue, 0, -1.5, 3.25];
    const v = EncryptedVector.encrypt(values, pair.publicKey, { encoding, pack: { additions: 4, extraBits: 12 } });
    expect(Array.from(v.neg().decrypt(pair.privateKey))).toEqual(values.map((x) => -x + 0));
    expect(Array.from(v.mulScalar(-3).decrypt(pair.privateKey))).toEqual(values.map((x) => -3 * x + 0));
    expect(Array.from(v.mulScalar(-0.5).decrypt(pair.privateKey))).toEqual(values.map((x) => -0.5 * x + 0));
    expect(Array.from(v.sub(v.neg()).decrypt(pair.privateKey))).toEqual(values.map((x) => 2 * x));
    expect(Array.from(v.neg().neg().decrypt(pair.privateKey))).toEqual(values);
  });
});
