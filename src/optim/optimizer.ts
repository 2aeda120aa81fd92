/**
 * Optimizers update parameters in place with tensor ops, so one implementation serves local,
 * remote and secret-shared models: on a remote model the updates run on its worker, on a shared
 * model among the parties.
 */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';

export abstract class Optimizer {
  readonly params: Tensor[];

  constructor(params: Iterable<Tensor>) {
    this.params = [...params];
    if (this.params.length === 0) throw new ValueError('the optimizer got no parameters');
  }

  /** Applies one update from the parameters' current gradients. */
  abstract step(): void;

  /** Drops every parameter's gradient, freeing it (copy a gradient first to keep it). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = undefined;
  }

  /**
   * For fixed-precision (and shared) parameters, as PySyft's `optimizer.fix_precision()`.
   * Hyperparameters are public numbers: each op encodes them at the precision of the tensor it
   * meets, so nothing else needs converting. Returns the optimizer.
   */
  fixPrecision(): this {
    return this;
  }
}
