// Memory map shared by the host (src/he/paillier/wasm-modpow.ts) and both kernel builds. Every
// region has a fixed address so the kernels address operands with constant offsets (which V8
// folds into the load instruction) instead of computing pointers.
//
// The host writes the modulus, R^2 mod N, the base and the exponent as little-endian 32-bit words
// into the IN_* regions, calls modpow(nWords, eWords) and reads the result from OUT.
// @ts-nocheck -- AssemblyScript (built by scripts/build-wasm.mjs), not checked by tsc.

/** Largest modulus, in 32-bit words (8192 bits: n^2 of a 4096-bit Paillier key). */
export const MAX_MOD_WORDS: i32 = 256;
/** Largest exponent, in 32-bit words (16384 bits). */
export const MAX_EXP_WORDS: i32 = 512;

export const IN_N: usize = 0x0400;
export const IN_R2: usize = 0x0800;
export const IN_BASE: usize = 0x0c00;
export const OUT: usize = 0x1000;
export const IN_EXP: usize = 0x1400; // 2 KiB: MAX_EXP_WORDS words
/** First byte of the kernels' private scratch (limb arrays, accumulators, window table). */
export const SCRATCH: usize = 0x2000;

// Status codes of modpow().
export const OK: i32 = 0;
export const ERR_EVEN_MODULUS: i32 = -1;
export const ERR_SIZE: i32 = -2;
