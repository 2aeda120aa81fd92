// Reading the exponent (little-endian 32-bit words at IN_EXP) for left-to-right sliding-window
// exponentiation, shared by both kernel builds.
// @ts-nocheck -- AssemblyScript (built by scripts/build-wasm.mjs), not checked by tsc.
import { IN_EXP } from './layout';

/** Bit i of the exponent. */
@inline export function expBit(i: i32): u32 {
  return (load<u32>(IN_EXP + (<usize>(i >>> 5) << 2)) >>> (<u32>i & 31)) & 1;
}

/** Index of the exponent's highest set bit, or -1 when it is zero. */
export function topBit(eWords: i32): i32 {
  for (let w = eWords - 1; w >= 0; w--) {
    const word = load<u32>(IN_EXP + (<usize>w << 2));
    if (word != 0) return (w << 5) + 31 - <i32>clz(word);
  }
  return -1;
}

/**
 * Window width minimising table size plus multiplications for an exponent of `bits` bits (the
 * crossovers of bits/(w+1) + 2^(w-1), as in the BigInt modPow).
 */
export function windowBits(bits: i32): i32 {
  if (bits <= 24) return 2;
  if (bits <= 80) return 3;
  if (bits <= 240) return 4;
  if (bits <= 672) return 5;
  if (bits <= 1792) return 6;
  return 7;
}

/**
 * The window starting at set bit i and reaching down at most w bits, shortened to end on a set
 * bit: returns (length << 16) | value, value odd.
 */
export function windowAt(i: i32, w: i32): u32 {
  let j = i - w + 1;
  if (j < 0) j = 0;
  while (expBit(j) == 0) j++;
  let value: u32 = 0;
  for (let k = i; k >= j; k--) value = (value << 1) | expBit(k);
  return (<u32>(i - j + 1) << 16) | value;
}
