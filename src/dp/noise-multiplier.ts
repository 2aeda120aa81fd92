// The noise multiplier that spends a target (epsilon, delta) budget over a training run, by the
// same doubling-then-bisection search as Opacus's get_noise_multiplier: double sigma from 20 until
// epsilon is under the target, then bisect until it is within epsilonTolerance below it. The
// answer is the upper end of the final bracket, so its epsilon never exceeds the target.
import { ValueError } from '../errors.js';
import type { AccountantMechanism } from './accountants/accountant.js';
import { createAccountant } from './accountants/registry.js';

/** The largest noise multiplier the search tries before giving up (Opacus's MAX_SIGMA). */
export const MAX_SIGMA = 1e6;

/** Options of {@link getNoiseMultiplier}. */
export interface GetNoiseMultiplierOptions {
  /** The epsilon to spend by the end of training; > 0. */
  targetEpsilon: number;
  /** The delta of the guarantee; in (0, 1). */
  targetDelta: number;
  /** Probability that an example is in a batch (batch size / dataset size); in (0, 1]. */
  sampleRate: number;
  /** Number of steps (give this or `epochs`). */
  steps?: number;
  /** Number of epochs; steps = floor(epochs / sampleRate) (give this or `steps`). */
  epochs?: number;
  /** The accountant: 'rdp' (default) or 'gdp'. */
  accountant?: AccountantMechanism;
  /** How far below the target the returned noise's epsilon may be; default 0.01. */
  epsilonTolerance?: number;
}

function positiveFinite(name: string, v: unknown, hint: string): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ValueError(`${name} must be a finite number > 0, got ${String(v)}; ${hint}`);
  return v;
}

/**
 * The smallest noise multiplier (to within the tolerance) whose training run of `steps` (or
 * `epochs`) at `sampleRate` stays within (targetEpsilon, targetDelta).
 *
 * @throws ValueError when the options are out of range, or when no noise multiplier up to
 *   {@link MAX_SIGMA} reaches the target.
 *
 * @example
 * ```ts
 * const sigma = sy.dp.getNoiseMultiplier({ targetEpsilon: 8, targetDelta: 1e-5, sampleRate: 0.04, epochs: 90 });
 * // 1.416...
 * ```
 */
export function getNoiseMultiplier(options: GetNoiseMultiplierOptions): number {
  const { targetDelta, sampleRate, steps: stepsOpt, epochs, accountant = 'rdp', epsilonTolerance = 0.01 } = options;
  const targetEpsilon = positiveFinite('targetEpsilon', options.targetEpsilon, 'it is the privacy budget to reach');
  if (typeof targetDelta !== 'number' || !(targetDelta > 0 && targetDelta < 1)) {
    throw new ValueError(`targetDelta must be in (0, 1), got ${String(targetDelta)}; the usual choice is below 1 / (number of examples)`);
  }
  if (typeof sampleRate !== 'number' || !(sampleRate > 0 && sampleRate <= 1)) {
    throw new ValueError(`sampleRate must be in (0, 1], got ${String(sampleRate)}; it is batch size / dataset size`);
  }
  positiveFinite('epsilonTolerance', epsilonTolerance, 'it is how close below targetEpsilon the result must come');
  if ((stepsOpt === undefined) === (epochs === undefined)) {
    throw new ValueError('getNoiseMultiplier takes either steps or epochs, not both and not neither');
  }
  let steps: number;
  if (stepsOpt !== undefined) {
    if (!Number.isSafeInteger(stepsOpt) || stepsOpt < 1) throw new ValueError(`steps must be a positive integer, got ${stepsOpt}`);
    steps = stepsOpt;
  } else {
    positiveFinite('epochs', epochs, 'it is the number of passes over the data');
    steps = Math.floor(epochs! / sampleRate);
    if (steps < 1) throw new ValueError(`epochs=${epochs} at sampleRate=${sampleRate} is less than one step; give more epochs or steps`);
  }

  const acc = createAccountant(accountant);
  const epsilonAt = (sigma: number): number => {
    acc.history = [{ noiseMultiplier: sigma, sampleRate, steps }];
    return acc.getEpsilon(targetDelta);
  };

  let sigmaLow = 0;
  let sigmaHigh = 10;
  let epsHigh = Infinity;
  while (epsHigh > targetEpsilon) {
    sigmaHigh *= 2;
    epsHigh = epsilonAt(sigmaHigh);
    if (sigmaHigh > MAX_SIGMA) {
      throw new ValueError(
        `no noise multiplier up to ${MAX_SIGMA} keeps ${steps} steps at sampleRate ${sampleRate} within epsilon ${targetEpsilon} ` +
          `(delta ${targetDelta}): the budget is too low; raise targetEpsilon or targetDelta, or train fewer steps or with a smaller sampleRate`,
      );
    }
  }
  while (targetEpsilon - epsHigh > epsilonTolerance) {
    const sigma = (sigmaLow + sigmaHigh) / 2;
    const eps = epsilonAt(sigma);
    if (eps < targetEpsilon) {
      sigmaHigh = sigma;
      epsHigh = eps;
    } else {
      sigmaLow = sigma;
    }
  }
  return sigmaHigh;
}
