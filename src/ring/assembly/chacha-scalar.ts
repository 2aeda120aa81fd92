// Entry point of the scalar ChaCha20 keystream build (no SIMD). Exports the same names as
// chacha-simd.ts; the host (src/ring/chacha.ts) picks the SIMD build when the runtime has it.
// @ts-nocheck -- AssemblyScript (built by scripts/build-wasm.mjs), not checked by tsc.
import { scalarBlocks } from './chacha-block';
export { KEY, OUT, MAX_BLOCKS, MEMORY_BYTES } from './chacha-layout';

/** Writes `blocks` (≤ MAX_BLOCKS) keystream blocks for counters (hi, lo), (hi, lo) + 1, ... at OUT. */
export function keystream(lo: u32, hi: u32, blocks: i32): void {
  scalarBlocks(lo, hi, 0, blocks);
}
