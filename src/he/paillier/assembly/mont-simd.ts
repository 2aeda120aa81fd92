// Montgomery multiplication and squaring with 128-bit SIMD, for the modular exponentiation of
// Paillier (moduli p², q², n² of 128 to 8192 bits).
//
// Why this shape. wasm has no 64x64->128-bit multiply, and V8 emulates i64x2.mul, but
// i32x4.dot_i16x8_s is one x86 instruction (pmaddwd): 8 products of 16-bit lanes, summed in
// pairs into 4 32-bit lanes. So numbers are split into 13-bit limbs (products < 2^26) and a
// column of the product accumulates in a u32 lane, with a carry-save pass every few rows
// before a lane can overflow.
//
// The product is computed row by row (operand scanning, CIOS order), four rows at a time: for rows
// i..i+3 the kernel broadcasts the limb pairs (a_i, a_{i+1}) and (a_{i+2}, a_{i+3}) and the
// Montgomery digits (m_i, m_{i+1}), (m_{i+2}, m_{i+3}), and sweeps the column accumulator T:
//   T[i+k..i+k+3] += dot((a_i, a_{i+1}), B2[k..k+3]) + dot((a_{i+2}, a_{i+3}), B2[k-2..k+1])
//                  + the same for m and N
// where B2[k] = (b_k, b_{k-1}) is the other operand stored as overlapping limb pairs. The four
// digits m are found by scalar code from columns i..i+3 (two 26-bit steps), and the digits of
// the next four rows are computed right after the first group of the sweep, so that scalar chain
// runs while the rest of the sweep is in flight.
//
// Squaring uses a_i·a_j = a_j·a_i: row i only covers j > i with doubled limbs, plus a_i² on the
// diagonal; the triangle where the four rows overlap (columns 2i..2i+7) is done with three dot
// products on shuffled limbs.
//
// Bounds (per lane; limbs ≤ 8191, doubled limbs ≤ 16382): four rows of a product add at most
// 8·8191² = 536,739,848 (a·b and m·N), four rows of a square 4·16382·8191 + 4·8191² = 805,109,772
// (the square's triangle counts with its rows). A carry-save pass leaves a lane at most
// 8191 + (2^32 - 1) >> 13 = 532,478. So the sweep normalises every 7 row quads of a product
// (7 quads: 3,757,711,414 < 2^32) and every 5 of a square (4,026,081,338 < 2^32), and no quad's
// products may land before the previous quad's pass: a sixth quad would overflow.
//
// Values stay in [0, 2N) (R = 2^(13L) ≥ 4N), so no final subtraction is needed between
// operations; L (the limb count) is a multiple of 8 and at least (bits + 2) / 13.
//
// Layout of an operand: X plain (u16 limbs at XP, zero above L) and X pairs (u32 at XQ: limb k in
// the low half, limb k-1 in the high half). The multiplier B is held as pairs only (BQ).
// @ts-nocheck -- AssemblyScript (built by scripts/build-wasm.mjs), not checked by tsc.
import { SCRATCH } from './layout';

const MASK: u32 = (1 << 13) - 1;
const MASK26: u32 = (1 << 26) - 1;

/** Most limbs an operand may have: an 8192-bit modulus needs 631, rounded up to 632. */
export const MAX_L: i32 = 632;

// Regions (bytes). Each starts 64 bytes after the previous one ends: the sweeps read 8 bytes
// before a pair array (B2[k-2] at k = 0), which must be zero.
const T: usize = SCRATCH + 0x40; // u32 columns, 2·MAX_L + 64
const XP: usize = T + 0x1540; // u16 plain limbs, MAX_L + 32
const XQ: usize = XP + 0x580; // u32 pairs, MAX_L + 32
const BQ: usize = XQ + 0xac0;
const NQ: usize = BQ + 0xac0;
/** Window table: pairs of the odd powers, (L + 8) words each. */
const TABLE: usize = NQ + 0xac0;
/** Bytes the kernel uses above SCRATCH with the largest table (64 entries). */
export const SCRATCH_BYTES: usize = TABLE - SCRATCH + 64 * ((<usize>MAX_L + 8) << 2);

/** Limbs used for a modulus of `bits` bits. */
export function limbCount(bits: i32): i32 {
  return ((bits + 2 + 12) / 13 + 7) & ~7;
}

/** log2 of the Montgomery radix R for a modulus of `bits` bits. */
export function montgomeryBits(bits: i32): i32 {
  return 13 * limbCount(bits);
}

@inline function lo16(x: u32): u32 {
  return x & 0xffff;
}
@inline function dot(a: v128, b: v128): v128 {
  return i32x4.dot_i16x8_s(a, b);
}
@inline function add(a: v128, b: v128): v128 {
  return i32x4.add(a, b);
}
/** t + the m·N part of a group: dot(M0, N2[k]) + dot(M1, N2[k-2]). */
@inline function gm(t: v128, n0: v128, n1: v128, M0: v128, M1: v128): v128 {
  return add(add(dot(M0, n0), dot(M1, n1)), t);
}
/** t + the m·N and a·b parts of a group. */
@inline function gmb(t: v128, n0: v128, n1: v128, b0: v128, b1: v128, M0: v128, M1: v128, P0: v128, P1: v128): v128 {
  return add(add(add(add(dot(M0, n0), dot(M1, n1)), dot(P0, b0)), dot(P1, b1)), t);
}
/** Carry-save step: keeps the low 13 bits of each lane and adds the high part to the next lane. */
@inline function carrySave(v: v128, prevHigh: v128, high: v128): v128 {
  const lowBits = v128.and(v, i32x4.splat(MASK));
  return add(lowBits, i8x16.shuffle(prevHigh, high, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27));
}

@inline function zeroColumns(L: i32): void {
  const z = i32x4.splat(0);
  const end = <usize>(2 * L + 48) << 2;
  for (let o: usize = 0; o < end; o += 32) {
    v128.store(o, z, T);
    v128.store(o, z, T + 16);
  }
}

// ---- operands ----

/** 32-bit word w of a little-endian number of nWords words at src (0 above). */
@inline function wordAt(src: usize, w: i32, nWords: i32): u64 {
  return w < nWords ? <u64>load<u32>(src + (<usize>w << 2)) : 0;
}

/** Splits nWords words at src into L limbs: plain limbs at `plain` (if not 0) and pairs at `pairs`. */
function splitWords(src: usize, nWords: i32, L: i32, plain: usize, pairs: usize): void {
  let prev: u32 = 0;
  for (let j = 0; j < L + 16; j++) {
    const bit = j * 13;
    const w = bit >>> 5;
    const two = wordAt(src, w, nWords) | (wordAt(src, w + 1, nWords) << 32);
    const x = <u32>(two >>> <u64>(bit & 31)) & MASK;
    if (plain != 0) store<u16>(plain + (<usize>j << 1), <u16>x);
    store<u32>(pairs + (<usize>j << 2), x | (prev << 16));
    prev = x;
  }
}

/** Writes the plain limbs at XP as nWords little-endian words at dst. */
function joinLimbs(L: i32, dst: usize, nWords: i32): void {
  let acc: u64 = 0;
  let bits: u32 = 0;
  let w = 0;
  for (let j = 0; j < L && w < nWords; j++) {
    acc |= <u64>load<u16>(XP + (<usize>j << 1)) << bits;
    bits += 13;
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

/** Loads the modulus (words at src) into NQ. */
export function setModulus(src: usize, nWords: i32, L: i32): void {
  splitWords(src, nWords, L, 0, NQ);
}

/** Loads X (plain and pairs) from words. */
export function setX(src: usize, nWords: i32, L: i32): void {
  splitWords(src, nWords, L, XP, XQ);
}

/** Loads the multiplier B from words. */
export function setB(src: usize, nWords: i32, L: i32): void {
  splitWords(src, nWords, L, 0, BQ);
}

/** B = 1. */
export function setBOne(L: i32): void {
  memory.fill(BQ, 0, <usize>(L + 16) << 2);
  store<u32>(BQ, 1);
  store<u32>(BQ + 4, 1 << 16);
}

/** Saves X into table entry j. */
export function saveX(j: i32, L: i32): void {
  memory.copy(TABLE + <usize>j * (<usize>(L + 8) << 2), XQ, <usize>(L + 8) << 2);
}

/** B = table entry j. */
export function loadB(j: i32, L: i32): void {
  memory.copy(BQ, TABLE + <usize>j * (<usize>(L + 8) << 2), <usize>(L + 8) << 2);
}

/** B = X. */
export function copyXToB(L: i32): void {
  memory.copy(BQ, XQ, <usize>(L + 8) << 2);
}

/** X = table entry j (pairs, and plain limbs from their low halves). */
export function loadX(j: i32, L: i32): void {
  const src = TABLE + <usize>j * (<usize>(L + 8) << 2);
  memory.copy(XQ, src, <usize>(L + 8) << 2);
  for (let k = 0; k < L + 16; k++) {
    store<u16>(XP + (<usize>k << 1), k < L + 8 ? <u16>load<u32>(src + (<usize>k << 2)) : 0);
  }
}

/** -N^-1 mod 2^26 from the low limbs of N. */
export function negInverse(L: i32): u32 {
  const n = lo16(load<u32>(NQ)) | (lo16(load<u32>(NQ + 4)) << 13);
  let inv: u32 = n; // n·n ≡ 1 (mod 8) for odd n
  for (let k = 0; k < 4; k++) inv *= 2 - n * inv; // each step doubles the correct bits
  return (0 - inv) & MASK26;
}

/**
 * Turns X from Montgomery form into the plain residue (X·R^-1 mod N) and writes it as nWords words
 * at dst. The Montgomery product with 1 lies in [0, N]; N itself stands for 0.
 */
export function finishX(L: i32, np: u32, dst: usize, nWords: i32): void {
  setBOne(L);
  montmul(L, np);
  let equal = true;
  for (let k = 0; k < L; k++) {
    if (load<u16>(XP + (<usize>k << 1)) != lo16(load<u32>(NQ + (<usize>k << 2)))) {
      equal = false;
      break;
    }
  }
  if (equal) memory.fill(XP, 0, <usize>L << 1);
  joinLimbs(L, dst, nWords);
}

// ---- Montgomery product and square ----

/** Writes columns L.. of T plus the carry into X (plain and pairs): the result limbs. */
@inline function finishColumns(L: i32, carry: u64): void {
  let c: u64 = carry;
  const base = <usize>L << 2;
  let prev: u32 = 0;
  for (let j = 0; j < L; j += 2) {
    const o = base + (<usize>j << 2);
    c += <u64>load<u32>(o, T) + (<u64>load<u32>(o, T + 4) << 13);
    const x0 = <u32>c & MASK;
    const x1 = (<u32>c >>> 13) & MASK;
    store<u32>(<usize>j << 1, x0 | (x1 << 16), XP);
    store<u64>(<usize>j << 2, <u64>(x0 | (prev << 16)) | (<u64>(x1 | (x0 << 16)) << 32), XQ);
    prev = x1;
    c >>>= 26;
  }
  store<u32>(<usize>L << 2, prev << 16, XQ);
}

// The Montgomery digits of four rows from columns c0..c3 (exact values, u64): two 26-bit steps.
// Updates `carry` (the carry into the next column) and returns the digits as two packed pairs in
// one u64: (m0 | m1 << 16) | (m2 | m3 << 16) << 32.
@inline function digits(c0: u64, c1: u64, c2: u64, c3: u64, carry: u64, np: u32, n0: u32, n1: u32, n2: u32, n3: u32): u64 {
  let v: u64 = c0 + carry + (c1 << 13);
  const m = (<u32>v * np) & MASK26;
  const m0 = m & MASK;
  const m1 = m >>> 13;
  v += <u64>(m0 * n0) + (<u64>(m0 * n1 + m1 * n0) << 13);
  let w: u64 = c2 + (v >>> 26) + <u64>(m0 * n2 + m1 * n1) + ((c3 + <u64>(m0 * n3 + m1 * n2)) << 13);
  const mm = (<u32>w * np) & MASK26;
  const m2 = mm & MASK;
  const m3 = mm >>> 13;
  w += <u64>(m2 * n0) + (<u64>(m2 * n1 + m3 * n0) << 13);
  digitCarry = w >>> 26;
  return <u64>(m0 | (m1 << 16)) | (<u64>(m2 | (m3 << 16)) << 32);
}
// Second result of digits() (a global, read right after the call; wasm functions return one value).
let digitCarry: u64 = 0;

/** Adds the square's triangle for rows i..i+3 (columns 2i..2i+7) into T. */
@inline function triangle(i: i32, zero: v128): void {
  const av = v128.load(<usize>i << 1, XP);
  const dv = i16x8.shl(av, 1);
  const tt = <usize>i << 3;
  // columns 2i..2i+3: a0·a0 | a0·a1 + a1·a0 | 2a0·a2 + a1·a1 | 2a0·a3 + 2a1·a2
  const uA = i8x16.shuffle(av, dv, 0, 1, 2, 3, 0, 1, 2, 3, 16, 17, 2, 3, 16, 17, 18, 19);
  const vA = i8x16.shuffle(av, zero, 0, 1, 16, 17, 2, 3, 0, 1, 4, 5, 2, 3, 6, 7, 4, 5);
  v128.store(tt, add(v128.load(tt, T), dot(uA, vA)), T);
  // columns 2i+4..2i+7: (2a0, 2a1)·(a4, a3)... plus a2·a2 | 2a2·a3 | 2a2·a4 + a3·a3 | 2a2·a5 + 2a3·a4
  const uB = i8x16.shuffle(dv, dv, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3);
  const vB = i8x16.shuffle(av, av, 8, 9, 6, 7, 10, 11, 8, 9, 12, 13, 10, 11, 14, 15, 12, 13);
  const uC = i8x16.shuffle(av, dv, 4, 5, 4, 5, 20, 21, 4, 5, 20, 21, 6, 7, 20, 21, 22, 23);
  const vC = i8x16.shuffle(av, zero, 4, 5, 16, 17, 6, 7, 16, 17, 8, 9, 6, 7, 10, 11, 8, 9);
  v128.store(tt, add(v128.load(tt, T + 16), add(dot(uB, vB), dot(uC, vC))), T + 16);
}

/** X = X² / R mod N (both in [0, 2N)). */
export function montsqr(L: i32, np: u32): void {
  zeroColumns(L);
  const n0 = lo16(load<u32>(0, NQ));
  const n1 = lo16(load<u32>(4, NQ));
  const n2 = lo16(load<u32>(8, NQ));
  const n3 = lo16(load<u32>(12, NQ));
  const L4 = <usize>L << 2;
  const zero = i32x4.splat(0);
  triangle(0, zero);
  let d = digits(<u64>load<u32>(0, T), <u64>load<u32>(0, T + 4), <u64>load<u32>(0, T + 8), <u64>load<u32>(0, T + 12), 0, np, n0, n1, n2, n3);
  let carry = digitCarry;
  for (let i = 0; i < L; i += 4) {
    const t4 = <usize>i << 2;
    // This quad's triangle (quad 0's went before its digits). It must not go in before the
    // previous quad's carry-save pass: the bound counts at most 5 quads of additions per lane.
    if (i > 0) triangle(i, zero);
    const M0 = i32x4.splat(<u32>d);
    const M1 = i32x4.splat(<u32>(d >>> 32));
    const dv = i16x8.shl(v128.load(<usize>i << 1, XP), 1);
    const P0 = i32x4.splat(i32x4.extract_lane(dv, 0));
    const P1 = i32x4.splat(i32x4.extract_lane(dv, 1));
    // First group, columns i+4..i+7 (no a·a terms yet: row i's start at 2i+8), then the next
    // quad's digits (its columns need no later triangle: triangle j starts at column 8j).
    v128.store(t4, gm(v128.load(t4, T + 16), v128.load(16, NQ), v128.load(8, NQ), M0, M1), T + 16);
    if (i + 4 < L) {
      d = digits(<u64>load<u32>(t4, T + 16), <u64>load<u32>(t4, T + 20), <u64>load<u32>(t4, T + 24), <u64>load<u32>(t4, T + 28), carry, np, n0, n1, n2, n3);
      carry = digitCarry;
    }
    // The rest: columns i+8..2i+7 get m·N only, columns 2i+8..i+L+3 both.
    const q = i >>> 2;
    const split = <usize>(i + 8) << 2;
    let j4: usize = 32;
    if (q % 5 != 4) {
      let count = q;
      for (; (count & 3) != 0; count--, j4 += 16) {
        const tj = t4 + j4;
        v128.store(tj, gm(v128.load(tj, T), v128.load(j4, NQ), v128.load(j4, NQ - 8), M0, M1), T);
      }
      for (; j4 < split; j4 += 64) {
        const tj = t4 + j4;
        v128.store(tj, gm(v128.load(tj, T), v128.load(j4, NQ), v128.load(j4, NQ - 8), M0, M1), T);
        v128.store(tj, gm(v128.load(tj, T + 16), v128.load(j4, NQ + 16), v128.load(j4, NQ + 8), M0, M1), T + 16);
        v128.store(tj, gm(v128.load(tj, T + 32), v128.load(j4, NQ + 32), v128.load(j4, NQ + 24), M0, M1), T + 32);
        v128.store(tj, gm(v128.load(tj, T + 48), v128.load(j4, NQ + 48), v128.load(j4, NQ + 40), M0, M1), T + 48);
      }
      count = (L >>> 2) - q - 1;
      for (; (count & 3) != 0; count--, j4 += 16) {
        const tj = t4 + j4;
        v128.store(tj, gmb(v128.load(tj, T), v128.load(j4, NQ), v128.load(j4, NQ - 8), v128.load(j4, XQ), v128.load(j4, XQ - 8), M0, M1, P0, P1), T);
      }
      for (; j4 <= L4; j4 += 64) {
        const tj = t4 + j4;
        v128.store(tj, gmb(v128.load(tj, T), v128.load(j4, NQ), v128.load(j4, NQ - 8), v128.load(j4, XQ), v128.load(j4, XQ - 8), M0, M1, P0, P1), T);
        v128.store(tj, gmb(v128.load(tj, T + 16), v128.load(j4, NQ + 16), v128.load(j4, NQ + 8), v128.load(j4, XQ + 16), v128.load(j4, XQ + 8), M0, M1, P0, P1), T + 16);
        v128.store(tj, gmb(v128.load(tj, T + 32), v128.load(j4, NQ + 32), v128.load(j4, NQ + 24), v128.load(j4, XQ + 32), v128.load(j4, XQ + 24), M0, M1, P0, P1), T + 32);
        v128.store(tj, gmb(v128.load(tj, T + 48), v128.load(j4, NQ + 48), v128.load(j4, NQ + 40), v128.load(j4, XQ + 48), v128.load(j4, XQ + 40), M0, M1, P0, P1), T + 48);
      }
    } else {
      // Same sweep with a carry-save pass (columns i+4..i+7 already belong to the next digits).
      let prev = zero;
      for (; j4 < split; j4 += 16) {
        const tj = t4 + j4;
        const v = gm(v128.load(tj, T), v128.load(j4, NQ), v128.load(j4, NQ - 8), M0, M1);
        const high = i32x4.shr_u(v, 13);
        v128.store(tj, carrySave(v, prev, high), T);
        prev = high;
      }
      for (; j4 <= L4; j4 += 16) {
        const tj = t4 + j4;
        const v = gmb(v128.load(tj, T), v128.load(j4, NQ), v128.load(j4, NQ - 8), v128.load(j4, XQ), v128.load(j4, XQ - 8), M0, M1, P0, P1);
        const high = i32x4.shr_u(v, 13);
        v128.store(tj, carrySave(v, prev, high), T);
        prev = high;
      }
      const top = t4 + j4;
      store<u32>(top, load<u32>(top, T) + i32x4.extract_lane(prev, 3), T);
    }
  }
  finishColumns(L, carry);
}

/** X = X·B / R mod N (all in [0, 2N)). */
export function montmul(L: i32, np: u32): void {
  zeroColumns(L);
  const b0 = lo16(load<u32>(0, BQ));
  const b1 = lo16(load<u32>(4, BQ));
  const b2 = lo16(load<u32>(8, BQ));
  const b3 = lo16(load<u32>(12, BQ));
  const n0 = lo16(load<u32>(0, NQ));
  const n1 = lo16(load<u32>(4, NQ));
  const n2 = lo16(load<u32>(8, NQ));
  const n3 = lo16(load<u32>(12, NQ));
  const L4 = <usize>L << 2;
  const zero = i32x4.splat(0);
  // Columns i..i+3 of rows i..i+3 (the part of the a·b triangle the digits need).
  let p0 = load<u32>(0, XP);
  let p1 = load<u32>(4, XP);
  let d = digits(
    <u64>(lo16(p0) * b0),
    <u64>(lo16(p0) * b1 + (p0 >>> 16) * b0),
    <u64>(lo16(p0) * b2 + (p0 >>> 16) * b1) + <u64>(lo16(p1) * b0),
    <u64>(lo16(p0) * b3 + (p0 >>> 16) * b2) + <u64>(lo16(p1) * b1 + (p1 >>> 16) * b0),
    0, np, n0, n1, n2, n3,
  );
  let carry = digitCarry;
  for (let i = 0; i < L; i += 4) {
    const t4 = <usize>i << 2;
    const M0 = i32x4.splat(<u32>d);
    const M1 = i32x4.splat(<u32>(d >>> 32));
    const P0 = v128.load32_splat(<usize>i << 1, XP);
    const P1 = v128.load32_splat(<usize>i << 1, XP + 4);
    v128.store(t4, gmb(v128.load(t4, T + 16), v128.load(16, NQ), v128.load(8, NQ), v128.load(16, BQ), v128.load(8, BQ), M0, M1, P0, P1), T + 16);
    if (i + 4 < L) {
      p0 = load<u32>(<usize>(i + 4) << 1, XP);
      p1 = load<u32>(<usize>(i + 4) << 1, XP + 4);
      d = digits(
        <u64>load<u32>(t4, T + 16) + <u64>(lo16(p0) * b0),
        <u64>load<u32>(t4, T + 20) + <u64>(lo16(p0) * b1 + (p0 >>> 16) * b0),
        <u64>load<u32>(t4, T + 24) + <u64>(lo16(p0) * b2 + (p0 >>> 16) * b1) + <u64>(lo16(p1) * b0),
        <u64>load<u32>(t4, T + 28) + <u64>(lo16(p0) * b3 + (p0 >>> 16) * b2) + <u64>(lo16(p1) * b1 + (p1 >>> 16) * b0),
        carry, np, n0, n1, n2, n3,
      );
      carry = digitCarry;
    }
    let j4: usize = 32;
    if ((i >>> 2) % 7 != 6) {
      let count = (L >>> 2) - 1;
      for (; (count & 3) != 0; count--, j4 += 16) {
        const tj = t4 + j4;
        v128.store(tj, gmb(v128.load(tj, T), v128.load(j4, NQ), v128.load(j4, NQ - 8), v128.load(j4, BQ), v128.load(j4, BQ - 8), M0, M1, P0, P1), T);
      }
      for (; j4 <= L4; j4 += 64) {
        const tj = t4 + j4;
        v128.store(tj, gmb(v128.load(tj, T), v128.load(j4, NQ), v128.load(j4, NQ - 8), v128.load(j4, BQ), v128.load(j4, BQ - 8), M0, M1, P0, P1), T);
        v128.store(tj, gmb(v128.load(tj, T + 16), v128.load(j4, NQ + 16), v128.load(j4, NQ + 8), v128.load(j4, BQ + 16), v128.load(j4, BQ + 8), M0, M1, P0, P1), T + 16);
        v128.store(tj, gmb(v128.load(tj, T + 32), v128.load(j4, NQ + 32), v128.load(j4, NQ + 24), v128.load(j4, BQ + 32), v128.load(j4, BQ + 24), M0, M1, P0, P1), T + 32);
        v128.store(tj, gmb(v128.load(tj, T + 48), v128.load(j4, NQ + 48), v128.load(j4, NQ + 40), v128.load(j4, BQ + 48), v128.load(j4, BQ + 40), M0, M1, P0, P1), T + 48);
      }
    } else {
      let prev = zero;
      for (; j4 <= L4; j4 += 16) {
        const tj = t4 + j4;
        const v = gmb(v128.load(tj, T), v128.load(j4, NQ), v128.load(j4, NQ - 8), v128.load(j4, BQ), v128.load(j4, BQ - 8), M0, M1, P0, P1);
        const high = i32x4.shr_u(v, 13);
        v128.store(tj, carrySave(v, prev, high), T);
        prev = high;
      }
      const top = t4 + j4;
      store<u32>(top, load<u32>(top, T) + i32x4.extract_lane(prev, 3), T);
    }
  }
  finishColumns(L, carry);
}
