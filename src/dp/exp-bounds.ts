// Enclosures of e^{-y}: a fast double-precision value with a proven error bound, and exact integer
// bounds at any precision (BigInt). The discrete Gaussian sampler decides "is this uniform U below
// the acceptance probability p?" from the fast enclosure, and only when U falls inside it (well
// under one case in 2^32) from the exact bounds, so every decision is exact.
//
// Fast enclosure. Only IEEE-754 basic operations are used (+ - * / are correctly rounded in
// ECMAScript; Math.exp is not specified to any accuracy, so it is not used). With y = k + f,
// k = floor(y), f in [0, 1):
//   e^{-k} = E1^k by repeated products of E1 = fl(e^{-1}) (relative error <= 1.7 k u, u = 2^-53),
//   e^{f}  = Horner sum of 1/n!, n <= 20 (positive terms: relative error <= 42u; tail < 1/21!),
//   e^{-y} = e^{-k} / e^{f}                               (one more rounding).
// So |value - e^{-y}| <= e^{-y} (1.7 y + 44) u. expNegError() returns a bound 8x larger than that
// plus the error of computing y itself (four roundings: <= 4uy in the exponent) and of a constant
// factor (three roundings), and 2^-1020
// for results below the normal range (e^{-708} < 2^-1020).
//
// Exact bounds. expNegBounds(yNum, yDen, prec) returns integers lo <= 2^prec e^{-y} <= hi, from
// the Taylor series of e^{f} and e^{1} with floor/ceil rounding at prec + 64 bits, the series'
// tail bounded by its last term, and e^{-k} by binary powering with directed rounding.

/** fl(e^{-1}), the double nearest e^{-1} (0.367879441171442321595...). */
export const E1 = 0.36787944117144233;

const MAX_K = 708;
const EXP_NEG_INT = new Float64Array(MAX_K + 1);
EXP_NEG_INT[0] = 1;
for (let k = 1; k <= MAX_K; k++) EXP_NEG_INT[k] = EXP_NEG_INT[k - 1]! * E1;

const INV_FACT = new Float64Array(21);
{
  let f = 1;
  for (let n = 0; n <= 20; n++) {
    if (n > 0) f *= n;
    INV_FACT[n] = 1 / f;
  }
}

/** e^{-y} for y >= 0 to within {@link expNegError}; 0 past y = 709. */
export function expNegApprox(y: number): number {
  if (y >= MAX_K + 1) return 0;
  const k = Math.floor(y);
  const f = y - k; // exact
  let p = INV_FACT[20]!;
  for (let n = 19; n >= 0; n--) p = p * f + INV_FACT[n]!;
  return EXP_NEG_INT[k]! / p;
}

const U48 = 2 ** -48;
const U45 = 2 ** -45;
const TINY = 2 ** -1020;

/**
 * A bound on |value - e^{-y}| where value = expNegApprox(ỹ) and ỹ is y computed with at most four
 * roundings; covers a further multiplication of both by a constant carrying three roundings.
 */
export function expNegError(value: number, y: number): number {
  return value * (y * U48 + U45) + TINY;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/** [lo, hi] with lo <= 2^w e^{f} <= hi for f = num/den in [0, 1]. */
function expPosBounds(num: bigint, den: bigint, w: number): [bigint, bigint] {
  const one = 1n << BigInt(w);
  let termLo = one;
  let termHi = one;
  let lo = one;
  let hi = one;
  if (num === 0n) return [lo, hi];
  for (let n = 1n; ; n++) {
    termLo = (termLo * num) / (den * n);
    termHi = ceilDiv(termHi * num, den * n);
    lo += termLo;
    hi += termHi;
    // The remaining terms sum to at most the last one (ratio f/(n+1) <= 1/2).
    if (termHi <= 1n) return [lo, hi + termHi];
  }
}

const e1Cache = new Map<number, [bigint, bigint]>();

/** [lo, hi] bounds of 2^w e^{-1}. */
function expNegOneBounds(w: number): [bigint, bigint] {
  let b = e1Cache.get(w);
  if (b === undefined) {
    const sq = 1n << BigInt(2 * w);
    const [lo, hi] = expPosBounds(1n, 1n, w);
    b = [sq / hi, ceilDiv(sq, lo)];
    if (e1Cache.size > 64) e1Cache.clear();
    e1Cache.set(w, b);
  }
  return b;
}

/** Bounds of (x/2^w)^k * 2^w, rounded down (lo) or up (hi). */
function powScaled(x: bigint, k: bigint, w: number, up: boolean): bigint {
  const one = 1n << BigInt(w);
  const shift = BigInt(w);
  const mul = (a: bigint, b: bigint): bigint => (up ? ceilDiv(a * b, one) : (a * b) >> shift);
  let result = one;
  let base = x;
  let e = k;
  while (e > 0n) {
    if (e & 1n) result = mul(result, base);
    e >>= 1n;
    if (e > 0n) base = mul(base, base);
  }
  return result;
}

/**
 * Integers lo, hi with lo <= 2^prec e^{-y} <= hi, for y = yNum / yDen >= 0.
 *
 * @example
 * ```ts
 * const [lo, hi] = expNegBounds(1n, 2n, 64); // e^{-1/2} in [lo, hi] / 2^64, hi - lo <= 2
 * ```
 */
export function expNegBounds(yNum: bigint, yDen: bigint, prec: number): [bigint, bigint] {
  if (yNum < 0n || yDen <= 0n) throw new RangeError('expNegBounds: y must be >= 0 with a positive denominator');
  const w = prec + 64;
  const one = 1n << BigInt(w);
  const k = yNum / yDen;
  const fNum = yNum - k * yDen;
  const [fLo, fHi] = expPosBounds(fNum, yDen, w);
  const sq = one * one;
  let lo = sq / fHi; // <= 2^w e^{-f}
  let hi = ceilDiv(sq, fLo);
  if (k > 0n) {
    if (k >= BigInt(w)) {
      // e^{-k} < 2^{-w}: only the upper bound is informative.
      lo = 0n;
      hi = ceilDiv(hi, one);
    } else {
      const [e1Lo, e1Hi] = expNegOneBounds(w);
      lo = (lo * powScaled(e1Lo, k, w, false)) >> BigInt(w);
      hi = ceilDiv(hi * powScaled(e1Hi, k, w, true), one);
    }
  }
  const g = 1n << 64n;
  return [lo >> 64n, ceilDiv(hi, g)];
}
