// Gaussian differential privacy accountant (Dong, Roth and Su, "Gaussian Differential Privacy",
// 2019/2022), after Opacus's GaussianAccountant: by the central limit theorem, T steps of the
// subsampled Gaussian mechanism are approximately mu-GDP with
//     Poisson sampling:  mu = q sqrt(T (e^{1/sigma^2} - 1))
//     uniform sampling:  mu = sqrt(2) q sqrt(T) sqrt(e^{1/sigma^2} Phi(1.5/sigma) + 3 Phi(-0.5/sigma) - 2),
// and mu-GDP implies (eps, delta(eps))-DP for every eps with the dual
//     delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2),
// which is inverted here for eps by bisection. The CLT is an approximation and can UNDERESTIMATE
// the privacy spent for few steps or large sampling rates (Opacus warns about this; see
// arXiv:2106.02848): prefer RDPAccountant for guarantees, use this one to compare.
import { ValueError } from '../../errors.js';
import { normCdf, logNormCdf } from '../math.js';
import { checkStep, readState, type AccountantState, type HistoryEntry, type PrivacyAccountant, type PrivacyStep } from './accountant.js';
import { checkDelta } from './rdp-analysis.js';

/** Parameters of the mu computations. */
export interface GdpMechanism {
  steps: number;
  noiseMultiplier: number;
  sampleRate: number;
}

/**
 * mu of T steps with Poisson sampling.
 *
 * @example
 * ```ts
 * sy.dp.computeMuPoisson({ steps: 2249, noiseMultiplier: 1.5, sampleRate: 0.04 }); // 1.419...
 * ```
 */
export function computeMuPoisson({ steps, noiseMultiplier, sampleRate }: GdpMechanism): number {
  return Math.sqrt(Math.expm1(1 / (noiseMultiplier * noiseMultiplier))) * Math.sqrt(steps) * sampleRate;
}

/**
 * mu of T steps with uniform (fixed-size, without replacement) sampling.
 *
 * @example
 * ```ts
 * sy.dp.computeMuUniform({ steps: 2249, noiseMultiplier: 1.5, sampleRate: 0.04 });
 * ```
 */
export function computeMuUniform({ steps, noiseMultiplier, sampleRate }: GdpMechanism): number {
  const s = noiseMultiplier;
  const c = sampleRate * Math.sqrt(steps);
  return Math.SQRT2 * c * Math.sqrt(Math.exp(1 / (s * s)) * normCdf(1.5 / s) + 3 * normCdf(-0.5 / s) - 2);
}

/**
 * The delta at which mu-GDP gives eps-DP.
 *
 * @example
 * ```ts
 * sy.dp.deltaEpsMu(1, 0.5); // delta of 0.5-GDP at eps = 1
 * ```
 */
export function deltaEpsMu(eps: number, mu: number): number {
  return normCdf(-eps / mu + mu / 2) - Math.exp(eps + logNormCdf(-eps / mu - mu / 2));
}

/**
 * The smallest eps with (eps, delta)-DP under mu-GDP (0 when delta(0) is already below delta).
 *
 * @example
 * ```ts
 * sy.dp.epsFromMu(1.3, 1e-5);
 * ```
 */
export function epsFromMu(mu: number, delta: number): number {
  checkDelta(delta);
  if (mu === 0) return 0;
  if (!(mu > 0) || mu === Infinity) return Infinity;
  const f = (x: number): number => deltaEpsMu(x, mu) - delta;
  if (f(0) <= 0) return 0;
  let lo = 0;
  let hi = 500;
  while (f(hi) > 0) {
    lo = hi;
    hi *= 2;
    if (hi > 1e7) return Infinity;
  }
  // delta(eps) decreases in eps: bisect to the last representable digit.
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (f(mid) > 0) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Epsilon of T Poisson-sampled steps (Opacus's `compute_eps_poisson`).
 *
 * @example
 * ```ts
 * sy.dp.computeEpsPoisson({ steps: 2249, noiseMultiplier: 1.5, sampleRate: 0.04, delta: 1e-5 }); // 6.5998...
 * ```
 */
export function computeEpsPoisson(m: GdpMechanism & { delta: number }): number {
  return epsFromMu(computeMuPoisson(m), m.delta);
}

/**
 * Epsilon of T uniformly sampled steps (Opacus's `compute_eps_uniform`).
 *
 * @example
 * ```ts
 * sy.dp.computeEpsUniform({ steps: 2249, noiseMultiplier: 1.5, sampleRate: 0.04, delta: 1e-5 }); // 8.4299...
 * ```
 */
export function computeEpsUniform(m: GdpMechanism & { delta: number }): number {
  return epsFromMu(computeMuUniform(m), m.delta);
}

/** Options of {@link GaussianAccountant.getEpsilon}. */
export interface GdpEpsilonOptions {
  /** Batches drawn by Poisson sampling (default) rather than uniformly without replacement. */
  poisson?: boolean;
}

/**
 * Gaussian DP (CLT) accountant, as Opacus's experimental `GaussianAccountant`: the noise multiplier
 * and sample rate must stay constant. An approximation that can underestimate epsilon; prefer
 * {@link RDPAccountant} for a guarantee.
 *
 * @example
 * ```ts
 * const accountant = new sy.dp.GaussianAccountant();
 * for (let i = 0; i < 2249; i++) accountant.step({ noiseMultiplier: 1.5, sampleRate: 0.04 });
 * accountant.getEpsilon(1e-5); // 6.59...
 * ```
 */
export class GaussianAccountant implements PrivacyAccountant {
  readonly mechanism = 'gdp' as const;
  history: HistoryEntry[] = [];

  /** Records one step; the noise multiplier and sample rate must equal the previous steps'. */
  step(step: PrivacyStep): void {
    checkStep(step);
    const last = this.history[this.history.length - 1];
    if (last === undefined) {
      this.history = [{ noiseMultiplier: step.noiseMultiplier, sampleRate: step.sampleRate, steps: 1 }];
      return;
    }
    if (last.noiseMultiplier !== step.noiseMultiplier || last.sampleRate !== step.sampleRate) {
      throw new ValueError(
        `GaussianAccountant needs a constant noise multiplier and sample rate (had ${last.noiseMultiplier} and ` +
          `${last.sampleRate}, got ${step.noiseMultiplier} and ${step.sampleRate}); use RDPAccountant when they change`,
      );
    }
    last.steps += 1;
  }

  /** Total steps recorded. */
  get steps(): number {
    return this.history.reduce((n, e) => n + e.steps, 0);
  }

  /** The epsilon spent so far at `delta` (0 before any step). */
  getEpsilon(delta: number, { poisson = true }: GdpEpsilonOptions = {}): number {
    checkDelta(delta);
    const last = this.history[this.history.length - 1];
    if (last === undefined) return 0;
    const m = { steps: last.steps, noiseMultiplier: last.noiseMultiplier, sampleRate: last.sampleRate, delta };
    return poisson ? computeEpsPoisson(m) : computeEpsUniform(m);
  }

  /** A copy of the history, for checkpoints. */
  stateDict(): AccountantState {
    return { mechanism: this.mechanism, history: this.history.map((e) => ({ ...e })) };
  }

  /** Restores a history saved with {@link stateDict}. */
  loadStateDict(state: AccountantState): void {
    const history = readState(state, this.mechanism);
    if (history.length > 1) throw new ValueError('a GaussianAccountant history holds one entry (constant noise and sample rate)');
    this.history = history;
  }
}
