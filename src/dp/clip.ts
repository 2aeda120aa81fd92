// Per-sample clipping, as DP-SGD needs it: each sample's gradient over ALL parameters is one
// vector; its L2 norm n_b gives the factor min(1, C / (n_b + 1e-6)) (Opacus's flat clipping), and
// the clipped gradients are summed over the batch. Sums and norms are kept in float64 so the sum's
// rounding does not depend on the order of samples beyond float64's.
import { ValueError } from '../errors.js';

/** What {@link clipAndSum} returns. */
export interface ClipResult {
  /** The sum over the batch of the clipped per-sample gradients, one array per parameter. */
  sums: Float64Array[];
  /** Each sample's gradient norm before clipping. */
  norms: Float64Array;
  /** Each sample's clipping factor, min(1, maxGradNorm / (norm + 1e-6)). */
  factors: Float64Array;
}

/**
 * Clips every sample's gradient to `maxGradNorm` and sums them.
 *
 * @param perSample one array per parameter, `[batch, ...param.shape]` row-major
 * @param sizes the number of elements of each parameter
 * @param scale multiplies every per-sample gradient first (the batch size, for a mean loss)
 */
export function clipAndSum(perSample: readonly Float32Array[], sizes: readonly number[], batch: number, maxGradNorm: number, scale = 1): ClipResult {
  if (!(maxGradNorm > 0) || !Number.isFinite(maxGradNorm)) throw new ValueError(`maxGradNorm must be a finite number > 0, got ${maxGradNorm}`);
  const norms = new Float64Array(batch);
  perSample.forEach((g, k) => {
    const n = sizes[k]!;
    if (g.length !== n * batch) throw new ValueError(`per-sample gradient ${k} has ${g.length} values, expected ${batch} x ${n}`);
    for (let b = 0; b < batch; b++) {
      let s = 0;
      for (let i = b * n; i < (b + 1) * n; i++) s += g[i]! * g[i]!;
      norms[b]! += s;
    }
  });
  const factors = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    norms[b] = Math.sqrt(norms[b]!) * scale;
    if (!Number.isFinite(norms[b]!)) throw new ValueError(`sample ${b} of the batch has a non-finite gradient: check the loss and the learning rate`);
    factors[b] = Math.min(1, maxGradNorm / (norms[b]! + 1e-6));
  }
  const sums = perSample.map((g, k) => {
    const n = sizes[k]!;
    const out = new Float64Array(n);
    for (let b = 0; b < batch; b++) {
      const f = factors[b]! * scale;
      const off = b * n;
      for (let i = 0; i < n; i++) out[i]! += f * g[off + i]!;
    }
    return out;
  });
  return { sums, norms, factors };
}
