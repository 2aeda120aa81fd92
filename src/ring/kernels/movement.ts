// Data movement in plain JavaScript: strided gathers (transpose, broadcastTo), sums along
// dimensions, im2col and col2im. Copying BigInt64Array elements compiles to plain 64-bit moves
// in V8, and contiguous runs use TypedArray.set (memcpy).
import { ValueError } from '../../errors.js';
import { coalesce, sizeOf } from '../../shapes.js';

/**
 * Fills `out` (dense, row-major, shape `shape`) with src[offset + sum(idx[d] * strides[d])].
 */
export function gather(
  src: BigInt64Array,
  strides: readonly number[],
  shape: readonly number[],
  out: BigInt64Array,
): void {
  if (out.length === 0) return;
  const outStrides: number[] = [];
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    outStrides[d] = s;
    s *= shape[d];
  }
  const plan = coalesce(shape, [strides, outStrides]);
  const dims = plan.shape;
  const st = plan.strides[0];
  const last = dims.length - 1;
  const rowLen = dims[last];
  const step = st[last];
  const rows = sizeOf(dims) / rowLen;
  if (last >= 1 && step !== 1 && st[last - 1] === 1) {
    // A transpose of the two innermost dimensions: copy tile by tile so reads and writes both
    // stay in cache (a 1024x1024 transpose measured ~3x faster than the row-by-row loop).
    const inner = dims[last - 1];
    const outer = rows / inner;
    const oIdx = new Array<number>(Math.max(last - 1, 0)).fill(0);
    let base = 0;
    for (let p = 0; p < outer; p++) {
      transposeTiles(src, base, step, inner, rowLen, out, p * inner * rowLen);
      for (let d = last - 2; d >= 0; d--) {
        base += st[d];
        if (++oIdx[d] < dims[d]) break;
        base -= st[d] * dims[d];
        oIdx[d] = 0;
      }
    }
    return;
  }
  const idx = new Array<number>(last).fill(0);
  let si = 0;
  for (let r = 0, o = 0; r < rows; r++, o += rowLen) {
    if (step === 1) {
      copyRun(src, si, rowLen, out, o);
    } else {
      for (let j = 0, s = si; j < rowLen; j++, s += step) out[o + j] = src[s];
    }
    for (let d = last - 1; d >= 0; d--) {
      si += st[d];
      if (++idx[d] < dims[d]) break;
      si -= st[d] * dims[d];
      idx[d] = 0;
    }
  }
}

/** dst[to .. to+len) = src[from .. from+len): memcpy for long runs, a loop for short ones. */
export function copyRun(src: BigInt64Array, from: number, len: number, dst: BigInt64Array, to: number): void {
  if (len >= 64) {
    dst.set(src.subarray(from, from + len), to);
  } else {
    for (let i = 0; i < len; i++) dst[to + i] = src[from + i];
  }
}

const TILE = 32;

/** out[o + i*cols + j] = src[base + i + j*step] for i < rows, j < cols, in TILE x TILE blocks. */
function transposeTiles(
  src: BigInt64Array,
  base: number,
  step: number,
  rows: number,
  cols: number,
  out: BigInt64Array,
  o: number,
): void {
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const i1 = Math.min(i0 + TILE, rows);
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const j1 = Math.min(j0 + TILE, cols);
      for (let i = i0; i < i1; i++) {
        const dst = o + i * cols;
        for (let j = j0, s = base + i + j0 * step; j < j1; j++, s += step) out[dst + j] = src[s];
      }
    }
  }
}

/**
 * Sums a [outer, len, inner] view over its middle dimension into out[outer, inner] (mod 2^64).
 */
export function sumMiddle(a: BigInt64Array, outer: number, len: number, inner: number, out: BigInt64Array): void {
  out.fill(0n);
  if (inner === 1) {
    // Four partial sums in a typed array stay native 64-bit adds (a BigInt local would not).
    const acc = new BigInt64Array(4);
    for (let o = 0; o < outer; o++) {
      acc.fill(0n);
      const start = o * len;
      const end = start + len;
      const end4 = end - (len % 4);
      let i = start;
      for (; i < end4; i += 4) {
        acc[0] += a[i];
        acc[1] += a[i + 1];
        acc[2] += a[i + 2];
        acc[3] += a[i + 3];
      }
      for (; i < end; i++) acc[0] += a[i];
      out[o] = acc[0] + acc[1] + acc[2] + acc[3];
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    for (let t = 0; t < len; t++) {
      const ab = (o * len + t) * inner;
      for (let j = 0; j < inner; j++) out[ob + j] += a[ab + j];
    }
  }
}

/**
 * im2col for a 2-D convolution: input [N, C, H, W] -> columns [N, C*kh*kw, outH*outW], rows in
 * (channel, kernel row, kernel column) order and columns in (output row, output column) order,
 * as torch.nn.functional.unfold. `out` must be zero-filled: padding positions are skipped.
 * `win` is [kh, kw, strideH, strideW, padH, padW].
 */
export function im2col(
  src: BigInt64Array,
  [N, C, H, W]: readonly number[],
  [kh, kw, sh, sw, ph, pw]: readonly number[],
  outH: number,
  outW: number,
  out: BigInt64Array,
): void {
  const cols = outH * outW;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const rowBase = (((n * C + c) * kh + ki) * kw + kj) * cols;
          // Output columns whose input column iw = ow*sw - pw + kj lies inside [0, W).
          const owFirst = Math.max(0, Math.ceil((pw - kj) / sw));
          const owEnd = Math.min(outW, Math.floor((W - 1 + pw - kj) / sw) + 1);
          if (owEnd <= owFirst) continue;
          for (let oh = 0; oh < outH; oh++) {
            const ih = oh * sh - ph + ki;
            if (ih < 0 || ih >= H) continue;
            const dst = rowBase + oh * outW;
            const from = plane + ih * W + owFirst * sw - pw + kj;
            // A plain loop: rows are short (outW), and subarray+set per row measured slower.
            for (let ow = owFirst, s = from; ow < owEnd; ow++, s += sw) out[dst + ow] = src[s];
          }
        }
      }
    }
  }
}

/**
 * col2im, the adjoint of {@link im2col} (torch.nn.functional.fold): adds every column entry back
 * into the [N, C, H, W] position it was read from, mod 2^64. `out` must be zero-filled.
 */
export function col2im(
  src: BigInt64Array,
  [N, C, H, W]: readonly number[],
  [kh, kw, sh, sw, ph, pw]: readonly number[],
  outH: number,
  outW: number,
  out: BigInt64Array,
): void {
  const cols = outH * outW;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const rowBase = (((n * C + c) * kh + ki) * kw + kj) * cols;
          const owFirst = Math.max(0, Math.ceil((pw - kj) / sw));
          const owEnd = Math.min(outW, Math.floor((W - 1 + pw - kj) / sw) + 1);
          if (owEnd <= owFirst) continue;
          for (let oh = 0; oh < outH; oh++) {
            const ih = oh * sh - ph + ki;
            if (ih < 0 || ih >= H) continue;
            const from = rowBase + oh * outW;
            const to = plane + ih * W + owFirst * sw - pw + kj;
            for (let ow = owFirst, d = to; ow < owEnd; ow++, d += sw) out[d] += src[from + ow];
          }
        }
      }
    }
  }
}

/**
 * For PyTorch's gather/scatter along `dim`: the flat offset into an `xShape` tensor of every
 * position of an `indexShape` index holding `index` (row-major). Throws a RangeError naming the
 * first index that is not an integer in [0, xShape[dim]) (a ValueError).
 */
export function gatherOffsets(xShape: readonly number[], dim: number, indexShape: readonly number[], index: ArrayLike<number | bigint>): Float64Array {
  const rank = xShape.length;
  const strides = new Array<number>(rank);
  for (let d = rank - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= xShape[d]!;
  }
  const size = xShape[dim]!;
  const out = new Float64Array(index.length);
  const idx = new Array<number>(rank).fill(0);
  let base = 0; // offset of the current index position with idx[dim] taken as 0
  for (let p = 0; p < index.length; p++) {
    const v = Number(index[p]);
    if (!Number.isInteger(v) || v < 0 || v >= size) throw new ValueError(`index ${String(index[p])} is out of range for a dim of size ${size}: indices must be integers in [0, ${size})`);
    out[p] = base + v * strides[dim]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (d !== dim) base += strides[d]!;
      if (++idx[d]! < indexShape[d]!) break;
      if (d !== dim) base -= strides[d]! * indexShape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}
