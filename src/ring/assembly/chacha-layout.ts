// Memory map of the ChaCha20 keystream kernels (chacha-simd.ts, chacha-scalar.ts), shared with
// the host (src/ring/chacha.ts): the host writes the 32-byte key at KEY as eight little-endian
// words, calls keystream(counterLo, counterHi, blocks) and copies blocks * 64 bytes from OUT.
// @ts-nocheck -- AssemblyScript (built by scripts/build-wasm.mjs), not checked by tsc.

export const KEY: usize = 0x0400;
export const OUT: usize = 0x1000;
/** Most 64-byte blocks one keystream() call writes: 256 KiB, inside the 5-page memory. */
export const MAX_BLOCKS: i32 = 4096;
/** Bytes of memory the layout needs (the build passes --initialMemory 5). */
export const MEMORY_BYTES: usize = OUT + <usize>MAX_BLOCKS * 64;
