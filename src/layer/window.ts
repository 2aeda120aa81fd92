/**
 * Sliding windows over the last two dims of an [N, C, H, W] tensor: the geometry that 2-D
 * convolution, im2col/col2im and pooling share, with their shape rules. Each rule checks its
 * arguments (positive kernels and strides, padding that leaves a window inside the input, a
 * result a worker is willing to allocate) before anything is computed, so a layer, a pointer and
 * a worker's allow-list all refuse the same bad call with the same message.
 *
 * Layouts follow PyTorch: im2col is `F.unfold` ([N, C*kh*kw, L], rows in (channel, kernel row,
 * kernel column) order, L = outH*outW output positions row-major) and col2im is `F.fold`.
 */
import { ShapeError, ValueError } from '../errors.js';
import { type Shape, formatShape, sizeOf } from '../shapes.js';

/** (height, width) of a kernel, stride, padding or size. */
export type Pair = readonly [number, number];

/** A window: kernel size, step between windows and zeros added on each side, as (height, width). */
export interface Window2d {
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
}

/** The most elements a windowed op may produce (2^28, a gigabyte of float32). */
export const MAX_WINDOW_ELEMENTS = 2 ** 28;

/** `3` or `[3, 3]` as a pair of integers no smaller than `min`. */
export function pair(v: unknown, what: string, min: number): Pair {
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) ? v : undefined;
  if (!p || p.length !== 2 || !p.every((x) => Number.isSafeInteger(x) && (x as number) >= min)) {
    throw new ValueError(`${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return [p[0] as number, p[1] as number];
}

/** A checked window from op arguments (kernel >= 1, stride >= 1, padding >= 0). */
export function window2d(kernel: unknown, stride: unknown, padding: unknown): Window2d {
  return { kernel: pair(kernel, 'kernel size', 1), stride: pair(stride, 'stride', 1), padding: pair(padding, 'padding', 0) };
}

function expect4d(s: Shape, op: string): void {
  if (s.length !== 4) throw new ShapeError(`${op} needs an [N, C, H, W] input, got ${formatShape(s)}`);
}

function capped(s: Shape, op: string): Shape {
  if (sizeOf(s) > MAX_WINDOW_ELEMENTS) {
    throw new ShapeError(`${op} would make ${formatShape(s)} (more than 2^28 elements): use smaller batches or kernels`);
  }
  return s;
}

/** Output height and width of windows over an H x W plane. */
export function windowOut(h: number, w: number, win: Window2d, op: string): Pair {
  const [kh, kw] = win.kernel;
  const [sh, sw] = win.stride;
  const [ph, pw] = win.padding;
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (h + 2 * ph < kh || w + 2 * pw < kw || oh < 1 || ow < 1) {
    throw new ShapeError(`${op}: a ${kh}x${kw} window does not fit a ${h}x${w} input with padding (${ph}, ${pw}); use a smaller kernel or more padding`);
  }
  return [oh, ow];
}

/** im2col (F.unfold): [N, C, H, W] -> [N, C*kh*kw, outH*outW]. */
export function im2colShape(s: Shape, win: Window2d): Shape {
  expect4d(s, 'im2col');
  const [n, c, h, w] = s as [number, number, number, number];
  const [oh, ow] = windowOut(h, w, win, 'im2col');
  return capped([n, c * win.kernel[0] * win.kernel[1], oh * ow], 'im2col');
}

/** col2im (F.fold): [N, C*kh*kw, L] -> [N, C, H, W], where L must be the window count of H x W. */
export function col2imShape(s: Shape, size: Pair, win: Window2d): Shape {
  if (s.length !== 3) throw new ShapeError(`col2im needs [N, C*kh*kw, L] columns, got ${formatShape(s)}`);
  const [n, ckk, l] = s as [number, number, number];
  const k = win.kernel[0] * win.kernel[1];
  const [oh, ow] = windowOut(size[0], size[1], win, 'col2im');
  if (ckk % k !== 0 || l !== oh * ow) {
    throw new ShapeError(
      `col2im: columns ${formatShape(s)} do not fold into ${size[0]}x${size[1]} with a ${win.kernel[0]}x${win.kernel[1]} kernel ` +
        `(expected [N, C*${k}, ${oh * ow}])`,
    );
  }
  return capped([n, ckk / k, size[0], size[1]], 'col2im');
}

/** conv2d: x [N, C, H, W], weight [O, C, kh, kw], bias [O] -> [N, O, outH, outW]. */
export function conv2dShape(x: Shape, weight: Shape, bias: Shape | undefined, stride: Pair, padding: Pair): Shape {
  expect4d(x, 'conv2d');
  if (weight.length !== 4 || weight[1] !== x[1]) {
    throw new ShapeError(`conv2d: weight ${formatShape(weight)} does not fit input ${formatShape(x)}; it must be [outChannels, ${x[1]}, kh, kw]`);
  }
  if (bias && (bias.length !== 1 || bias[0] !== weight[0])) {
    throw new ShapeError(`conv2d: bias ${formatShape(bias)} must be [${weight[0]}], one value per output channel`);
  }
  const win = { kernel: [weight[2]!, weight[3]!] as Pair, stride, padding };
  const [oh, ow] = windowOut(x[2]!, x[3]!, win, 'conv2d');
  im2colShape(x, win);
  return capped([x[0]!, weight[0]!, oh, ow], 'conv2d');
}

/**
 * convTranspose2d (the input gradient of conv2d): g [N, O, oh, ow], weight [O, C, kh, kw] ->
 * [N, C, (oh-1)*stride - 2*padding + kh + outputPadding, ...], as PyTorch's conv_transpose2d.
 */
export function convTranspose2dShape(g: Shape, weight: Shape, bias: Shape | undefined, stride: Pair, padding: Pair, outputPadding: Pair): Shape {
  expect4d(g, 'convTranspose2d');
  if (weight.length !== 4 || weight[0] !== g[1]) {
    throw new ShapeError(`convTranspose2d: weight ${formatShape(weight)} does not fit input ${formatShape(g)}; it must be [${g[1]}, outChannels, kh, kw]`);
  }
  if (bias && (bias.length !== 1 || bias[0] !== weight[1])) {
    throw new ShapeError(`convTranspose2d: bias ${formatShape(bias)} must be [${weight[1]}]`);
  }
  if (outputPadding[0] >= Math.max(stride[0], 1) || outputPadding[1] >= Math.max(stride[1], 1)) {
    throw new ValueError(`convTranspose2d: output padding (${outputPadding.join(', ')}) must be smaller than the stride (${stride.join(', ')})`);
  }
  const h = (g[2]! - 1) * stride[0] - 2 * padding[0] + weight[2]! + outputPadding[0];
  const w = (g[3]! - 1) * stride[1] - 2 * padding[1] + weight[3]! + outputPadding[1];
  if (h < 1 || w < 1) throw new ShapeError(`convTranspose2d: padding (${padding.join(', ')}) leaves no output`);
  const out = [g[0]!, weight[1]!, h, w];
  const win = { kernel: [weight[2]!, weight[3]!] as Pair, stride, padding };
  const [oh, ow] = windowOut(h, w, win, 'convTranspose2d');
  if (oh !== g[2] || ow !== g[3]) throw new ShapeError(`convTranspose2d: input ${formatShape(g)} is not a window grid of ${formatShape(out)}`);
  im2colShape(out, win);
  return capped(out, 'convTranspose2d');
}

/** conv2dWeight (the weight gradient of conv2d): x [N, C, H, W], g [N, O, oh, ow] -> [O, C, kh, kw]. */
export function conv2dWeightShape(x: Shape, g: Shape, kernel: Pair, stride: Pair, padding: Pair): Shape {
  expect4d(x, 'conv2dWeight');
  const win = { kernel, stride, padding };
  const [oh, ow] = windowOut(x[2]!, x[3]!, win, 'conv2dWeight');
  if (g.length !== 4 || g[0] !== x[0] || g[2] !== oh || g[3] !== ow) {
    throw new ShapeError(`conv2dWeight: gradient ${formatShape(g)} does not fit input ${formatShape(x)}; expected [${x[0]}, O, ${oh}, ${ow}]`);
  }
  im2colShape(x, win);
  return capped([g[1]!, x[1]!, kernel[0], kernel[1]], 'conv2dWeight');
}

/** Pooling: [N, C, H, W] -> [N, C, outH, outW]; padding at most half the kernel, as PyTorch. */
export function pool2dShape(s: Shape, win: Window2d, op: string): Shape {
  expect4d(s, op);
  if (2 * win.padding[0] > win.kernel[0] || 2 * win.padding[1] > win.kernel[1]) {
    throw new ValueError(`${op}: padding (${win.padding.join(', ')}) must be at most half the kernel size (${win.kernel.join(', ')})`);
  }
  const [oh, ow] = windowOut(s[2]!, s[3]!, win, op);
  im2colShape([s[0]! * s[1]!, 1, s[2]!, s[3]!], win);
  return [s[0]!, s[1]!, oh, ow];
}
