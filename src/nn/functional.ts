/**
 * `sy.nn.functional`, PyTorch's `F`: the layers as functions, with PyTorch's argument order
 * (`F.conv2d(x, weight, bias, stride, padding)`, `F.maxPool2d(x, kernelSize, stride, padding)`).
 * Each is one op of the table (src/layer/ops.ts) on whatever the tensors are — local, on a worker
 * (the op is sent), or fixed-precision and shared (the layer's composite runs) — so modules
 * (src/nn/*.ts) are thin wrappers over these.
 *
 * @example
 * ```ts
 * const F = sy.nn.functional;
 * const h = F.maxPool2d(F.relu(F.conv2d(x, w, b)), 2);
 * const loss = F.nllLoss(F.logSoftmax(logits, 1), labels);
 * ```
 */
import { ValueError } from '../errors.js';
import type { AbstractTensor } from '../layer/abstract.js';
import { type Pair, pair } from '../layer/window.js';
import { Tensor } from '../tensor.js';
import { tensor as makeTensor } from '../factory.js';
import { AutogradTensor, noGrad } from '../tensors/autograd.js';
import { globalRandom } from '../util/seeded.js';

export { crossEntropy, mseLoss, nllLoss, type LossOptions, type Reduction } from './losses.js';

/** A size as PyTorch takes it: one integer for both dims, or [height, width]. */
export type Size2 = number | readonly [number, number];

function expectTensor(x: unknown, who: string, what = 'input'): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`${who}: the ${what} must be a Tensor`);
  return x;
}

/**
 * The layers of `self` and `others` for one op. When an operand records gradients and `self` does
 * not (plain data through a trained layer), `self` joins the graph as a constant, as in PyTorch.
 */
function layersOf(self: Tensor, ...others: (Tensor | undefined | null)[]): [AbstractTensor, ...(AbstractTensor | undefined)[]] {
  const rest = others.map((o) => (o === undefined || o === null ? undefined : o.child));
  const lift = rest.some((o) => o instanceof AutogradTensor) && !(self.child instanceof AutogradTensor);
  return [lift ? new AutogradTensor(self.child) : self.child, ...rest];
}

/** max(x, 0). */
export function relu(input: Tensor): Tensor {
  return expectTensor(input, 'relu').relu();
}

/** `input @ weight^T + bias`, PyTorch's `F.linear`. */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  expectTensor(input, 'linear');
  expectTensor(weight, 'linear', 'weight');
  const [x, w, b] = layersOf(input, weight, bias);
  return new Tensor(x.linear(w!, b));
}

/** Explicit padding as a pair; 'valid' is no padding, 'same' keeps the size (odd kernels, stride 1). */
function paddingOf(padding: Size2 | 'valid' | 'same', kernel: Pair, stride: Pair, who: string): Pair {
  if (padding === 'valid') return [0, 0];
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1 || kernel[0] % 2 === 0 || kernel[1] % 2 === 0) {
      throw new ValueError(`${who}: padding 'same' needs stride 1 and an odd kernel size; give the padding as numbers instead`);
    }
    return [(kernel[0] - 1) / 2, (kernel[1] - 1) / 2];
  }
  return pair(padding, `${who}: padding`, 0);
}

/**
 * 2-D cross-correlation of `input` [N, C, H, W] with `weight` [O, C, kh, kw] (and `bias` [O]),
 * PyTorch's `F.conv2d`. On floats it runs tfjs's convolution; on shared values it is im2col and
 * one matrix product.
 *
 * @example
 * ```ts
 * const y = sy.nn.functional.conv2d(sy.randn([1, 1, 28, 28]), sy.randn([20, 1, 5, 5]));   // [1, 20, 24, 24]
 * ```
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, stride: Size2 = 1, padding: Size2 | 'valid' | 'same' = 0): Tensor {
  expectTensor(input, 'conv2d');
  expectTensor(weight, 'conv2d', 'weight');
  const s = pair(stride, 'conv2d: stride', 1);
  const w = weight.shape;
  const p = paddingOf(padding, [w[2] ?? 1, w[3] ?? 1], s, 'conv2d');
  const [x, wl, b] = layersOf(input, weight, bias);
  return new Tensor(x.conv2d(wl!, b, s, p));
}

/** Window arguments of a pool: stride defaults to the kernel size, as PyTorch. */
function poolWindow(kernelSize: Size2, stride: Size2 | null | undefined, padding: Size2, who: string): [Pair, Pair, Pair] {
  const k = pair(kernelSize, `${who}: kernel size`, 1);
  return [k, stride === undefined || stride === null ? k : pair(stride, `${who}: stride`, 1), pair(padding, `${who}: padding`, 0)];
}

/**
 * Largest value of each window of each channel, PyTorch's `F.max_pool2d` (padding counts as
 * -inf; stride defaults to the kernel size).
 */
export function maxPool2d(input: Tensor, kernelSize: Size2, stride?: Size2 | null, padding: Size2 = 0): Tensor {
  const x = expectTensor(input, 'maxPool2d');
  return new Tensor(x.child.maxPool2d(...poolWindow(kernelSize, stride, padding, 'maxPool2d')));
}

/** Mean of each window of each channel, PyTorch's `F.avg_pool2d` (padding zeros count). */
export function avgPool2d(input: Tensor, kernelSize: Size2, stride?: Size2 | null, padding: Size2 = 0): Tensor {
  const x = expectTensor(input, 'avgPool2d');
  return new Tensor(x.child.avgPool2d(...poolWindow(kernelSize, stride, padding, 'avgPool2d')));
}

/**
 * Average pooling to a fixed output size, PyTorch's `F.adaptive_avg_pool2d`: window i of n over
 * a dim of size s covers [floor(i*s/n), ceil((i+1)*s/n)). When n divides s that is an ordinary
 * average pool; otherwise it is a product with a public pooling matrix (linear, so local on
 * shares). `null` keeps that dim's size.
 */
export function adaptiveAvgPool2d(input: Tensor, outputSize: number | readonly [number | null, number | null]): Tensor {
  const x = expectTensor(input, 'adaptiveAvgPool2d');
  if (x.ndim !== 4) throw new ValueError(`adaptiveAvgPool2d needs an [N, C, H, W] input, got [${x.shape.join(', ')}]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const raw = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  const [oh, ow] = pair([raw[0] ?? h, raw[1] ?? w], 'adaptiveAvgPool2d: output size', 1);
  if (h % oh === 0 && w % ow === 0) return avgPool2d(x, [h / oh, w / ow]);
  const pool = new Float32Array(h * w * oh * ow);
  for (let i = 0; i < oh; i++) {
    const [h0, h1] = [Math.floor((i * h) / oh), Math.ceil(((i + 1) * h) / oh)];
    for (let j = 0; j < ow; j++) {
      const [w0, w1] = [Math.floor((j * w) / ow), Math.ceil(((j + 1) * w) / ow)];
      const share = 1 / ((h1 - h0) * (w1 - w0));
      for (let a = h0; a < h1; a++) for (let b = w0; b < w1; b++) pool[(a * w + b) * oh * ow + i * ow + j] = share;
    }
  }
  let p = makeTensor(pool, { shape: [h * w, oh * ow] });
  if (x.location) p = p.send(x.location);
  return x.reshape([n * c, h * w]).matmul(p).reshape([n, c, oh, ow]);
}

/** log(softmax(x)) along `dim`, max-shifted, PyTorch's `F.log_softmax`. */
export function logSoftmax(input: Tensor, dim: number): Tensor {
  return expectTensor(input, 'logSoftmax').logSoftmax(dim);
}

/** softmax along `dim`, max-shifted, PyTorch's `F.softmax`. */
export function softmax(input: Tensor, dim: number): Tensor {
  return expectTensor(input, 'softmax').softmax(dim);
}

/**
 * Zeroes each element with probability `p` and scales the rest by 1/(1-p) while `training`,
 * PyTorch's `F.dropout`. The mask comes from the seeded generator (`sy.manualSeed`), drawn
 * where the tensor is: a remote tensor's mask is made on its worker from a seed sent along.
 */
export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  const x = expectTensor(input, 'dropout');
  if (!(p >= 0 && p <= 1)) throw new ValueError(`dropout probability must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return x.mul(0);
  const mask = new Tensor(x.child.dropoutMask(p, globalRandom().nextUint32()));
  return x.mul(mask);
}

/** Flattens dims `startDim` to `endDim` into one, as `torch.flatten`. */
export function flatten(input: Tensor, startDim = 0, endDim = -1): Tensor {
  return expectTensor(input, 'flatten').flatten(startDim, endDim);
}

/** Unfolds sliding windows into columns [N, C*kh*kw, L], PyTorch's `F.unfold` (dilation 1 only). */
export function unfold(input: Tensor, kernelSize: Size2, dilation: Size2 = 1, padding: Size2 = 0, stride: Size2 = 1): Tensor {
  const x = expectTensor(input, 'unfold');
  if (pair(dilation, 'unfold: dilation', 1).some((d) => d !== 1)) throw new ValueError('unfold supports dilation 1 only');
  return new Tensor(x.child.im2col(pair(kernelSize, 'unfold: kernel size', 1), pair(stride, 'unfold: stride', 1), pair(padding, 'unfold: padding', 0)));
}

/** Sums columns [N, C*kh*kw, L] back into [N, C, H, W], PyTorch's `F.fold` (dilation 1 only). */
export function fold(input: Tensor, outputSize: Size2, kernelSize: Size2, dilation: Size2 = 1, padding: Size2 = 0, stride: Size2 = 1): Tensor {
  const x = expectTensor(input, 'fold');
  if (pair(dilation, 'fold: dilation', 1).some((d) => d !== 1)) throw new ValueError('fold supports dilation 1 only');
  return new Tensor(
    x.child.col2im(pair(outputSize, 'fold: output size', 1), pair(kernelSize, 'fold: kernel size', 1), pair(stride, 'fold: stride', 1), pair(padding, 'fold: padding', 0)),
  );
}

/**
 * Batch normalisation, PyTorch's `F.batch_norm`, over dim 1 of [N, C], [N, C, L] or [N, C, H, W].
 * While `training` it normalises by the batch's mean and (biased) variance and, when running
 * statistics are given, updates them in place: `running = (1 - momentum) * running + momentum *
 * batch`, the variance unbiased (n / (n - 1)), as PyTorch. Otherwise it normalises by the
 * running statistics.
 */
export function batchNorm(
  input: Tensor,
  runningMean: Tensor | null | undefined,
  runningVar: Tensor | null | undefined,
  weight?: Tensor | null,
  bias?: Tensor | null,
  training = false,
  momentum = 0.1,
  eps = 1e-5,
): Tensor {
  const x = expectTensor(input, 'batchNorm');
  if (x.ndim < 2) throw new ValueError(`batchNorm needs an input of rank 2 or more ([N, C, ...]), got [${x.shape.join(', ')}]`);
  const c = x.shape[1]!;
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const perChannel = x.shape.map((d, i) => (i === 1 ? d : 1));
  for (const [name, t] of [['running mean', runningMean], ['running var', runningVar], ['weight', weight], ['bias', bias]] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== c)) throw new ValueError(`batchNorm: ${name} must have shape [${c}], got [${t.shape.join(', ')}]`);
  }
  if (!training) {
    if (!runningMean || !runningVar) throw new ValueError('batchNorm in eval mode needs running statistics (or training = true)');
    // One scale and one shift per channel, computed on [C] vectors: y = x * scale + shift.
    const root = runningVar.add(eps).sqrt();
    const scale = weight ? weight.div(root) : root.pow(-1);
    const shift = bias ? bias.sub(runningMean.mul(scale)) : runningMean.mul(scale).neg();
    return x.mul(scale.reshape(perChannel)).add(shift.reshape(perChannel));
  }
  const count = dims.reduce((p, d) => p * x.shape[d]!, 1);
  if (count <= 1) throw new ValueError(`batchNorm in training needs more than one value per channel, got input [${x.shape.join(', ')}]`);
  const mean = x.mean(dims, true);
  const centred = x.sub(mean);
  const variance = centred.mul(centred).mean(dims, true);
  const normed = centred.div(variance.add(eps).sqrt());
  const scaled = weight ? normed.mul(weight.reshape(perChannel)) : normed;
  const out = bias ? scaled.add(bias.reshape(perChannel)) : scaled;
  if (runningMean && runningVar) {
    noGrad(() => {
      runningMean.mul_(1 - momentum).add_(mean.detach().reshape([c]).mul(momentum));
      runningVar.mul_(1 - momentum).add_(variance.detach().reshape([c]).mul((momentum * count) / (count - 1)));
    });
  }
  return out;
}
