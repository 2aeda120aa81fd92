/**
 * exp, reciprocal, 1/sqrt and log of fixed-precision values from additions and products only,
 * so that they run on secret shares (each product a Beaver multiplication and a truncation). The
 * FixedPrecisionTensor calls them at a working precision two digits finer than its own, up to 5
 * (5 digits for the default 3) and rounds the result back; every function here takes and
 * returns tensors at that working precision.
 *
 * exp(x), claimed for x in [-64, 6]; `x.exp()` on a fixed-precision tensor clamps its input to
 * that range (below -64, exp is under 2e-28: 0 at any precision used here; above 6 the
 * squarings would leave the room the overflow guard keeps for shared truncation):
 *   exp(x) = p(x / 2^6)^(2^6), p(y) = 1 + y + y^2/2 + y^3/6 (a cubic Taylor step, then six
 *   squarings): 2 + 6 = 8 products in 8 rounds.
 *   Measured on shares at 5 working digits against Math.exp, 2001 points per range (one-off
 *   runs; test/mpc/approximations.test.ts holds the bounds, bench/encrypted-cnn.bench.ts
 *   repeats the [-8, 0] comparison with timings): absolute error 6.6e-4 on
 *   [-8, 0] and 4e-4 on [-64, 0], relative 1.3e-3 on [0, 6]; rounded back to 3 digits, 1e-3
 *   absolute (the last digit). Why not CrypTen's limit exp (1 + x/2^8)^(2^8): the same 8
 *   rounds and the same time, but its own error e^x x^2 / 2^9 peaks at 1.1e-3 (x = -2) before
 *   any rounding, and rounding of the base is amplified 2^8 times instead of 2^6: measured the
 *   same way, 2.1e-3 absolute on [-8, 0] (3x worse) and 3.2e-2 relative on [0, 4] (24x worse);
 *   with 2^10 it needs 10 rounds and is worse still (8.8e-3) at 5 digits. The cubic stays
 *   positive for y > -1.59, so inputs down to -100 would still be right: the clamp at -64
 *   keeps a margin.
 *
 * reciprocal(x) for x in a stated [lo, hi] (0 < lo < hi):
 *   Newton's y <- y (2 - x y) from the best linear start y0 = b (lo + hi) - b x with
 *   b = 8 / (4 lo hi + (lo + hi)^2), whose relative error |1 - x y0| is at most
 *   E = 1 - b lo hi on the whole range; each step squares it, so k steps leave E^(2^k), and k is
 *   chosen for that to fall below 1e-6. For softmax's denominator (in [1, C] for C classes,
 *   C = 10: E = 0.5, 5 steps) that is 10 products; measured relative error 1e-4 on [0.9, 11]
 *   at 5 digits. Outside [lo, hi] the start is poorer and the result wrong once
 *   |1 - x y0| >= 1: callers only pass values they know to be in range.
 *
 * 1/sqrt(x) for x in a stated [lo, hi] (sqrt and division by a positive tensor on shares, for
 * eval-mode batch norm, use it over POSITIVE_RANGE = [0.01, 100]):
 *   Newton's y <- y (3 - x y^2) / 2 from y0 = 1/sqrt(hi), which converges for every x in
 *   (0, 3 hi); the error e = y sqrt(x) maps to e (3 - e^2) / 2, and the steps are counted by
 *   iterating that map from the worst start sqrt(lo / hi) down to 1e-5 (14 steps of 3 products
 *   over [0.01, 100]). Division a / b is a · (1/sqrt(b))^2. Below lo convergence is slower and
 *   the result too small; above 3 hi it diverges: the range is a stated limit, not checked.
 *
 * log(x) for x in a stated [lo, hi] (lo >= 1/2):
 *   Newton's y <- y - 1 + x · exp(-y) from the chord of log over [lo, hi] lowered by half its
 *   largest gap; the number of steps comes from iterating the error map e -> e - 1 + e^-e (and
 *   its mirror) from that start down to 1e-5. For softmax's log-denominator over 10 classes,
 *   3 steps of 9 products each, on one value per row only. Its fixed point is where the
 *   approximate exp is exact, so its error is exp's relative error: measured 1.5e-3 on
 *   [0.9, 11] at 5 digits.
 */
import type { AbstractTensor } from '../layer/abstract.js';

/**
 * exp(x) for x in [-64, hi] (see the header for the range and error). `hi` (default: unknown)
 * sets the magnitude bounds the fixed-precision overflow guard checks each product against.
 */
export function expApprox(x: AbstractTensor, hi?: number): AbstractTensor {
  const top = hi === undefined ? undefined : Math.max(hi, 0);
  const y = bounded(x.div(64), top === undefined ? undefined : Math.max(-EXP_FLOOR, top) / 64);
  // Horner: 1 + y (1 + y (1/2 + y/6)); for y in [-1, top/64] it lies in (0, e^(top/64)].
  let p = bounded(y.mul(1 / 6).add(0.5).mul(y).add(1).mul(y).add(1), top === undefined ? undefined : 1.01 * Math.exp(top / 64));
  for (let i = 1; i <= 6; i++) p = bounded(p.mul(p), top === undefined ? undefined : 1.01 * Math.exp((top * 2 ** i) / 64));
  return p;
}

/** CrypTen's limit exp, (1 + x / 2^n)^(2^n): kept to measure against (bench/encrypted-cnn.bench.ts). */
export function limitExp(x: AbstractTensor, n = 8, hi?: number): AbstractTensor {
  const top = hi === undefined ? undefined : Math.max(hi, 0);
  const b = (i: number) => (top === undefined ? undefined : 1.01 * Math.exp((top * 2 ** i) / 2 ** n));
  let p = bounded(x.div(2 ** n).add(1), b(0));
  for (let i = 1; i <= n; i++) p = bounded(p.mul(p), b(i));
  return p;
}

/**
 * Sets the magnitude bound of a fixed-precision result to what the approximation knows of it,
 * so that the overflow guard checks the next products against the true range rather than the
 * product of operand bounds, which squaring makes grow without end.
 */
function bounded(t: AbstractTensor, bound: number | undefined): AbstractTensor {
  if (bound !== undefined && 'bound' in t) (t as unknown as Rescalable).bound = bound;
  return t;
}

/** Newton steps that bring a relative error of `e0` (< 1) below `target`. */
function newtonSteps(e0: number, target: number): number {
  let k = 0;
  for (let e = e0; e > target && k < 12; e *= e) k++;
  return k;
}

/** 1 / x for x known to lie in [lo, hi] (see the header). */
export function reciprocalApprox(x: AbstractTensor, lo: number, hi: number): AbstractTensor {
  const b = 8 / (4 * lo * hi + (lo + hi) ** 2);
  const yMax = 1.01 / lo;
  bounded(x, hi);
  let y = bounded(x.mul(-b).add(b * (lo + hi)), yMax);
  const steps = newtonSteps(1 - b * lo * hi, 1e-6);
  for (let i = 0; i < steps; i++) y = bounded(y.mul(x.mul(y).neg().add(2)), yMax);
  return y;
}

/** Steps of y <- y (3 - x y^2) / 2 from 1/sqrt(hi) that bring y sqrt(x) within `target` of 1 on [lo, hi]. */
function rsqrtSteps(lo: number, hi: number, target: number): number {
  let k = 0;
  for (let e = Math.sqrt(lo / hi); Math.abs(1 - e) > target && k < 40; e = (e * (3 - e * e)) / 2) k++;
  return k;
}

/** 1 / sqrt(x) for x known to lie in [lo, hi] (see the header). */
export function rsqrtApprox(x: AbstractTensor, lo: number, hi: number): AbstractTensor {
  const yMax = 1.01 / Math.sqrt(lo);
  bounded(x, hi);
  let y = bounded(x.fullLike(1 / Math.sqrt(hi)), yMax);
  const steps = rsqrtSteps(lo, hi, 1e-5);
  // x y^2 as (x y) y: x y is sqrt(x) e, below sqrt(hi), and the next factor y keeps it small.
  const xyMax = 1.01 * Math.sqrt(hi);
  for (let i = 0; i < steps; i++) y = bounded(y.mul(bounded(bounded(x.mul(y), xyMax).mul(y), 1.01).neg().add(3)).div(2), yMax);
  return y;
}

/** The chord of log over [lo, hi], lowered by half the largest gap: a start within `gap` of log x. */
function logStart(lo: number, hi: number): { slope: number; at0: number; gap: number } {
  const slope = (Math.log(hi) - Math.log(lo)) / (hi - lo);
  // log x - chord(x) is largest where 1/x = slope.
  const xm = 1 / slope;
  const gap = Math.log(xm) - (Math.log(lo) + slope * (xm - lo));
  return { slope, at0: Math.log(lo) - slope * lo + gap / 2, gap: gap / 2 };
}

/** Steps of y <- y - 1 + x e^-y that bring a start within `e0` of log x below `target`. */
function logSteps(e0: number, target: number): number {
  let k = 0;
  // From above (y = log x + e): e -> e - 1 + e^-e; from below: e -> e^e - 1 - e (the larger).
  for (let e = e0; e > target && k < 12; e = Math.max(e - 1 + Math.exp(-e), Math.exp(e) - 1 - e)) k++;
  return k;
}

/** log x for x known to lie in [lo, hi] (see the header). */
export function logApprox(x: AbstractTensor, lo: number, hi: number): AbstractTensor {
  const { slope, at0, gap } = logStart(lo, hi);
  bounded(x, hi);
  const yMax = Math.max(Math.abs(Math.log(lo)), Math.log(hi)) + gap;
  let y = bounded(x.mul(slope).add(at0), yMax);
  const steps = logSteps(gap, 1e-5);
  // -y stays below -log(lo) + gap.
  for (let i = 0; i < steps; i++) y = bounded(y.sub(1).add(x.mul(expApprox(y.neg(), gap - Math.log(lo)))), yMax);
  return y;
}

/** A fixed-precision tensor that can move to another precision (FixedPrecisionTensor). */
export interface Rescalable {
  /** The largest |value| it can hold, where known (the overflow guard checks products with it). */
  bound: number | undefined;
  readonly precisionFractional: number;
  /** The same values at `precision` digits: exact upward, a truncation downward. */
  rescaled(precision: number): AbstractTensor;
}

const rescale = (t: AbstractTensor, precision: number) => (t as unknown as Rescalable).rescaled(precision);

/**
 * Digits the approximations work at, for a tensor of `precision` digits: two more, up to 5
 * (at 6 the squarings' products leave less room than the overflow guard keeps for shared
 * truncation), never fewer than the tensor's own.
 */
export const workingPrecision = (precision: number) => Math.max(precision, Math.min(precision + 2, 5));

/** Inputs of exp below this are clamped to it (exp(-64) < 2e-28). */
export const EXP_FLOOR = -64;

/** Inputs of exp above this are clamped to it (exp(6) = 403). */
export const EXP_CEIL = 6;

/** max(x, floor), one secure comparison: x + relu(floor - x). */
function clampBelow(x: AbstractTensor, floor: number): AbstractTensor {
  return x.add(x.neg().add(floor).relu());
}

/** min(x, ceil), one secure comparison: x - relu(x - ceil). */
function clampAbove(x: AbstractTensor, ceil: number): AbstractTensor {
  return x.sub(x.sub(ceil).relu());
}

/**
 * exp of a fixed-precision tensor at its own precision, via the working precision, with inputs
 * clamped to [EXP_FLOOR, EXP_CEIL] (each clamp one secure comparison, skipped when the tensor's
 * magnitude bound already keeps it inside).
 */
export function fixedExp(x: AbstractTensor & Rescalable): AbstractTensor {
  const p = x.precisionFractional;
  const b = x.bound;
  let c: AbstractTensor = x;
  if (b === undefined || b > -EXP_FLOOR) c = clampBelow(c, EXP_FLOOR);
  if (b === undefined || b > EXP_CEIL) c = clampAbove(c, EXP_CEIL);
  const top = b === undefined ? EXP_CEIL : Math.min(b, EXP_CEIL);
  return rescale(expApprox(bounded(rescale(c, workingPrecision(p)), Math.max(-EXP_FLOOR, top)), top), p);
}

/**
 * softmax or log-softmax along `dim`, max-shifted: z = x - max(x) lies in [-inf, 0] and is
 * clamped at {@link EXP_FLOOR}; exp(z) sums to s in [1, C] for C entries along `dim` (the
 * maximum contributes exp(0) = 1), which fixes the ranges of the reciprocal and the log.
 * Accuracy (test/mpc/approximations.test.ts): within 2e-3 of the exact values at 3 digits, for
 * any logits (the clamp only drops terms below 2e-28).
 */
export function fixedSoftmax(x: AbstractTensor & Rescalable, dim: number, log: boolean): AbstractTensor {
  const p = x.precisionFractional;
  const w = workingPrecision(p);
  const c = x.shape[dim < 0 ? dim + x.shape.length : dim]!;
  const z = x.sub(x.max(dim, true));
  const zw = bounded(rescale(clampBelow(z, EXP_FLOOR), w), -EXP_FLOOR);
  const e = expApprox(zw, 0);
  // exp(0) comes out within 1e-3 of 1: the ranges keep a margin below 1 and above C.
  const s = e.sum(dim, true);
  if (log) return rescale(zw.sub(logApprox(s, 0.9, c * 1.1)), p);
  return rescale(e.mul(reciprocalApprox(s, 0.9, c * 1.1)), p);
}

/** Where sqrt and division by a shared tensor are claimed (see the header). */
export const POSITIVE_RANGE: readonly [number, number] = [0.01, 100];

/**
 * Digits 1/sqrt works at: 4 (or the tensor's own, if finer). Over [0.01, 100] its products reach
 * 1e3 (x · y with x = 100, y = 0.1 bounded by 10): at 5 digits that is beyond the room the
 * overflow guard keeps for shared truncation.
 */
const rootPrecision = (precision: number) => Math.max(precision, 4);

/** sqrt of a fixed-precision tensor in {@link POSITIVE_RANGE}: x / sqrt(x). */
export function fixedSqrt(x: AbstractTensor & Rescalable): AbstractTensor {
  const p = x.precisionFractional;
  const w = rescale(x, rootPrecision(p));
  return rescale(bounded(w.mul(rsqrtApprox(w, ...POSITIVE_RANGE)), 1.01 * Math.sqrt(POSITIVE_RANGE[1])), p);
}

/** a / b for fixed-precision b in {@link POSITIVE_RANGE}: a · (1/sqrt(b))^2. */
export function fixedDivide(a: AbstractTensor & Rescalable, b: AbstractTensor & Rescalable): AbstractTensor {
  const p = Math.max(a.precisionFractional, b.precisionFractional);
  const r = rsqrtApprox(rescale(b, rootPrecision(p)), ...POSITIVE_RANGE);
  return rescale(rescale(a, rootPrecision(p)).mul(bounded(r.mul(r), 1.01 / POSITIVE_RANGE[0])), p);
}
