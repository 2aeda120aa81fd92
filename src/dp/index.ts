/**
 * Differential privacy: DP-SGD as in Opacus (`PrivacyEngine`: per-sample gradients, per-sample
 * clipping, exact Gaussian noise, Poisson batches, an accountant), client-level DP federated
 * averaging (`DPFedAvg`) with noise added inside secure aggregation (`noisyShare`, `revealSum`),
 * privacy accountants for the subsampled Gaussian mechanism (Rényi DP as in Opacus, and Gaussian
 * DP), the noise multiplier for a target budget, Gaussian noise drawn exactly from the CSPRNG on a
 * fixed grid (no floating-point sampling weakness), and PySyft's PATE analysis.
 *
 * @example
 * ```ts
 * import * as sy from 'syft-ts';
 * const engine = new sy.dp.PrivacyEngine({ accountant: 'rdp' });
 * const { module, optimizer, dataLoader } = engine.makePrivateWithEpsilon({
 *   module: model, optimizer, dataLoader: loader, targetEpsilon: 3, targetDelta: 1e-5, epochs: 20, maxGradNorm: 1,
 * });
 * // train with module, optimizer and dataLoader as before; then
 * console.log(engine.getEpsilon(1e-5));
 *
 * // or by hand: clip per-sample gradients to maxGradNorm, sum, then
 * const noisy = sy.dp.addGaussianNoise(summedGrads, { std: sigma * maxGradNorm });
 * accountant.step({ noiseMultiplier: sigma, sampleRate: 256 / 60000 });
 * ```
 *
 * @packageDocumentation
 */
export { RDPAccountant, type RdpEpsilonOptions } from './accountants/rdp.js';
export {
  GaussianAccountant,
  computeMuPoisson,
  computeMuUniform,
  computeEpsPoisson,
  computeEpsUniform,
  deltaEpsMu,
  epsFromMu,
  type GdpEpsilonOptions,
  type GdpMechanism,
} from './accountants/gdp.js';
export {
  DEFAULT_ALPHAS,
  computeRdp,
  getPrivacySpent,
  type ComputeRdpOptions,
  type GetPrivacySpentOptions,
  type PrivacySpent,
} from './accountants/rdp-analysis.js';
export type { AccountantMechanism, AccountantState, HistoryEntry, PrivacyAccountant, PrivacyStep } from './accountants/accountant.js';
export { createAccountant, ACCOUNTANTS } from './accountants/registry.js';
export { getNoiseMultiplier, MAX_SIGMA, type GetNoiseMultiplierOptions } from './noise-multiplier.js';
export {
  addGaussianNoise,
  discreteGaussian,
  discreteGaussianNoise,
  gaussianGrid,
  gaussianNoise,
  type DiscreteGaussianNoiseOptions,
  type DiscreteGaussianOptions,
  type GaussianGrid,
  type GaussianNoiseOptions,
  type NoiseSourceOptions,
} from './gaussian.js';
export { DiscreteGaussianSampler, type SamplerStats } from './discrete-gaussian.js';
export type { RandomFill } from './random-bits.js';
export * as pate from './pate.js';
export { GradSampleModule } from './grad-sample.js';
export { clipAndSum, type ClipResult } from './clip.js';
export { DPOptimizer, type DPOptimizerOptions, type DPStepStats, type LossReduction } from './dp-optimizer.js';
export { DPDataLoader, type DPDataLoaderOptions } from './poisson-loader.js';
export {
  PrivacyEngine,
  type MakePrivateOptions,
  type MakePrivateWithEpsilonOptions,
  type PrivacyEngineOptions,
  type PrivateTraining,
} from './privacy-engine.js';
export { noisyShare, revealSum, DISTRIBUTED_NOISE_SCALE, type NoisyShareOptions } from './distributed-noise.js';
export { DPFedAvg, type DPFedAvgClient, type DPFedAvgOptions, type DPRoundReport, type SecureAggregationOptions } from './dp-fedavg.js';
