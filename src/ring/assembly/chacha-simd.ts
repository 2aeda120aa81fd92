// Entry point of the SIMD ChaCha20 keystream build (asc --enable simd): four blocks at a time, one
// block per 32-bit lane, so state word i of blocks b..b+3 is one v128. Rotations by 16 and 8 are
// byte shuffles, by 12 and 7 shift pairs; a 4x4 transpose turns lanes back into blocks. Exports
// the same names as chacha-scalar.ts and writes the same bytes.
// @ts-nocheck -- AssemblyScript (built by scripts/build-wasm.mjs), not checked by tsc.
import { scalarBlocks } from './chacha-block';
import { KEY, OUT } from './chacha-layout';
export { KEY, OUT, MAX_BLOCKS, MEMORY_BYTES } from './chacha-layout';

// @ts-ignore: decorator
@inline function rot16(x: v128): v128 {
  return i8x16.shuffle(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
}
// @ts-ignore: decorator
@inline function rot8(x: v128): v128 {
  return i8x16.shuffle(x, x, 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
}
// @ts-ignore: decorator
@inline function rot12(x: v128): v128 {
  return v128.or(i32x4.shl(x, 12), i32x4.shr_u(x, 20));
}
// @ts-ignore: decorator
@inline function rot7(x: v128): v128 {
  return v128.or(i32x4.shl(x, 7), i32x4.shr_u(x, 25));
}

/** Adds the input words, transposes four state words of four blocks, stores them at word `w` of each block. */
// @ts-ignore: decorator
@inline function store4(a: v128, b: v128, c: v128, d: v128, out: usize, w: usize): void {
  const ab0 = i32x4.shuffle(a, b, 0, 4, 1, 5), ab1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const cd0 = i32x4.shuffle(c, d, 0, 4, 1, 5), cd1 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  v128.store(out + w * 4, i64x2.shuffle(ab0, cd0, 0, 2));
  v128.store(out + 64 + w * 4, i64x2.shuffle(ab0, cd0, 1, 3));
  v128.store(out + 128 + w * 4, i64x2.shuffle(ab1, cd1, 0, 2));
  v128.store(out + 192 + w * 4, i64x2.shuffle(ab1, cd1, 1, 3));
}

/** Writes `blocks` (≤ MAX_BLOCKS) keystream blocks for counters (hi, lo), (hi, lo) + 1, ... at OUT. */
export function keystream(lo: u32, hi: u32, blocks: i32): void {
  const c0 = i32x4.splat(0x61707865), c1 = i32x4.splat(0x3320646e), c2 = i32x4.splat(0x79622d32), c3 = i32x4.splat(0x6b206574);
  const k0 = i32x4.splat(load<u32>(KEY)), k1 = i32x4.splat(load<u32>(KEY, 4)), k2 = i32x4.splat(load<u32>(KEY, 8)), k3 = i32x4.splat(load<u32>(KEY, 12));
  const k4 = i32x4.splat(load<u32>(KEY, 16)), k5 = i32x4.splat(load<u32>(KEY, 20)), k6 = i32x4.splat(load<u32>(KEY, 24)), k7 = i32x4.splat(load<u32>(KEY, 28));
  const lanes = i32x4(0, 1, 2, 3), zero = i32x4.splat(0);
  const quads = blocks >> 2;
  for (let q = 0; q < quads; q++) {
    // Counters of the four blocks: lo + lane, carrying into hi where the low word wrapped.
    const base = lo + <u32>(q << 2);
    const carry0: u32 = base < lo ? 1 : 0;
    const ctrLo = i32x4.add(i32x4.splat(base), lanes);
    const ctrHi = i32x4.sub(i32x4.splat(hi + carry0), i32x4.lt_u(ctrLo, i32x4.splat(base)));
    let x0 = c0, x1 = c1, x2 = c2, x3 = c3, x4 = k0, x5 = k1, x6 = k2, x7 = k3;
    let x8 = k4, x9 = k5, x10 = k6, x11 = k7, x12 = ctrLo, x13 = ctrHi, x14 = zero, x15 = zero;
    for (let i = 0; i < 10; i++) {
        x0 = i32x4.add(x0, x4); x12 = rot16(v128.xor(x12, x0)); x8 = i32x4.add(x8, x12); x4 = rot12(v128.xor(x4, x8));
        x0 = i32x4.add(x0, x4); x12 = rot8(v128.xor(x12, x0)); x8 = i32x4.add(x8, x12); x4 = rot7(v128.xor(x4, x8));
        x1 = i32x4.add(x1, x5); x13 = rot16(v128.xor(x13, x1)); x9 = i32x4.add(x9, x13); x5 = rot12(v128.xor(x5, x9));
        x1 = i32x4.add(x1, x5); x13 = rot8(v128.xor(x13, x1)); x9 = i32x4.add(x9, x13); x5 = rot7(v128.xor(x5, x9));
        x2 = i32x4.add(x2, x6); x14 = rot16(v128.xor(x14, x2)); x10 = i32x4.add(x10, x14); x6 = rot12(v128.xor(x6, x10));
        x2 = i32x4.add(x2, x6); x14 = rot8(v128.xor(x14, x2)); x10 = i32x4.add(x10, x14); x6 = rot7(v128.xor(x6, x10));
        x3 = i32x4.add(x3, x7); x15 = rot16(v128.xor(x15, x3)); x11 = i32x4.add(x11, x15); x7 = rot12(v128.xor(x7, x11));
        x3 = i32x4.add(x3, x7); x15 = rot8(v128.xor(x15, x3)); x11 = i32x4.add(x11, x15); x7 = rot7(v128.xor(x7, x11));
        x0 = i32x4.add(x0, x5); x15 = rot16(v128.xor(x15, x0)); x10 = i32x4.add(x10, x15); x5 = rot12(v128.xor(x5, x10));
        x0 = i32x4.add(x0, x5); x15 = rot8(v128.xor(x15, x0)); x10 = i32x4.add(x10, x15); x5 = rot7(v128.xor(x5, x10));
        x1 = i32x4.add(x1, x6); x12 = rot16(v128.xor(x12, x1)); x11 = i32x4.add(x11, x12); x6 = rot12(v128.xor(x6, x11));
        x1 = i32x4.add(x1, x6); x12 = rot8(v128.xor(x12, x1)); x11 = i32x4.add(x11, x12); x6 = rot7(v128.xor(x6, x11));
        x2 = i32x4.add(x2, x7); x13 = rot16(v128.xor(x13, x2)); x8 = i32x4.add(x8, x13); x7 = rot12(v128.xor(x7, x8));
        x2 = i32x4.add(x2, x7); x13 = rot8(v128.xor(x13, x2)); x8 = i32x4.add(x8, x13); x7 = rot7(v128.xor(x7, x8));
        x3 = i32x4.add(x3, x4); x14 = rot16(v128.xor(x14, x3)); x9 = i32x4.add(x9, x14); x4 = rot12(v128.xor(x4, x9));
        x3 = i32x4.add(x3, x4); x14 = rot8(v128.xor(x14, x3)); x9 = i32x4.add(x9, x14); x4 = rot7(v128.xor(x4, x9));
    }
    const out = OUT + (<usize>q << 8);
    store4(i32x4.add(x0, c0), i32x4.add(x1, c1), i32x4.add(x2, c2), i32x4.add(x3, c3), out, 0);
    store4(i32x4.add(x4, k0), i32x4.add(x5, k1), i32x4.add(x6, k2), i32x4.add(x7, k3), out, 4);
    store4(i32x4.add(x8, k4), i32x4.add(x9, k5), i32x4.add(x10, k6), i32x4.add(x11, k7), out, 8);
    store4(i32x4.add(x12, ctrLo), i32x4.add(x13, ctrHi), x14, x15, out, 12);
  }
  scalarBlocks(lo, hi, quads << 2, blocks);
}
