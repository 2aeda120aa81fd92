// Entry point of the modular-exponentiation kernel: base^exp mod N for an odd N, by left-to-right
// sliding windows over Montgomery products. Built twice by scripts/build-wasm.mjs: with SIMD
// (mont-simd.ts) and without (mont-scalar.ts); ASC_FEATURE_SIMD picks the arithmetic at compile
// time, so each build contains only its own.
//
// The host (src/he/paillier/wasm-modpow.ts) writes N, R² mod N (R = 2^montgomeryBits(bits)), the
// base (< N) and the exponent (> 0) as little-endian 32-bit words at the IN_* addresses, calls
// modpow(nWords, eWords) and reads nWords words of the result at OUT.
// @ts-nocheck -- AssemblyScript (built by scripts/build-wasm.mjs), not checked by tsc.
import { ERR_EVEN_MODULUS, ERR_SIZE, IN_BASE, IN_EXP, IN_N, IN_R2, MAX_EXP_WORDS, MAX_MOD_WORDS, OK, OUT, SCRATCH } from './layout';
import { topBit, windowAt, windowBits, expBit } from './exponent';
import * as simd from './mont-simd';
import * as scalar from './mont-scalar';

export { IN_N, IN_R2, IN_BASE, IN_EXP, OUT, MAX_MOD_WORDS, MAX_EXP_WORDS };

/** Bytes of memory the kernel touches (the host checks the memory is at least this large). */
export const MEMORY_BYTES: usize = SCRATCH + (ASC_FEATURE_SIMD ? simd.SCRATCH_BYTES : scalar.SCRATCH_BYTES);

/** log2 of the Montgomery radix R this build uses for a modulus of `bits` bits. */
export function montgomeryBits(bits: i32): i32 {
  return ASC_FEATURE_SIMD ? simd.montgomeryBits(bits) : scalar.montgomeryBits(bits);
}

/** Largest modulus this build handles, in bits. */
export function maxModulusBits(): i32 {
  const limbs = ASC_FEATURE_SIMD ? simd.MAX_L : scalar.MAX_L;
  const bits = (ASC_FEATURE_SIMD ? 13 : 28) * limbs - 2;
  return bits < MAX_MOD_WORDS * 32 ? bits : MAX_MOD_WORDS * 32;
}

@inline function limbCount(bits: i32): i32 {
  return ASC_FEATURE_SIMD ? simd.limbCount(bits) : scalar.limbCount(bits);
}
@inline function sqr(L: i32, np: u32): void {
  if (ASC_FEATURE_SIMD) simd.montsqr(L, np);
  else scalar.montsqr(L, np);
}
@inline function mul(L: i32, np: u32): void {
  if (ASC_FEATURE_SIMD) simd.montmul(L, np);
  else scalar.montmul(L, np);
}
@inline function mulByTable(j: i32, L: i32, np: u32): void {
  if (ASC_FEATURE_SIMD) simd.loadB(j, L);
  else scalar.loadB(j, L);
  mul(L, np);
}
@inline function saveX(j: i32, L: i32): void {
  if (ASC_FEATURE_SIMD) simd.saveX(j, L);
  else scalar.saveX(j, L);
}
@inline function loadX(j: i32, L: i32): void {
  if (ASC_FEATURE_SIMD) simd.loadX(j, L);
  else scalar.loadX(j, L);
}

/** Bit length of the nWords-word number at IN_N. */
function modulusBits(nWords: i32): i32 {
  for (let w = nWords - 1; w >= 0; w--) {
    const word = load<u32>(IN_N + (<usize>w << 2));
    if (word != 0) return (w << 5) + 32 - <i32>clz(word);
  }
  return 0;
}

/**
 * base^exp mod N into OUT. Returns OK, ERR_EVEN_MODULUS (Montgomery needs an odd N) or ERR_SIZE
 * (a size out of range, or N < 3). The base must be below N and the exponent non-zero.
 */
export function modpow(nWords: i32, eWords: i32): i32 {
  if (nWords < 1 || nWords > MAX_MOD_WORDS || eWords < 1 || eWords > MAX_EXP_WORDS) return ERR_SIZE;
  if ((load<u32>(IN_N) & 1) == 0) return ERR_EVEN_MODULUS;
  const bits = modulusBits(nWords);
  if (bits < 2 || bits > maxModulusBits()) return ERR_SIZE;
  const top = topBit(eWords);
  if (top < 0) return ERR_SIZE;
  const L = limbCount(bits);

  let np: u32;
  if (ASC_FEATURE_SIMD) {
    simd.setModulus(IN_N, nWords, L);
    np = simd.negInverse(L);
    simd.setX(IN_BASE, nWords, L);
    simd.setB(IN_R2, nWords, L);
  } else {
    scalar.setModulus(IN_N, nWords, L);
    np = scalar.negInverse(L);
    scalar.setX(IN_BASE, nWords, L);
    scalar.setB(IN_R2, nWords, L);
  }
  mul(L, np); // X = base·R mod N (in [0, 2N))

  // Table of odd powers base^1, base^3, ..., base^(2^w - 1), in Montgomery form.
  const w = windowBits(top + 1);
  const size = 1 << (w - 1);
  saveX(0, L);
  if (size > 1) {
    sqr(L, np);
    if (ASC_FEATURE_SIMD) simd.copyXToB(L);
    else scalar.copyXToB(L);
    loadX(0, L);
    for (let j = 1; j < size; j++) {
      mul(L, np);
      saveX(j, L);
    }
  }

  // The leading bit is 1: the first window seeds the accumulator.
  let window = windowAt(top, w);
  loadX(<i32>((window & 0xffff) >>> 1), L);
  let i = top - <i32>(window >>> 16);
  while (i >= 0) {
    if (expBit(i) == 0) {
      sqr(L, np);
      i--;
      continue;
    }
    window = windowAt(i, w);
    const length = <i32>(window >>> 16);
    for (let k = 0; k < length; k++) sqr(L, np);
    mulByTable(<i32>((window & 0xffff) >>> 1), L, np);
    i -= length;
  }

  if (ASC_FEATURE_SIMD) simd.finishX(L, np, OUT, nWords);
  else scalar.finishX(L, np, OUT, nWords);
  return OK;
}
