// Bit planes of ring elements, the layout of bit-sliced boolean circuits (src/mpc/binary-kernels.ts).
import { kernels } from './engine.js';
import { planeWords } from './kernels/types.js';

export { planeWords };

/**
 * The 64 bit planes of n ring elements: plane k, at `k * planeWords(n)`, holds bit k of every
 * element, n bits packed into 32-bit words (element i at bit i % 32 of word i / 32); bits past n
 * are zero. A circuit on planes handles 32 elements per 32-bit operation.
 *
 * @example
 * ```ts
 * const planes = bitPlanes(BigInt64Array.of(1n, 2n, 3n)); // planeWords(3) = 2 words per plane
 * planes[0];                  // 0b101: bit 0 of 1n and 3n
 * planes[1 * planeWords(3)];  // 0b110: bit 1 of 2n and 3n
 * ```
 */
export function bitPlanes(words: BigInt64Array): Uint32Array {
  const out = new Uint32Array(64 * planeWords(words.length));
  kernels().bitPlanes(words, out);
  return out;
}
