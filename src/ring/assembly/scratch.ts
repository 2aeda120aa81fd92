// The JS side owns all memory above scratchBase(): it copies operands in, calls a kernel with
// pointers, and copies the result out. Nothing here allocates, so the stub runtime never runs.

/** First byte the host may use as scratch space: after AssemblyScript's static data, 16-byte aligned. */
export function scratchBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}
