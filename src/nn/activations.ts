/** Activation and shape modules: ReLU, Sigmoid, Tanh, LogSoftmax, Softmax, Flatten, as PyTorch's. */
import type { Tensor } from '../tensor.js';
import { Module, expectTensor } from './module.js';

/** max(x, 0). On shared values it costs one secure comparison and one multiplication. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return expectTensor(x, 'ReLU').relu();
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return expectTensor(x, 'Sigmoid').sigmoid();
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return expectTensor(x, 'Tanh').tanh();
  }
}

/** log(softmax(x)) along `dim` (PyTorch's `nn.LogSoftmax(dim)`). @example `new sy.nn.LogSoftmax(1)` */
export class LogSoftmax extends Module {
  constructor(readonly dim: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return expectTensor(x, 'LogSoftmax').logSoftmax(this.dim);
  }

  protected override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** softmax along `dim` (PyTorch's `nn.Softmax(dim)`). */
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return expectTensor(x, 'Softmax').softmax(this.dim);
  }

  protected override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * Flattens dims `startDim` (default 1) to `endDim` (default -1): `[N, 1, 28, 28]` becomes
 * `[N, 784]`, as PyTorch's `nn.Flatten`.
 */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return expectTensor(x, 'Flatten').flatten(this.startDim, this.endDim);
  }

  protected override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
