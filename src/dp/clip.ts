// Per-sample clipping, as DP-SGD needs it: each sample's gradient over ALL parameters is one
// vector; its L2 norm n_b gives the factor min(1, C / (n_b + 1e-6)) (Opacus's flat clipping), and
// the clipped gradients are summed over the batch. Norms and sums are float64.
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

/** Checks a clipping bound. */
export function checkMaxGradNorm(maxGradNorm: number): void {
  if (typeof maxGradNorm !== 'number' || !(maxGradNorm > 0) || !Number.isFinite(maxGradNorm)) {
    throw new ValueError(`maxGradNorm must be a finite number > 0 (the per-sample clipping bound), got ${String(maxGradNorm)}`);
  }
}

/** Adds each sample's squared norm of `g` (`[batch, n]`) into `norms2`. */
export function addSquaredNorms(norms2: Float64Array, g: Float32Array, n: number): void {
  const batch = norms2.length;
  if (g.length !== n * batch) throw new ValueError(`a per-sample gradient has ${g.length} values, expected ${batch} x ${n}`);
  for (let b = 0; b < batch; b++) {
    let s = 0;
    for (let i = b * n; i < (b + 1) * n; i++) s += g[i]! * g[i]!;
    norms2[b]! += s;
  }
}

/** Norms (times `scale`) and clipping factors from squared per-sample norms. */
export function clipFactors(norms2: Float64Array, maxGradNorm: number, scale: number): { norms: Float64Array; factors: Float64Array } {
  checkMaxGradNorm(maxGradNorm);
  const norms = new Float64Array(norms2.length);
  const factors = new Float64Array(norms2.length);
  for (let b = 0; b < norms2.length; b++) {
    norms[b] = Math.sqrt(norms2[b]!) * scale;
    if (!Number.isFinite(norms[b]!)) throw new ValueError(`sample ${b} of the batch has a non-finite gradient: check the loss and the learning rate`);
    factors[b] = Math.min(1, maxGradNorm / (norms[b]! + 1e-6));
  }
  return { norms, factors };
}

/** sum_b coef_b * g_b for per-sample rows `g` (`[batch, n]`). */
export function weightedRowSum(g: Float32Array, n: number, coef: Float64Array): Float64Array {
  const out = new Float64Array(n);
  for (let b = 0; b < coef.length; b++) {
    const f = coef[b]!;
    if (f === 0) continue;
    const off = b * n;
    for (let i = 0; i < n; i++) out[i]! += f * g[off + i]!;
  }
  return out;
}

/**
 * Clips every sample's gradient to `maxGradNorm` and sums them, from materialised per-sample
 * gradients.
 *
 * @param perSample one array per parameter, `[batch, ...param.shape]` row-major
 * @param sizes the number of elements of each parameter
 * @param scale multiplies every per-sample gradient first (the batch size, for a mean loss)
 */
export function clipAndSum(perSample: readonly Float32Array[], sizes: readonly number[], batch: number, maxGradNorm: number, scale = 1): ClipResult {
  const norms2 = new Float64Array(batch);
  perSample.forEach((g, k) => addSquaredNorms(norms2, g, sizes[k]!));
  const { norms, factors } = clipFactors(norms2, maxGradNorm, scale);
  const coef = factors.map((f) => f * scale);
  return { sums: perSample.map((g, k) => weightedRowSum(g, sizes[k]!, coef)), norms, factors };
}
