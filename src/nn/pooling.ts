/**
 * Pooling modules, PyTorch's `nn.MaxPool2d`, `nn.AvgPool2d` and `nn.AdaptiveAvgPool2d`
 * (stride defaults to the kernel size; no dilation or ceil mode).
 */
import type { Tensor } from '../tensor.js';
import { type Size2, adaptiveAvgPool2d, avgPool2d, maxPool2d } from './functional.js';
import { Module, expectTensor } from './module.js';

export interface Pool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Size2;
  /** Padding on each side, at most half the kernel (default 0). */
  padding?: Size2;
}

const show = (v: Size2) => (typeof v === 'number' ? `${v}` : `(${v[0]}, ${v[1]})`);

/**
 * @example
 * ```ts
 * new sy.nn.MaxPool2d(2).forward(sy.randn([1, 20, 24, 24])).shape;   // [1, 20, 12, 12]
 * ```
 */
export class MaxPool2d extends Module {
  readonly stride: Size2;
  readonly padding: Size2;

  constructor(readonly kernelSize: Size2, opts: Pool2dOptions = {}) {
    super();
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(expectTensor(x, 'MaxPool2d'), this.kernelSize, this.stride, this.padding);
  }

  protected override extraRepr(): string {
    return `kernel_size=${show(this.kernelSize)}, stride=${show(this.stride)}, padding=${show(this.padding)}, dilation=1, ceil_mode=False`;
  }
}

/** Mean of each window (padding zeros count, as PyTorch's default). */
export class AvgPool2d extends Module {
  readonly stride: Size2;
  readonly padding: Size2;

  constructor(readonly kernelSize: Size2, opts: Pool2dOptions = {}) {
    super();
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(expectTensor(x, 'AvgPool2d'), this.kernelSize, this.stride, this.padding);
  }

  protected override extraRepr(): string {
    return `kernel_size=${show(this.kernelSize)}, stride=${show(this.stride)}, padding=${show(this.padding)}`;
  }
}

/**
 * Average pooling to a fixed output size, whatever the input's.
 * @example `new sy.nn.AdaptiveAvgPool2d(1)` (global average pooling), `new sy.nn.AdaptiveAvgPool2d([7, 7])`
 */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | readonly [number | null, number | null]) {
    super();
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(expectTensor(x, 'AdaptiveAvgPool2d'), this.outputSize);
  }

  protected override extraRepr(): string {
    const o = this.outputSize;
    return `output_size=${typeof o === 'number' ? o : `(${o[0] ?? 'None'}, ${o[1] ?? 'None'})`}`;
  }
}
