/**
 * Miller–Rabin probable-prime test, used to check the primes of a private key read from JSON
 * (a key with a composite "prime" would decrypt to wrong numbers without any error).
 */
import { modPow } from './modpow.js';
import { randomBelow } from './random.js';

const SMALL_PRIMES = [3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n, 41n, 43n, 47n, 53n];

/**
 * True when x passes `rounds` Miller–Rabin rounds with CSPRNG bases: a composite passes each
 * round with probability at most 1/4.
 */
export function isProbablePrime(x: bigint, rounds = 16): boolean {
  if (x < 2n) return false;
  if (x === 2n) return true;
  if ((x & 1n) === 0n) return false;
  for (const p of SMALL_PRIMES) {
    if (x === p) return true;
    if (x % p === 0n) return false;
  }
  let d = x - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  witness: for (let round = 0; round < rounds; round++) {
    const a = 2n + randomBelow(x - 3n);
    let y = modPow(a, d, x);
    if (y === 1n || y === x - 1n) continue;
    for (let i = 1; i < s; i++) {
      y = (y * y) % x;
      if (y === x - 1n) continue witness;
      if (y === 1n) return false;
    }
    return false;
  }
  return true;
}
