// Bit planes: n 64-bit words transposed into 64 planes, plane k holding bit k of every word, n
// bits packed into 32-bit words (2 per 64 elements). Bit-sliced boolean circuits (the comparison
// protocol's carry tree) work on planes, so every AND gate handles 32 elements at a time.

/**
 * Transposes the n words at `src` (overwritten) into 64 planes of m = 2 * ceil(n / 64) u32 words
 * at `out` (plane k at out + 4 k m); bits past n are zero.
 */
export function bitPlanes(src: usize, n: i32, out: usize, m: i32): void {
  const blocks = (n + 63) >> 6;
  for (let b = 0; b < blocks; b++) {
    const block = src + (<usize>b << 9);
    const count = min(64, n - (b << 6));
    if (count < 64) memory.fill(block + (<usize>count << 3), 0, <usize>(64 - count) << 3);
    transpose64(block);
    // Row k of the transposed block is bit k of these 64 elements: words 2b and 2b + 1 of plane k.
    const at = out + (<usize>b << 3);
    for (let k = 0; k < 64; k++) store<u64>(at + ((<usize>k * <usize>m) << 2), load<u64>(block + (<usize>k << 3)));
  }
}

/**
 * In-place transpose of the 64x64 bit matrix of 64 words at `a` (row i = word i, column c = bit
 * c): afterwards bit c of row i holds what bit i of row c held. Six rounds of block swaps; with
 * SIMD, the rounds that swap rows 2 or more apart do two rows per instruction.
 */
// @ts-ignore: decorator
@inline
function transpose64(a: usize): void {
  let mask: u64 = 0x00000000ffffffff;
  let j = 32;
  if (ASC_FEATURE_SIMD) {
    for (; j >= 2; j >>= 1, mask ^= mask << <u64>j) {
      const m = i64x2.splat(mask);
      // Rows k and k + 1 are swapped with rows k + j and k + j + 1.
      for (let k = 0; k < 64; k = (k + j + 2) & ~j) {
        const pk = a + (<usize>k << 3);
        const pj = a + (<usize>(k + j) << 3);
        const x = v128.load(pk);
        const y = v128.load(pj);
        const t = v128.and(v128.xor(i64x2.shr_u(x, j), y), m);
        v128.store(pj, v128.xor(y, t));
        v128.store(pk, v128.xor(x, i64x2.shl(t, j)));
      }
    }
  }
  for (; j != 0; j >>= 1, mask ^= mask << <u64>j) {
    for (let k = 0; k < 64; k = (k + j + 1) & ~j) {
      const pk = a + (<usize>k << 3);
      const pj = a + (<usize>(k + j) << 3);
      const t = ((load<u64>(pk) >> <u64>j) ^ load<u64>(pj)) & mask;
      store<u64>(pj, load<u64>(pj) ^ t);
      store<u64>(pk, load<u64>(pk) ^ (t << <u64>j));
    }
  }
}
