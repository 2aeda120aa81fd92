/**
 * `PrivacyEngine`: DP-SGD in three lines, as Opacus's PrivacyEngine. `makePrivate` wraps a model
 * (per-sample gradients), its optimizer (clip, noise, scale) and its data loader (Poisson sampling
 * by default), and counts every step in the engine's accountant; `makePrivateWithEpsilon` first
 * finds the noise multiplier that spends a target (epsilon, delta) over the given epochs;
 * `getEpsilon(delta)` is the budget spent so far.
 *
 * Sampling. The accountants bound the privacy of the Poisson-subsampled Gaussian mechanism. With
 * `poisson: false` the loader's own batches (fixed size, shuffled) are used and the same figure is
 * reported, but it is then a heuristic: shuffling without replacement is not what the analysis
 * assumes, and its true guarantee can be weaker (Chua et al. 2024, "How private are DP-SGD
 * implementations?").
 */
import { ValueError } from '../errors.js';
import { DataLoader } from '../data/dataloader.js';
import type { Sample } from '../data/dataset.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { AccountantMechanism, PrivacyAccountant } from './accountants/accountant.js';
import { createAccountant } from './accountants/registry.js';
import { DPOptimizer, type LossReduction } from './dp-optimizer.js';
import { GradSampleModule } from './grad-sample.js';
import { getNoiseMultiplier } from './noise-multiplier.js';
import { DPDataLoader } from './poisson-loader.js';
import type { RandomFill } from './random-bits.js';

/** Options of the {@link PrivacyEngine} constructor. */
export interface PrivacyEngineOptions {
  /** 'rdp' (default, as Opacus) or 'gdp'. */
  accountant?: AccountantMechanism;
}

/** What {@link PrivacyEngine.makePrivate} takes. */
export interface MakePrivateOptions {
  module: Module;
  optimizer: Optimizer;
  /** A sy.DataLoader over a local dataset: its dataset, and its batch size as the expected one. */
  dataLoader: DataLoader;
  /** Noise standard deviation / maxGradNorm. */
  noiseMultiplier: number;
  /** Per-sample clipping bound (L2 over all parameters). */
  maxGradNorm: number;
  /** Poisson sampling of batches (default true); false keeps the loader's shuffled batches (weaker, see above). */
  poisson?: boolean;
  /** How the training loss reduces the batch: 'mean' (default) or 'sum'. */
  lossReduction?: LossReduction;
  /** Random bytes for noise and sampling; default the CSPRNG. Only for reproducing a test run. */
  random?: RandomFill;
  /** Draw the next step's noise on a thread while a step computes (Node; default true): {@link DPOptimizerOptions.noiseAhead}. */
  noiseAhead?: boolean;
}

/** What {@link PrivacyEngine.makePrivateWithEpsilon} takes: a budget instead of a noise multiplier. */
export interface MakePrivateWithEpsilonOptions extends Omit<MakePrivateOptions, 'noiseMultiplier'> {
  targetEpsilon: number;
  targetDelta: number;
  /** The epochs the budget must last. */
  epochs: number;
  /** How far below targetEpsilon the search may stop (default 0.01). */
  epsilonTolerance?: number;
}

/** The private model, optimizer and loader, to train with as before. */
export interface PrivateTraining {
  module: GradSampleModule;
  optimizer: DPOptimizer;
  dataLoader: Iterable<Sample> & { readonly length: number };
  /** The probability that an example takes part in a step (1 / batches per epoch). */
  sampleRate: number;
  noiseMultiplier: number;
}

/**
 * @example
 * ```ts
 * const engine = new sy.dp.PrivacyEngine({ accountant: 'rdp' });
 * const { module, optimizer, dataLoader } = engine.makePrivateWithEpsilon({
 *   module: model, optimizer: new sy.optim.SGD(model.parameters(), { lr: 0.5 }), dataLoader: loader,
 *   targetEpsilon: 3, targetDelta: 1e-5, epochs: 20, maxGradNorm: 1,
 * });
 * for (let epoch = 0; epoch < 20; epoch++) {
 *   for (const [x, y] of dataLoader) {
 *     optimizer.zeroGrad();
 *     sy.nn.nllLoss(module.forward(x), y).backward();
 *     optimizer.step();
 *   }
 *   console.log(engine.getEpsilon(1e-5));
 * }
 * ```
 */
export class PrivacyEngine {
  readonly accountant: PrivacyAccountant;

  constructor(opts: PrivacyEngineOptions = {}) {
    this.accountant = createAccountant(opts.accountant ?? 'rdp');
  }

  /** Wraps model, optimizer and loader for DP-SGD at the given noise multiplier. */
  makePrivate(opts: MakePrivateOptions): PrivateTraining {
    if (!(opts.dataLoader instanceof DataLoader)) throw new ValueError('makePrivate needs a sy.DataLoader as dataLoader (its dataset and batch size are used)');
    const loader = opts.dataLoader;
    const n = loader.dataset.length;
    const batches = loader.length;
    if (n < 1 || batches < 1) throw new ValueError('makePrivate: the data loader is empty');
    // As Opacus: an epoch keeps the loader's number of steps; each example joins a step with 1/steps.
    const sampleRate = 1 / batches;
    const module = opts.module instanceof GradSampleModule ? opts.module : new GradSampleModule(opts.module);
    const optimizer = new DPOptimizer({
      optimizer: opts.optimizer,
      gradSample: module,
      noiseMultiplier: opts.noiseMultiplier,
      maxGradNorm: opts.maxGradNorm,
      expectedBatchSize: opts.poisson === false ? loader.batchSize : sampleRate * n,
      lossReduction: opts.lossReduction,
      random: opts.random,
      noiseAhead: opts.noiseAhead,
    });
    optimizer.onStep(() => this.accountant.step({ noiseMultiplier: opts.noiseMultiplier, sampleRate }));
    let dataLoader: PrivateTraining['dataLoader'] = loader;
    if (opts.poisson !== false) {
      dataLoader = new DPDataLoader(loader.dataset, {
        sampleRate,
        steps: batches,
        random: opts.random,
        onEmpty: () => {
          optimizer.zeroGrad();
          optimizer.step();
        },
      });
    }
    return { module, optimizer, dataLoader, sampleRate, noiseMultiplier: opts.noiseMultiplier };
  }

  /** As {@link makePrivate}, with the noise multiplier that spends (targetEpsilon, targetDelta) over `epochs`. */
  makePrivateWithEpsilon(opts: MakePrivateWithEpsilonOptions): PrivateTraining {
    if (!(opts.dataLoader instanceof DataLoader)) throw new ValueError('makePrivateWithEpsilon needs a sy.DataLoader as dataLoader');
    const sampleRate = 1 / opts.dataLoader.length;
    const noiseMultiplier = getNoiseMultiplier({
      targetEpsilon: opts.targetEpsilon,
      targetDelta: opts.targetDelta,
      sampleRate,
      epochs: opts.epochs,
      accountant: this.accountant.mechanism,
      epsilonTolerance: opts.epsilonTolerance,
    });
    return this.makePrivate({ ...opts, noiseMultiplier });
  }

  /** The epsilon spent so far at `delta`. */
  getEpsilon(delta: number): number {
    return this.accountant.getEpsilon(delta);
  }
}
