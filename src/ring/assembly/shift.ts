// Shifts of n i64 words by a public amount 0..63. The host validates the amount.

/** Arithmetic (sign-preserving) right shift: floor(x / 2^bits) for signed x. */
export function shiftRight(a: usize, out: usize, n: i32, bits: i32): void {
  const s = <i64>bits;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    store<i64>(out + o, load<i64>(a + o) >> s);
  }
}

export function shiftRightLogical(a: usize, out: usize, n: i32, bits: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // psrlq exists on every x86-64 and on NEON, so this lowers to one instruction per 2 lanes.
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      v128.store(out + o, i64x2.shr_u(v128.load(a + o), bits));
    }
  }
  const s = <i64>bits;
  for (; i < n; i++) {
    const o = <usize>i << 3;
    store<i64>(out + o, <i64>(<u64>load<i64>(a + o) >> <u64>s));
  }
}

export function shiftLeft(a: usize, out: usize, n: i32, bits: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      v128.store(out + o, i64x2.shl(v128.load(a + o), bits));
    }
  }
  const s = <i64>bits;
  for (; i < n; i++) {
    const o = <usize>i << 3;
    store<i64>(out + o, load<i64>(a + o) << s);
  }
}
