import { generateRandomKeys } from 'paillier-bigint';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValueError, WireFormatError } from '../../src/errors.js';
import { KeyMismatchError } from '../../src/he/errors.js';
import { keygen, PaillierPrivateKey, PaillierPublicKey } from '../../src/he/paillier/keys.js';
import type { PaillierKeyPair } from '../../src/he/paillier/keys.js';
import { RnPool } from '../../src/he/paillier/rn-pool.js';
import { keyPair, TestRandom } from './helpers.js';

describe('Paillier keys and raw ciphertext operations (512-bit keys)', () => {
  let pair: PaillierKeyPair;
  beforeAll(async () => {
    pair = await keyPair(512);
  });

  it('keygen makes a g = n + 1 key of the requested size', () => {
    const { publicKey, privateKey } = pair;
    expect(publicKey.bits).toBe(512);
    expect(publicKey.g).toBe(publicKey.n + 1n);
    expect(privateKey.p * privateKey.q).toBe(publicKey.n);
    expect(publicKey.ciphertextBytes).toBe(128);
  });

  it('our encryption decrypts with paillier-bigint, and paillier-bigint encryption decrypts with ours', () => {
    const { publicKey, privateKey } = pair;
    const rnd = new TestRandom(10);
    for (let i = 0; i < 20; i++) {
      const m = rnd.bits(511) % publicKey.n;
      expect(privateKey.reference.decrypt(publicKey.encrypt(m))).toBe(m);
      expect(privateKey.decrypt(publicKey.reference.encrypt(m))).toBe(m);
    }
    for (const m of [0n, 1n, publicKey.n - 1n]) {
      expect(privateKey.decrypt(publicKey.encrypt(m))).toBe(m);
      expect(privateKey.reference.decrypt(publicKey.encrypt(m))).toBe(m);
    }
  });

  it('encryption is randomised', () => {
    const { publicKey } = pair;
    expect(publicKey.encrypt(5n)).not.toBe(publicKey.encrypt(5n));
  });

  it('add, sum, addPlain, mulPlain (any sign) and dot match paillier-bigint and modular arithmetic', () => {
    const { publicKey: pk, privateKey: sk } = pair;
    const ref = pk.reference;
    const n = pk.n;
    const mod = (x: bigint): bigint => ((x % n) + n) % n;
    const rnd = new TestRandom(11);
    for (let t = 0; t < 8; t++) {
      const a = rnd.bits(500);
      const b = rnd.bits(500);
      const ca = pk.encrypt(a);
      const cb = ref.encrypt(b);
      expect(sk.decrypt(pk.add(ca, cb))).toBe(mod(a + b));
      expect(sk.reference.decrypt(pk.add(ca, cb))).toBe(sk.reference.decrypt(ref.addition(ca, cb)));
      const k = rnd.bits(40) - (1n << 39n); // signed
      expect(sk.decrypt(pk.addPlain(ca, k))).toBe(mod(a + k));
      expect(sk.decrypt(pk.mulPlain(ca, k))).toBe(mod(a * k));
      if (k >= 0n) expect(sk.reference.decrypt(ref.multiply(ca, k))).toBe(sk.decrypt(pk.mulPlain(ca, k)));
    }
    const ms = Array.from({ length: 6 }, (_, i) => BigInt(i * 1000 + 7));
    const cs = ms.map((m) => pk.encrypt(m));
    expect(sk.decrypt(pk.sum(cs))).toBe(ms.reduce((x, y) => x + y));
    const weights = [3n, -2n, 0n, 5n, -1n, 1n];
    const expected = ms.reduce((acc, m, i) => acc + m * weights[i]!, 0n);
    expect(sk.decrypt(pk.dot(cs, weights))).toBe(mod(expected));
    expect(sk.decrypt(pk.rerandomize(cs[0]!))).toBe(ms[0]);
    expect(pk.rerandomize(cs[0]!)).not.toBe(cs[0]);
  });

  it('decryptMany agrees with decrypt, on worker threads and on this thread', async () => {
    const { publicKey: pk, privateKey: sk } = pair;
    const ms = Array.from({ length: 13 }, (_, i) => BigInt(i) * 977n);
    const cs = ms.map((m) => pk.encrypt(m));
    expect(await sk.decryptMany(cs)).toEqual(ms);
    expect(await sk.decryptMany(cs, { threads: 0 })).toEqual(ms);
    expect(await sk.decryptMany([])).toEqual([]);
  });

  it('refuses bad plaintexts and ciphertexts with typed errors', () => {
    const { publicKey: pk, privateKey: sk } = pair;
    expect(() => pk.encrypt(-1n)).toThrow(ValueError);
    expect(() => pk.encrypt(pk.n)).toThrow(ValueError);
    expect(() => pk.encrypt(3 as unknown as bigint)).toThrow(ValueError);
    expect(() => sk.decrypt(0n)).toThrow(ValueError);
    expect(() => sk.decrypt(pk.n2)).toThrow(ValueError);
    expect(() => pk.add(1n, -5n)).toThrow(ValueError);
    expect(() => pk.dot([pk.encrypt(1n)], [])).toThrow(ValueError);
  });

  it('keys survive JSON (through strings) and are checked on the way in', () => {
    const { publicKey: pk, privateKey: sk } = pair;
    const pk2 = PaillierPublicKey.fromJSON(JSON.parse(JSON.stringify(pk)));
    const sk2 = PaillierPrivateKey.fromJSON(JSON.parse(JSON.stringify(sk)));
    expect(pk2.equals(pk)).toBe(true);
    expect(sk2.publicKey.equals(pk)).toBe(true);
    expect(sk2.decrypt(pk2.encrypt(42n))).toBe(42n);
    expect(sk.decrypt(pk2.encrypt(43n))).toBe(43n);
    // Decimal strings are accepted too.
    expect(PaillierPublicKey.fromJSON({ kind: 'paillier-public-key', n: pk.n.toString() }).equals(pk)).toBe(true);

    const good = sk.toJSON();
    const garbage: unknown[] = [
      null,
      'key',
      [],
      {},
      { kind: 'paillier-public-key', n: 12 },
      { kind: 'paillier-public-key', n: 'zz' },
      { kind: 'paillier-public-key', n: '0x10' }, // even and tiny
      { kind: 'paillier-private-key', n: pk.toJSON().n },
    ];
    for (const g of garbage) expect(() => PaillierPublicKey.fromJSON(g)).toThrow(WireFormatError);
    const badPrivate: unknown[] = [
      { ...good, kind: 'paillier-public-key' },
      { ...good, p: undefined },
      { ...good, n: '0x' + (pk.n + 2n).toString(16) }, // n ≠ p·q
      { ...good, p: '0x' + (sk.p * 3n).toString(16), n: '0x' + (sk.p * 3n * sk.q).toString(16) }, // composite "prime"
      { ...good, q: good.p, n: '0x' + (sk.p * sk.p).toString(16) }, // p = q
    ];
    for (const g of badPrivate) expect(() => PaillierPrivateKey.fromJSON(g)).toThrow(WireFormatError);
  });

  it('wraps paillier-bigint keys, and rejects keys with another generator', async () => {
    const ref = await generateRandomKeys(256, true);
    const sk = PaillierPrivateKey.fromReference(ref.privateKey);
    expect(sk.decrypt(ref.publicKey.encrypt(99n))).toBe(99n);
    expect(PaillierPublicKey.fromReference(ref.publicKey).equals(sk.publicKey)).toBe(true);
    const other = await generateRandomKeys(256, false);
    expect(() => PaillierPublicKey.fromReference(other.publicKey)).toThrow(ValueError);
    expect(() => PaillierPrivateKey.fromReference(other.privateKey)).toThrow(ValueError);
  });

  it('keygen validates its options, and a pool for another key is refused', async () => {
    await expect(keygen({ bits: 64 })).rejects.toThrow(ValueError);
    await expect(keygen({ bits: 1000.5 })).rejects.toThrow(ValueError);
    const other = await keygen({ bits: 256 });
    expect(() => pair.publicKey.encrypt(1n, { pool: new RnPool(other.publicKey) })).toThrow(KeyMismatchError);
    expect(() => new RnPool(pair.publicKey, { privateKey: other.privateKey })).toThrow(KeyMismatchError);
  });
});
