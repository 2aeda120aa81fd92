/**
 * Modular inverses and the Chinese remainder theorem over BigInt.
 */

/**
 * a^-1 mod m by the extended Euclidean algorithm. Throws a RangeError when gcd(a, m) ≠ 1.
 *
 * @example
 * ```ts
 * modInv(3n, 11n); // 4n, since 3·4 = 12 ≡ 1 (mod 11)
 * ```
 */
export function modInv(a: bigint, m: bigint): bigint {
  if (m <= 0n) throw new RangeError('modInv: the modulus must be positive');
  a %= m;
  if (a < 0n) a += m;
  let r0 = m;
  let r1 = a;
  let s0 = 0n;
  let s1 = 1n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    const r2 = r0 - q * r1;
    r0 = r1;
    r1 = r2;
    const s2 = s0 - q * s1;
    s0 = s1;
    s1 = s2;
  }
  if (r0 !== 1n) throw new RangeError('modInv: the value is not invertible modulo m');
  return s0 < 0n ? s0 + m : s0;
}

/** Greatest common divisor of |a| and |b|. */
export function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/**
 * Inverts every value modulo m with a single modular inversion (Montgomery's trick: invert the
 * product of all values, then peel the individual inverses off with 3 multiplications each).
 */
export function batchModInv(values: readonly bigint[], m: bigint): bigint[] {
  const count = values.length;
  if (count === 0) return [];
  const prefix = new Array<bigint>(count);
  let acc = 1n;
  for (let i = 0; i < count; i++) {
    acc = (acc * values[i]!) % m;
    prefix[i] = acc;
  }
  let inv = modInv(acc, m);
  const out = new Array<bigint>(count);
  for (let i = count - 1; i > 0; i--) {
    out[i] = (inv * prefix[i - 1]!) % m;
    inv = (inv * values[i]!) % m;
  }
  out[0] = inv;
  return out;
}

/**
 * The x mod p·q with x ≡ a (mod p) and x ≡ b (mod q), given qInvP = q^-1 mod p
 * (Garner's form: x = b + q·((a - b)·qInvP mod p)).
 */
export function crtCombine(a: bigint, b: bigint, p: bigint, q: bigint, qInvP: bigint): bigint {
  let d = (a - b) % p;
  if (d < 0n) d += p;
  return b + q * ((d * qInvP) % p);
}
