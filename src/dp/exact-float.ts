// Doubles as the exact binary fractions they are: m 2^e with m an odd integer, the next double up,
// and a product rounded up rather than to nearest (so noise computed from std * scale is never
// below what was asked for).

/** x = m 2^e exactly, m an odd integer (x positive and finite). */
export function floatToRational(x: number): { m: bigint; e: number } {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`floatToRational: ${x} is not positive and finite`);
  let e = 0;
  let v = x;
  while (!Number.isInteger(v)) {
    v *= 2;
    e--;
  }
  while (v > 2 ** 53) {
    v /= 2;
    e++;
  }
  let m = BigInt(v);
  while ((m & 1n) === 0n) {
    m >>= 1n;
    e++;
  }
  return { m, e };
}

/** The next double above a positive finite x. */
export function nextUp(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}

/** The smallest double >= a b, for positive finite a and b whose product is finite. */
export function productRoundedUp(a: number, b: number): number {
  const p = a * b;
  const ra = floatToRational(a);
  const rb = floatToRational(b);
  const rp = floatToRational(p);
  // p >= a b  <=>  m_p 2^e_p >= m_a m_b 2^(e_a + e_b)
  const shift = rp.e - (ra.e + rb.e);
  const lhs = shift >= 0 ? rp.m << BigInt(shift) : rp.m;
  const rhs = shift >= 0 ? ra.m * rb.m : (ra.m * rb.m) << BigInt(-shift);
  return lhs >= rhs ? p : nextUp(p);
}
