/**
 * Loss functions, written with tensor ops so that they run wherever the tensors are.
 */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';

function reduce(t: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'mean') return t.mean();
  if (reduction === 'sum') return t.sum();
  if (reduction === 'none') return t;
  throw new ValueError(`reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
}

/** Mean squared error, PyTorch's `F.mse_loss`. */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  return reduce(input.sub(target).pow(2), opts.reduction ?? 'mean');
}

/**
 * Cross entropy of logits `[N, C]` against class indices `[N]` or one-hot / probability rows
 * `[N, C]`, PyTorch's `F.cross_entropy`. Needs exp and log, so plaintext (local or remote) only.
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  if (logits.ndim !== 2) throw new ValueError(`crossEntropy needs logits of shape [N, C], got [${logits.shape.join(', ')}]`);
  const classes = logits.shape[1]!;
  const rows = target.ndim === 1 ? target.oneHot(classes) : target;
  // Subtracting the (constant) row maximum keeps exp() finite; it cancels out of the result.
  const shifted = logits.sub(logits.detach().max(1, true));
  const logProbs = shifted.sub(shifted.exp().sum(1, true).log());
  return reduce(logProbs.mul(rows).sum(1).neg(), opts.reduction ?? 'mean');
}
