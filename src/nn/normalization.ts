/**
 * Batch normalisation, PyTorch's `nn.BatchNorm1d` and `nn.BatchNorm2d`: per-channel affine
 * parameters (`weight` ones, `bias` zeros) and running statistics (`running_mean` zeros,
 * `running_var` ones, as buffers: they travel with the model and are in its state dict). In
 * training mode (`model.train()`) a forward pass normalises by the batch's statistics and updates
 * the running ones; in eval mode (`model.eval()`) it uses the running ones.
 */
import { ValueError } from '../errors.js';
import { ones, tensor, zeros } from '../factory.js';
import type { Tensor } from '../tensor.js';
import { batchNorm } from './functional.js';
import { Module, expectTensor } from './module.js';

export interface BatchNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of the newest batch in the running statistics (default 0.1); null for a plain average of all batches. */
  momentum?: number | null;
  /** Learn a per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics (default true); without them eval mode normalises by each batch too. */
  trackRunningStats?: boolean;
}

abstract class BatchNorm extends Module {
  readonly weight: Tensor | undefined;
  readonly bias: Tensor | undefined;
  readonly runningMean: Tensor | undefined;
  readonly runningVar: Tensor | undefined;
  /** Batches seen in training mode (PyTorch's `num_batches_tracked`). */
  numBatchesTracked = 0;
  readonly eps: number;
  readonly momentum: number | null;

  protected constructor(
    readonly numFeatures: number,
    opts: BatchNormOptions,
    private readonly ranks: readonly number[],
  ) {
    super();
    if (!Number.isSafeInteger(numFeatures) || numFeatures < 1) throw new ValueError(`${this.constructor.name} needs a positive feature count, got ${numFeatures}`);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    if (!(this.eps >= 0)) throw new ValueError(`eps must be non-negative, got ${this.eps}`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) throw new ValueError(`momentum must be in [0, 1] or null, got ${this.momentum}`);
    if (opts.affine !== false) {
      this.weight = this.parameter(ones([numFeatures]));
      this.bias = this.parameter(zeros([numFeatures]));
    }
    if (opts.trackRunningStats !== false) {
      this.runningMean = this.buffer(zeros([numFeatures]));
      this.runningVar = this.buffer(ones([numFeatures]));
    }
  }

  forward(x: Tensor): Tensor {
    const t = expectTensor(x, this.constructor.name);
    if (!this.ranks.includes(t.ndim) || t.shape[1] !== this.numFeatures) {
      throw new ValueError(`${this.constructor.name}(${this.numFeatures}) needs input ${this.ranks.map((r) => (r === 2 ? '[N, C]' : r === 3 ? '[N, C, L]' : '[N, C, H, W]')).join(' or ')} with C = ${this.numFeatures}, got [${t.shape.join(', ')}]`);
    }
    const tracking = this.runningMean !== undefined;
    const useBatch = this.training || !tracking;
    let momentum = this.momentum ?? 0;
    if (this.training && tracking) {
      this.numBatchesTracked++;
      if (this.momentum === null) momentum = 1 / this.numBatchesTracked;
    }
    return batchNorm(t, this.runningMean, this.runningVar, this.weight, this.bias, useBatch, momentum, this.eps);
  }

  protected override extraState(): [string, Tensor][] {
    return this.runningMean ? [['num_batches_tracked', tensor(this.numBatchesTracked, { dtype: 'int64' })]] : [];
  }

  protected override loadExtraState(name: string, value: Tensor): boolean {
    if (name !== 'num_batches_tracked' || !this.runningMean) return false;
    this.numBatchesTracked = value.item();
    return true;
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum ?? 'None'}, affine=${this.weight ? 'True' : 'False'}, track_running_stats=${this.runningMean ? 'True' : 'False'}`;
  }
}

/**
 * Over [N, C] or [N, C, L] inputs.
 * @example `new sy.nn.BatchNorm1d(128)`
 */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts, [2, 3]);
  }
}

/**
 * Over [N, C, H, W] inputs, per channel.
 * @example `new sy.nn.BatchNorm2d(20)`
 */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts, [4]);
  }
}

