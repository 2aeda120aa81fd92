/**
 * `sy.nn.Conv2d`, PyTorch's `nn.Conv2d` (groups and dilation 1): weight [O, C, kh, kw] and bias
 * [O], initialised as PyTorch does (uniform in ±1/sqrt(C*kh*kw), from the seeded generator).
 */
import { ValueError } from '../errors.js';
import { rand } from '../factory.js';
import { type Pair, pair } from '../layer/window.js';
import type { Tensor } from '../tensor.js';
import { type Size2, conv2d } from './functional.js';
import { Module, expectTensor } from './module.js';

export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: Size2;
  /** Zeros added on each side (default 0), or 'valid' (none) / 'same' (odd kernels, stride 1). */
  padding?: Size2 | 'valid' | 'same';
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * @example
 * ```ts
 * const conv = new sy.nn.Conv2d(1, 20, 5);              // PySyft's Part 6 CNN, first layer
 * conv.forward(sy.randn([64, 1, 28, 28])).shape;        // [64, 20, 24, 24]
 * new sy.nn.Conv2d(3, 16, 3, { stride: 2, padding: 1, bias: false });
 * ```
 */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | undefined;
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair | 'valid' | 'same';

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Size2,
    opts: Conv2dOptions = {},
  ) {
    super();
    if (!Number.isSafeInteger(inChannels) || inChannels < 1 || !Number.isSafeInteger(outChannels) || outChannels < 1) {
      throw new ValueError(`Conv2d needs positive integer channel counts, got (${inChannels}, ${outChannels})`);
    }
    this.kernelSize = pair(kernelSize, 'Conv2d: kernel size', 1);
    this.stride = pair(opts.stride ?? 1, 'Conv2d: stride', 1);
    const p = opts.padding ?? 0;
    this.padding = p === 'valid' || p === 'same' ? p : pair(p, 'Conv2d: padding', 0);
    const [kh, kw] = this.kernelSize;
    const bound = 1 / Math.sqrt(inChannels * kh * kw);
    this.weight = this.parameter(rand([outChannels, inChannels, kh, kw], { low: -bound, high: bound }));
    this.bias = opts.bias === false ? undefined : this.parameter(rand([outChannels], { low: -bound, high: bound }));
  }

  forward(x: Tensor): Tensor {
    return conv2d(expectTensor(x, 'Conv2d'), this.weight, this.bias, this.stride, this.padding);
  }

  protected override extraRepr(): string {
    const t = (p: Pair) => `(${p[0]}, ${p[1]})`;
    const pad = typeof this.padding === 'string' ? `'${this.padding}'` : t(this.padding);
    const padded = typeof this.padding === 'string' || this.padding[0] !== 0 || this.padding[1] !== 0;
    return (
      `${this.inChannels}, ${this.outChannels}, kernel_size=${t(this.kernelSize)}, stride=${t(this.stride)}` +
      `${padded ? `, padding=${pad}` : ''}${this.bias ? '' : ', bias=False'}`
    );
  }
}
