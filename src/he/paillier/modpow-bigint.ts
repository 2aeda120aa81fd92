/**
 * Modular exponentiation in plain BigInt arithmetic: the reference the WebAssembly kernel is
 * tested against, and the fallback where it cannot run (even moduli, sizes beyond the kernel,
 * runtimes without WebAssembly). {@link modPow} picks between the two.
 *
 * Left-to-right sliding window over the exponent's bits with a table of odd powers. Every
 * squaring is unavoidable (one per exponent bit); the window cuts the multiplications from about
 * L/2 (binary method) to about L/(w+1) plus 2^(w-1) for the table.
 *
 * Reduction is the built-in `%`. We measured Montgomery (REDC with R = 2^k, masks and shifts) and
 * Barrett over BigInt: both need two full multiplications per step where `%` needs one division,
 * and V8's division is fast enough that both came out 15-35% slower at 2048 and 4096 bits
 * (interleaved medians; bench/paillier.bench.ts keeps both variants for re-measuring).
 */
import { modInv } from './modular.js';

/**
 * Window width minimising table size plus multiplications for an exponent of `bits` bits: the
 * crossover points of L/(w+1) + 2^(w-1) between consecutive w.
 */
export function windowBits(bits: number): number {
  if (bits <= 24) return 2;
  if (bits <= 80) return 3;
  if (bits <= 240) return 4;
  if (bits <= 672) return 5;
  if (bits <= 1792) return 6;
  return 7;
}

/**
 * base^exp mod mod in BigInt arithmetic. A negative exponent inverts the base first (it must be a
 * unit mod `mod`).
 *
 * @example
 * ```ts
 * modPowBigint(4n, 13n, 497n); // 445n
 * ```
 */
export function modPowBigint(base: bigint, exp: bigint, mod: bigint): bigint {
  if (mod <= 0n) throw new RangeError('modPow: the modulus must be positive');
  if (mod === 1n) return 0n;
  base %= mod;
  if (base < 0n) base += mod;
  if (exp < 0n) {
    base = modInv(base, mod);
    exp = -exp;
  }
  if (exp === 0n) return 1n;
  if (base <= 1n) return base;

  const bits = exp.toString(2);
  const length = bits.length;
  const w = windowBits(length);

  // table[i] = base^(2i+1): the odd powers a window can end on.
  const table: bigint[] = new Array<bigint>(1 << (w - 1));
  table[0] = base;
  if (table.length > 1) {
    const square = (base * base) % mod;
    for (let i = 1; i < table.length; i++) table[i] = (table[i - 1]! * square) % mod;
  }

  // The leading bit is 1: the first window seeds the accumulator without squaring 1s.
  let acc = 0n;
  let started = false;
  let i = 0;
  while (i < length) {
    if (bits.charCodeAt(i) === 48 /* '0' */) {
      acc = (acc * acc) % mod;
      i++;
      continue;
    }
    // Longest window of at most w bits starting here that ends on a 1.
    let j = Math.min(i + w, length) - 1;
    while (bits.charCodeAt(j) === 48) j--;
    let value = 0;
    for (let k = i; k <= j; k++) value = (value << 1) | (bits.charCodeAt(k) - 48);
    const odd = table[(value - 1) >> 1]!;
    if (started) {
      for (let k = i; k <= j; k++) acc = (acc * acc) % mod;
      acc = (acc * odd) % mod;
    } else {
      acc = odd;
      started = true;
    }
    i = j + 1;
  }
  return acc;
}
