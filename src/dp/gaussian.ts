// Gaussian noise for differential privacy without floating-point sampling weaknesses.
//
// Method (see discrete-gaussian.ts for the sampler and its proof sketch): every sample is an exact
// draw of the discrete Gaussian N_Z(0, sigma^2) from CSPRNG words with integer and rational
// arithmetic only (Canonne, Kamath, Steinke 2020: the discrete Gaussian gives the continuous one's
// privacy at integer sensitivity). Real-valued noise lives on a fixed grid: for a standard
// deviation `std` the grid step is 2^-k with std * 2^k in [2^19, 2^20), the integer sample z is
// drawn with sigma = std * 2^k (an exact power-of-two scaling), and the noise is z * 2^-k, exact in
// float64, and in float32 up to 16 std. Mironov's attack (CCS 2012) reads the true value from which
// floats a naive sampler can and cannot produce; here every output is a grid point drawn with
// exact probabilities. Adding grid noise to data that is NOT on the grid lets the float rounding
// of the sum depend on the data again: addGaussianNoise therefore rounds the data to the grid
// first and adds in integers, so its output depends only on round(value / step) + z (rounding the
// data changes the sensitivity by at most one grid step per coordinate, about 2^-19 std).
//
// For fixed-point and ring values (integers at a scale, e.g. PySyft's 10^3), discreteGaussianNoise
// returns the integer samples at that scale as a BigInt64Array.
import { ValueError } from '../errors.js';
import { DiscreteGaussianSampler, checkCount } from './discrete-gaussian.js';
import { productRoundedUp } from './exact-float.js';
import type { RandomFill } from './random-bits.js';

/** Options shared by the noise functions. */
export interface NoiseSourceOptions {
  /** Where the random bytes come from; default the CSPRNG. Pass one only to reproduce a run. */
  random?: RandomFill;
}

/** Options of {@link discreteGaussian}. */
export interface DiscreteGaussianOptions extends NoiseSourceOptions {
  /** The discrete Gaussian's sigma, in integer units; in [2^-30, 2^40]. */
  sigma: number;
  count: number;
}

/** Options of {@link discreteGaussianNoise}. */
export interface DiscreteGaussianNoiseOptions extends NoiseSourceOptions {
  /** Standard deviation in real units. */
  std: number;
  /** Integer units per real unit (the fixed-point scale, e.g. 1000 for 3 decimal digits). */
  scale: number;
  count: number;
}

/** Options of {@link gaussianNoise}. */
export interface GaussianNoiseOptions extends NoiseSourceOptions {
  /** Standard deviation; > 0. */
  std: number;
  count: number;
  /** 'float32' (default) or 'float64'. */
  dtype?: 'float32' | 'float64';
}

/** The grid real-valued noise of standard deviation `std` lives on. */
export interface GaussianGrid {
  /** k: the grid step is 2^-k. */
  exponent: number;
  /** The grid step 2^-k. */
  step: number;
  /** std in grid units (std * 2^k, in [2^19, 2^20)). */
  sigma: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const TWO32 = 0x100000000;

/** Integers held in doubles (|z| <= 2^53) into a BigInt64Array. */
function toBigInt64(z: Float64Array): BigInt64Array {
  const out = new BigInt64Array(z.length);
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < z.length; i++) out[i] = BigInt(z[i]!);
    return out;
  }
  const lo = new Uint32Array(out.buffer);
  const hi = new Int32Array(out.buffer);
  for (let i = 0; i < z.length; i++) {
    const v = z[i]!;
    const h = Math.floor(v / TWO32);
    lo[2 * i] = v - h * TWO32;
    hi[2 * i + 1] = h;
  }
  return out;
}

/**
 * `count` exact samples of the discrete Gaussian N_Z(0, sigma^2): P(z) ∝ exp(-z^2 / (2 sigma^2)).
 *
 * @example
 * ```ts
 * const z = sy.dp.discreteGaussian({ sigma: 4, count: 10 }); // BigInt64Array
 * ```
 */
export function discreteGaussian({ sigma, count, random }: DiscreteGaussianOptions): BigInt64Array {
  checkCount(count);
  return toBigInt64(new DiscreteGaussianSampler(sigma, { random }).sample(count));
}

function positive(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ValueError(`${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}

/**
 * Discrete Gaussian noise for integers at a fixed-point `scale`: samples of N_Z(0, (std * scale)^2)
 * (sigma rounded up to a double), to add to values encoded as round(value * scale).
 *
 * @example
 * ```ts
 * // noise for fixed-precision values with 3 decimal digits (scale 1000), std 1.2 in real units
 * const noise = sy.dp.discreteGaussianNoise({ std: 1.2, scale: 1000, count: 4 }); // BigInt64Array
 * ```
 */
export function discreteGaussianNoise({ std, scale, count, random }: DiscreteGaussianNoiseOptions): BigInt64Array {
  positive('std', std);
  positive('scale', scale);
  return discreteGaussian({ sigma: productRoundedUp(std, scale), count, random });
}

/**
 * The grid {@link gaussianNoise} uses for `std`: step 2^-k with std * 2^k in [2^19, 2^20).
 *
 * @example
 * ```ts
 * sy.dp.gaussianGrid(1); // { exponent: 19, step: 2^-19, sigma: 524288 }
 * ```
 */
export function gaussianGrid(std: number): GaussianGrid {
  positive('std', std);
  if (std < 2 ** -900 || std > 2 ** 900) throw new ValueError(`std must be in [2^-900, 2^900], got ${std}`);
  let k = 19 - Math.floor(Math.log2(std));
  while (std * 2 ** k >= 2 ** 20) k--;
  while (std * 2 ** k < 2 ** 19) k++;
  return { exponent: k, step: 2 ** -k, sigma: std * 2 ** k };
}

/**
 * `count` samples of Gaussian noise with standard deviation `std`, each an exact discrete Gaussian
 * sample on the grid {@link gaussianGrid}(std) (about 2^-19 std apart), from the CSPRNG.
 *
 * @example
 * ```ts
 * const noise = sy.dp.gaussianNoise({ std: 1.1 * maxGradNorm, count: 110_000 }); // Float32Array
 * ```
 */
export function gaussianNoise(options: GaussianNoiseOptions & { dtype?: 'float32' }): Float32Array;
export function gaussianNoise(options: GaussianNoiseOptions & { dtype: 'float64' }): Float64Array;
export function gaussianNoise(options: GaussianNoiseOptions): Float32Array | Float64Array;
export function gaussianNoise({ std, count, dtype = 'float32', random }: GaussianNoiseOptions): Float32Array | Float64Array {
  if (dtype !== 'float32' && dtype !== 'float64') throw new ValueError(`dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  checkCount(count);
  const grid = gaussianGrid(std);
  const z = new DiscreteGaussianSampler(grid.sigma, { random }).sample(count);
  const out = dtype === 'float32' ? new Float32Array(count) : z;
  for (let i = 0; i < count; i++) out[i] = z[i]! * grid.step;
  return out;
}

/**
 * `values` plus Gaussian noise of standard deviation `std`, computed so that the result depends
 * only on the noisy grid value round(value / step) + z (see the file header): the safe way to add
 * noise to floats. Returns a new array of the same type.
 *
 * @example
 * ```ts
 * const noisy = sy.dp.addGaussianNoise(summedGrads, { std: noiseMultiplier * maxGradNorm });
 * ```
 */
export function addGaussianNoise<T extends Float32Array | Float64Array>(values: T, { std, random }: { std: number } & NoiseSourceOptions): T {
  if (!(values instanceof Float32Array) && !(values instanceof Float64Array)) {
    throw new ValueError('addGaussianNoise takes a Float32Array or Float64Array');
  }
  const grid = gaussianGrid(std);
  return addOnGrid(values, grid, new DiscreteGaussianSampler(grid.sigma, { random }).sample(values.length));
}

/**
 * `values` plus the grid's integer samples `z` (drawn for `grid.sigma`), as {@link addGaussianNoise}
 * computes it: each result is (round(value / step) + z) * step. @internal
 */
export function addOnGrid<T extends Float32Array | Float64Array>(values: T, grid: GaussianGrid, z: Float64Array): T {
  if (z.length !== values.length) throw new ValueError(`${z.length} noise samples for ${values.length} values`);
  const inv = 2 ** grid.exponent;
  const out = (values instanceof Float32Array ? new Float32Array(values.length) : new Float64Array(values.length)) as T;
  const limit = 2 ** 52;
  for (let i = 0; i < values.length; i++) {
    const r = Math.round(values[i]! * inv);
    if (!(Math.abs(r) < limit)) {
      throw new ValueError(
        `value ${values[i]} at index ${i} is not finite or too large for the noise grid (step ${grid.step}); ` +
          'clip or rescale the values first',
      );
    }
    out[i] = (r + z[i]!) * grid.step;
  }
  return out;
}
