/**
 * Row-major index arithmetic for rearranging encrypted values without decrypting them.
 *
 * A PaillierTensor keeps one ciphertext per value in row-major order. Transposing, slicing or
 * broadcasting it only picks ciphertexts (each result value is some source value), and a
 * reduction over some dimensions adds groups of them: these functions say which. Shapes are
 * checked by the caller (src/shapes.ts).
 */
import type { Shape } from '../shapes.js';
import { sizeOf } from '../shapes.js';

/** Row-major strides of a shape. */
function strides(shape: Shape): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = s;
    s *= shape[d]!;
  }
  return out;
}

/**
 * Visits every position of `shape` in row-major order, with the flat offset it has in a source
 * laid out with `sourceStrides` (one stride per dimension of `shape`; 0 repeats a value).
 */
function walk(shape: Shape, sourceStrides: readonly number[], base = 0): Int32Array {
  const out = new Int32Array(sizeOf(shape));
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let offset = base;
  for (let k = 0; k < out.length; k++) {
    out[k] = offset;
    // Odometer increment, last dimension fastest.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      offset += sourceStrides[d]!;
      if (index[d]! < shape[d]!) break;
      offset -= sourceStrides[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** For each value of `to`, the value of `from` that numpy broadcasting puts there. */
export function broadcastIndices(from: Shape, to: Shape): Int32Array {
  const src = strides(from);
  const lead = to.length - from.length;
  const s = to.map((_, d) => (d < lead || from[d - lead] === 1 ? 0 : src[d - lead]!));
  return walk(to, s);
}

/** For each value of the transposed tensor, the value of the source (`perm` as in transpose). */
export function transposeIndices(shape: Shape, perm: readonly number[]): Int32Array {
  const src = strides(shape);
  return walk(
    perm.map((d) => shape[d]!),
    perm.map((d) => src[d]!),
  );
}

/** For each value of `x[start:end]` along `dim`, the value of the source. */
export function sliceIndices(shape: Shape, dim: number, start: number, end: number): Int32Array {
  const src = strides(shape);
  const out = [...shape];
  out[dim] = end - start;
  return walk(out, src, start * src[dim]!);
}

/**
 * The groups a sum over `dims` adds: entry i lists the source values of result value i (result
 * values in row-major order of the reduced shape).
 */
export function reduceGroups(shape: Shape, dims: readonly number[]): number[][] {
  const reduced = new Set(dims);
  const kept = shape.map((n, d) => (reduced.has(d) ? 1 : n));
  const keptStrides = strides(kept);
  // The result offset of every source value: reduced dimensions contribute nothing.
  const target = walk(
    shape,
    shape.map((_, d) => (reduced.has(d) ? 0 : keptStrides[d]!)),
  );
  const groups: number[][] = Array.from({ length: sizeOf(kept) }, () => []);
  for (let i = 0; i < target.length; i++) groups[target[i]!]!.push(i);
  return groups;
}
