// Elementwise add/sub/mul mod 2^64 on two arrays of n i64 words. i64 arithmetic wraps, which is
// exactly arithmetic in Z_2^64. The host feeds these in 32 KiB chunks (kernels/wasm-kernels.ts):
// even with the copies in and out, they beat V8's own loops over BigInt64Arrays.

export function add(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      v128.store(out + o, i64x2.add(v128.load(a + o), v128.load(b + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    store<i64>(out + o, load<i64>(a + o) + load<i64>(b + o));
  }
}

export function sub(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      v128.store(out + o, i64x2.sub(v128.load(a + o), v128.load(b + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    store<i64>(out + o, load<i64>(a + o) - load<i64>(b + o));
  }
}

// No SIMD branch: i64x2.mul has no SSE/AVX2 instruction and V8 emulates it with three 32-bit
// multiplies per lane, which measured no faster than scalar i64.mul.
export function mul(a: usize, b: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    store<i64>(out + o, load<i64>(a + o) * load<i64>(b + o));
  }
}
