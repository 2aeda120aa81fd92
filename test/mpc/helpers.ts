// Shared helpers for the SMPC tests.
import * as sy from '../../src/index.js';

/** n parties and a crypto provider, named uniquely per call so tests do not share workers. */
export function parties(n: number, tag: string, serialize = false) {
  const ws = Array.from({ length: n }, (_, i) => new sy.VirtualWorker({ id: `${tag}-p${i}`, serialize }));
  const cryptoProvider = new sy.VirtualWorker({ id: `${tag}-dealer`, serialize });
  return { workers: ws, cryptoProvider };
}

export function flat(t: sy.Tensor): number[] {
  return [t.arraySync()].flat(Infinity as 1) as number[];
}

/** Deterministic test data in [lo, hi). */
export function data(rng: { uniform(lo: number, hi: number): number }, shape: number[], lo = -3, hi = 3): sy.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return sy.tensor(Float32Array.from({ length: n }, () => rng.uniform(lo, hi)), { shape });
}

/** Chi-square statistic of byte frequencies (256 bins). */
export function chiSquareBytes(bytes: Uint8Array): number {
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]!++;
  const expected = bytes.length / 256;
  let chi = 0;
  for (const c of counts) chi += (c - expected) ** 2 / expected;
  return chi;
}
