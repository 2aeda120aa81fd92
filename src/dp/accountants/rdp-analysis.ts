// Rényi differential privacy of the Poisson-subsampled Gaussian mechanism, and its conversion to
// (epsilon, delta)-DP: the analysis behind RDPAccountant, usable alone (DP-FedAvg composes it over
// rounds with the client sampling rate).
//
// The mechanism adds N(0, sigma^2) noise to a sum whose terms have L2 norm at most 1, each term
// included with probability q. Mironov, Talwar and Zhang ("Rényi Differential Privacy of the
// Sampled Gaussian Mechanism", 2019) show its RDP at order alpha is log(A_alpha) / (alpha - 1) with
// A_alpha = E_{z~mu0}[(mu(z)/mu0(z))^alpha], mu0 = N(0, sigma^2), mu = (1-q) mu0 + q N(1, sigma^2),
// and give A_alpha as
// - for integer alpha, the binomial expansion
//     A = sum_{k=0..alpha} C(alpha,k) (1-q)^(alpha-k) q^k exp((k^2 - k) / (2 sigma^2));
// - for fractional alpha, two series split at z0 = sigma^2 log(1/q - 1) + 1/2,
//     A = sum_k C(alpha,k) [ q^k (1-q)^(alpha-k) e^((k^2-k)/(2s^2)) erfc((k-z0)/(sqrt2 s)) / 2
//                          + q^(alpha-k) (1-q)^k e^(((alpha-k)^2-(alpha-k))/(2s^2)) erfc((z0-(alpha-k))/(sqrt2 s)) / 2 ],
//   summed until both terms fall below e^-30 (C(alpha,k) alternates in sign past k = alpha).
// Both are evaluated in log space, as Opacus does. The conversion is Balle et al. 2020
// ("Hypothesis Testing Interpretations and Renyi Differential Privacy", Theorem 21):
//     eps = rdp - (log(delta) + log(alpha)) / (alpha - 1) + log((alpha - 1) / alpha),
// minimised over the orders, ignoring orders where it is NaN.
import { ValueError } from '../../errors.js';
import { logAdd, logErfc, logSub } from '../math.js';

/**
 * Opacus's default RDP orders: 1.1, 1.2, ..., 10.9 and the integers 12..63 (151 orders).
 */
export const DEFAULT_ALPHAS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i),
]);

const LOG_HALF = Math.log(0.5);

/** log(A_alpha) for integer alpha by the binomial expansion. */
function logAIntAlpha(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoS2 = 2 * sigma * sigma;
  let logA = -Infinity;
  let logBinom = 0; // log C(alpha, k)
  for (let k = 0; k <= alpha; k++) {
    const s = logBinom + k * logQ + (alpha - k) * log1mQ + (k * k - k) / twoS2;
    logA = logAdd(logA, s);
    logBinom += Math.log(alpha - k) - Math.log(k + 1);
  }
  return logA;
}

/** log(A_alpha) for fractional alpha by the two series, to terms below e^-30. */
function logAFracAlpha(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoS2 = 2 * sigma * sigma;
  const invSqrt2S = 1 / (Math.SQRT2 * sigma);
  const z0 = sigma * sigma * (log1mQ - logQ) + 0.5;
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  let logBinom = 0; // log |C(alpha, k)|
  let positive = true; // sign of C(alpha, k)
  for (let k = 0; ; k++) {
    const j = alpha - k;
    const logT0 = logBinom + k * logQ + j * log1mQ;
    const logT1 = logBinom + j * logQ + k * log1mQ;
    const logE0 = LOG_HALF + logErfc((k - z0) * invSqrt2S);
    const logE1 = LOG_HALF + logErfc((z0 - j) * invSqrt2S);
    const logS0 = logT0 + (k * k - k) / twoS2 + logE0;
    const logS1 = logT1 + (j * j - j) / twoS2 + logE1;
    if (positive) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) break;
    // C(alpha, k+1) = C(alpha, k) (alpha - k) / (k + 1)
    logBinom += Math.log(Math.abs(j)) - Math.log(k + 1);
    if (j < 0) positive = !positive;
  }
  return logAdd(logA0, logA1);
}

/** RDP of one step of the sampled Gaussian mechanism at one order (may be Infinity). */
export function rdpOfStep(q: number, noiseMultiplier: number, alpha: number): number {
  if (q === 0) return 0;
  if (noiseMultiplier === 0) return Infinity;
  if (q === 1) return alpha / (2 * noiseMultiplier * noiseMultiplier);
  if (alpha === Infinity) return Infinity;
  const logA = Number.isInteger(alpha) ? logAIntAlpha(q, noiseMultiplier, alpha) : logAFracAlpha(q, noiseMultiplier, alpha);
  return logA / (alpha - 1);
}

function checkMechanism(q: number, noiseMultiplier: number): void {
  if (!(q >= 0 && q <= 1)) throw new ValueError(`sampleRate must be in [0, 1] (the probability that an example is in a batch), got ${q}`);
  if (!(noiseMultiplier >= 0) || noiseMultiplier === Infinity) {
    throw new ValueError(`noiseMultiplier must be a finite number >= 0 (noise std / clipping norm), got ${noiseMultiplier}`);
  }
}

/** Checks a list of RDP orders: numbers > 1 (Infinity allowed, as Opacus allows it). */
export function checkOrders(orders: readonly number[]): void {
  if (orders.length === 0) throw new ValueError('orders must hold at least one RDP order (> 1); omit it for Opacus\'s defaults');
  for (const a of orders) {
    if (!(a > 1)) throw new ValueError(`every RDP order must be > 1, got ${a}`);
  }
}

/** Options of {@link computeRdp}. */
export interface ComputeRdpOptions {
  /** Sampling rate q of the mechanism (batch size / dataset size under Poisson sampling). */
  q: number;
  /** Noise standard deviation divided by the L2 sensitivity (clipping norm). */
  noiseMultiplier: number;
  /** Number of times the mechanism ran. */
  steps: number;
  /** RDP orders; default {@link DEFAULT_ALPHAS}. */
  orders?: readonly number[];
}

/**
 * RDP of the sampled Gaussian mechanism run `steps` times, at each order (Opacus's `compute_rdp`).
 *
 * @example
 * ```ts
 * const rdp = computeRdp({ q: 0.01, noiseMultiplier: 1.1, steps: 1000 });
 * const { epsilon } = getPrivacySpent({ rdp, delta: 1e-5 });
 * ```
 */
export function computeRdp({ q, noiseMultiplier, steps, orders = DEFAULT_ALPHAS }: ComputeRdpOptions): Float64Array {
  checkMechanism(q, noiseMultiplier);
  if (!(steps >= 0) || !Number.isFinite(steps)) throw new ValueError(`steps must be a finite number >= 0, got ${steps}`);
  checkOrders(orders);
  const out = new Float64Array(orders.length);
  for (let i = 0; i < orders.length; i++) out[i] = rdpOfStep(q, noiseMultiplier, orders[i]!) * steps;
  return out;
}

/** An (epsilon, delta) guarantee and the RDP order that gave it. */
export interface PrivacySpent {
  epsilon: number;
  /** The order at which the conversion was tightest (NaN when no order gave a number). */
  bestAlpha: number;
}

/** Options of {@link getPrivacySpent}. */
export interface GetPrivacySpentOptions {
  /** RDP at each order. */
  rdp: ArrayLike<number>;
  /** The orders of `rdp`; default {@link DEFAULT_ALPHAS}. */
  orders?: readonly number[];
  /** Target delta, in (0, 1). */
  delta: number;
}

/** Checks a target delta. */
export function checkDelta(delta: number): void {
  if (!(delta > 0 && delta < 1)) {
    throw new ValueError(`delta must be in (0, 1), got ${delta}; the usual choice is below 1 / (number of examples)`);
  }
}

/**
 * Converts RDP at several orders to (epsilon, delta)-DP with Balle et al.'s bound, taking the best
 * order (Opacus's `get_privacy_spent`). Orders whose epsilon is NaN are skipped; if all are NaN,
 * epsilon is Infinity and bestAlpha NaN.
 *
 * @example
 * ```ts
 * getPrivacySpent({ rdp: computeRdp({ q: 0.04, noiseMultiplier: 1.5, steps: 2250 }), delta: 1e-5 });
 * // { epsilon: 7.3291..., bestAlpha: 3.9 }
 * ```
 */
export function getPrivacySpent({ rdp, orders = DEFAULT_ALPHAS, delta }: GetPrivacySpentOptions): PrivacySpent {
  checkDelta(delta);
  if (rdp.length !== orders.length) {
    throw new ValueError(`rdp has ${rdp.length} values but there are ${orders.length} orders; pass the orders rdp was computed at`);
  }
  const logDelta = Math.log(delta);
  let best = -1;
  let bestEps = NaN;
  for (let i = 0; i < orders.length; i++) {
    const a = orders[i]!;
    const eps = rdp[i]! - (logDelta + Math.log(a)) / (a - 1) + Math.log((a - 1) / a);
    if (Number.isNaN(eps)) continue;
    if (best < 0 || eps < bestEps) {
      best = i;
      bestEps = eps;
    }
  }
  if (best < 0) return { epsilon: Infinity, bestAlpha: NaN };
  return { epsilon: bestEps, bestAlpha: orders[best]! };
}
