import { ValueError } from '../errors.js';
import { rand } from '../factory.js';
import type { Tensor } from '../tensor.js';
import { linear } from './functional.js';
import { Module, expectTensor } from './module.js';

/**
 * `y = x W^T + b`, PyTorch's `nn.Linear`, initialised as PyTorch does (uniform in
 * ±1/sqrt(inFeatures), from the seeded generator: `sy.manualSeed`).
 *
 * @example
 * ```ts
 * const model = new sy.nn.Linear(2, 1);
 * const y = model.forward(sy.tensor([[0, 1]]));
 * ```
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean } = {},
  ) {
    super();
    if (!Number.isInteger(inFeatures) || inFeatures < 1 || !Number.isInteger(outFeatures) || outFeatures < 1) {
      throw new ValueError(`Linear needs positive integer sizes, got (${inFeatures}, ${outFeatures})`);
    }
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.parameter(rand([outFeatures, inFeatures], { low: -bound, high: bound }));
    this.bias = opts.bias === false ? undefined : this.parameter(rand([outFeatures], { low: -bound, high: bound }));
  }

  forward(x: Tensor): Tensor {
    return linear(expectTensor(x, 'Linear'), this.weight, this.bias);
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }
}
