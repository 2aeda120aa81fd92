// Sum of n i64 words mod 2^64.
export function sum(a: usize, n: i32): i64 {
  let i = 0;
  let s: i64 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc0 = i64x2.splat(0);
    let acc1 = i64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const p = a + (<usize>i << 3);
      acc0 = i64x2.add(acc0, v128.load(p));
      acc1 = i64x2.add(acc1, v128.load(p, 16));
    }
    const acc = i64x2.add(acc0, acc1);
    s = i64x2.extract_lane(acc, 0) + i64x2.extract_lane(acc, 1);
  }
  for (; i < n; i++) s += load<i64>(a + (<usize>i << 3));
  return s;
}
