/**
 * `sy.nn.Square`: the quadratic activation x^2 of CryptoNets (Gilad-Bachrach et al., 2016). On
 * secret shares it is one Beaver multiplication and a truncation, where ReLU needs a secure
 * comparison (eight rounds and a boolean circuit) and a multiplication: the cheap activation
 * for encrypted inference and training, at some cost in accuracy and in range (activations
 * grow quadratically, so keep the layers before it normalised).
 */
import type { Tensor } from '../tensor.js';
import { Module, expectTensor } from './module.js';

/**
 * @example
 * ```ts
 * const model = new sy.nn.Sequential(new sy.nn.Conv2d(1, 5, 5, { stride: 2 }), new sy.nn.Square(), new sy.nn.Flatten(), new sy.nn.Linear(720, 10));
 * new sy.nn.Square().forward(sy.tensor([-2, 3])).arraySync();   // [4, 9]
 * ```
 */
export class Square extends Module {
  forward(x: Tensor): Tensor {
    return expectTensor(x, 'Square').pow(2);
  }
}
