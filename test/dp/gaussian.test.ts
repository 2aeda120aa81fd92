// The exact discrete Gaussian sampler and the noise built on it.
//
// Statistical checks. Each case draws n samples and applies up to six checks; every check fails
// with probability at most 2 e^-x, x = 18, if the sampler is right, so the 27 checks in this file
// fail together with probability at most 54 e^-18 = 8.2e-7 < 1e-6 (the "no sample beyond 40 sigma"
// checks add below 1e-300). The bounds:
//   - shape (Dvoretzky-Kiefer-Wolfowitz with Massart's constant, any distribution):
//       P(sup_t |F_n(t) - F(t)| > sqrt(x / (2n))) <= 2 e^-x, F the exact CDF;
//   - variance, upper side: N_Z(0, s^2) is s-subgaussian (Canonne, Kamath, Steinke 2020), so
//     Y = Z^2/s^2 has E e^{lY} <= (1 - 2l)^{-1/2}, and Laurent-Massart's chi-square argument gives
//       P(sum Y - n >= 2 sqrt(n x) + 2x) <= e^-x;
//   - variance, lower side: Y >= 0, so (Maurer 2003) P(n E[Y] - sum Y >= sqrt(2 n E[Y^2] x)) <= e^-x,
//     E[Y] and E[Y^2] computed exactly from the probabilities;
//   - mean: the sum is sqrt(n) s-subgaussian: P(|sum Z| >= s sqrt(2 n x)) <= 2 e^-x;
//   - sign: given N nonzero samples the positive count is Binomial(N, 1/2) (Hoeffding):
//       P(|pos - N/2| >= sqrt(N x / 2)) <= 2 e^-x;
//   - the mass at 0 (multiplicative Chernoff, mu = n P(0), valid while x <= mu/3):
//       P(|count0 - mu| >= sqrt(3 mu x)) <= 2 e^-x.
import { describe, expect, test } from 'vitest';
import { ValueError } from '../../src/errors.js';
import {
  DiscreteGaussianSampler,
  addGaussianNoise,
  discreteGaussian,
  discreteGaussianNoise,
  gaussianGrid,
  gaussianNoise,
} from '../../src/dp/index.js';
import { expNegBounds } from '../../src/dp/exp-bounds.js';
import { floatToRational } from '../../src/dp/exact-float.js';
import { normCdf } from '../../src/dp/math.js';
import { discretePmf, scriptedFill, seededFill } from './helpers.js';

const X = 18;

interface Moments {
  variance: number; // E[Z^2] / s^2
  fourth: number; // E[Z^4] / s^4
  p0: number;
}

function exactMoments(sigma: number): Moments {
  const { offset, p } = discretePmf(sigma);
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < p.length; i++) {
    const z = i - offset;
    m2 += p[i]! * z * z;
    m4 += p[i]! * z * z * z * z;
  }
  return { variance: m2 / sigma ** 2, fourth: m4 / sigma ** 4, p0: p[offset]! };
}

/** The moment, mean and sign checks on samples z (integers, or reals with `sigma` their std). */
function checkMomentsAndSigns(z: ArrayLike<number>, sigma: number, m: Moments): void {
  const n = z.length;
  let sum = 0;
  let sumSq = 0;
  let pos = 0;
  let nonzero = 0;
  for (let i = 0; i < n; i++) {
    const v = z[i]!;
    sum += v;
    sumSq += v * v;
    if (v !== 0) nonzero++;
    if (v > 0) pos++;
  }
  const sumY = sumSq / (sigma * sigma);
  expect(sumY - n, 'variance, upper tail').toBeLessThan(2 * Math.sqrt(n * X) + 2 * X);
  expect(n * m.variance - sumY, 'variance, lower tail').toBeLessThan(Math.sqrt(2 * n * m.fourth * X));
  expect(Math.abs(sum), 'mean').toBeLessThan(sigma * Math.sqrt(2 * n * X));
  expect(Math.abs(pos - nonzero / 2), 'sign symmetry').toBeLessThan(Math.sqrt((nonzero * X) / 2));
}

/** DKW check of integer samples against the exact discrete Gaussian CDF. */
function checkShapeDiscrete(z: ArrayLike<number>, sigma: number): void {
  const { offset, p } = discretePmf(sigma);
  const counts = new Float64Array(p.length);
  let outside = 0;
  for (let i = 0; i < z.length; i++) {
    const k = z[i]! + offset;
    if (k >= 0 && k < p.length) counts[k]!++;
    else outside++;
  }
  expect(outside, 'samples beyond 40 sigma').toBe(0);
  let F = 0;
  let Fn = 0;
  let worst = 0;
  for (let i = 0; i < p.length; i++) {
    F += p[i]!;
    Fn += counts[i]! / z.length;
    worst = Math.max(worst, Math.abs(Fn - F));
  }
  expect(worst, 'DKW sup |F_n - F|').toBeLessThan(Math.sqrt(X / (2 * z.length)));
}

function checkZeroMass(z: ArrayLike<number>, p0: number): void {
  let zeros = 0;
  for (let i = 0; i < z.length; i++) if (z[i] === 0) zeros++;
  const mu = z.length * p0;
  expect(X).toBeLessThanOrEqual(mu / 3);
  expect(Math.abs(zeros - mu), 'mass at 0').toBeLessThan(Math.sqrt(3 * mu * X));
}

describe('discrete Gaussian: distribution (failure probability < 1e-6 for the whole file)', () => {
  test('sigma 1.5 (buckets of single points): exact CDF, moments, signs, mass at 0', () => {
    const z = new DiscreteGaussianSampler(1.5).sample(1_000_000);
    const m = exactMoments(1.5);
    checkShapeDiscrete(z, 1.5);
    checkMomentsAndSigns(z, 1.5, m);
    checkZeroMass(z, m.p0);
  });

  test('sigma 100 (buckets of width 6): exact CDF, moments, signs, mass at 0', () => {
    const s = new DiscreteGaussianSampler(100);
    expect(s.t).toBe(6);
    const z = s.sample(1_000_000);
    const m = exactMoments(100);
    checkShapeDiscrete(z, 100);
    checkMomentsAndSigns(z, 100, m);
    checkZeroMass(z, m.p0);
  });

  test('sigma 0.3 (almost all mass at 0): exact CDF, moments, signs, mass at 0', () => {
    const z = new DiscreteGaussianSampler(0.3).sample(200_000);
    const m = exactMoments(0.3);
    checkShapeDiscrete(z, 0.3);
    checkMomentsAndSigns(z, 0.3, m);
    checkZeroMass(z, m.p0);
  });

  test('float noise, std 1.3 (grid 2^-19): normal CDF, moments, signs', () => {
    const std = 1.3;
    const noise = gaussianNoise({ std, count: 1_000_000, dtype: 'float64' });
    // the grid step is 2^-19 std, so the discrete CDF is within 1e-6 of the normal one
    const sorted = Float64Array.from(noise).sort();
    let worst = 0;
    for (let i = 0; i < sorted.length; i++) {
      const F = normCdf(sorted[i]! / std);
      worst = Math.max(worst, Math.abs((i + 1) / sorted.length - F), Math.abs(i / sorted.length - F));
    }
    expect(worst).toBeLessThan(Math.sqrt(X / (2 * sorted.length)) + 1e-6);
    checkMomentsAndSigns(noise, std, { variance: 1, fourth: 3, p0: 0 });
  });

  test('integer noise, sigma 3e9 (BigInt64Array): moments and signs', () => {
    const big = discreteGaussian({ sigma: 3e9, count: 200_000 });
    const z = Array.from(big, (v) => Number(v));
    checkMomentsAndSigns(z, 3e9, { variance: 1, fourth: 3, p0: 0 });
  });
});

describe('discrete Gaussian: exactness of the decision paths', () => {
  interface Internals {
    cum: Uint32Array;
    kv: Uint32Array;
    mRat: { m: bigint; e: number };
  }

  /** floor(2^bits a(x)) for bucket v (tailShift as in the sampler), from exact bounds at 600 bits. */
  function acceptanceBits(s: DiscreteGaussianSampler, x: number, v: number, tailShift: number, bits: number): bigint {
    const inner = s as unknown as Internals;
    const { m, e } = floatToRational(s.sigma);
    const bx = BigInt(x);
    const yNum = (bx * bx) << BigInt(Math.max(0, -2 * e));
    const yDen = (2n * m * m) << BigInt(Math.max(0, 2 * e));
    let cNum = BigInt(s.t) << BigInt(31 + tailShift);
    let cDen = inner.mRat.m * BigInt(inner.kv[v]!);
    if (inner.mRat.e < 0) cNum <<= BigInt(-inner.mRat.e);
    else cDen <<= BigInt(inner.mRat.e);
    const [lo, hi] = expNegBounds(yNum, yDen, 600);
    const a = (lo * cNum) / cDen >> BigInt(600 - bits);
    const b = ((hi * cNum + cDen - 1n) / cDen) >> BigInt(600 - bits);
    expect(a).toBe(b); // the 600-bit enclosure pins the first `bits` bits
    return a;
  }

  function words(v: bigint, n: number): number[] {
    return Array.from({ length: n }, (_, i) => Number((v >> BigInt(32 * (n - 1 - i))) & 0xffffffffn));
  }

  test('a uniform agreeing with a(x) for 160 bits is settled exactly, both ways', () => {
    const probe = new DiscreteGaussianSampler(3);
    const cum = (probe as unknown as Internals).cum;
    const w = cum[1]! * 2; // bucket 1 (x = 1), sign bit 0
    const p160 = acceptanceBits(probe, 1, 1, 0, 160);
    const pWords = words(p160, 5);
    // U's bits after the first 160: zeros (U < a, accept x = 1) or ones (U > a, reject; the next
    // proposal, all zero words, is x = 0)
    const accept = new DiscreteGaussianSampler(3, { random: scriptedFill([w, ...pWords, 0, 0]) });
    expect(accept.next()).toBe(1);
    expect(accept.stats.exactDecisions).toBe(1);
    const reject = new DiscreteGaussianSampler(3, { random: scriptedFill([w, ...pWords, 0xffffffff, 0xffffffff]) });
    expect(reject.next()).toBe(0);
    expect(reject.stats.exactDecisions).toBe(1);
    expect(reject.stats.proposals).toBe(2);
  });

  test('the tail: a proposal past 12 sigma, accepted only by a uniform below a(x) < 2^-64', () => {
    const probe = new DiscreteGaussianSampler(3);
    const cum = (probe as unknown as Internals).cum;
    const V = probe.buckets;
    const w = cum[V]! * 2; // the tail, sign +
    // tail bucket b = 0 (a word with its top bit set), x = X0 (t = 1)
    const bits = 256;
    const p = acceptanceBits(probe, probe.x0, V, 1, bits);
    expect(p > 0n && p < 1n << BigInt(bits - 64)).toBe(true); // a(x) < 2^-64: decided past 64 bits
    const below = new DiscreteGaussianSampler(3, { random: scriptedFill([w, 0x80000000, ...words(p - 1n, bits / 32)]) });
    expect(below.next()).toBe(probe.x0);
    const above = new DiscreteGaussianSampler(3, { random: scriptedFill([w, 0x80000000, ...words(p + 1n, bits / 32)]) });
    expect(above.next()).toBe(0);
  });

  test('the fast paths (bucket thresholds, double enclosure) agree with exact decisions', () => {
    // For proposals (v, x) and first words u around a(x)'s own first 32 bits P: U < a(x) is
    // certain for u < P and impossible for u > P, whatever U's later bits are.
    for (const sigma of [3, 100, 1e7]) {
      const s = new DiscreteGaussianSampler(sigma, { random: seededFill(13) });
      const inner = s as unknown as Internals & {
        loThr: Float64Array;
        hiThr: Float64Array;
        accept(u: number, x: number, v: number, tailShift: number): boolean;
      };
      const rand = seededFill(17);
      const buf = new Uint32Array(64);
      rand(new Uint8Array(buf.buffer));
      let checked = 0;
      for (let i = 0; i < 60; i++) {
        const v = buf[i]! % Math.min(s.buckets, Math.ceil((4 * sigma) / s.t));
        const x = v * s.t + (buf[(i + 1) % 64]! % s.t);
        if (x === 0) continue;
        const P = Number(acceptanceBits(s, x, v, 0, 32));
        for (const d of [-2, -1, 1, 2]) {
          const u = P + d;
          if (u < 0 || u >= 2 ** 32) continue;
          const exact = u < P;
          if (u < inner.loThr[v]!) expect(exact).toBe(true);
          if (u >= inner.hiThr[v]!) expect(exact).toBe(false);
          expect(inner.accept(u, x, v, 0), `sigma ${sigma} x ${x} u ${u}`).toBe(exact);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(150);
    }
    // and on random words the fast paths almost always decide alone
    const s = new DiscreteGaussianSampler(100, { random: seededFill(7) });
    s.sample(50_000);
    expect(s.stats.pointEvaluations).toBeGreaterThan(500);
    expect(s.stats.exactDecisions).toBe(0);
    expect(s.stats.proposals / 50_000).toBeLessThan(1.05); // about 97.5% accepted
  });
});

describe('noise API', () => {
  test('the sampler is a deterministic function of the random bytes', () => {
    const a = gaussianNoise({ std: 2.5, count: 20_000, random: seededFill(1) });
    const b = gaussianNoise({ std: 2.5, count: 20_000, random: seededFill(1) });
    const c = gaussianNoise({ std: 2.5, count: 20_000, random: seededFill(2) });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const calls = { count: 0, bytes: 0 };
    discreteGaussian({ sigma: 40, count: 100_000, random: seededFill(3, calls) });
    // about 2-3 words (8-12 bytes) a sample, read in 64 KiB blocks
    expect(calls.bytes / 100_000).toBeGreaterThan(7);
    expect(calls.bytes / 100_000).toBeLessThan(16);
    expect(calls.bytes % 65536).toBe(0);
    // all-zero bytes: every proposal is x = 0 and is accepted
    expect(discreteGaussian({ sigma: 40, count: 5, random: (bytes) => bytes.fill(0) })).toEqual(new BigInt64Array(5));
  });

  test('gaussianNoise values are grid points, exact in float32 within 16 std', () => {
    const grid = gaussianGrid(1.1);
    expect(grid.sigma).toBeGreaterThanOrEqual(2 ** 19);
    expect(grid.sigma).toBeLessThan(2 ** 20);
    expect(grid.sigma * grid.step).toBe(1.1);
    expect(gaussianGrid(1)).toEqual({ exponent: 19, step: 2 ** -19, sigma: 2 ** 19 });
    const f64 = gaussianNoise({ std: 1.1, count: 50_000, dtype: 'float64', random: seededFill(5) });
    const f32 = gaussianNoise({ std: 1.1, count: 50_000, random: seededFill(5) });
    expect(f32).toBeInstanceOf(Float32Array);
    let offGrid = 0;
    let f32Differs = 0;
    for (let i = 0; i < f64.length; i++) {
      if (!Number.isInteger(f64[i]! / grid.step)) offGrid++;
      if (Math.abs(f64[i]!) < 16 * 1.1 && f32[i] !== f64[i]) f32Differs++;
    }
    expect(offGrid).toBe(0);
    expect(f32Differs).toBe(0);
  });

  test('discreteGaussianNoise draws at sigma = std * scale, rounded up', () => {
    const a = discreteGaussianNoise({ std: 1.2, scale: 1000, count: 1000, random: seededFill(9) });
    const b = discreteGaussian({ sigma: 1200, count: 1000, random: seededFill(9) });
    expect(a).toEqual(b);
    expect(a).toBeInstanceOf(BigInt64Array);
  });

  test('addGaussianNoise depends on the data only through its grid rounding', () => {
    const std = 0.5;
    const { step } = gaussianGrid(std);
    const x = Float64Array.from([0.1, -3, 1e6, 0]);
    const nudged = Float64Array.from(x, (v) => v + step / 4); // same grid point
    const a = addGaussianNoise(x, { std, random: seededFill(11) });
    const b = addGaussianNoise(nudged, { std, random: seededFill(11) });
    expect(a).toEqual(b);
    const noise = gaussianNoise({ std, count: 4, dtype: 'float64', random: seededFill(11) });
    for (let i = 0; i < 4; i++) expect(a[i]).toBe(Math.round(x[i]! / step) * step + noise[i]!);
    const f32 = addGaussianNoise(Float32Array.from(x), { std, random: seededFill(11) });
    expect(f32).toBeInstanceOf(Float32Array);
    expect(() => addGaussianNoise(Float64Array.from([NaN]), { std })).toThrow(/not finite or too large/);
  });

  test('the extremes of sigma build finite tables', () => {
    // sigma 2^-30: every other point has probability e^-(2^59); it is still in the table
    const tiny = new DiscreteGaussianSampler(2 ** -30);
    expect(tiny.sample(1000)).toEqual(new Float64Array(1000));
    const huge = new DiscreteGaussianSampler(2 ** 40);
    const z = huge.sample(1000);
    expect(z.every((v) => Number.isSafeInteger(v) && Math.abs(v) < 8 * 2 ** 40)).toBe(true);
  });

  test('bad options get ValueErrors', () => {
    expect(() => new DiscreteGaussianSampler(0)).toThrow(ValueError);
    expect(() => new DiscreteGaussianSampler(2 ** 41)).toThrow(/sigma must be a number in/);
    expect(() => discreteGaussian({ sigma: 1, count: -1 })).toThrow(/count must be/);
    expect(() => gaussianNoise({ std: -1, count: 1 })).toThrow(/std must be/);
    expect(() => gaussianNoise({ std: 1, count: 1, dtype: 'int8' as never })).toThrow(/dtype/);
    expect(() => discreteGaussianNoise({ std: 1, scale: 0, count: 1 })).toThrow(/scale must be/);
    expect(() => addGaussianNoise([1, 2] as never, { std: 1 })).toThrow(/Float32Array or Float64Array/);
  });
});
