/**
 * `sy.nn.Dropout`, PyTorch's `nn.Dropout`: active in training mode (`model.train()`), the
 * identity in eval mode (`model.eval()`). Masks come from the seeded generator (`sy.manualSeed`).
 */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { dropout } from './functional.js';
import { Module, expectTensor } from './module.js';

/**
 * @example
 * ```ts
 * const model = new sy.nn.Sequential(new sy.nn.Linear(784, 128), new sy.nn.ReLU(), new sy.nn.Dropout(0.2), new sy.nn.Linear(128, 10));
 * model.eval();   // dropout off
 * ```
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ValueError(`dropout probability must be in [0, 1], got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return dropout(expectTensor(x, 'Dropout'), this.p, this.training);
  }

  protected override extraRepr(): string {
    return `p=${this.p}, inplace=False`;
  }
}
