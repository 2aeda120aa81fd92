import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

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
    return this.layers.reduce((h, m) => m.forward(h), x);
  }
}
