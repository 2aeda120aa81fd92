// The python-paillier failure from seed 003, replayed against syft-ts.
//
// There, every multiplication of an encrypted number by a float grew its mantissa by ~53 bits
// until it wrapped modulo n, and the wrapped value then decrypted to a wrong number without any
// error. Here the same kind of training loop (repeated fractional scalar products, repeated
// aggregation rounds, every vector serialized between hops, keys sent as JSON) must either give
// exactly the number that exact arithmetic gives, or refuse with a PaillierOverflowError.
import { beforeAll, describe, expect, it } from 'vitest';
import { FixedPointEncoding } from '../../src/he/encoding.js';
import { PaillierOverflowError } from '../../src/he/errors.js';
import { PaillierPrivateKey, PaillierPublicKey } from '../../src/he/paillier/keys.js';
import type { PaillierKeyPair } from '../../src/he/paillier/keys.js';
import { EncryptedVector } from '../../src/he/vector.js';
import { decodeWire, encodeWire } from '../../src/he/wire.js';
import { exactScaled, keyPair, TestRandom } from './helpers.js';

const F = 16;
const SCALE = 1n << BigInt(F);

/** Exact mirror of an encrypted vector: value = num / 2^(F·exp). */
interface Exact {
  readonly num: bigint[];
  readonly exp: number;
}

const quantize = (s: number): bigint => BigInt(Math.round(s * 2 ** F));
const mirrorMul = (x: Exact, s: number): Exact => ({ num: x.num.map((v) => v * quantize(s)), exp: x.exp + 1 });
const mirrorLift = (x: Exact, exp: number): Exact => ({ num: x.num.map((v) => v * SCALE ** BigInt(exp - x.exp)), exp });
function mirrorAdd(...xs: Exact[]): Exact {
  const exp = Math.max(...xs.map((x) => x.exp));
  const lifted = xs.map((x) => mirrorLift(x, exp));
  return { num: lifted[0]!.num.map((_, i) => lifted.reduce((acc, x) => acc + x.num[i]!, 0n)), exp };
}
const mirrorNeg = (x: Exact): Exact => ({ num: x.num.map((v) => -v), exp: x.exp });
const toFloat = (x: Exact): number[] => x.num.map((v) => Number(v) / 2 ** (F * x.exp));

describe('python-paillier\'s overflow, replayed: exact or refused, never wrong', () => {
  let pair: PaillierKeyPair;
  // Each party gets the keys it needs as JSON, as over HTTP in the seed.
  let clientKey: PaillierPublicKey;
  let serverKey: PaillierPublicKey;
  let ownerKey: PaillierPrivateKey;
  const encoding = new FixedPointEncoding({ fractionalBits: F, valueBits: 32 });
  const hop = (v: EncryptedVector, key: PaillierPublicKey): EncryptedVector =>
    EncryptedVector.fromWire(decodeWire(encodeWire(v.toWire())), { publicKey: key });

  beforeAll(async () => {
    pair = await keyPair(512);
    clientKey = PaillierPublicKey.fromJSON(JSON.parse(JSON.stringify(pair.publicKey)));
    serverKey = PaillierPublicKey.fromJSON(JSON.parse(JSON.stringify(pair.publicKey)));
    ownerKey = PaillierPrivateKey.fromJSON(JSON.parse(JSON.stringify(pair.privateKey)));
  });

  it('encrypted training with fractional scalars stays exact round after round, then refuses', () => {
    const rnd = new TestRandom(3);
    const size = 8;
    const weights = [0.5, 0.3, 0.2]; // n_c / N of three data owners
    const decay = 0.99;
    const lr = 0.1;
    const w0 = Array.from({ length: size }, () => rnd.fixed(2, F));
    let model = hop(EncryptedVector.encrypt(w0, clientKey, { encoding }), serverKey);
    let exact: Exact = { num: w0.map((v) => exactScaled(v, F)), exp: 1 };
    let float = w0.slice();

    let rounds = 0;
    let refused: PaillierOverflowError | undefined;
    for (let round = 1; round <= 60 && refused === undefined; round++) {
      const grads = weights.map(() => Array.from({ length: size }, () => rnd.fixed(1, F)));
      const uploads = grads.map((g) => hop(EncryptedVector.encrypt(g, clientKey, { encoding }), serverKey));
      try {
        // Server: w ← decay·w − lr·Σ (n_c/N)·g_c, all on ciphertexts.
        const update = EncryptedVector.addMany(uploads.map((u, c) => u.mulScalar(weights[c]!))).mulScalar(lr);
        model = hop(model.mulScalar(decay).sub(update), serverKey);
      } catch (e) {
        if (!(e instanceof PaillierOverflowError)) throw e;
        refused = e;
        break;
      }
      const update = mirrorMul(mirrorAdd(...grads.map((g, c) => mirrorMul({ num: g.map((v) => exactScaled(v, F)), exp: 1 }, weights[c]!))), lr);
      exact = mirrorAdd(mirrorMul(exact, decay), mirrorNeg(update));
      float = float.map((w, i) => decay * w - lr * grads.reduce((acc, g, c) => acc + weights[c]! * g[i]!, 0));

      // The model owner decrypts what the server sends: exactly the exact result.
      const atOwner = hop(model, ownerKey.publicKey);
      const got = atOwner.decryptExact(ownerKey);
      expect(got.denominator).toBe(SCALE ** BigInt(exact.exp));
      expect(got.numerators).toEqual(exact.num);
      const floats = Array.from(atOwner.decrypt(ownerKey));
      expect(floats).toEqual(toFloat(exact));
      floats.forEach((v, i) => expect(Math.abs(v - float[i]!)).toBeLessThan(1e-3));
      rounds = round;
    }
    // A 512-bit key holds ~511 bits; each round's fractional decay adds 16 bits to a 32-bit start.
    expect(refused).toBeInstanceOf(PaillierOverflowError);
    expect(rounds).toBeGreaterThanOrEqual(25);
    expect(rounds).toBeLessThanOrEqual(31);
    expect(refused!.availableBits).toBe(511);
    expect(refused!.message).toMatch(/decrypt and re-encrypt/);
  });

  it('without the budget check the same ciphertext arithmetic silently decrypts to wrong numbers', () => {
    // Raw ciphertext operations (no budget), decoded with the usual rule "x > n/2 means x − n":
    // this is what python-paillier did. We track where the checked layer refuses and where the
    // raw numbers first go wrong.
    const { publicKey: pk } = pair;
    const K = quantize(0.99);
    const start = [1.25, -0.5, 0.75];
    let checked = EncryptedVector.encrypt(start, clientKey, { encoding });
    let raw = checked.ciphertexts;
    let exact = start.map((v) => exactScaled(v, F));
    let refusedAt: number | undefined;
    let firstWrongAt: number | undefined;
    for (let step = 1; step <= 45 && firstWrongAt === undefined; step++) {
      exact = exact.map((v) => v * K);
      raw = raw.map((c) => pk.mulPlain(c, K));
      const decoded = raw.map((c) => {
        const m = ownerKey.decrypt(c);
        return m > pk.n / 2n ? m - pk.n : m;
      });
      if (decoded.some((d, i) => d !== exact[i])) firstWrongAt = step;
      if (refusedAt === undefined) {
        try {
          checked = checked.mulScalar(0.99);
          // Whenever the checked layer answers, it answers exactly.
          expect(checked.decryptExact(ownerKey).numerators).toEqual(exact);
        } catch (e) {
          expect(e).toBeInstanceOf(PaillierOverflowError);
          refusedAt = step;
        }
      }
    }
    expect(firstWrongAt).toBeDefined(); // the raw arithmetic did wrap and return wrong numbers
    expect(refusedAt).toBeDefined();
    expect(refusedAt!).toBeLessThanOrEqual(firstWrongAt!); // we refused before any wrong number
  });

  it('decrypting and re-encrypting resets the scale, so training can go on indefinitely', () => {
    const rnd = new TestRandom(4);
    const size = 5;
    let float = Array.from({ length: size }, () => rnd.fixed(2, F));
    let model = EncryptedVector.encrypt(float, clientKey, { encoding });
    for (let round = 1; round <= 60; round++) {
      const grad = Array.from({ length: size }, () => rnd.fixed(1, F));
      const upload = hop(EncryptedVector.encrypt(grad, clientKey, { encoding }), serverKey);
      model = hop(model.mulScalar(0.99).sub(upload.mulScalar(0.1)), serverKey);
      float = float.map((w, i) => 0.99 * w - 0.1 * grad[i]!);
      if (round % 10 === 0) {
        // The owner refreshes: decrypt, re-encrypt at the protocol's single scale.
        const plain = hop(model, ownerKey.publicKey).decrypt(ownerKey);
        Array.from(plain).forEach((v, i) => expect(Math.abs(v - float[i]!)).toBeLessThan(1e-3));
        model = hop(EncryptedVector.encrypt(plain, clientKey, { encoding }), serverKey);
        expect(model.scaleExponent).toBe(1);
      }
    }
  });

  it('packed aggregation over many rounds is exact; more clients than packed for are refused', () => {
    const rnd = new TestRandom(5);
    const clients = 10;
    const size = 33; // 3 ciphertexts of 14 slots, the last one partly filled
    const pack = { additions: clients };
    const perRound = (): number[][] => Array.from({ length: clients }, () => Array.from({ length: size }, () => rnd.fixed(0.2, F)));
    for (let round = 0; round < 5; round++) {
      const grads = perRound();
      const uploads = grads.map((g) => hop(EncryptedVector.encrypt(g, clientKey, { encoding, pack }), serverKey));
      const total = hop(EncryptedVector.addMany(uploads), ownerKey.publicKey);
      const expected = Array.from({ length: size }, (_, i) => grads.reduce((acc, g) => acc + exactScaled(g[i]!, F), 0n));
      expect(total.decryptExact(ownerKey).numerators).toEqual(expected);
      const average = Array.from(total.decrypt(ownerKey)).map((v) => v / clients);
      average.forEach((v, i) => expect(v).toBeCloseTo(grads.reduce((acc, g) => acc + g[i]!, 0) / clients, 12));
    }
    // Slots were sized for 10 clients (36 bits: room for 16 values). A 17th is refused.
    const many = Array.from({ length: 17 }, () => EncryptedVector.encrypt(perRound()[0]!, clientKey, { encoding, pack }));
    expect(() => EncryptedVector.addMany(many)).toThrow(PaillierOverflowError);
    // So is weighting each client by a fractional n_c/N without headroom for it...
    expect(() => many[0]!.mulScalar(0.1)).toThrow(PaillierOverflowError);
    // ...which works, exactly, when the slots were given room for the scalar.
    const roomy = { additions: clients, extraBits: F };
    const g = perRound()[0]!;
    const weighted = EncryptedVector.encrypt(g, clientKey, { encoding, pack: roomy }).mulScalar(0.1);
    expect(hop(weighted, serverKey).decryptExact(ownerKey).numerators).toEqual(g.map((v) => exactScaled(v, F) * quantize(0.1)));
  });

  it('without the budget check, packed slots carry into each other and decrypt to wrong numbers', () => {
    const pk = pair.publicKey;
    const pack = { additions: 10 };
    const max = Array.from({ length: 14 }, () => encoding.maxValue);
    const v = EncryptedVector.encrypt(max, clientKey, { encoding, pack });
    const layout = v.layout!;
    // 17 raw additions of the largest value overflow a 36-bit slot.
    const raw = pk.sum(Array.from({ length: 17 }, () => v.ciphertexts[0]!));
    const slots = layout.unpack([ownerKey.decrypt(raw)], 14);
    const naive = slots.map((s) => s - 17n * v.offset);
    const truth = 17n * encoding.maxEncoded;
    expect(naive.some((x) => x !== truth)).toBe(true); // silently wrong
    expect(() => EncryptedVector.addMany(Array.from({ length: 17 }, () => v))).toThrow(PaillierOverflowError);
  });
});
