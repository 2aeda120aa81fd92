/**
 * Float32 kernels in plain JavaScript for the ops where a tfjs kernel would cost more than the
 * work (data movement, windows, short rows) or where tfjs has none that is fast: im2col/col2im,
 * pooling over NCHW planes, softmax along a dim, gather/scatter, tiled transposes, dropout masks.
 * Each takes and returns flat row-major Float32Arrays; shapes are checked by the caller (the op
 * table's shape rules).
 */
import type { Window2d } from '../layer/window.js';
import { coalesce } from '../shapes.js';
import { gatherOffsets } from '../ring/kernels/movement.js';
import { SeededRandom } from '../util/seeded.js';

type Dims4 = readonly [number, number, number, number];

/** Range of output columns whose input column ow*stride - pad + k lies in [0, size). */
function span(k: number, stride: number, pad: number, size: number, outSize: number): [number, number] {
  const first = Math.max(0, Math.ceil((pad - k) / stride));
  const end = Math.min(outSize, Math.floor((size - 1 + pad - k) / stride) + 1);
  return [first, end];
}

/** Column layouts: 'nkl' is PyTorch's unfold [N, K, L]; 'knl' is [K, N*L]; 'lk' is [N*L, K] (K = C*kh*kw). */
export type ColumnLayout = 'nkl' | 'knl' | 'lk';

/**
 * im2col: x [N, C, H, W] -> columns in `layout`, into `out` (zero-filled, N*K*L long) or a new
 * array. 'knl' is the right factor of weight [O, K] times columns, 'lk' the left factor of
 * columns times weight^T.
 */
export function im2colF32(x: Float32Array, [N, C, H, W]: Dims4, win: Window2d, oh: number, ow: number, layout: ColumnLayout = 'nkl', out?: Float32Array): Float32Array {
  const [kh, kw] = win.kernel;
  const [sh, sw] = win.stride;
  const [ph, pw] = win.padding;
  const L = oh * ow;
  const K = C * kh * kw;
  const cols = out ?? new Float32Array(N * K * L);
  if (layout === 'lk') {
    // One row per output position: each row gathers its window from C planes.
    for (let n = 0, r = 0; n < N; n++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++, r++) {
          const z0 = j * sw - pw;
          const kj0 = Math.max(0, -z0);
          const kj1 = Math.min(kw, W - z0);
          for (let c = 0; c < C; c++) {
            const plane = (n * C + c) * H * W;
            for (let ki = 0; ki < kh; ki++) {
              const y = i * sh - ph + ki;
              if (y < 0 || y >= H) continue;
              const d = r * K + (c * kh + ki) * kw;
              const s = plane + y * W + z0;
              for (let kj = kj0; kj < kj1; kj++) cols[d + kj] = x[s + kj]!;
            }
          }
        }
      }
    }
    return cols;
  }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const k = (c * kh + ki) * kw + kj;
          const [first, end] = span(kj, sw, pw, W, ow);
          if (end <= first) continue;
          const base = layout === 'nkl' ? (n * K + k) * L : (k * N + n) * L;
          for (let i = 0; i < oh; i++) {
            const y = i * sh - ph + ki;
            if (y < 0 || y >= H) continue;
            const d = base + i * ow;
            const s = plane + y * W - pw + kj;
            if (sw === 1) for (let j = first; j < end; j++) cols[d + j] = x[s + j]!;
            else for (let j = first; j < end; j++) cols[d + j] = x[s + j * sw]!;
          }
        }
      }
    }
  }
  return cols;
}

/** col2im, the adjoint of {@link im2colF32}: columns in `layout` summed back into a new [N, C, H, W]. */
export function col2imF32(cols: Float32Array, [N, C, H, W]: Dims4, win: Window2d, oh: number, ow: number, layout: ColumnLayout = 'nkl'): Float32Array {
  const [kh, kw] = win.kernel;
  const [sh, sw] = win.stride;
  const [ph, pw] = win.padding;
  const L = oh * ow;
  const K = C * kh * kw;
  const out = new Float32Array(N * C * H * W);
  if (layout === 'lk') {
    // Rows in memory order: each output position adds its window back into C planes.
    for (let n = 0, r = 0; n < N; n++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++, r++) {
          const z0 = j * sw - pw;
          const kj0 = Math.max(0, -z0);
          const kj1 = Math.min(kw, W - z0);
          for (let c = 0; c < C; c++) {
            const plane = (n * C + c) * H * W;
            for (let ki = 0; ki < kh; ki++) {
              const y = i * sh - ph + ki;
              if (y < 0 || y >= H) continue;
              const s = r * K + (c * kh + ki) * kw;
              const d = plane + y * W + z0;
              for (let kj = kj0; kj < kj1; kj++) out[d + kj]! += cols[s + kj]!;
            }
          }
        }
      }
    }
    return out;
  }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const k = (c * kh + ki) * kw + kj;
          const [first, end] = span(kj, sw, pw, W, ow);
          if (end <= first) continue;
          const base = layout === 'nkl' ? (n * K + k) * L : (k * N + n) * L;
          for (let i = 0; i < oh; i++) {
            const y = i * sh - ph + ki;
            if (y < 0 || y >= H) continue;
            const s = base + i * ow;
            const d = plane + y * W - pw + kj;
            if (sw === 1) for (let j = first; j < end; j++) out[d + j]! += cols[s + j]!;
            else for (let j = first; j < end; j++) out[d + j * sw]! += cols[s + j]!;
          }
        }
      }
    }
  }
  return out;
}

/**
 * Pooling over every [H, W] plane of x [N, C, H, W]. Max pooling pads with -inf and lets NaN
 * win (PyTorch); average pooling counts padding zeros (PyTorch's count_include_pad default).
 */
export function pool2dF32(x: Float32Array, dims: Dims4, win: Window2d, oh: number, ow: number, mode: 'max' | 'avg'): Float32Array {
  if (win.padding[0] === 0 && win.padding[1] === 0) return mode === 'max' ? maxPoolInside(x, dims, win, oh, ow) : avgPoolInside(x, dims, win, oh, ow);
  const [N, C, H, W] = dims;
  const [kh, kw] = win.kernel;
  const [sh, sw] = win.stride;
  const [ph, pw] = win.padding;
  const out = new Float32Array(N * C * oh * ow);
  const inv = 1 / (kh * kw);
  const max = mode === 'max';
  let o = 0;
  for (let p = 0; p < N * C; p++) {
    const plane = p * H * W;
    for (let i = 0; i < oh; i++) {
      const h0 = Math.max(0, i * sh - ph);
      const h1 = Math.min(H, i * sh - ph + kh);
      for (let j = 0; j < ow; j++, o++) {
        const w0 = Math.max(0, j * sw - pw);
        const w1 = Math.min(W, j * sw - pw + kw);
        // Windows always hold a real element (padding is at most half the kernel).
        let acc = max ? x[plane + h0 * W + w0]! : 0;
        for (let a = h0; a < h1; a++) {
          const row = plane + a * W;
          if (max) {
            for (let b = w0; b < w1; b++) {
              const v = x[row + b]!;
              if (v > acc || v !== v) acc = v;
            }
          } else {
            for (let b = w0; b < w1; b++) acc += x[row + b]!;
          }
        }
        out[o] = max ? acc : acc * inv;
      }
    }
  }
  return out;
}

/** Offsets of a window's elements from its first, in an H x W plane of width `w`. */
function windowOffsets(kh: number, kw: number, w: number): Int32Array {
  const off = new Int32Array(kh * kw);
  for (let a = 0, t = 0; a < kh; a++) for (let b = 0; b < kw; b++, t++) off[t] = a * w + b;
  return off;
}

// Without padding every window lies inside its plane: no bounds, one list of offsets.
function maxPoolInside(x: Float32Array, [N, C, H, W]: Dims4, win: Window2d, oh: number, ow: number): Float32Array {
  const [sh, sw] = win.stride;
  const off = windowOffsets(win.kernel[0], win.kernel[1], W);
  const k = off.length;
  const out = new Float32Array(N * C * oh * ow);
  const two = win.kernel[0] === 2 && win.kernel[1] === 2;
  // Math.max lets NaN win, as PyTorch's max pooling does, and measured faster than a compare
  // and branch per element (which mispredicts on data).
  for (let p = 0, o = 0; p < N * C; p++) {
    for (let i = 0; i < oh; i++) {
      let base = p * H * W + i * sh * W;
      if (two) {
        for (let j = 0; j < ow; j++, o++, base += sw) out[o] = Math.max(x[base]!, x[base + 1]!, x[base + W]!, x[base + W + 1]!);
        continue;
      }
      for (let j = 0; j < ow; j++, o++, base += sw) {
        let m = x[base]!;
        for (let t = 1; t < k; t++) m = Math.max(m, x[base + off[t]!]!);
        out[o] = m;
      }
    }
  }
  return out;
}

function avgPoolInside(x: Float32Array, [N, C, H, W]: Dims4, win: Window2d, oh: number, ow: number): Float32Array {
  const [sh, sw] = win.stride;
  const off = windowOffsets(win.kernel[0], win.kernel[1], W);
  const k = off.length;
  const inv = 1 / k;
  const out = new Float32Array(N * C * oh * ow);
  for (let p = 0, o = 0; p < N * C; p++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0, base = p * H * W + i * sh * W; j < ow; j++, o++, base += sw) {
        let s = 0;
        for (let t = 0; t < k; t++) s += x[base + off[t]!]!;
        out[o] = s * inv;
      }
    }
  }
  return out;
}

/** Max pooling's input gradient: each window's gradient goes to its first maximum (as PyTorch). */
export function maxPool2dBackwardF32(x: Float32Array, g: Float32Array, [N, C, H, W]: Dims4, win: Window2d, oh: number, ow: number): Float32Array {
  const [kh, kw] = win.kernel;
  const [sh, sw] = win.stride;
  const [ph, pw] = win.padding;
  const out = new Float32Array(N * C * H * W);
  if (ph === 0 && pw === 0) {
    const off = windowOffsets(kh, kw, W);
    const k = off.length;
    for (let p = 0, o = 0; p < N * C; p++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0, base = p * H * W + i * sh * W; j < ow; j++, o++, base += sw) {
          let at = base;
          let m = x[base]!;
          for (let t = 1; t < k; t++) {
            const v = x[base + off[t]!]!;
            // NaN wins and stays (as in PyTorch); otherwise the first maximum keeps its place.
            if (v > m || (v !== v && m === m)) {
              m = v;
              at = base + off[t]!;
            }
          }
          out[at]! += g[o]!;
        }
      }
    }
    return out;
  }
  let o = 0;
  for (let p = 0; p < N * C; p++) {
    const plane = p * H * W;
    for (let i = 0; i < oh; i++) {
      const h0 = Math.max(0, i * sh - ph);
      const h1 = Math.min(H, i * sh - ph + kh);
      for (let j = 0; j < ow; j++, o++) {
        const w0 = Math.max(0, j * sw - pw);
        const w1 = Math.min(W, j * sw - pw + kw);
        let at = plane + h0 * W + w0;
        let best = x[at]!;
        for (let a = h0; a < h1; a++) {
          const row = plane + a * W;
          for (let b = w0; b < w1; b++) {
            const v = x[row + b]!;
            if (v > best || (v !== v && best === best)) {
              best = v;
              at = row + b;
            }
          }
        }
        out[at]! += g[o]!;
      }
    }
  }
  return out;
}

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

/**
 * The gradient of (log-)softmax along `dim` from its output `y`: g - exp(y)·sum(g) for
 * log-softmax, y·(g - sum(g·y)) for softmax.
 */
export function softmaxBackwardF32(g: Float32Array, y: Float32Array, shape: readonly number[], dim: number, log: boolean): Float32Array {
  const [outer, len, inner] = around(shape, dim);
  const out = new Float32Array(g.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * len * inner + j;
      let sum = 0;
      for (let t = 0, s = base; t < len; t++, s += inner) sum += log ? g[s]! : g[s]! * y[s]!;
      if (log) for (let t = 0, s = base; t < len; t++, s += inner) out[s] = g[s]! - Math.exp(y[s]!) * sum;
      else for (let t = 0, s = base; t < len; t++, s += inner) out[s] = y[s]! * (g[s]! - sum);
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
 * array. `bias`, when given, is added per output row (the rows of the result are the input's
 * columns): a layout change and a bias in one pass.
 */
export function transposeLastF32(x: Float32Array, batch: number, rows: number, cols: number, bias?: Float32Array, into?: Float32Array): Float32Array {
  const out = into ?? new Float32Array(batch * rows * cols);
  const plane = rows * cols;
  for (let b = 0; b < batch; b++) {
    const o = b * plane;
    for (let i0 = 0; i0 < rows; i0 += TILE) {
      const i1 = Math.min(i0 + TILE, rows);
      for (let j0 = 0; j0 < cols; j0 += TILE) {
        const j1 = Math.min(j0 + TILE, cols);
        for (let j = j0; j < j1; j++) {
          const add = bias ? bias[j]! : 0;
          for (let i = i0, s = o + i * cols + j, d = o + j * rows + i; i < i1; i++, s += cols, d++) out[d] = x[s]! + add;
        }
      }
    }
  }
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
