// One ChaCha20 block (RFC 8439 section 2.3) on scalar 32-bit words: the whole keystream of the
// scalar build, and the tail (fewer than four blocks) of the SIMD build. Words 12-13 hold a 64-bit
// block counter, words 14-15 are zero: the layout OpenSSL's 'chacha20' cipher uses when its
// 32-bit counter carries into the next word, so node:crypto gives the same stream.
// @ts-nocheck -- AssemblyScript (built by scripts/build-wasm.mjs), not checked by tsc.
import { KEY, OUT } from './chacha-layout';

/** Writes the 64-byte block for counter (hi, lo) at `out`. */
export function chachaBlock(lo: u32, hi: u32, out: usize): void {
  const k0 = load<u32>(KEY), k1 = load<u32>(KEY, 4), k2 = load<u32>(KEY, 8), k3 = load<u32>(KEY, 12);
  const k4 = load<u32>(KEY, 16), k5 = load<u32>(KEY, 20), k6 = load<u32>(KEY, 24), k7 = load<u32>(KEY, 28);
  let x0: u32 = 0x61707865, x1: u32 = 0x3320646e, x2: u32 = 0x79622d32, x3: u32 = 0x6b206574;
  let x4 = k0, x5 = k1, x6 = k2, x7 = k3, x8 = k4, x9 = k5, x10 = k6, x11 = k7;
  let x12 = lo, x13 = hi, x14: u32 = 0, x15: u32 = 0;
  for (let i = 0; i < 10; i++) {
      x0 += x4; x12 = rotl<u32>(x12 ^ x0, 16); x8 += x12; x4 = rotl<u32>(x4 ^ x8, 12);
      x0 += x4; x12 = rotl<u32>(x12 ^ x0, 8); x8 += x12; x4 = rotl<u32>(x4 ^ x8, 7);
      x1 += x5; x13 = rotl<u32>(x13 ^ x1, 16); x9 += x13; x5 = rotl<u32>(x5 ^ x9, 12);
      x1 += x5; x13 = rotl<u32>(x13 ^ x1, 8); x9 += x13; x5 = rotl<u32>(x5 ^ x9, 7);
      x2 += x6; x14 = rotl<u32>(x14 ^ x2, 16); x10 += x14; x6 = rotl<u32>(x6 ^ x10, 12);
      x2 += x6; x14 = rotl<u32>(x14 ^ x2, 8); x10 += x14; x6 = rotl<u32>(x6 ^ x10, 7);
      x3 += x7; x15 = rotl<u32>(x15 ^ x3, 16); x11 += x15; x7 = rotl<u32>(x7 ^ x11, 12);
      x3 += x7; x15 = rotl<u32>(x15 ^ x3, 8); x11 += x15; x7 = rotl<u32>(x7 ^ x11, 7);
      x0 += x5; x15 = rotl<u32>(x15 ^ x0, 16); x10 += x15; x5 = rotl<u32>(x5 ^ x10, 12);
      x0 += x5; x15 = rotl<u32>(x15 ^ x0, 8); x10 += x15; x5 = rotl<u32>(x5 ^ x10, 7);
      x1 += x6; x12 = rotl<u32>(x12 ^ x1, 16); x11 += x12; x6 = rotl<u32>(x6 ^ x11, 12);
      x1 += x6; x12 = rotl<u32>(x12 ^ x1, 8); x11 += x12; x6 = rotl<u32>(x6 ^ x11, 7);
      x2 += x7; x13 = rotl<u32>(x13 ^ x2, 16); x8 += x13; x7 = rotl<u32>(x7 ^ x8, 12);
      x2 += x7; x13 = rotl<u32>(x13 ^ x2, 8); x8 += x13; x7 = rotl<u32>(x7 ^ x8, 7);
      x3 += x4; x14 = rotl<u32>(x14 ^ x3, 16); x9 += x14; x4 = rotl<u32>(x4 ^ x9, 12);
      x3 += x4; x14 = rotl<u32>(x14 ^ x3, 8); x9 += x14; x4 = rotl<u32>(x4 ^ x9, 7);
  }
  store<u32>(out, x0 + 0x61707865, 0); store<u32>(out, x1 + 0x3320646e, 4);
  store<u32>(out, x2 + 0x79622d32, 8); store<u32>(out, x3 + 0x6b206574, 12);
  store<u32>(out, x4 + k0, 16); store<u32>(out, x5 + k1, 20); store<u32>(out, x6 + k2, 24); store<u32>(out, x7 + k3, 28);
  store<u32>(out, x8 + k4, 32); store<u32>(out, x9 + k5, 36); store<u32>(out, x10 + k6, 40); store<u32>(out, x11 + k7, 44);
  store<u32>(out, x12 + lo, 48); store<u32>(out, x13 + hi, 52); store<u32>(out, x14, 56); store<u32>(out, x15, 60);
}

/** Blocks for counters c, c+1, ... (64-bit, carried) from `first` up to `blocks`, scalar. */
export function scalarBlocks(lo: u32, hi: u32, first: i32, blocks: i32): void {
  for (let b = first; b < blocks; b++) {
    const c = ((<u64>hi << 32) | <u64>lo) + <u64>b;
    chachaBlock(<u32>c, <u32>(c >>> 32), OUT + <usize>b * 64);
  }
}
