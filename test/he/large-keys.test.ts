// The few cases that need real-size (2048-bit) keys, in one file so the key is generated once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedPointEncoding } from '../../src/he/encoding.js';
import type { PaillierKeyPair } from '../../src/he/paillier/keys.js';
import { PackingLayout } from '../../src/he/packing.js';
import { RnPool } from '../../src/he/paillier/rn-pool.js';
import { shutdownThreads } from '../../src/he/paillier/threads.js';
import { EncryptedVector } from '../../src/he/vector.js';
import { exactScaled, keyPair, TestRandom } from './helpers.js';

describe('2048-bit keys', () => {
  let pair: PaillierKeyPair;
  beforeAll(async () => {
    pair = await keyPair(2048);
  });
  afterAll(() => shutdownThreads());

  it('raw encrypt/decrypt/add/mulPlain agree with paillier-bigint, both directions', async () => {
    const { publicKey: pk, privateKey: sk } = pair;
    expect(pk.bits).toBe(2048);
    expect(pk.ciphertextBytes).toBe(512);
    const rnd = new TestRandom(12);
    const a = rnd.bits(2000);
    const b = rnd.bits(2000);
    const ca = pk.encrypt(a);
    const cb = pk.reference.encrypt(b);
    expect(sk.reference.decrypt(ca)).toBe(a);
    expect(sk.decrypt(cb)).toBe(b);
    expect(sk.decrypt(pk.add(ca, cb))).toBe((a + b) % pk.n);
    expect(sk.reference.decrypt(pk.addPlain(ca, 5n))).toBe(a + 5n);
    expect(sk.decrypt(pk.mulPlain(ca, -3n))).toBe((((-3n * a) % pk.n) + pk.n) % pk.n);
    const pool = new RnPool(pk, { privateKey: sk });
    await pool.fill(2);
    expect(sk.reference.decrypt(pk.encrypt(a, { pool }))).toBe(a);
  });

  it('packs 56 values of 32 bits per ciphertext for 10 clients, and the sum of 10 packed gradients is exact', async () => {
    const { publicKey: pk, privateKey: sk } = pair;
    const encoding = new FixedPointEncoding({ fractionalBits: 16, valueBits: 32 });
    const pack = { additions: 10 };
    const layout = PackingLayout.choose(pk, encoding, pack);
    expect(layout.slotBits).toBe(36);
    expect(layout.slots).toBe(56);
    // The MNIST MLP's 109,386 parameters: 1,954 ciphertexts, about 1.0 MB per client (target 1.2 MB).
    expect(layout.ciphertextCount(109_386)).toBe(1954);
    expect(layout.ciphertextCount(109_386) * pk.ciphertextBytes).toBeLessThan(1.2e6);

    const rnd = new TestRandom(40);
    const length = 61; // one full ciphertext and a partly filled one
    const clients = Array.from({ length: 10 }, (_, c) =>
      Array.from({ length }, (_, i) => (i === 0 ? encoding.maxValue : i === 1 ? encoding.minValue : c === 3 ? 0 : rnd.fixed(1, 16))),
    );
    const pool = new RnPool(pk, { privateKey: sk });
    await pool.fill(20);
    const uploads = clients.map((g) => EncryptedVector.encrypt(g, pk, { encoding, pack, pool }));
    expect(uploads[0]!.ciphertextCount).toBe(2);
    const total = EncryptedVector.addMany(uploads);
    const expected = Array.from({ length }, (_, i) => clients.reduce((acc, g) => acc + exactScaled(g[i]!, 16), 0n));
    const sums = await total.decryptAsync(sk);
    expect(Array.from(sums)).toEqual(expected.map((e) => Number(e) / 65536));
    expect(total.decryptExact(sk).numerators).toEqual(expected);
  });
});
