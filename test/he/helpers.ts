// Shared test helpers for the Paillier suite: cached key pairs, a seeded PRNG for reproducible
// random cases, and exact arithmetic to compare decryptions against.
import { keygen } from '../../src/he/paillier/keys.js';
import type { PaillierKeyPair } from '../../src/he/paillier/keys.js';

const keys = new Map<number, Promise<PaillierKeyPair>>();

/** One key pair per size per test file (keygen at 2048 bits takes a few seconds). */
export function keyPair(bits: number): Promise<PaillierKeyPair> {
  let pair = keys.get(bits);
  if (pair === undefined) {
    pair = keygen({ bits });
    keys.set(bits, pair);
  }
  return pair;
}

/** A small seeded generator (xorshift32) so failures reproduce; test data only, never keys. */
export class TestRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 2 ** 32;
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Uniform bigint in [0, 2^bits). */
  bits(bits: number): bigint {
    let x = 0n;
    for (let i = 0; i < bits; i += 16) x = (x << 16n) | BigInt(this.int(0, 0xffff));
    return x & ((1n << BigInt(bits)) - 1n);
  }

  /** A float exactly representable at `fractionalBits`, in [-bound, bound]. */
  fixed(bound: number, fractionalBits: number): number {
    const scale = 2 ** fractionalBits;
    return this.int(-Math.floor(bound * scale), Math.floor(bound * scale)) / scale;
  }

  /** Approximately N(0, sigma) (Box–Muller). */
  normal(sigma: number): number {
    const u = Math.max(this.next(), 1e-12);
    return sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** x · 2^f as a bigint, for floats that are exact multiples of 2^-f. */
export function exactScaled(x: number, fractionalBits: number): bigint {
  const scaled = x * 2 ** fractionalBits;
  if (!Number.isInteger(scaled)) throw new Error(`${x} is not a multiple of 2^-${fractionalBits}`);
  return BigInt(scaled);
}
