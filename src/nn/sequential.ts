import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { isShared, reluThenMaxPool } from './relu-pool.js';

/**
 * Modules applied one after another.
 *
 * @example
 * ```ts
 * const model = new sy.nn.Sequential(new sy.nn.Linear(784, 128), new sy.nn.ReLU(), new sy.nn.Linear(128, 10));
 * ```
 */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      if (reluThenMaxPool(this.layers, i) && isShared(h)) {
        // On shares, pool first and ReLU the pooled values: the same output and gradients with
        // a quarter of the comparisons (see relu-pool.ts).
        h = this.layers[i]!.forward(this.layers[i + 1]!.forward(h));
        i++;
      } else h = this.layers[i]!.forward(h);
    }
    return h;
  }
}
