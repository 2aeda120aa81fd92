import { beforeAll, describe, expect, it } from 'vitest';
import { WireFormatError } from '../../src/errors.js';
import { FixedPointEncoding } from '../../src/he/encoding.js';
import { KeyMismatchError } from '../../src/he/errors.js';
import type { PaillierKeyPair } from '../../src/he/paillier/keys.js';
import { EncryptedVector } from '../../src/he/vector.js';
import { decodeWire, encodeWire } from '../../src/he/wire.js';
import type { EncryptedVectorWire } from '../../src/he/wire.js';
import { keyPair } from './helpers.js';

describe('EncryptedVector wire form', () => {
  let pair: PaillierKeyPair;
  const encoding = new FixedPointEncoding({ fractionalBits: 12, valueBits: 24, signed: 'offset' });
  beforeAll(async () => {
    pair = await keyPair(512);
  });

  it.each([false, true])('round-trips through meta + bytes and through one framed byte string (packed: %s)', (packed) => {
    const values = [1.5, -2.25, 0, 100.125, -0.000244140625];
    const v = EncryptedVector.encrypt(values, pair.publicKey, { encoding, pack: packed ? { additions: 3, extraBits: 14 } : false })
      .mulScalar(-0.5)
      .addPlain(values);
    const wire = v.toWire();
    expect(wire.data.length).toBe(v.ciphertextCount * 2 * 64);
    expect(wire.data.length).toBe(v.byteLength);
    // The metadata survives JSON, and is small.
    const meta = JSON.parse(JSON.stringify(wire.meta));
    expect(JSON.stringify(meta).length).toBeLessThan(600);
    const back = EncryptedVector.fromWire({ meta, data: wire.data.slice() });
    expect(back.ciphertexts).toEqual(v.ciphertexts);
    expect(back.scaleExponent).toBe(2);
    expect(back.offset).toBe(v.offset);
    expect(back.budget.lo).toBe(v.budget.lo);
    expect(back.budget.hi).toBe(v.budget.hi);
    expect(Array.from(back.decrypt(pair.privateKey))).toEqual(Array.from(v.decrypt(pair.privateKey)));
    const framed = encodeWire(wire);
    const again = EncryptedVector.fromWire(decodeWire(framed), { publicKey: pair.publicKey });
    expect(again.publicKey).toBe(pair.publicKey);
    expect(Array.from(again.decrypt(pair.privateKey))).toEqual(values.map((x) => -0.5 * x + x));
    // A decoded vector computes like the original.
    expect(Array.from(again.add(v).decrypt(pair.privateKey))).toEqual(values.map((x) => 2 * (-0.5 * x + x)));
  });

  it('refuses wrong lengths, values that are not ciphertexts, and another key', async () => {
    const v = EncryptedVector.encrypt([1, 2, 3], pair.publicKey, { encoding });
    const wire = v.toWire();
    const width = pair.publicKey.ciphertextBytes;
    const withData = (data: Uint8Array): EncryptedVectorWire => ({ meta: wire.meta, data });
    expect(() => EncryptedVector.fromWire(withData(wire.data.slice(1)))).toThrow(WireFormatError);
    expect(() => EncryptedVector.fromWire(withData(new Uint8Array(wire.data.length + width)))).toThrow(WireFormatError);
    const zero = wire.data.slice();
    zero.fill(0, 0, width);
    expect(() => EncryptedVector.fromWire(withData(zero))).toThrow(/not in Z\*/);
    const big = wire.data.slice();
    big.fill(0xff, width, 2 * width); // ≥ n²
    expect(() => EncryptedVector.fromWire(withData(big))).toThrow(WireFormatError);
    expect(() => EncryptedVector.fromWire(withData([1, 2, 3] as unknown as Uint8Array))).toThrow(WireFormatError);
    const other = await keyPair(256);
    expect(() => EncryptedVector.fromWire(wire, { publicKey: other.publicKey })).toThrow(KeyMismatchError);
  });

  it('refuses malformed metadata field by field', () => {
    const v = EncryptedVector.encrypt([1, 2, 3], pair.publicKey, { encoding, pack: { additions: 2 } });
    const wire = v.toWire();
    const bad: Array<Record<string, unknown>> = [
      { format: 'other' },
      { version: 2 },
      { n: 12 },
      { n: '0x10' },
      { length: -1 },
      { length: 1.5 },
      { length: 100 }, // needs more ciphertexts than the data holds
      { encoding: { base: 2, precision: 12 } },
      { scaleExponent: 0 },
      { scaleExponent: 1e9 },
      { offset: 'abc' },
      { budget: { lo: '0x0' } },
      { budget: { lo: '0x0', hi: '0x' + (1n << 40n).toString(16) } }, // wider than a 25-bit slot
      { layout: { slotBits: 25, slots: 1000 } },
      { layout: 'packed' },
    ];
    for (const change of bad) {
      expect(() => EncryptedVector.fromWire({ meta: { ...wire.meta, ...change }, data: wire.data }), JSON.stringify(change)).toThrow(
        WireFormatError,
      );
    }
    expect(() => EncryptedVector.fromWire({ meta: null, data: wire.data })).toThrow(WireFormatError);
    expect(() => EncryptedVector.fromWire(null as never)).toThrow(WireFormatError);
  });

  it('refuses framed bytes that are not an encrypted vector', () => {
    const framed = encodeWire(EncryptedVector.encrypt([1], pair.publicKey, { encoding }).toWire());
    expect(() => decodeWire(new Uint8Array([1, 2, 3]))).toThrow(WireFormatError);
    const badMagic = framed.slice();
    badMagic[0] = 0;
    expect(() => decodeWire(badMagic)).toThrow(WireFormatError);
    const badLength = framed.slice();
    new DataView(badLength.buffer).setUint32(4, 1e8, false);
    expect(() => decodeWire(badLength)).toThrow(WireFormatError);
    const badJson = framed.slice();
    badJson[8] = 0x7b + 1; // not '{'
    expect(() => decodeWire(badJson)).toThrow(WireFormatError);
  });
});
