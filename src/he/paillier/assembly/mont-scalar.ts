// Montgomery multiplication without SIMD (the fallback build, for runtimes without wasm SIMD).
//
// 28-bit limbs in u64, CIOS order with lazy carries: a row adds a_j·b_i + m·N_j (each < 2^56)
// to a column without carrying, which stays exact for 256 products per column; the frame is
// normalised every 64 rows (128 products) so moduli of any supported size fit. Values stay in
// [0, 2N) with R = 2^(28L) ≥ 4N. Same exported names as mont-simd.ts.
// @ts-nocheck -- AssemblyScript (built by scripts/build-wasm.mjs), not checked by tsc.
import { SCRATCH } from './layout';

const MASK: u64 = (1 << 28) - 1;

/** Most limbs an operand may have (8192-bit modulus: 293). */
export const MAX_L: i32 = 296;

const STRIDE: usize = (<usize>MAX_L + 8) << 3;
const TS: usize = SCRATCH; // u64 frame, L + 2
const XS: usize = TS + STRIDE;
const BS: usize = XS + STRIDE;
const NS: usize = BS + STRIDE;
const TABLE: usize = NS + STRIDE;
/** Bytes the kernel uses above SCRATCH with the largest table (64 entries). */
export const SCRATCH_BYTES: usize = TABLE - SCRATCH + 64 * STRIDE;

/** Limbs used for a modulus of `bits` bits. */
export function limbCount(bits: i32): i32 {
  return (bits + 2 + 27) / 28;
}

/** log2 of the Montgomery radix R for a modulus of `bits` bits. */
export function montgomeryBits(bits: i32): i32 {
  return 28 * limbCount(bits);
}

@inline function limb(base: usize, j: i32): u64 {
  return load<u64>(base + (<usize>j << 3));
}

function splitWords(src: usize, nWords: i32, L: i32, dst: usize): void {
  for (let j = 0; j < L; j++) {
    const bit = j * 28;
    const w = bit >>> 5;
    let two: u64 = w < nWords ? <u64>load<u32>(src + (<usize>w << 2)) : 0;
    if (w + 1 < nWords) two |= <u64>load<u32>(src + (<usize>(w + 1) << 2)) << 32;
    store<u64>(dst + (<usize>j << 3), (two >>> <u64>(bit & 31)) & MASK);
  }
}

/** Loads the modulus (words at src). */
export function setModulus(src: usize, nWords: i32, L: i32): void {
  splitWords(src, nWords, L, NS);
}

/** Loads X from words. */
export function setX(src: usize, nWords: i32, L: i32): void {
  splitWords(src, nWords, L, XS);
}

/** Loads the multiplier B from words. */
export function setB(src: usize, nWords: i32, L: i32): void {
  splitWords(src, nWords, L, BS);
}

/** B = 1. */
export function setBOne(L: i32): void {
  memory.fill(BS, 0, <usize>L << 3);
  store<u64>(BS, 1);
}

/** Saves X into table entry j. */
export function saveX(j: i32, L: i32): void {
  memory.copy(TABLE + <usize>j * STRIDE, XS, <usize>L << 3);
}

/** B = table entry j. */
export function loadB(j: i32, L: i32): void {
  memory.copy(BS, TABLE + <usize>j * STRIDE, <usize>L << 3);
}

/** B = X. */
export function copyXToB(L: i32): void {
  memory.copy(BS, XS, <usize>L << 3);
}

/** X = table entry j. */
export function loadX(j: i32, L: i32): void {
  memory.copy(XS, TABLE + <usize>j * STRIDE, <usize>L << 3);
}

/** -N^-1 mod 2^28. */
export function negInverse(L: i32): u32 {
  const n = <u32>limb(NS, 0);
  let inv: u32 = n;
  for (let k = 0; k < 4; k++) inv *= 2 - n * inv;
  return (0 - inv) & <u32>MASK;
}

/** Propagates carries through the frame so every limb is below 2^28. */
function normalize(L: i32): void {
  let c: u64 = 0;
  for (let j = 0; j < L; j++) {
    const v = limb(TS, j) + c;
    store<u64>(TS + (<usize>j << 3), v & MASK);
    c = v >>> 28;
  }
}

/** X = X·b / R mod N, b the limbs at `b` (B or X itself). */
function product(b: usize, L: i32, np: u32): void {
  memory.fill(TS, 0, <usize>(L + 1) << 3);
  const n0 = limb(NS, 0);
  const a0 = limb(XS, 0);
  const m28 = <u64>np;
  for (let i = 0; i < L; i++) {
    const bi = limb(b, i);
    let t0 = limb(TS, 0) + a0 * bi;
    const m = (t0 * m28) & MASK;
    t0 += m * n0;
    const carry = t0 >>> 28;
    let j = 1;
    for (; j + 1 < L; j += 2) {
      const o = <usize>j << 3;
      const v0 = load<u64>(TS + o) + load<u64>(XS + o) * bi + m * load<u64>(NS + o);
      const v1 = load<u64>(TS + o, 8) + load<u64>(XS + o, 8) * bi + m * load<u64>(NS + o, 8);
      store<u64>(TS + o - 8, v0);
      store<u64>(TS + o, v1);
    }
    for (; j < L; j++) {
      const o = <usize>j << 3;
      store<u64>(TS + o - 8, load<u64>(TS + o) + load<u64>(XS + o) * bi + m * load<u64>(NS + o));
    }
    store<u64>(TS + (<usize>(L - 1) << 3), 0);
    store<u64>(TS, limb(TS, 0) + carry);
    if ((i & 63) == 63) normalize(L);
  }
  normalize(L);
  memory.copy(XS, TS, <usize>L << 3);
}

/** X = X² / R mod N. */
export function montsqr(L: i32, np: u32): void {
  product(XS, L, np);
}

/** X = X·B / R mod N. */
export function montmul(L: i32, np: u32): void {
  product(BS, L, np);
}

/** X·R^-1 mod N as nWords words at dst (the product with 1 lies in [0, N]; N stands for 0). */
export function finishX(L: i32, np: u32, dst: usize, nWords: i32): void {
  setBOne(L);
  montmul(L, np);
  let equal = true;
  for (let j = 0; j < L; j++) {
    if (limb(XS, j) != limb(NS, j)) {
      equal = false;
      break;
    }
  }
  if (equal) memory.fill(XS, 0, <usize>L << 3);
  let acc: u64 = 0;
  let bits: u32 = 0;
  let w = 0;
  for (let j = 0; j < L && w < nWords; j++) {
    acc |= limb(XS, j) << bits;
    bits += 28;
    if (bits >= 32) {
      store<u32>(dst + (<usize>w << 2), <u32>acc);
      w++;
      acc >>>= 32;
      bits -= 32;
    }
  }
  for (; w < nWords; w++) {
    store<u32>(dst + (<usize>w << 2), <u32>acc);
    acc >>>= 32;
  }
}
