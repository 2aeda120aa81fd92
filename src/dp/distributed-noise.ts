/**
 * Noise added inside secure aggregation (distributed discrete Gaussian, after Kairouz, Liu and
 * Steinke 2021, "The Distributed Discrete Gaussian Mechanism for Federated Learning with Secure
 * Aggregation"). Each of the m contributors encodes its (clipped) vector as integers at a public
 * scale, adds its own discrete Gaussian noise of std `std / sqrt(m)` drawn exactly from the CSPRNG,
 * and only then secret-shares the noisy integers among the aggregating parties. The parties add
 * their shares; what is reconstructed is sum(values) + sum(noise), whose noise has variance std^2.
 *
 * Who sees what: each contributor sees its own vector only; each party sees uniformly random
 * shares; the one who reconstructs sees the noisy sum. No one, at any point, holds the un-noised
 * sum. Trust assumptions, stated: a coalition of contributors knows its own noise shares, so
 * against c colluding contributors the remaining noise has variance std^2 (m - c) / m; a
 * contributor that drops after sharing is fine (its shares are in), one that drops before lowers
 * the noise (re-run the round, or scale up `std`). The sum of m discrete Gaussians is not exactly
 * one discrete Gaussian, but at the grid resolution used here (std / sqrt(m) is thousands of
 * integer units) the difference in Renyi divergence is negligible (their Theorem 2), so the round is
 * accounted as a Gaussian mechanism of noise multiplier std / clip.
 */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Tensor as TensorClass } from '../tensor.js';
import { RingTensor } from '../ring/ring-tensor.js';
import type { RemoteWorker } from '../workers/worker.js';
import type { RandomFill } from './random-bits.js';
import { noisyEncode } from './remote-noise.js';

/** Integer units per real unit of the encoding: 2^20 (ample for clipped updates, far from 2^63). */
export const DISTRIBUTED_NOISE_SCALE = 2 ** 20;

/** Options of {@link noisyShare}. */
export interface NoisyShareOptions {
  /** The std of the TOTAL noise (real units), i.e. noiseMultiplier * clip. */
  std: number;
  /** How many contributors add noise to this sum (each adds std / sqrt(contributors)). */
  contributors: number;
  /** The parties that hold the shares (at least 2). */
  parties: readonly RemoteWorker[];
  /** Integer units per real unit; default {@link DISTRIBUTED_NOISE_SCALE}. */
  scale?: number;
  random?: RandomFill;
}

/**
 * One contributor's part: `values` at the scale, plus its share of the noise, secret-shared among
 * `parties`. Returns the shared tensor (shares on the parties; nothing else leaves). Add the
 * contributors' results and reveal with {@link revealSum}.
 *
 * @example
 * ```ts
 * const parts = updates.map((u) => sy.dp.noisyShare(u, { std: 1.1 * clip, contributors: updates.length, parties: [alice, bob] }));
 * const noisySum = await sy.dp.revealSum(parts);
 * ```
 */
export function noisyShare(values: Float32Array | Float64Array, opts: NoisyShareOptions): Tensor {
  const scale = opts.scale ?? DISTRIBUTED_NOISE_SCALE;
  if (!Number.isSafeInteger(opts.contributors) || opts.contributors < 1) throw new ValueError(`contributors must be a positive integer, got ${String(opts.contributors)}`);
  if (!(opts.std >= 0) || !Number.isFinite(opts.std)) throw new ValueError(`std must be a finite number >= 0, got ${String(opts.std)}`);
  if (!Array.isArray(opts.parties) || opts.parties.length < 2) throw new ValueError('noisyShare needs at least two parties to hold the shares');
  if (!(scale >= 1) || !Number.isSafeInteger(scale)) throw new ValueError(`scale must be a positive integer, got ${String(scale)}`);
  const ints = noisyEncode(values, opts.std / Math.sqrt(opts.contributors), scale, opts.random);
  return new TensorClass(new RingTensor([values.length], ints)).share(...opts.parties);
}

/** Adds the contributors' shared tensors among the parties and reconstructs the (noisy) sum as floats. */
export async function revealSum(parts: readonly Tensor[], scale = DISTRIBUTED_NOISE_SCALE): Promise<Float64Array> {
  if (parts.length === 0) throw new ValueError('revealSum needs at least one shared part');
  let sum = parts[0]!;
  for (let i = 1; i < parts.length; i++) sum = sum.add(parts[i]!);
  const plain = await sum.get();
  const leaf = plain.child;
  if (!(leaf instanceof RingTensor)) throw new ValueError('revealSum: the parts must be shared int64 tensors from noisyShare');
  const out = new Float64Array(leaf.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(leaf.data[i]!) / scale;
  return out;
}
