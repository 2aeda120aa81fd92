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

/** Flattens every dimension after the first: `[N, 1, 28, 28]` becomes `[N, 784]`. */
export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    const t = expectTensor(x, 'Flatten');
    return t.reshape([t.shape[0]!, -1]);
  }
}
