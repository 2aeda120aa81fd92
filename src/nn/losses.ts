/**
 * Loss functions, written with tensor ops so that they run wherever the tensors are: locally, on
 * a worker (every op is sent), or on fixed-precision shares (where the ops have composites).
 * Names and reductions as PyTorch's `F.mse_loss`, `F.nll_loss` and `F.cross_entropy`.
 */
import { ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';

/** Options of the losses: the reduction (default 'mean') and, for classification, class weights. */
export interface LossOptions {
  reduction?: Reduction;
  /** A weight per class ([C]), as PyTorch's `weight`: 'mean' then divides by the targets' total weight. */
  weight?: Tensor | null;
}

function reduce(t: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'mean') return t.mean();
  if (reduction === 'sum') return t.sum();
  if (reduction === 'none') return t;
  throw new ValueError(`reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
}

function expectTensors(who: string, input: unknown, target: unknown): void {
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) throw new ValueError(`${who} needs the input and the target as Tensors`);
}

/** Mean squared error, PyTorch's `F.mse_loss`. */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  expectTensors('mseLoss', input, target);
  return reduce(input.sub(target).pow(2), opts.reduction ?? 'mean');
}

/**
 * Negative log-likelihood of log-probabilities `input` [N, C] (or [N, C, d1, ...]) at class
 * indices `target` [N] (or [N, d1, ...]), PyTorch's `F.nll_loss`: loss_n = -w[t_n] · input[n, t_n].
 * Targets are int64 tensors, as PyTorch's long (`sy.tensor(labels, { dtype: 'int64' })`); float
 * tensors holding whole numbers are accepted too. The pick is a gather at a public index, so on
 * shared log-probabilities it is local to each share.
 *
 * @example
 * ```ts
 * const loss = sy.nn.nllLoss(sy.nn.functional.logSoftmax(model.forward(x), 1), labels);
 * ```
 */
export function nllLoss(input: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  expectTensors('nllLoss', input, target);
  const reduction = opts.reduction ?? 'mean';
  const s = input.shape;
  const t = target.shape;
  if (s.length < 1 || t.length !== Math.max(s.length - 1, 0) || t.some((d, i) => d !== s[i === 0 ? 0 : i + 1])) {
    throw new ValueError(
      `nllLoss: input [${s.join(', ')}] and target [${t.join(', ')}] do not fit: give log-probabilities [N, C, ...] and class indices [N, ...]`,
    );
  }
  if (s.length === 1) return nllLoss(input.reshape([1, s[0]!]), target.reshape([1]), opts);
  const index = target.reshape([t[0]!, 1, ...t.slice(1)]);
  const picked = input.gather(1, index).reshape(t).neg();
  const w = opts.weight;
  if (!w) return reduce(picked, reduction);
  if (!(w instanceof Tensor) || w.ndim !== 1 || w.shape[0] !== s[1]) throw new ValueError(`nllLoss: weight must be a tensor of shape [${s[1]}]`);
  const wt = w.gather(0, target.reshape([-1])).reshape(t);
  const weighted = picked.mul(wt);
  return reduction === 'mean' ? weighted.sum().div(wt.sum()) : reduce(weighted, reduction);
}

/**
 * Cross entropy of logits `input` [N, C] (or [N, C, d1, ...]), PyTorch's `F.cross_entropy`:
 * `nllLoss(logSoftmax(input, 1), target)` for class indices, or, for a target of the input's
 * shape holding probabilities (one-hot rows, soft labels), -sum(target · logSoftmax(input)) per
 * row. Needs exp and log: plaintext (local or remote) until shares have them.
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  expectTensors('crossEntropy', input, target);
  if (input.ndim < 1) throw new ValueError('crossEntropy needs logits of shape [N, C] (or [C])');
  const dim = input.ndim === 1 ? 0 : 1;
  const logProbs = input.logSoftmax(dim);
  const sameShape = target.ndim === input.ndim && target.shape.every((d, i) => d === input.shape[i]);
  if (!sameShape) return nllLoss(logProbs, target, opts);
  // Probabilities per class.
  const w = opts.weight;
  const perClass = w ? logProbs.mul(w.reshape(input.shape.map((d, i) => (i === dim ? d : 1)))) : logProbs;
  const losses = perClass.mul(target).sum(dim).neg();
  return reduce(losses, opts.reduction ?? 'mean');
}
