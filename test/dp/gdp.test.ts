// The Gaussian DP (CLT) accountant. Figures: Opacus's own test bound (6.59 < eps < 6.6 for
// sigma 1.5, q 0.04, 2249 steps, delta 1e-5), and values printed by running Opacus's analysis
// (opacus/accountants/analysis/gdp.py at commit 4d0ebc84, SciPy's brentq and normal CDF) once on
// the listed parameters.
import { describe, expect, test } from 'vitest';
import { ValueError } from '../../src/errors.js';
import { GaussianAccountant, computeEpsPoisson, computeEpsUniform, deltaEpsMu, epsFromMu } from '../../src/dp/index.js';

// [steps, sigma, q, delta, eps Poisson, eps uniform]
const OPACUS: [number, number, number, number, number, number][] = [
  [2249, 1.5, 0.04, 1e-5, 6.599820769085404, 8.429926631086497],
  [100, 1.0, 0.01, 1e-5, 0.45750586700486845, 0.6114472143570985],
  [10000, 0.8, 0.004, 1e-6, 3.6737697556039977, 5.147490511209527],
  [500, 3.0, 0.2, 1e-5, 7.238125526820864, 8.329090399267947],
  [1, 1.0, 0.5, 1e-5, 2.700931107486275, 3.6549029682882197],
];

describe('GaussianAccountant', () => {
  test("Opacus's test: 6.59 < eps < 6.6", () => {
    const a = new GaussianAccountant();
    // Opacus's test takes int(90 // 0.04) = 2249 steps (Python's floor division of floats)
    for (let i = 0; i < 2249; i++) a.step({ noiseMultiplier: 1.5, sampleRate: 0.04 });
    expect(a.steps).toBe(2249);
    const eps = a.getEpsilon(1e-5);
    expect(eps).toBeGreaterThan(6.59);
    expect(eps).toBeLessThan(6.6);
  });

  test.each(OPACUS)('%i steps, sigma %s, q %s, delta %s: Poisson and uniform as Opacus to 1e-10', (steps, noiseMultiplier, sampleRate, delta, p, u) => {
    const m = { steps, noiseMultiplier, sampleRate, delta };
    expect(Math.abs(computeEpsPoisson(m) - p) / p).toBeLessThan(1e-10);
    expect(Math.abs(computeEpsUniform(m) - u) / u).toBeLessThan(1e-10);
    const a = new GaussianAccountant();
    a.history = [{ noiseMultiplier, sampleRate, steps }];
    expect(a.getEpsilon(delta)).toBe(computeEpsPoisson(m));
    expect(a.getEpsilon(delta, { poisson: false })).toBe(computeEpsUniform(m));
  });

  test('epsFromMu inverts the dual, with the limits handled', () => {
    const eps = epsFromMu(1.3, 1e-5);
    expect(Math.abs(deltaEpsMu(eps, 1.3) - 1e-5)).toBeLessThan(1e-15);
    expect(epsFromMu(0, 1e-5)).toBe(0);
    expect(epsFromMu(Infinity, 1e-5)).toBe(Infinity);
    expect(epsFromMu(1e-7, 1e-5)).toBe(0); // delta(0) is already below the target
    expect(new GaussianAccountant().getEpsilon(1e-5)).toBe(0);
  });

  test('the noise and sample rate must stay constant', () => {
    const a = new GaussianAccountant();
    a.step({ noiseMultiplier: 1, sampleRate: 0.1 });
    expect(() => a.step({ noiseMultiplier: 1.1, sampleRate: 0.1 })).toThrow(/constant noise multiplier.*use RDPAccountant/);
    const b = new GaussianAccountant();
    b.loadStateDict(a.stateDict());
    expect(b.history).toEqual(a.history);
    expect(() => b.loadStateDict({ mechanism: 'rdp', history: [] })).toThrow(ValueError);
  });
});
