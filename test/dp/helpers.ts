// Helpers for the noise tests: a deterministic byte source, exact discrete Gaussian probabilities
// by direct summation (independent of the sampler), and the tail bounds the statistical checks use.
import type { RandomFill } from '../../src/dp/index.js';

/** A reproducible RandomFill (splitmix32 words); NOT random enough for privacy, only for tests. */
export function seededFill(seed: number, calls?: { count: number; bytes: number }): RandomFill {
  let s = seed >>> 0;
  return (bytes: Uint8Array) => {
    if (calls) {
      calls.count++;
      calls.bytes += bytes.length;
    }
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    for (let i = 0; i < words.length; i++) {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      words[i] = (z ^ (z >>> 16)) >>> 0;
    }
  };
}

/** A RandomFill that hands out the given words, then `rest` forever. */
export function scriptedFill(script: readonly number[], rest = 0): RandomFill {
  let pos = 0;
  return (bytes: Uint8Array) => {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = pos < script.length ? script[pos++]! : rest;
  };
}

/** P(Z = z) for z = -K..K of the discrete Gaussian N_Z(0, sigma^2), K = ceil(40 sigma) + 2. */
export function discretePmf(sigma: number): { offset: number; p: Float64Array } {
  const K = Math.ceil(40 * sigma) + 2;
  const p = new Float64Array(2 * K + 1);
  let total = 0;
  for (let z = -K; z <= K; z++) {
    p[z + K] = Math.exp(-(z * z) / (2 * sigma * sigma));
    total += p[z + K]!;
  }
  for (let i = 0; i < p.length; i++) p[i]! /= total;
  return { offset: K, p };
}
