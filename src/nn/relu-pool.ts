/**
 * ReLU then max pooling, run in the cheaper order on secret shares.
 *
 * max is monotone, so relu(max(S)) = max(relu(S)) for every window S: pooling first and applying
 * ReLU to the pooled (k times smaller, 4x for MaxPool2d(2)) tensor gives the same output. On
 * shares a ReLU is one secure comparison per element, the most expensive step of an encrypted
 * CNN (the Part 6 CNN's first ReLU is 737,280 comparisons per batch of 64; after its pool,
 * 184,320), so `Sequential` swaps a ReLU directly followed by a MaxPool2d when the input is
 * secret-shared. The gradients are the same too: autograd routes them through both masks, the
 * ReLU's (pooled value > 0) and the pool's (tournament winner); where a window holds no positive
 * value both orders give 0, elsewhere the window's maximum is its largest positive element in
 * both. Plaintext tensors keep PyTorch's order (a float ReLU costs nothing worth the change).
 */
import type { Tensor } from '../tensor.js';
import { AdditiveSharingTensor } from '../tensors/additive-sharing.js';
import { ReLU } from './activations.js';
import type { Module } from './module.js';
import { MaxPool2d } from './pooling.js';

/** True when `x` holds secret shares somewhere down its chain. */
export function isShared(x: Tensor): boolean {
  for (const l of x.child.layers()) if (l instanceof AdditiveSharingTensor) return true;
  return false;
}

/**
 * True when layers[i] is a ReLU and layers[i + 1] a MaxPool2d (the pair `Sequential` swaps on
 * shares). Exactly these classes: a subclass may override forward with something not monotone.
 */
export function reluThenMaxPool(layers: readonly Module[], i: number): boolean {
  return layers[i]?.constructor === ReLU && layers[i + 1]?.constructor === MaxPool2d;
}
