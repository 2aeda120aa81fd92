/**
 * `DPOptimizer`: DP-SGD's step around any optimizer, as Opacus's DPOptimizer. From the per-sample
 * gradients of the last backward pass it clips each sample to `maxGradNorm`, sums, adds Gaussian
 * noise of standard deviation `noiseMultiplier * maxGradNorm` (exact discrete Gaussian from the
 * CSPRNG on a fine grid: gaussian.ts), divides by the expected batch size (for a mean loss), puts
 * the result in each parameter's `.grad` and lets the wrapped optimizer update. Made by
 * {@link PrivacyEngine.makePrivate}; each step is reported to the engine's accountant.
 */
import { ValueError } from '../errors.js';
import { Optimizer } from '../optim/optimizer.js';
import { Tensor } from '../tensor.js';
import { FloatTensor } from '../tensors/float.js';
import { DiscreteGaussianSampler } from './discrete-gaussian.js';
import { addOnGrid, gaussianGrid } from './gaussian.js';
import { noiseAhead } from './noise-ahead.js';
import type { GradSampleModule } from './grad-sample.js';
import type { RandomFill } from './random-bits.js';

/** How the loss combined the samples: a mean (PyTorch's default) or a sum. */
export type LossReduction = 'mean' | 'sum';

/** Options of a {@link DPOptimizer}. */
export interface DPOptimizerOptions {
  /** The optimizer whose update runs on the private gradient. */
  optimizer: Optimizer;
  /** The wrapped model that records per-sample gradients. */
  gradSample: GradSampleModule;
  /** Noise standard deviation / maxGradNorm. 0 turns noise off (not private). */
  noiseMultiplier: number;
  /** Every sample's gradient is clipped to this L2 norm. */
  maxGradNorm: number;
  /** The batch size the sum is divided by (for a mean loss): sampleRate * dataset size under Poisson sampling. */
  expectedBatchSize: number;
  /** Default 'mean'. */
  lossReduction?: LossReduction;
  /** Random bytes for the noise; default the CSPRNG (pass one only to reproduce a run in a test). */
  random?: RandomFill;
  /**
   * Draw the next step's noise on a worker thread while this step computes (noise-ahead.ts), in
   * Node; the same distribution from the same CSPRNG, each sample used once. Default true; ignored
   * when `random` is given.
   */
  noiseAhead?: boolean;
}

/** What the last step saw, for checks and logs. */
export interface DPStepStats {
  batchSize: number;
  /** Per-sample gradient norms before clipping. */
  norms: Float64Array;
  /** Per-sample norms after clipping (each <= maxGradNorm). */
  clippedNorms: Float64Array;
}

export class DPOptimizer extends Optimizer {
  readonly original: Optimizer;
  readonly gradSample: GradSampleModule;
  readonly noiseMultiplier: number;
  readonly maxGradNorm: number;
  readonly expectedBatchSize: number;
  readonly lossReduction: LossReduction;
  /** Set after each step. */
  lastStep: DPStepStats | undefined;
  readonly #random: RandomFill | undefined;
  readonly #ahead: boolean;
  readonly #onStep: (() => void)[] = [];

  constructor(opts: DPOptimizerOptions) {
    if (!(opts.optimizer instanceof Optimizer)) throw new ValueError('DPOptimizer wraps a sy.optim optimizer (SGD, Adam)');
    super(opts.optimizer.params);
    if (typeof opts.noiseMultiplier !== 'number' || !(opts.noiseMultiplier >= 0) || !Number.isFinite(opts.noiseMultiplier)) {
      throw new ValueError(`noiseMultiplier must be a finite number >= 0, got ${String(opts.noiseMultiplier)}`);
    }
    if (typeof opts.maxGradNorm !== 'number' || !(opts.maxGradNorm > 0) || !Number.isFinite(opts.maxGradNorm)) {
      throw new ValueError(`maxGradNorm must be a finite number > 0 (the per-sample clipping bound), got ${String(opts.maxGradNorm)}`);
    }
    if (!(opts.expectedBatchSize > 0)) throw new ValueError(`expectedBatchSize must be > 0, got ${String(opts.expectedBatchSize)}`);
    const reduction = opts.lossReduction ?? 'mean';
    if (reduction !== 'mean' && reduction !== 'sum') throw new ValueError(`lossReduction must be 'mean' or 'sum', got ${String(reduction)}`);
    const covered = new Set(opts.gradSample.parameters());
    const missing = this.params.filter((p) => !covered.has(p));
    if (missing.length) {
      throw new ValueError(`${missing.length} of the optimizer's parameters are not the model's: build the optimizer from the same model's parameters()`);
    }
    this.original = opts.optimizer;
    this.gradSample = opts.gradSample;
    this.noiseMultiplier = opts.noiseMultiplier;
    this.maxGradNorm = opts.maxGradNorm;
    this.expectedBatchSize = opts.expectedBatchSize;
    this.lossReduction = reduction;
    this.#random = opts.random;
    this.#ahead = opts.noiseAhead !== false && opts.random === undefined;
  }

  /** Calls `fn` after every step (the engine counts steps in its accountant this way). */
  onStep(fn: () => void): void {
    this.#onStep.push(fn);
  }

  /** Forgets the gradients and the captured per-sample state. */
  override zeroGrad(): void {
    this.original.zeroGrad();
    this.gradSample.clear();
  }

  /**
   * One private step: clip, sum, add noise, scale, update. A step without a captured batch (an
   * empty Poisson batch) adds noise only, as the mechanism requires.
   */
  step(): void {
    const scale = this.lossReduction === 'mean' ? this.gradSample.batchSize : 1;
    const { sums, norms, factors, batch } = this.gradSample.clipAndSum(this.maxGradNorm, scale);
    const std = this.noiseMultiplier * this.maxGradNorm;
    const divide = this.lossReduction === 'mean' ? this.expectedBatchSize : 1;
    for (const p of this.params) {
      const sum = sums.get(p) ?? new Float64Array(p.numel());
      const noisy = std > 0 ? this.#addNoise(sum, std) : sum;
      const g = new Float32Array(noisy.length);
      for (let j = 0; j < g.length; j++) g[j] = noisy[j]! / divide;
      p.grad = new Tensor(new FloatTensor(p.shape, g));
    }
    this.lastStep = { batchSize: batch, norms, clippedNorms: norms.map((n, b) => n * factors[b]!) };
    this.original.step();
    this.gradSample.clear();
    for (const f of this.#onStep) f();
  }

  // The sum plus exact Gaussian noise (gaussian.ts), its samples drawn ahead when they are ready.
  #addNoise(sum: Float64Array, std: number): Float64Array {
    const grid = gaussianGrid(std);
    const z = (this.#ahead ? noiseAhead().take(grid.sigma, sum.length) : undefined) ?? new DiscreteGaussianSampler(grid.sigma, { random: this.#random }).sample(sum.length);
    return addOnGrid(sum, grid, z);
  }
}
