import { modPow as refModPow, modInv as refModInv } from 'bigint-crypto-utils';
import { describe, expect, it } from 'vitest';
import { bigintToBytes, bitLength, bytesToBigint, ceilLog2, parseBigint, ratioToNumber, toHex } from '../../src/he/paillier/bigint.js';
import { batchModInv, crtCombine, gcd, modInv } from '../../src/he/paillier/modular.js';
import { modPow, windowBits } from '../../src/he/paillier/modpow.js';
import { isProbablePrime } from '../../src/he/paillier/primality.js';
import { randomBelow, randomUnit } from '../../src/he/paillier/random.js';
import { TestRandom } from './helpers.js';

describe('modPow', () => {
  it('matches bigint-crypto-utils on random operands of many sizes', () => {
    const rnd = new TestRandom(1);
    for (const [modBits, expBits] of [[8, 4], [64, 64], [127, 20], [521, 300], [1024, 1024], [2050, 1025], [4096, 64]] as const) {
      for (let i = 0; i < 4; i++) {
        const mod = rnd.bits(modBits) | 1n | (1n << BigInt(modBits - 1));
        const base = rnd.bits(modBits + 3); // larger than the modulus on purpose
        const exp = rnd.bits(expBits) | 1n;
        expect(modPow(base, exp, mod)).toBe(refModPow(base, exp, mod));
      }
    }
  });

  it('handles edge cases: exponent 0 and 1, even moduli, base 0/1, modulus 1, negative base', () => {
    expect(modPow(5n, 0n, 7n)).toBe(1n);
    expect(modPow(5n, 1n, 7n)).toBe(5n);
    expect(modPow(0n, 5n, 7n)).toBe(0n);
    expect(modPow(1n, 12345n, 7n)).toBe(1n);
    expect(modPow(3n, 200n, 1n)).toBe(0n);
    expect(modPow(3n, 200n, 1000n)).toBe(refModPow(3n, 200n, 1000n));
    expect(modPow(-3n, 3n, 7n)).toBe(((-27n % 7n) + 7n) % 7n);
    expect(modPow(4n, 13n, 497n)).toBe(445n);
    expect(() => modPow(2n, 3n, 0n)).toThrow(RangeError);
  });

  it('inverts the base for negative exponents', () => {
    const m = 1_000_000_007n;
    const x = modPow(12345n, -7n, m);
    expect((x * modPow(12345n, 7n, m)) % m).toBe(1n);
  });

  it('picks wider windows for longer exponents', () => {
    expect(windowBits(16)).toBe(2);
    expect(windowBits(1025)).toBe(6);
    expect(windowBits(2048)).toBe(7);
  });
});

describe('modular helpers', () => {
  it('modInv agrees with bigint-crypto-utils and refuses non-units', () => {
    const rnd = new TestRandom(2);
    const m = rnd.bits(1024) | 1n;
    for (let i = 0; i < 5; i++) {
      const a = rnd.bits(1000) + 1n;
      if (gcd(a, m) !== 1n) continue;
      expect(modInv(a, m)).toBe(refModInv(a, m));
    }
    expect(() => modInv(6n, 9n)).toThrow(RangeError);
    expect(modInv(-3n, 11n)).toBe(refModInv(-3n, 11n));
  });

  it('batchModInv inverts every value with one inversion', () => {
    const m = (1n << 521n) - 1n; // prime
    const values = Array.from({ length: 17 }, (_, i) => BigInt(i + 2) ** 50n % m);
    const inverses = batchModInv(values, m);
    values.forEach((v, i) => expect((v * inverses[i]!) % m).toBe(1n));
    expect(batchModInv([], m)).toEqual([]);
  });

  it('crtCombine solves x ≡ a (mod p), x ≡ b (mod q)', () => {
    const p = 1_000_003n;
    const q = 999_983n;
    const x = crtCombine(123n, 456n, p, q, modInv(q, p));
    expect(x % p).toBe(123n);
    expect(x % q).toBe(456n);
    expect(x < p * q).toBe(true);
  });

  it('gcd', () => {
    expect(gcd(12n, -18n)).toBe(6n);
    expect(gcd(0n, 5n)).toBe(5n);
  });
});

describe('bigint helpers', () => {
  it('bitLength and ceilLog2', () => {
    expect(bitLength(0n)).toBe(0);
    expect(bitLength(1n)).toBe(1);
    expect(bitLength(255n)).toBe(8);
    expect(bitLength(256n)).toBe(9);
    expect(bitLength(-(1n << 100n))).toBe(101);
    expect(ceilLog2(1)).toBe(0);
    expect(ceilLog2(10)).toBe(4);
    expect(ceilLog2(16)).toBe(4);
    expect(ceilLog2(17)).toBe(5);
  });

  it('fixed-width bytes round trip, and too-wide values are refused', () => {
    const x = (1n << 200n) + 12345n;
    const bytes = bigintToBytes(x, 32);
    expect(bytes.length).toBe(32);
    expect(bytesToBigint(bytes)).toBe(x);
    expect(bytesToBigint(bigintToBytes(0n, 4))).toBe(0n);
    expect(() => bigintToBytes(1n << 40n, 4)).toThrow(RangeError);
  });

  it('parseBigint accepts decimal and 0x-hex strings only', () => {
    expect(parseBigint('123')).toBe(123n);
    expect(parseBigint('-0x1f')).toBe(-31n);
    expect(parseBigint(toHex(-(1n << 70n)))).toBe(-(1n << 70n));
    for (const bad of ['', '12a', '0x', 'abc', ' 1', 12, null, undefined, {}]) expect(parseBigint(bad)).toBeUndefined();
  });

  it('ratioToNumber is accurate far beyond the double range of either side', () => {
    expect(ratioToNumber(3n, 4n)).toBe(0.75);
    expect(ratioToNumber(-1n, 3n)).toBeCloseTo(-1 / 3, 15);
    const big = 1n << 3000n;
    expect(ratioToNumber(big * 5n, big * 2n)).toBe(2.5);
    expect(ratioToNumber(1n, big)).toBe(0);
    expect(ratioToNumber(7n << 1100n, 1n << 1100n)).toBe(7);
  });
});

describe('randomness and primality', () => {
  it('randomBelow stays below its bound and covers small ranges', () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 400; i++) {
      const x = randomBelow(10n);
      expect(x >= 0n && x < 10n).toBe(true);
      seen.add(x);
    }
    expect(seen.size).toBe(10);
    const n = (1n << 255n) + 95n;
    for (let i = 0; i < 20; i++) expect(randomBelow(n) < n).toBe(true);
  });

  it('randomUnit returns units', () => {
    const m = 3n * 5n * 7n * 11n;
    for (let i = 0; i < 50; i++) expect(gcd(randomUnit(m), m)).toBe(1n);
  });

  it('isProbablePrime separates primes from composites, including Carmichael numbers', () => {
    expect(isProbablePrime((1n << 127n) - 1n)).toBe(true);
    expect(isProbablePrime((1n << 521n) - 1n)).toBe(true);
    expect(isProbablePrime(((1n << 127n) - 1n) * ((1n << 61n) - 1n))).toBe(false);
    expect(isProbablePrime(561n)).toBe(false);
    expect(isProbablePrime(41041n)).toBe(false);
    expect(isProbablePrime(2n)).toBe(true);
    expect(isProbablePrime(1n)).toBe(false);
  });
});
