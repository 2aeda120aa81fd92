/**
 * Float32 kernels in plain JavaScript for the ops where a tfjs kernel would cost more than the
 * work (data movement, short rows) or where tfjs has none: softmax along a dim, gather/scatter,
 * strided and tiled copies (transposes, broadcasts), comparisons with a number, dropout masks.
 * Windows (im2col, col2im, pooling) are in ./float-windows.ts. Each takes and returns flat
 * row-major Float32Arrays; shapes are checked by the caller (the op table's shape rules).
 */
import { coalesce } from '../shapes.js';
import { gatherOffsets } from '../ring/kernels/movement.js';
import { SeededRandom } from '../util/seeded.js';

/**
 * 1 where `x op v` holds, else 0 (a comparison with a number). Branch-free (`+(a > b)`): on
 * random signs a branch per element costs several times the loop.
 */
export function compareScalarF32(x: Float32Array, v: number, op: 'eq' | 'gt' | 'lt' | 'ge' | 'le'): Float32Array {
  const out = new Float32Array(x.length);
  const n = x.length;
  if (op === 'gt') for (let i = 0; i < n; i++) out[i] = +(x[i]! > v);
  else if (op === 'lt') for (let i = 0; i < n; i++) out[i] = +(x[i]! < v);
  else if (op === 'ge') for (let i = 0; i < n; i++) out[i] = +(x[i]! >= v);
  else if (op === 'le') for (let i = 0; i < n; i++) out[i] = +(x[i]! <= v);
  else for (let i = 0; i < n; i++) out[i] = +(x[i]! === v);
  return out;
}

/** (outer, len, inner) of a tensor seen along `dim`. */
function around(shape: readonly number[], dim: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < dim; i++) outer *= shape[i]!;
  for (let i = dim + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[dim]!, inner];
}

/** log-softmax (`log: true`) or softmax along `dim`, max-shifted; sums in float64. */
export function softmaxF32(x: Float32Array, shape: readonly number[], dim: number, log: boolean): Float32Array {
  const [outer, len, inner] = around(shape, dim);
  const out = new Float32Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * len * inner + j;
      let m = -Infinity;
      for (let t = 0, s = base; t < len; t++, s += inner) if (x[s]! > m) m = x[s]!;
      let sum = 0;
      for (let t = 0, s = base; t < len; t++, s += inner) sum += Math.exp(x[s]! - m);
      if (log) {
        const lse = m + Math.log(sum);
        for (let t = 0, s = base; t < len; t++, s += inner) out[s] = x[s]! - lse;
      } else {
        for (let t = 0, s = base; t < len; t++, s += inner) out[s] = Math.exp(x[s]! - m) / sum;
      }
    }
  }
  return out;
}

/** gather along `dim` at a public index (values: integers). */
export function gatherF32(x: Float32Array, shape: readonly number[], dim: number, indexShape: readonly number[], index: ArrayLike<number | bigint>): Float32Array {
  const off = gatherOffsets(shape, dim, indexShape, index);
  const out = new Float32Array(off.length);
  for (let i = 0; i < off.length; i++) out[i] = x[off[i]!]!;
  return out;
}

/** A copy of x with src added at a public index along `dim`. */
export function scatterAddF32(x: Float32Array, shape: readonly number[], dim: number, indexShape: readonly number[], index: ArrayLike<number | bigint>, src: Float32Array): Float32Array {
  const off = gatherOffsets(shape, dim, indexShape, index);
  const out = x.slice();
  for (let i = 0; i < off.length; i++) out[off[i]!]! += src[i]!;
  return out;
}

const TILE = 32;

/**
 * A dense row-major copy of `src` read with `strides` over `shape` (a transpose, a broadcast).
 * Adjacent dims walked contiguously are merged first; contiguous rows are block copies, and a
 * swap of the two innermost dims goes tile by tile so reads and writes stay in cache.
 */
export function stridedCopyF32(src: Float32Array, strides: readonly number[], shape: readonly number[], into?: Float32Array): Float32Array {
  let n = 1;
  for (const d of shape) n *= d;
  const out = into ?? new Float32Array(n);
  if (n === 0) return out;
  const outStrides: number[] = [];
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    outStrides[d] = s;
    s *= shape[d]!;
  }
  const plan = coalesce(shape, [strides, outStrides]);
  const dims = plan.shape;
  const st = plan.strides[0]!;
  const last = dims.length - 1;
  const rowLen = dims[last]!;
  const step = st[last]!;
  const rows = n / rowLen;
  if (last >= 1 && step !== 1 && st[last - 1] === 1) {
    // Innermost dims swapped: [outer..., inner (stride 1), rowLen (stride step)] -> tiles.
    const inner = dims[last - 1]!;
    const outer = rows / inner;
    const idx = new Array<number>(Math.max(last - 1, 0)).fill(0);
    let base = 0;
    for (let p = 0; p < outer; p++) {
      const o = p * inner * rowLen;
      for (let i0 = 0; i0 < inner; i0 += TILE) {
        const i1 = Math.min(i0 + TILE, inner);
        for (let j0 = 0; j0 < rowLen; j0 += TILE) {
          const j1 = Math.min(j0 + TILE, rowLen);
          for (let i = i0; i < i1; i++) {
            for (let j = j0, s = base + i + j0 * step, d = o + i * rowLen + j0; j < j1; j++, s += step, d++) out[d] = src[s]!;
          }
        }
      }
      for (let d = last - 2; d >= 0; d--) {
        base += st[d]!;
        if (++idx[d]! < dims[d]!) break;
        base -= st[d]! * dims[d]!;
        idx[d] = 0;
      }
    }
    return out;
  }
  const idx = new Array<number>(last).fill(0);
  let si = 0;
  for (let r = 0, o = 0; r < rows; r++, o += rowLen) {
    if (step === 1) {
      if (rowLen >= 64) out.set(src.subarray(si, si + rowLen), o);
      else for (let j = 0; j < rowLen; j++) out[o + j] = src[si + j]!;
    } else if (step === 0) {
      out.fill(src[si]!, o, o + rowLen);
    } else {
      for (let j = 0, s = si; j < rowLen; j++, s += step) out[o + j] = src[s]!;
    }
    for (let d = last - 1; d >= 0; d--) {
      si += st[d]!;
      if (++idx[d]! < dims[d]!) break;
      si -= st[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Swaps the last two dims of [batch, rows, cols] in cache-sized tiles, into `into` or a new
 * array. `bias`, when given, is added in the same pass: one value per column of the input (a
 * row of the result) or, with `biasPerRow`, one per row of the input.
 */
export function transposeLastF32(x: Float32Array, batch: number, rows: number, cols: number, bias?: Float32Array, into?: Float32Array, biasPerRow = false): Float32Array {
  const out = into ?? new Float32Array(batch * rows * cols);
  const plane = rows * cols;
  const rowBias = bias && biasPerRow ? bias : undefined;
  const colBias = bias && !biasPerRow ? bias : undefined;
  for (let b = 0; b < batch; b++) {
    const o = b * plane;
    for (let i0 = 0; i0 < rows; i0 += TILE) {
      const i1 = Math.min(i0 + TILE, rows);
      for (let j0 = 0; j0 < cols; j0 += TILE) {
        const j1 = Math.min(j0 + TILE, cols);
        for (let j = j0; j < j1; j++) {
          const add = colBias ? colBias[j]! : 0;
          if (rowBias) for (let i = i0, s = o + i * cols + j, d = o + j * rows + i; i < i1; i++, s += cols, d++) out[d] = x[s]! + rowBias[i]!;
          else for (let i = i0, s = o + i * cols + j, d = o + j * rows + i; i < i1; i++, s += cols, d++) out[d] = x[s]! + add;
        }
      }
    }
  }
  return out;
}

/**
 * g where y > 0, else 0 (relu's gradient from its output), as an exact select without a branch:
 * the float's bits and-ed with -1 or 0.
 */
export function passWherePositive(g: Float32Array, y: Float32Array): Float32Array {
  const out = new Float32Array(g.length);
  const gi = new Int32Array(g.buffer, g.byteOffset, g.length);
  const oi = new Int32Array(out.buffer);
  for (let i = 0; i < g.length; i++) oi[i] = gi[i]! & -(y[i]! > 0);
  return out;
}

/** A dropout mask: 0 with probability p, else 1/(1-p), from a generator seeded with `seed`. */
export function dropoutMaskF32(n: number, p: number, seed: number): Float32Array {
  const r = new SeededRandom(seed);
  const keep = 1 / (1 - p);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r.next() < p ? 0 : keep;
  return out;
}
