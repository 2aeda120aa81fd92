/**
 * The Paillier maths that needs the factorisation n = p·q, split over p² and q² by the Chinese
 * remainder theorem: decryption and fast generation of the r^n factors. Functions of bigints (and
 * of constants derived from them) so the worker threads run exactly the code the main thread runs.
 *
 * Every exponentiation here has a half-size exponent modulo p² or q², and runs on the WebAssembly
 * kernel through a {@link FixedModulus} per prime (Montgomery constants computed once per key).
 *
 * Keys use the simple generator g = n + 1, for which g^m = 1 + m·n (mod n²).
 */
import { crtCombine, gcd, modInv } from './modular.js';
import { FixedModulus, modPow, modPowBigint } from './modpow.js';
import { randomBelow, randomUnit } from './random.js';

/** Which exponentiation {@link crtParams} wires in: the dispatching one, or BigInt only (for comparisons). */
export type CrtEngine = 'auto' | 'bigint';

/** Precomputed constants for CRT decryption and r^n generation. */
export interface CrtParams {
  readonly p: bigint;
  readonly q: bigint;
  readonly n: bigint;
  readonly n2: bigint;
  readonly p2: bigint;
  readonly q2: bigint;
  /** L_p(g^(p-1) mod p²)^-1 mod p. */
  readonly hp: bigint;
  /** L_q(g^(q-1) mod q²)^-1 mod q. */
  readonly hq: bigint;
  /** q^-1 mod p, to combine plaintexts. */
  readonly qInvP: bigint;
  /** (q²)^-1 mod p², to combine r^n halves. */
  readonly q2InvP2: bigint;
  /** x^e mod p². */
  readonly powP2: (x: bigint, e: bigint) => bigint;
  /** x^e mod q². */
  readonly powQ2: (x: bigint, e: bigint) => bigint;
}

function powerOf(mod: bigint, engine: CrtEngine): (x: bigint, e: bigint) => bigint {
  if (engine === 'bigint') return (x, e) => modPowBigint(x, e, mod);
  const fixed = new FixedModulus(mod);
  return (x, e) => fixed.pow(x, e);
}

/**
 * Derives the CRT constants from the primes. Throws a RangeError when gcd(n, (p-1)(q-1)) ≠ 1:
 * Paillier needs it, and the r^n sampling below relies on it.
 *
 * h_p needs no exponentiation: g^(p-1) = (1 + n)^(p-1) ≡ 1 + (p-1)·n (mod p²), so
 * L_p(g^(p-1) mod p²) = (p-1)·q ≡ -q (mod p) and h_p = (-q)^-1 mod p; the same for q.
 */
export function crtParams(p: bigint, q: bigint, engine: CrtEngine = 'auto'): CrtParams {
  const n = p * q;
  if (gcd(n, (p - 1n) * (q - 1n)) !== 1n) {
    throw new RangeError('gcd(n, (p-1)(q-1)) must be 1 for Paillier; generate a new key pair');
  }
  const p2 = p * p;
  const q2 = q * q;
  const hp = modInv(p - (q % p), p);
  const hq = modInv(q - (p % q), q);
  return {
    p, q, n, n2: n * n, p2, q2, hp, hq,
    qInvP: modInv(q, p),
    q2InvP2: modInv(q2, p2),
    powP2: powerOf(p2, engine),
    powQ2: powerOf(q2, engine),
  };
}

/**
 * Decrypts c ∈ Z*_{n²} to m ∈ [0, n): m_p = L_p(c^(p-1) mod p²)·h_p mod p, the same mod q, then
 * combine. Two exponentiations with half-size exponents and moduli instead of one full one.
 */
export function crtDecrypt(k: CrtParams, c: bigint): bigint {
  const mp = (((k.powP2(c % k.p2, k.p - 1n) - 1n) / k.p) * k.hp) % k.p;
  const mq = (((k.powQ2(c % k.q2, k.q - 1n) - 1n) / k.q) * k.hq) % k.q;
  return crtCombine(mp, mq, k.p, k.q, k.qInvP);
}

/**
 * A uniformly random n-th residue r^n mod n² computed with the factorisation.
 *
 * r^n mod p² depends only on r mod p, and equals (r^q mod p)^p mod p². With gcd(q, p-1) = 1
 * (checked in {@link crtParams}) the map r ↦ r^q is a bijection of Z*_p, so drawing s uniformly
 * from Z*_p and computing s^p mod p² has exactly the distribution of r^n mod p² for uniform r —
 * and skips half the work. The same holds mod q², and r mod p, r mod q are independent for
 * uniform r ∈ Z*_n, so the CRT combination is distributed as r^n mod n².
 */
export function crtRandomNthResidue(k: CrtParams): bigint {
  const s = 1n + randomBelow(k.p - 1n);
  const t = 1n + randomBelow(k.q - 1n);
  const rp = k.powP2(s, k.p);
  const rq = k.powQ2(t, k.q);
  return crtCombine(rp, rq, k.p2, k.q2, k.q2InvP2);
}

/** r^n mod n² for a uniform r ∈ Z*_n, with the public key only. */
export function randomNthResidue(n: bigint, n2: bigint): bigint {
  return modPow(randomUnit(n), n, n2);
}
