// Signed floor division by a public positive divisor d (1 <= d < 2^63), used to truncate base-10
// fixed-point values. i64.div_s rounds toward zero, so negative inexact quotients step down by one.
export function divFloor(a: usize, out: usize, n: i32, d: i64): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    const x = load<i64>(a + o);
    let q = x / d;
    if (x < 0 && q * d != x) q -= 1;
    store<i64>(out + o, q);
  }
}
