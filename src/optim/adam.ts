import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { noGrad } from '../tensors/autograd.js';
import { keep, tidy } from '../tensors/scope.js';
import { Optimizer } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/**
 * Adam, as `torch.optim.Adam`. Needs square roots and division by tensors, so it runs on
 * plaintext parameters (local or remote), not on shared ones.
 */
export class Adam extends Optimizer {
  readonly lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private t = 0;
  private readonly state = new Map<Tensor, { m: Tensor; v: Tensor }>();

  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params);
    this.lr = opts.lr ?? 1e-3;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    if (!(this.lr > 0)) throw new ValueError(`Adam needs a positive learning rate, got ${this.lr}`);
    const [b1, b2] = this.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new ValueError(`Adam betas must be in [0, 1), got [${b1}, ${b2}]`);
  }

  step(): void {
    this.t++;
    const [b1, b2] = this.betas;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    tidy(() =>
      noGrad(() => {
        for (const p of this.params) {
          const grad = p.grad;
          if (!grad) continue;
          const g = this.weightDecay ? grad.add(p.data.mul(this.weightDecay)) : grad;
          let s = this.state.get(p);
          if (!s) {
            s = { m: keep(g.mul(0)), v: keep(g.mul(0)) };
            this.state.set(p, s);
          }
          s.m.mul_(b1).add_(g.mul(1 - b1));
          s.v.mul_(b2).add_(g.mul(g).mul(1 - b2));
          // p -= lr/c1 · m / (sqrt(v/c2) + eps)
          p.sub_(s.m.div(s.v.div(c2).sqrt().add(this.eps)).mul(this.lr / c1));
        }
      }),
    );
  }
}
