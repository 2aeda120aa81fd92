/**
 * Convolution, pooling and softmax written once from other ops, for every layer that has no
 * kernel of its own: ring integers, fixed precision and secret shares. Each is built from linear
 * maps that are local on shares (im2col/col2im, transpose, reshape, sums, public additions) and
 * matrix products, so that a convolution of shared values costs one Beaver matmul and nothing
 * else. Float tensors run kernels instead (src/tensors/float.ts); the tests check each composite
 * against them.
 *
 * Autograd layers that do not record an op themselves fall back to these too, and then record
 * the ops they are made of, so a composite needs no gradient of its own.
 */
import type { AbstractTensor } from './abstract.js';
import { type Pair, convTranspose2dShape, windowOut } from './window.js';

const dims = (t: AbstractTensor) => t.shape as readonly number[];

/** Columns [N, K, L] laid out as a [K, N*L] matrix (one column per output position of every image). */
function columnsMatrix(cols: AbstractTensor): AbstractTensor {
  const [n, k, l] = dims(cols) as [number, number, number];
  return n === 1 ? cols.reshape([k, l]) : cols.transpose([1, 0, 2]).reshape([k, n * l]);
}

/** A [K, N*L] matrix back to [N, K, L]. */
function fromColumnsMatrix(m: AbstractTensor, n: number, l: number): AbstractTensor {
  const k = dims(m)[0]!;
  return n === 1 ? m.reshape([1, k, l]) : m.reshape([k, n, l]).transpose([1, 0, 2]);
}

/**
 * conv2d as im2col, one matmul and a reshape: y[n, o] = W[o, :] . cols[n, :, l] (+ bias[o]).
 */
export function conv2dComposite(x: AbstractTensor, weight: AbstractTensor, bias: AbstractTensor | undefined, stride: Pair, padding: Pair): AbstractTensor {
  const [n, , h, w] = dims(x) as [number, number, number, number];
  const [o, c, kh, kw] = dims(weight) as [number, number, number, number];
  const [oh, ow] = windowOut(h, w, { kernel: [kh, kw], stride, padding }, 'conv2d');
  const cols = columnsMatrix(x.im2col([kh, kw], stride, padding));
  const y = fromColumnsMatrix(weight.reshape([o, c * kh * kw]).matmul(cols), n, oh * ow).reshape([n, o, oh, ow]);
  return bias ? y.add(bias.reshape([1, o, 1, 1])) : y;
}

/** conv2d's input gradient: the weight's transpose times the gradient, folded back with col2im. */
export function convTranspose2dComposite(
  g: AbstractTensor,
  weight: AbstractTensor,
  bias: AbstractTensor | undefined,
  stride: Pair,
  padding: Pair,
  outputPadding: Pair,
): AbstractTensor {
  const [n, o, oh, ow] = dims(g) as [number, number, number, number];
  const [, c, kh, kw] = dims(weight) as [number, number, number, number];
  const [, , h, w] = convTranspose2dShape(dims(g), dims(weight), bias && dims(bias), stride, padding, outputPadding) as number[];
  const g2 = columnsMatrix(g.reshape([n, o, oh * ow]));
  const cols = weight.reshape([o, c * kh * kw]).transpose([1, 0]).matmul(g2);
  const x = fromColumnsMatrix(cols, n, oh * ow).col2im([h!, w!], [kh, kw], stride, padding);
  return bias ? x.add(bias.reshape([1, c, 1, 1])) : x;
}

/** conv2d's weight gradient: dW[o, k] = sum over images and positions of g[n, o, l] cols[n, k, l]. */
export function conv2dWeightComposite(x: AbstractTensor, g: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
  const [n, c] = dims(x) as [number, number];
  const [, o, oh, ow] = dims(g) as [number, number, number, number];
  const l = oh * ow;
  const cols = x.im2col(kernel, stride, padding); // [N, K, L]
  const colsT = n === 1 ? cols.reshape([-1, l]).transpose([1, 0]) : cols.transpose([0, 2, 1]).reshape([n * l, c * kernel[0] * kernel[1]]);
  const g2 = columnsMatrix(g.reshape([n, o, l]));
  return g2.matmul(colsT).reshape([o, c, kernel[0], kernel[1]]);
}

// Max pooling pads with -inf, which integers and shares cannot hold: padded windows are taken
// over x + OFFSET, whose zero padding then loses to every value above -OFFSET.
const OFFSET = 2n ** 24n;

/** Windows of each channel as [N*C, kh*kw, L]. */
function channelWindows(x: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
  const [n, c, h, w] = dims(x) as [number, number, number, number];
  return x.reshape([n * c, 1, h, w]).im2col(kernel, stride, padding);
}

/**
 * maxPool2d as windows and a max over each window. With padding, exact for inputs above -2^24
 * (see OFFSET).
 */
export function maxPool2dComposite(x: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
  const [n, c, h, w] = dims(x) as [number, number, number, number];
  const [oh, ow] = windowOut(h, w, { kernel, stride, padding }, 'maxPool2d');
  const padded = padding[0] > 0 || padding[1] > 0;
  const m = channelWindows(padded ? x.add(OFFSET) : x, kernel, stride, padding).max(1);
  return (padded ? m.sub(OFFSET) : m).reshape([n, c, oh, ow]);
}

/**
 * maxPool2d's input gradient: each window's gradient goes to the elements equal to its maximum
 * (to every one of them where several tie; float kernels pick the first, as PyTorch does).
 */
export function maxPool2dBackwardComposite(x: AbstractTensor, g: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
  const [n, c, h, w] = dims(x) as [number, number, number, number];
  const padded = padding[0] > 0 || padding[1] > 0;
  const cols = channelWindows(padded ? x.add(OFFSET) : x, kernel, stride, padding);
  const [m, k, l] = dims(cols) as [number, number, number];
  const mask = cols.eq(cols.max(1, true).broadcastTo([m, k, l]));
  const spread = mask.mul(g.reshape([m, 1, l]).broadcastTo([m, k, l]));
  return spread.col2im([h, w], kernel, stride, padding).reshape([n, c, h, w]);
}

/** avgPool2d as windows, a sum and a division by the window size (zero padding counts, as PyTorch's default). */
export function avgPool2dComposite(x: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
  const [n, c, h, w] = dims(x) as [number, number, number, number];
  const [oh, ow] = windowOut(h, w, { kernel, stride, padding }, 'avgPool2d');
  return channelWindows(x, kernel, stride, padding).sum(1).div(kernel[0] * kernel[1]).reshape([n, c, oh, ow]);
}

/** avgPool2d's input gradient: each window's gradient, divided by its size, spread over it. */
export function avgPool2dBackward(g: AbstractTensor, inShape: readonly number[], kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
  const [n, c, h, w] = inShape as [number, number, number, number];
  const [, , oh, ow] = dims(g) as [number, number, number, number];
  const k = kernel[0] * kernel[1];
  const m = n * c;
  const spread = g.div(k).reshape([m, 1, oh * ow]).broadcastTo([m, k, oh * ow]);
  return spread.col2im([h, w], kernel, stride, padding).reshape([n, c, h, w]);
}

/** log-softmax along `dim`, shifted by the maximum so that exp() stays finite. */
export function logSoftmaxComposite(x: AbstractTensor, dim: number): AbstractTensor {
  const shifted = x.sub(x.max(dim, true));
  return shifted.sub(shifted.exp().sum(dim, true).log());
}

/** softmax along `dim`, shifted by the maximum. */
export function softmaxComposite(x: AbstractTensor, dim: number): AbstractTensor {
  const e = x.sub(x.max(dim, true)).exp();
  return e.div(e.sum(dim, true));
}

/** F.linear: x @ weight^T + bias. */
export function linearComposite(x: AbstractTensor, weight: AbstractTensor, bias: AbstractTensor | undefined): AbstractTensor {
  const y = x.matmul(weight.transpose([1, 0]));
  return bias ? y.add(bias) : y;
}
