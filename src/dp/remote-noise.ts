/**
 * The worker command behind distributed noise for remote clients: `dp.noisyEncode` turns a float
 * tensor a worker holds (a client's clipped update) into int64 at a public scale plus that worker's
 * own discrete Gaussian noise, drawn from the worker's CSPRNG. The client's worker then shares the
 * result among the aggregating parties itself, so the update and the noise never leave it in the
 * clear (distributed-noise.ts says why that is enough).
 */
import { ValueError } from '../errors.js';
import { RingTensor } from '../ring/ring-tensor.js';
import { FloatTensor } from '../tensors/float.js';
import { type CommandSpec, selfLayer } from '../workers/commands.js';
import { discreteGaussianNoise } from './gaussian.js';
import type { RandomFill } from './random-bits.js';

/** The commands this folder adds to a worker's allow-list (registered by src/registry.ts). */
export const dpCommands: Record<string, CommandSpec> = {};

/** The largest tensor one command encodes (a cap on the work a message can cause). */
export const MAX_NOISY_ENCODE = 1 << 24;

/** Encodes `values` at `scale` and adds discrete Gaussian noise of std `std` (real units). */
export function noisyEncode(values: Float32Array | Float64Array, std: number, scale: number, random?: RandomFill): BigInt64Array {
  if (typeof std !== 'number' || !(std >= 0) || !Number.isFinite(std)) throw new ValueError(`std must be a finite number >= 0, got ${String(std)}`);
  if (typeof scale !== 'number' || !Number.isSafeInteger(scale) || scale < 1) throw new ValueError(`scale must be a positive integer, got ${String(scale)}`);
  const n = values.length;
  const noise = std > 0 ? discreteGaussianNoise({ std, scale, count: n, random }) : new BigInt64Array(n);
  const limit = 2 ** 52;
  for (let i = 0; i < n; i++) {
    const r = Math.round(values[i]! * scale);
    if (!(Math.abs(r) < limit)) throw new ValueError(`value ${values[i]} at index ${i} does not fit the encoding at scale ${scale}: clip it first`);
    noise[i] = BigInt(r) + noise[i]!;
  }
  return noise;
}

dpCommands['dp.noisyEncode'] = {
  results: 1,
  needsSelf: true,
  run: (_ctx, self, args) => {
    const value = selfLayer(self).dataLayer();
    if (!(value instanceof FloatTensor)) throw new ValueError('dp.noisyEncode needs a float tensor');
    if (args.length !== 2) throw new ValueError('dp.noisyEncode takes [std, scale]');
    const [std, scale] = args;
    if (value.values.length > MAX_NOISY_ENCODE) throw new ValueError(`dp.noisyEncode takes at most ${MAX_NOISY_ENCODE} values`);
    return new RingTensor(value.shape, noisyEncode(value.values, std as number, scale as number));
  },
};
