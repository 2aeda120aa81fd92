/**
 * Sliding windows over float32 [N, C, H, W] planes in plain JavaScript: im2col and col2im in the
 * three column layouts the convolution kernels want, average pooling, and max pooling's gradient
 * (its forward pass is XNNPACK's, ./float-conv.ts).
 *
 * Every window is a fixed pattern of offsets from its first element, and every output position a
 * fixed offset from its plane's start, so the loops are two index lists and no bounds: padding is
 * handled by padding the planes first (im2col, pooling) or cropping afterwards (col2im). That
 * measured as fast as loops with bounds checks, in one code path for every padding.
 */
import type { Window2d } from '../layer/window.js';

type Dims4 = readonly [number, number, number, number];

/** Column layouts: 'nkl' is PyTorch's unfold [N, K, L]; 'knl' is [K, N*L]; 'lk' is [N*L, K] (K = C*kh*kw). */
export type ColumnLayout = 'nkl' | 'knl' | 'lk';

/** x with `ph` rows and `pw` columns of `fill` around every plane. */
function padPlanes(x: Float32Array, [N, C, H, W]: Dims4, ph: number, pw: number, fill = 0): Float32Array {
  const hp = H + 2 * ph;
  const wp = W + 2 * pw;
  const out = new Float32Array(N * C * hp * wp);
  if (fill !== 0) out.fill(fill);
  for (let p = 0; p < N * C; p++) {
    for (let y = 0; y < H; y++) out.set(x.subarray((p * H + y) * W, (p * H + y + 1) * W), (p * hp + y + ph) * wp + pw);
  }
  return out;
}

/** The plane with its padding cut away (col2im's last step). */
function cropPlanes(x: Float32Array, [N, C, H, W]: Dims4, ph: number, pw: number): Float32Array {
  const hp = H + 2 * ph;
  const wp = W + 2 * pw;
  const out = new Float32Array(N * C * H * W);
  for (let p = 0; p < N * C; p++) {
    for (let y = 0; y < H; y++) out.set(x.subarray((p * hp + y + ph) * wp + pw, (p * hp + y + ph) * wp + pw + W), (p * H + y) * W);
  }
  return out;
}

/** Offsets of output positions (row-major over oh x ow) from their plane's start, in a plane of width `w`. */
function positionOffsets(oh: number, ow: number, sh: number, sw: number, w: number): Int32Array {
  const off = new Int32Array(oh * ow);
  for (let i = 0, p = 0; i < oh; i++) for (let j = 0; j < ow; j++, p++) off[p] = i * sh * w + j * sw;
  return off;
}

/** Offsets of a window's elements, (channel, row, column) order, from its first, in planes of h x w. */
function windowOffsets(c: number, kh: number, kw: number, h: number, w: number): Int32Array {
  const off = new Int32Array(c * kh * kw);
  for (let ch = 0, t = 0; ch < c; ch++) for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++, t++) off[t] = ch * h * w + a * w + b;
  return off;
}

/**
 * im2col: x [N, C, H, W] -> columns in `layout`, into `out` (N*K*L long; every element is
 * written) or a new array. 'knl' is the right factor of weight [O, K] times columns, 'lk' the left factor of
 * columns times weight^T.
 */
export function im2colF32(x: Float32Array, dims: Dims4, win: Window2d, oh: number, ow: number, layout: ColumnLayout = 'nkl', out?: Float32Array): Float32Array {
  const [N, C, H, W] = dims;
  const [kh, kw] = win.kernel;
  const [ph, pw] = win.padding;
  const [hp, wp] = [H + 2 * ph, W + 2 * pw];
  const xp = ph > 0 || pw > 0 ? padPlanes(x, dims, ph, pw) : x;
  const L = oh * ow;
  const K = C * kh * kw;
  const cols = out ?? new Float32Array(N * K * L);
  const [sh, sw] = win.stride;
  const pos = positionOffsets(oh, ow, sh, sw, wp);
  if (layout === 'lk') {
    const off = windowOffsets(C, kh, kw, hp, wp);
    for (let n = 0, d = 0; n < N; n++) {
      for (let p = 0; p < L; p++) {
        const s = n * C * hp * wp + pos[p]!;
        for (let t = 0; t < K; t++, d++) cols[d] = xp[s + off[t]!]!;
      }
    }
    return cols;
  }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let a = 0; a < kh; a++) {
        for (let b = 0; b < kw; b++) {
          const k = (c * kh + a) * kw + b;
          const d = layout === 'nkl' ? (n * K + k) * L : (k * N + n) * L;
          const s = (n * C + c) * hp * wp + a * wp + b;
          // Row by row: one multiply per output row, no offset table (1.3 times faster).
          for (let i = 0, q = d; i < oh; i++) {
            const r = s + i * sh * wp;
            if (sw === 1) for (let j = 0; j < ow; j++, q++) cols[q] = xp[r + j]!;
            else for (let j = 0; j < ow; j++, q++) cols[q] = xp[r + j * sw]!;
          }
        }
      }
    }
  }
  return cols;
}

/** col2im, the adjoint of {@link im2colF32}: columns in `layout` summed back into a new [N, C, H, W]. */
export function col2imF32(cols: Float32Array, dims: Dims4, win: Window2d, oh: number, ow: number, layout: ColumnLayout = 'nkl'): Float32Array {
  const [N, C, H, W] = dims;
  const [kh, kw] = win.kernel;
  const [ph, pw] = win.padding;
  const [hp, wp] = [H + 2 * ph, W + 2 * pw];
  const L = oh * ow;
  const K = C * kh * kw;
  const out = new Float32Array(N * C * hp * wp);
  const pos = positionOffsets(oh, ow, win.stride[0], win.stride[1], wp);
  if (layout === 'lk') {
    const off = windowOffsets(C, kh, kw, hp, wp);
    for (let n = 0, s = 0; n < N; n++) {
      for (let p = 0; p < L; p++) {
        const d = n * C * hp * wp + pos[p]!;
        for (let t = 0; t < K; t++, s++) out[d + off[t]!]! += cols[s]!;
      }
    }
  } else {
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        for (let a = 0; a < kh; a++) {
          for (let b = 0; b < kw; b++) {
            const k = (c * kh + a) * kw + b;
            const s = layout === 'nkl' ? (n * K + k) * L : (k * N + n) * L;
            const d = (n * C + c) * hp * wp + a * wp + b;
            for (let p = 0; p < L; p++) out[d + pos[p]!]! += cols[s + p]!;
          }
        }
      }
    }
  }
  return ph > 0 || pw > 0 ? cropPlanes(out, dims, ph, pw) : out;
}

/** Average pooling over every [H, W] plane of x [N, C, H, W]; padding zeros count (PyTorch's count_include_pad default). */
export function avgPool2dF32(x: Float32Array, dims: Dims4, win: Window2d, oh: number, ow: number): Float32Array {
  const [N, C, H, W] = dims;
  const [kh, kw] = win.kernel;
  const [ph, pw] = win.padding;
  const xp = ph > 0 || pw > 0 ? padPlanes(x, dims, ph, pw) : x;
  const [hp, wp] = [H + 2 * ph, W + 2 * pw];
  const pos = positionOffsets(oh, ow, win.stride[0], win.stride[1], wp);
  const off = windowOffsets(1, kh, kw, hp, wp);
  const k = off.length;
  const inv = 1 / k;
  const L = oh * ow;
  const out = new Float32Array(N * C * L);
  for (let q = 0, o = 0; q < N * C; q++) {
    const plane = q * hp * wp;
    for (let p = 0; p < L; p++, o++) {
      const s = plane + pos[p]!;
      let acc = 0;
      for (let t = 0; t < k; t++) acc += xp[s + off[t]!]!;
      out[o] = acc * inv;
    }
  }
  return out;
}

/** Max pooling's input gradient: each window's gradient goes to its first maximum (as PyTorch). */
export function maxPool2dBackwardF32(x: Float32Array, g: Float32Array, dims: Dims4, win: Window2d, oh: number, ow: number): Float32Array {
  const [N, C, H, W] = dims;
  const [kh, kw] = win.kernel;
  const [ph, pw] = win.padding;
  const padded = ph > 0 || pw > 0;
  const [hp, wp] = [H + 2 * ph, W + 2 * pw];
  const xp = padded ? padPlanes(x, dims, ph, pw, -Infinity) : x;
  const out = new Float32Array(N * C * hp * wp);
  const pos = positionOffsets(oh, ow, win.stride[0], win.stride[1], wp);
  const off = windowOffsets(1, kh, kw, hp, wp);
  const k = off.length;
  const L = oh * ow;
  for (let q = 0, o = 0; q < N * C; q++) {
    const plane = q * hp * wp;
    for (let p = 0; p < L; p++, o++) {
      const s = plane + pos[p]!;
      let at = s;
      let best = xp[s]!;
      for (let t = 1; t < k; t++) {
        const v = xp[s + off[t]!]!;
        // NaN wins and stays (as in PyTorch); otherwise the first maximum keeps its place.
        if (v > best || (v !== v && best === best)) {
          best = v;
          at = s + off[t]!;
        }
      }
      out[at]! += g[o]!;
    }
  }
  // Padding is -inf: it never wins a window, so nothing is lost by cropping it.
  return padded ? cropPlanes(out, dims, ph, pw) : out;
}

// ---- channels-last (NHWC) storage: the layout of convolution outputs on float tensors -------

/** NHWC planes with `ph` rows and `pw` columns of `fill` around each image. */
function padNhwc(x: Float32Array, [N, C, H, W]: Dims4, ph: number, pw: number, fill = 0): Float32Array {
  const [hp, wp] = [H + 2 * ph, W + 2 * pw];
  const out = new Float32Array(N * hp * wp * C);
  if (fill !== 0) out.fill(fill);
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < H; y++) out.set(x.subarray(((n * H + y) * W) * C, ((n * H + y + 1) * W) * C), ((n * hp + y + ph) * wp + pw) * C);
  }
  return out;
}

function cropNhwc(x: Float32Array, [N, C, H, W]: Dims4, ph: number, pw: number): Float32Array {
  const [hp, wp] = [H + 2 * ph, W + 2 * pw];
  const out = new Float32Array(N * H * W * C);
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < H; y++) out.set(x.subarray(((n * hp + y + ph) * wp + pw) * C, ((n * hp + y + ph) * wp + pw + W) * C), ((n * H + y) * W) * C);
  }
  return out;
}

/** im2col in the 'knl' layout ([C*kh*kw, N*L]) from an input stored channels-last. */
export function im2colKnlFromNhwc(x: Float32Array, dims: Dims4, win: Window2d, oh: number, ow: number, out?: Float32Array): Float32Array {
  const [N, C, H, W] = dims;
  const [kh, kw] = win.kernel;
  const [ph, pw] = win.padding;
  const [hp, wp] = [H + 2 * ph, W + 2 * pw];
  const xp = ph > 0 || pw > 0 ? padNhwc(x, dims, ph, pw) : x;
  const L = oh * ow;
  const cols = out ?? new Float32Array(N * C * kh * kw * L);
  const pos = positionOffsets(oh, ow, win.stride[0], win.stride[1], wp);
  for (let p = 0; p < L; p++) pos[p]! *= C;
  for (let c = 0, k = 0; c < C; c++) {
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++, k++) {
        for (let n = 0; n < N; n++) {
          const d = (k * N + n) * L;
          const s = n * hp * wp * C + (a * wp + b) * C + c;
          for (let p = 0; p < L; p++) cols[d + p] = xp[s + pos[p]!]!;
        }
      }
    }
  }
  return cols;
}

/**
 * col2im into channels-last storage: columns [N*L, kh*kw*C] in (kernel row, kernel column,
 * channel) order, summed into a new [N, H, W, C]. One kernel row of a window is kw*C adjacent
 * numbers there, so the sums run along contiguous rows (1.5 times faster than the planar 'lk'
 * fold for PySyft's second layer).
 */
export function col2imNhwc(cols: Float32Array, dims: Dims4, win: Window2d, oh: number, ow: number): Float32Array {
  const [N, C, H, W] = dims;
  const [kh, kw] = win.kernel;
  const [ph, pw] = win.padding;
  const [sh, sw] = win.stride;
  const [hp, wp] = [H + 2 * ph, W + 2 * pw];
  const out = new Float32Array(N * hp * wp * C);
  const run = kw * C;
  const rowStride = wp * C;
  for (let n = 0, s = 0; n < N; n++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const base = ((n * hp + i * sh) * wp + j * sw) * C;
        for (let a = 0; a < kh; a++) {
          const d = base + a * rowStride;
          for (let t = 0; t < run; t++, s++) out[d + t]! += cols[s]!;
        }
      }
    }
  }
  return ph > 0 || pw > 0 ? cropNhwc(out, dims, ph, pw) : out;
}

/** The 2x2 windows of {@link maxPool2dBackwardNhwc} without padding, unrolled (1.4 times faster). */
function maxPool2x2BackwardNhwc(x: Float32Array, g: Float32Array, [N, C, H, W]: Dims4, win: Window2d, oh: number, ow: number): Float32Array {
  const [sh, sw] = win.stride;
  const out = new Float32Array(N * H * W * C);
  const down = W * C;
  for (let n = 0, o = 0; n < N; n++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const base = ((n * H + i * sh) * W + j * sw) * C;
        for (let c = 0; c < C; c++, o++) {
          // The first maximum in (0,0), (0,1), (1,0), (1,1) order; a NaN wins where it comes first.
          let at = base + c;
          let best = x[at]!;
          let v = x[at + C]!;
          if (v > best || (v !== v && best === best)) { best = v; at = base + c + C; }
          v = x[base + c + down]!;
          if (v > best || (v !== v && best === best)) { best = v; at = base + c + down; }
          v = x[base + c + down + C]!;
          if (v > best || (v !== v && best === best)) at = base + c + down + C;
          out[at]! += g[o]!;
        }
      }
    }
  }
  return out;
}

/** Max pooling's input gradient on channels-last storage (x and g both NHWC; so is the result). */
export function maxPool2dBackwardNhwc(x: Float32Array, g: Float32Array, dims: Dims4, win: Window2d, oh: number, ow: number): Float32Array {
  const [N, C, H, W] = dims;
  const [kh, kw] = win.kernel;
  const [ph, pw] = win.padding;
  const padded = ph > 0 || pw > 0;
  if (kh === 2 && kw === 2 && !padded) return maxPool2x2BackwardNhwc(x, g, dims, win, oh, ow);
  const [hp, wp] = [H + 2 * ph, W + 2 * pw];
  const xp = padded ? padNhwc(x, dims, ph, pw, -Infinity) : x;
  const out = new Float32Array(N * hp * wp * C);
  const pos = positionOffsets(oh, ow, win.stride[0], win.stride[1], wp);
  const off = windowOffsets(1, kh, kw, hp, wp);
  const k = off.length;
  for (let p = 0; p < pos.length; p++) pos[p]! *= C;
  for (let t = 0; t < k; t++) off[t]! *= C;
  const L = oh * ow;
  for (let n = 0, o = 0; n < N; n++) {
    const image = n * hp * wp * C;
    for (let p = 0; p < L; p++) {
      const base = image + pos[p]!;
      for (let c = 0; c < C; c++, o++) {
        const s = base + c;
        let at = s;
        let best = xp[s]!;
        for (let t = 1; t < k; t++) {
          const v = xp[s + off[t]!]!;
          if (v > best || (v !== v && best === best)) {
            best = v;
            at = s + off[t]!;
          }
        }
        out[at]! += g[o]!;
      }
    }
  }
  return padded ? cropNhwc(out, dims, ph, pw) : out;
}
