/**
 * Copying slabs of a row-major typed array by index: the kernel of `indexSelect` for the float
 * and the ring leaves (one loop for both element types). A tensor of shape [outer, size, inner]
 * (the dims before, at and after the selected one) gives [outer, indices.length, inner].
 */

type Typed = Float32Array | BigInt64Array;

/** out[o, j, :] = src[o, indices[j], :]; `out` must hold outer * indices.length * inner elements. */
export function gatherAlong<T extends Typed>(src: T, outer: number, size: number, inner: number, indices: Int32Array, out: T): T {
  // Both element types copy the same way; typed as one of them for the compiler's sake only.
  const s = src as unknown as Float32Array;
  const d = out as unknown as Float32Array;
  const k = indices.length;
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    const to = o * k * inner;
    for (let j = 0; j < k; j++) {
      const from = base + indices[j]! * inner;
      const at = to + j * inner;
      // Short runs copy element by element; long ones as one block (a subarray costs an object).
      if (inner < 32) for (let i = 0; i < inner; i++) d[at + i] = s[from + i]!;
      else d.set(s.subarray(from, from + inner), at);
    }
  }
  return out;
}
