/**
 * Convolution, max pooling and F.linear on float32 storage, for FloatTensor (./float.ts). The
 * matrix products and convolutions run tfjs kernels (XNNPACK on the wasm backend); the layout
 * changes around them are written straight into the backend's memory and read out of it
 * (./tf-kernels.ts), and 4-D results stay channels last ([N, H, W, C], tfjs's layout) so that a
 * chain conv > relu > pool > conv changes layout at its ends only.
 *
 * Choices, each measured on the 2-core machine against the alternative:
 * - conv2d forward: tfjs's convolution, not im2col + matmul (5.9 against 9.5 ms for PySyft's
 *   second layer on a batch of 64);
 * - its input gradient: one matmul of the gradient by the weight and col2im into channels-last
 *   storage (tfjs's Conv2DBackpropInput took 56 ms there; a full correlation does 2.3 times the
 *   work), so that max pooling's gradient before it needs no transpose;
 * - its weight gradient: at stride 1 one convolution of the input's planes by the gradient
 *   (9.7 against 11.6 ms with columns), else columns times the gradient;
 * - matmuls put the smaller factor on the right: XNNPACK packs it afresh on every call;
 * - max pooling: XNNPACK's kernel forward (0.7 against 3.3 ms in JS), a JS pass backward
 *   (tfjs's MaxPoolGrad took 15 ms). One difference from PyTorch: XNNPACK's max keeps a NaN only
 *   where it comes first in its window (PyTorch's always wins); activations holding NaN mean
 *   the training has diverged either way.
 */
import type { Pair, Window2d } from '../layer/window.js';
import type { Shape } from '../shapes.js';
import * as K from './float-kernels.js';
import * as Wn from './float-windows.js';
import { type KernelInput, runKernel, withKernel } from './tf-kernels.js';

type Dims4 = readonly [number, number, number, number];

/** A float tensor's numbers as stored: logical row-major order, or channels last when `nhwc`. */
export interface Stored {
  readonly data: Float32Array;
  readonly shape: Shape;
  readonly nhwc: boolean;
}

/** Whether [N, C, H, W] storage already reads as [N, H, W, C] (one channel, or one position). */
function alreadyNhwc(s: Stored): boolean {
  return s.nhwc || s.shape[1] === 1 || s.shape[2]! * s.shape[3]! === 1;
}

/** The storage as a kernel input [N, H, W, C], transposed into the backend's memory if need be. */
function nhwcInput(s: Stored): KernelInput {
  const [n, c, h, w] = s.shape as Dims4;
  if (alreadyNhwc(s)) return { values: s.data, shape: [n, h, w, c] };
  return { fill: (v) => K.transposeLastF32(s.data, n, c, h * w, undefined, v), shape: [n, h, w, c] };
}

/** A [N, C, h, w] gradient as the matrix [N*h*w, C] (its channels-last storage). */
function positionsByChannels(s: Stored): KernelInput {
  const [n, c, h, w] = s.shape as Dims4;
  if (alreadyNhwc(s)) return { values: s.data, shape: [1, n * h * w, c] };
  return { fill: (v) => K.transposeLastF32(s.data, n, c, h * w, undefined, v), shape: [1, n * h * w, c] };
}

const explicit = (p: Pair) => [[0, 0], [p[0], p[0]], [p[1], p[1]], [0, 0]];

/** conv2d: x [N, C, H, W] by weight [O, C, kh, kw] (+ bias [O]) -> channels-last [N, O, oh, ow]. */
export function conv2dFloat(x: Stored, w: Float32Array, wShape: Dims4, bias: Float32Array | undefined, stride: Pair, padding: Pair, out: Shape): Stored {
  const [o, c, kh, kw] = wShape;
  const filter: KernelInput = { fill: (v) => K.stridedCopyF32(w, [kw, 1, kh * kw, c * kh * kw], [kh, kw, c, o], v), shape: [kh, kw, c, o] };
  const xin = nhwcInput(x);
  const y = runKernel(
    bias ? 'FusedConv2D' : 'Conv2D',
    bias ? { x: xin, filter, bias: { values: bias, shape: [o] } } : { x: xin, filter },
    { strides: [...stride], pad: explicit(padding), dataFormat: 'NHWC', dilations: [1, 1], activation: 'linear', leakyreluAlpha: 0 },
  );
  return { data: y.values, shape: out, nhwc: true };
}

/**
 * conv2d's input gradient, channels last: cols [N*L, kh*kw*C] = g (as [N*L, O]) @ w (as
 * [O, kh, kw, C]), folded back into [N, H, W, C] along contiguous rows.
 */
export function convTranspose2dFloat(g: Stored, w: Float32Array, wShape: Dims4, bias: Float32Array | undefined, stride: Pair, padding: Pair, out: Dims4): Stored {
  const [, o, oh, ow] = g.shape as Dims4;
  const [, c, kh, kw] = wShape;
  const win: Window2d = { kernel: [kh, kw], stride, padding };
  const x = withKernel(
    'BatchMatMul',
    { a: positionsByChannels(g), b: { fill: (v) => K.stridedCopyF32(w, [c * kh * kw, kw, 1, kh * kw], [o, kh, kw, c], v), shape: [1, o, kh * kw * c] } },
    { transposeA: false, transposeB: false },
    (cols) => Wn.col2imNhwc(cols, out, win, oh, ow),
  );
  if (bias) for (let i = 0; i < x.length; i += c) for (let ch = 0; ch < c; ch++) x[i + ch]! += bias[ch]!;
  return { data: x, shape: out, nhwc: true };
}

/** conv2d's weight gradient [O, C, kh, kw] from the input x and the output gradient g. */
export function conv2dWeightFloat(x: Stored, g: Stored, kernel: Pair, stride: Pair, padding: Pair, out: Dims4): Float32Array {
  const [n, c, h, w] = x.shape as Dims4;
  const [, o, oh, ow] = g.shape as Dims4;
  const [, , kh, kw] = out;
  if (stride[0] === 1 && stride[1] === 1 && c > 1) {
    // dW[o, c, a, b] = sum over n, i, j of x[n, c, i+a, j+b] g[n, o, i, j]: the input's planes
    // (one image per channel, the batch as channels) convolved with the gradient (positions as
    // the kernel, the batch as its input channels). Only layout passes over x and g run here.
    const xs = x.nhwc ? [1, w * c, c, h * w * c] : [h * w, w, 1, c * h * w]; // read as [C, H, W, N]
    const gs = g.nhwc ? [ow * o, o, oh * ow * o, 1] : [ow, 1, o * oh * ow, oh * ow]; // read as [oh, ow, N, O]
    return withKernel(
      'Conv2D',
      {
        x: { fill: (v) => K.stridedCopyF32(x.data, xs, [c, h, w, n], v), shape: [c, h, w, n] },
        filter: { fill: (v) => K.stridedCopyF32(g.data, gs, [oh, ow, n, o], v), shape: [oh, ow, n, o] },
      },
      { strides: [1, 1], pad: explicit(padding), dataFormat: 'NHWC', dilations: [1, 1] },
      (y) => K.stridedCopyF32(y, [1, kh * kw * o, kw * o, o], [o, c, kh, kw]), // [C, kh, kw, O] -> [O, C, kh, kw]
    );
  }
  // dW^T [K, O] = columns [K, N*L] @ g (as [N*L, O]), both laid out in the backend's memory.
  const win: Window2d = { kernel, stride, padding };
  const kk = c * kh * kw;
  const cols: KernelInput = {
    fill: (v) => (x.nhwc ? Wn.im2colKnlFromNhwc(x.data, x.shape as Dims4, win, oh, ow, v) : Wn.im2colF32(x.data, x.shape as Dims4, win, oh, ow, 'knl', v)),
    shape: [1, kk, n * oh * ow],
  };
  return withKernel('BatchMatMul', { a: cols, b: positionsByChannels(g) }, { transposeA: false, transposeB: false }, (dwT) => K.transposeLastF32(dwT, 1, kk, o));
}

/** Max pooling by the backend's kernel, channels last in and out. */
export function maxPool2dFloat(x: Stored, win: Window2d, out: Shape): Stored {
  const y = runKernel('MaxPool', { x: nhwcInput(x) }, { filterSize: [...win.kernel], strides: [...win.stride], pad: explicit(win.padding) });
  return { data: y.values, shape: out, nhwc: true };
}

/** Max pooling's input gradient, in x's storage order (g is turned to it; it is the smaller one). */
export function maxPool2dBackwardFloat(x: Stored, g: Stored, win: Window2d, gDense: () => Float32Array): Stored {
  const [, , oh, ow] = g.shape as Dims4;
  const dims = x.shape as Dims4;
  if (x.nhwc) {
    const gn = alreadyNhwc(g) ? g.data : K.transposeLastF32(g.data, dims[0], dims[1], oh * ow);
    return { data: Wn.maxPool2dBackwardNhwc(x.data, gn, dims, win, oh, ow), shape: x.shape, nhwc: true };
  }
  return { data: Wn.maxPool2dBackwardF32(x.data, gDense(), dims, win, oh, ow), shape: x.shape, nhwc: false };
}

/**
 * F.linear on row-major x [M, in] and w [out, in]: (w @ x^T)^T when M < out, else x @ w^T, so
 * that XNNPACK packs the smaller factor (fc1 of PySyft's CNN: 1.6 against 3.1 ms); the bias is
 * added on the way out.
 */
export function linearFloat(x: Float32Array, m: number, w: Float32Array, out: number, inF: number, bias: Float32Array | undefined): Float32Array {
  if (m < out) {
    return withKernel(
      'BatchMatMul',
      { a: { values: w, shape: [1, out, inF] }, b: { fill: (v) => K.transposeLastF32(x, 1, m, inF, undefined, v), shape: [1, inF, m] } },
      { transposeA: false, transposeB: false },
      (yt) => K.transposeLastF32(yt, 1, out, m, bias, undefined, true),
    );
  }
  return runKernel(
    '_FusedMatMul',
    {
      a: { values: x, shape: [1, m, inF] },
      b: { fill: (v) => K.transposeLastF32(w, 1, out, inF, undefined, v), shape: [1, inF, out] },
      ...(bias ? { bias: { values: bias, shape: [out] } } : {}),
    },
    { transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0 },
  ).values;
}
