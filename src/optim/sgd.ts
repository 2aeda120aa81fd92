import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { noGrad } from '../tensors/autograd.js';
import { keep, tidy } from '../tensors/scope.js';
import { Optimizer } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with optional momentum and weight decay, as `torch.optim.SGD`.
 *
 * @example
 * ```ts
 * const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 */
export class SGD extends Optimizer {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly buffers = new Map<Tensor, Tensor>();

  constructor(params: Iterable<Tensor>, opts: SGDOptions) {
    super(params);
    if (!(opts.lr > 0)) throw new ValueError(`SGD needs a positive learning rate, got ${opts.lr}`);
    this.lr = opts.lr;
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
  }

  step(): void {
    // Everything made here but the momentum buffers is temporary: tidy frees it.
    tidy(() =>
      noGrad(() => {
        for (const p of this.params) {
          const g = p.grad;
          if (!g) continue;
          let d = this.weightDecay ? g.add(p.data.mul(this.weightDecay)) : g;
          if (this.momentum) {
            const buf = this.buffers.get(p);
            if (buf) buf.mul_(this.momentum).add_(d);
            else this.buffers.set(p, keep(d.copy()));
            d = this.buffers.get(p)!;
          }
          p.sub_(d.mul(this.lr));
        }
      }),
    );
  }
}
