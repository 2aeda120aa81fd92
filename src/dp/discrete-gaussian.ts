// An exact sampler of the discrete Gaussian N_Z(0, sigma^2), P(z) proportional to
// exp(-z^2 / (2 sigma^2)) on the integers, for any double sigma (read as the exact binary fraction
// it is), from uniform CSPRNG words and integer/rational arithmetic only.
//
// Why: Mironov (CCS 2012) showed that textbook floating-point Laplace (and likewise Gaussian)
// samplers leak the true value through the pattern of floats they can and cannot output. A sample
// on an integer grid drawn with exact probabilities has no such pattern; Canonne, Kamath and
// Steinke (NeurIPS 2020, "The Discrete Gaussian for Differential Privacy") give its privacy
// (rho = Delta^2 / (2 sigma^2) zCDP, as the continuous Gaussian, at integer sensitivity Delta) and
// an exact sampler built from Bernoulli(exp(-gamma)) trials. This file samples the same
// distribution exactly but spends about three 32-bit words and a few float operations per sample:
//
// Method: rejection sampling from a piecewise-uniform envelope on x = |z|.
//   - Sample x = |z| from h(x) = g(x) = exp(-x^2/(2 sigma^2)) for x > 0 and h(0) = 1/2 (every
//     x > 0 comes from two z, 0 from one), then give it a uniform sign.
//   - Buckets of width t = max(1, floor(sigma/16)): bucket v < V holds x in [vt, (v+1)t); past
//     X0 = Vt lies the tail, tail bucket b >= 0 holding [X0 + bt, X0 + (b+1)t). V is chosen so that
//     X0 >= 12 sigma and X0 t >= sigma^2 (then g(x + t) <= g(x)/2 for every x >= X0).
//   - A proposal picks bucket v < V with probability k_v / 2^31 (integers k_v >= 1 from a 31-bit
//     inversion table, so the probabilities are exact dyadic rationals), or the tail with
//     probability k_tail / 2^31 and then tail bucket b with probability 2^-(b+1) (leading zero bits
//     of random words); then x uniform in the bucket (exact rejection from 32-bit words).
//   - Its probability of x is q(x) = (k_v / 2^31) / t (times 2^-(b+1) in the tail). M is a double
//     proven to be at least max_x h(x) / q(x) (checked at each bucket's first point, where h is
//     largest; in the tail, g halving per bucket keeps pace with 2^-(b+1)), and x is accepted with
//     probability a(x) = h(x) / (M q(x)) <= 1. Accepted x then have P(x) = h(x) / M / P(accept):
//     exactly |Z| for Z ~ N_Z(0, sigma^2). About 97% of proposals are accepted for sigma >= 32,
//     and 80-90% below.
//   - "U < a(x)" for a uniform U in [0, 1) is decided from the first 32 bits of U against bounds
//     of a over the bucket (precomputed), else against an enclosure of a(x) from exp-bounds.ts,
//     and, when U's 32-bit interval meets that enclosure (below 2^-31 of the time), against exact
//     BigInt bounds of a(x) with as many further bits of U as it takes. a(x) = c e^{-y} with c and
//     y = x^2 / (2 sigma^2) exact rationals (sigma, M are doubles: m 2^e with integer m).
// So the output distribution is exactly N_Z(0, sigma^2) given uniform words. The one cut: a
// proposal with x >= 2^53 (tail bucket b > 2^53 / t, probability below 2^-(2^17)) is rejected.
import { ValueError } from '../errors.js';
import { floatToRational } from './exact-float.js';
import { expNegApprox, expNegBounds, expNegError } from './exp-bounds.js';
import { RandomWords, type RandomFill } from './random-bits.js';

/** The smallest and largest sigma the sampler takes. */
export const MIN_SIGMA = 2 ** -30;
export const MAX_SIGMA_INT = 2 ** 40;

const TWO31 = 0x80000000;
const TWO32 = 0x100000000;
const INV_TWO32 = 2 ** -32;
const SAFE = 2 ** 53;

/** Counters for tests: how often each decision path ran. */
export interface SamplerStats {
  proposals: number;
  /** Decisions that needed a(x) (the bucket bounds did not settle them). */
  pointEvaluations: number;
  /** Decisions that needed exact BigInt bounds. */
  exactDecisions: number;
}

/**
 * Exact sampler of the discrete Gaussian N_Z(0, sigma^2); tables are built once per sigma.
 *
 * @example
 * ```ts
 * const sampler = new DiscreteGaussianSampler(3);
 * const z = sampler.sample(1000); // Float64Array of integers, P(z) ∝ exp(-z²/18)
 * ```
 */
export class DiscreteGaussianSampler {
  readonly sigma: number;
  /** Bucket width, bucket count and the tail's start X0 = V t. */
  readonly t: number;
  readonly buckets: number;
  readonly x0: number;
  readonly stats: SamplerStats = { proposals: 0, pointEvaluations: 0, exactDecisions: 0 };

  private readonly words: RandomWords;
  private readonly inv2s2: number;
  private readonly cum: Uint32Array; // cum[v] = k_0 + ... + k_{v-1}; cum[V] = 2^31 - k_tail
  private readonly guide: Uint16Array;
  private readonly c: Float64Array; // c_v = t 2^31 / (M k_v); c_V uses k_tail
  private readonly kv: Uint32Array; // k_v, k_V = k_tail
  private readonly loThr: Float64Array;
  private readonly hiThr: Float64Array;
  private readonly zeroLo: number;
  private readonly zeroHi: number;
  private readonly mRat: { m: bigint; e: number };
  private readonly yDenBase: bigint; // y = x^2 2^yNumShift / (yDenBase 2^yDenShift)
  private readonly yNumShift: bigint;
  private readonly yDenShift: bigint;

  constructor(sigma: number, options: { random?: RandomFill } = {}) {
    if (typeof sigma !== 'number' || !(sigma >= MIN_SIGMA && sigma <= MAX_SIGMA_INT)) {
      throw new ValueError(
        `sigma must be a number in [2^-30, 2^40] (in integer units), got ${String(sigma)}; ` +
          'for real-valued noise use gaussianNoise, which picks a grid for you',
      );
    }
    this.sigma = sigma;
    this.words = new RandomWords(options.random);
    const s2 = sigma * sigma;
    this.inv2s2 = 1 / (2 * s2);
    const t = sigma >= 32 ? Math.floor(sigma / 16) : 1;
    const V = Math.max(Math.ceil((12 * sigma) / t), Math.ceil(s2 / (t * t))) + 1;
    this.t = t;
    this.buckets = V;
    this.x0 = V * t;

    // Bucket weights proportional to g at each bucket's start; integers summing to 2^31 with the tail.
    const w = new Float64Array(V);
    let total = 0;
    for (let v = 0; v < V; v++) {
      const x = v * t;
      // With t = 1, bucket 0 is the point 0, whose weight on the half-line is 1/2 (see next()).
      w[v] = v === 0 && t === 1 ? 0.5 : Math.exp(-x * x * this.inv2s2);
      total += w[v]!;
    }
    // Rounded up, so that no bucket's h / q exceeds the others' (M stays near its ideal value), and
    // at least 1, so that every x can be proposed (exactness needs every bucket, however unlikely).
    const kv = new Uint32Array(V + 1);
    let sum = 0;
    for (let v = 0; v < V; v++) {
      kv[v] = Math.max(1, Math.ceil((w[v]! / total) * (TWO31 - 4096)));
      sum += kv[v]!;
    }
    kv[V] = TWO31 - sum; // >= 4096 - V - 1 >= 1
    this.kv = kv;
    const cum = new Uint32Array(V + 2);
    for (let v = 0; v <= V; v++) cum[v + 1] = cum[v]! + kv[v]!;
    this.cum = cum;
    const guide = new Uint16Array(256);
    let v = 0;
    for (let gi = 0; gi < 256; gi++) {
      const r = gi * 2 ** 23;
      while (cum[v + 1]! <= r) v++;
      guide[gi] = v;
    }
    this.guide = guide;

    // M >= t g(vt) 2^31 / k_v for every bucket, and >= 2t g(X0) 2^31 / k_tail, from upper bounds of g.
    const gUpper = (x: number): number => {
      const y = x * x * this.inv2s2;
      const g = expNegApprox(y);
      return g + expNegError(g, y);
    };
    let M = 0;
    for (let b = 0; b < V; b++) M = Math.max(M, (t * (b === 0 && t === 1 ? 0.5 : gUpper(b * t)) * TWO31) / kv[b]!);
    M = Math.max(M, (2 * t * gUpper(this.x0) * TWO31) / kv[V]!);
    M *= 1 + 2 ** -40;
    this.mRat = floatToRational(M);

    // Acceptance constants and per-bucket decision thresholds (in units of 2^-32).
    this.c = new Float64Array(V + 1);
    this.loThr = new Float64Array(V);
    this.hiThr = new Float64Array(V);
    for (let b = 0; b <= V; b++) this.c[b] = (t * TWO31) / (M * kv[b]!);
    // x = 0: a(0) = c_0 / 2 (c_0 carries three roundings; 2^-50 covers them).
    const half = this.c[0]! / 2;
    this.zeroLo = Math.max(0, Math.floor(half * (1 - 2 ** -50) * TWO32));
    this.zeroHi = Math.min(TWO32, Math.ceil(half * (1 + 2 ** -50) * TWO32));
    for (let b = 0; b < V; b++) {
      const xFirst = b === 0 ? 1 : b * t; // the point 0 has its own thresholds
      if (xFirst > b * t + t - 1) continue; // bucket 0 is the point 0 alone (t = 1)
      const xLast = xFirst + t - 1;
      const yHi = xLast * xLast * this.inv2s2;
      const gLo = expNegApprox(yHi);
      const lo = this.c[b]! * (gLo - expNegError(gLo, yHi));
      const yLo = xFirst * xFirst * this.inv2s2;
      const gHi = expNegApprox(yLo);
      const hi = this.c[b]! * (gHi + expNegError(gHi, yLo));
      this.loThr[b] = Math.max(0, Math.floor(lo * TWO32));
      this.hiThr[b] = Math.min(TWO32, Math.ceil(hi * TWO32));
    }

    // y = x^2 / (2 sigma^2) with sigma = m 2^e: y = x^2 2^(-2e) / (2 m^2).
    const { m, e } = floatToRational(sigma);
    this.yDenBase = 2n * m * m;
    this.yNumShift = BigInt(Math.max(0, -2 * e));
    this.yDenShift = BigInt(Math.max(0, 2 * e));
  }

  /** `count` samples as a Float64Array of integers. */
  sample(count: number): Float64Array {
    checkCount(count);
    const out = new Float64Array(count);
    this.fill(out);
    return out;
  }

  /** Fills `out` with samples (integers). */
  fill(out: Float64Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.next();
  }

  /** One sample. */
  next(): number {
    const words = this.words;
    const t = this.t;
    const V = this.buckets;
    for (;;) {
      this.stats.proposals++;
      const w = words.word();
      const negative = (w & 1) === 1;
      const r = w >>> 1;
      let v = this.guide[r >>> 23]!;
      while (this.cum[v + 1]! <= r) v++;
      if (v < V) {
        const x = v * t + (t === 1 ? 0 : words.below(t));
        const u = words.word();
        // |z| = 0 has half the weight of the other points on the half-line: a(0) = c_0 / 2.
        if (x === 0) {
          if (u < this.zeroLo) return 0;
          if (u >= this.zeroHi) continue;
          if (this.accept(u, 0, 0, -1)) return 0;
          continue;
        }
        if (u < this.loThr[v]!) return negative ? -x : x;
        if (u >= this.hiThr[v]!) continue;
        if (this.accept(u, x, v, 0)) return negative ? -x : x;
        continue;
      }
      // Tail: bucket b ~ Geometric(1/2), x uniform in [X0 + b t, X0 + (b + 1) t).
      let b = 0;
      for (;;) {
        const g = words.word();
        if (g !== 0) {
          b += Math.clz32(g);
          break;
        }
        b += 32;
      }
      const x = this.x0 + b * t + (t === 1 ? 0 : words.below(t));
      if (x >= SAFE) continue;
      if (this.accept(words.word(), x, V, b + 1)) return negative ? -x : x;
    }
  }

  /**
   * U < a(x)? given U's first 32 bits `u`. a(x) = c_v g(x) in bucket v < V; in tail bucket b,
   * a(x) = g(x) t 2^(b+1) 2^31 / (M k_tail) = 2^tailShift c_V g(x) with tailShift = b + 1.
   */
  private accept(u: number, x: number, v: number, tailShift: number): boolean {
    this.stats.pointEvaluations++;
    const y = x * x * this.inv2s2;
    const g = expNegApprox(y);
    const scale = tailShift === 0 ? 1 : 2 ** tailShift;
    const p = this.c[v]! * scale * g;
    const err = this.c[v]! * scale * expNegError(g, y);
    if ((u + 1) * INV_TWO32 <= p - err) return true;
    if (u * INV_TWO32 >= p + err) return false;
    return this.acceptExact(u, x, v, tailShift);
  }

  /** The exact decision: U (first 32 bits `u`, more drawn as needed) against BigInt bounds of a(x). */
  private acceptExact(u: number, x: number, v: number, tailShift: number): boolean {
    this.stats.exactDecisions++;
    const bx = BigInt(x);
    const yNum = bx * bx << this.yNumShift;
    const yDen = this.yDenBase << this.yDenShift;
    // c = t 2^31 2^tailShift / (M k_v), M = mM 2^eM.
    const { m: mM, e: eM } = this.mRat;
    let cNum = BigInt(this.t) << BigInt(31 + tailShift);
    let cDen = mM * BigInt(this.kv[v]!);
    if (eM < 0) cNum <<= BigInt(-eM);
    else cDen <<= BigInt(eM);
    let uBits = BigInt(u);
    let known = 32;
    for (let prec = 96; ; prec += 64) {
      while (known < prec) {
        uBits = (uBits << 32n) | BigInt(this.words.word());
        known += 32;
      }
      const [eLo, eHi] = expNegBounds(yNum, yDen, prec);
      const lo = (eLo * cNum) / cDen;
      const hi = (eHi * cNum + cDen - 1n) / cDen;
      if (uBits + 1n <= lo) return true;
      if (uBits >= hi) return false;
    }
  }
}

/** Checks a sample count. */
export function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) throw new ValueError(`count must be a non-negative integer, got ${count}`);
}

