// The Rényi DP accountant: Opacus's own test figure, and a grid of 560 (noise multiplier, sample
// rate, steps, delta) points against an independent high-precision reference.
//
// rdp-reference.json was computed once with mpmath (34 digits) straight from the definitions in
// Mironov, Talwar and Zhang 2019 and Balle et al. 2020: the exact binomial sum at integer orders,
// numerical quadrature of A_alpha = E_{z~N(0,s^2)}[((1-q) + q e^{(2z-1)/(2s^2)})^alpha] at
// fractional ones (its "source" field says so in full). It shares no code with Opacus or with
// src/dp. The issue asks for agreement with Opacus to 0.5%; running Opacus's own analysis on the
// same grid agreed with this reference to 4.3e-11, and the test holds this package to 1e-8.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ValueError } from '../../src/errors.js';
import { DEFAULT_ALPHAS, RDPAccountant, computeRdp, getPrivacySpent } from '../../src/dp/index.js';

interface Reference {
  points: [number, number, number, number, number, number][];
  rdpPerStep: Record<string, number[]>;
}
const ref = JSON.parse(readFileSync(new URL('./rdp-reference.json', import.meta.url), 'utf8')) as Reference;

describe('RDPAccountant', () => {
  test("Opacus's test: sigma 1.5, q 0.04, 2250 steps, delta 1e-5 gives 7.3291", () => {
    const accountant = new RDPAccountant();
    for (let i = 0; i < 2250; i++) accountant.step({ noiseMultiplier: 1.5, sampleRate: 0.04 });
    expect(accountant.history).toEqual([{ noiseMultiplier: 1.5, sampleRate: 0.04, steps: 2250 }]);
    const eps = accountant.getEpsilon(1e-5);
    expect(eps.toFixed(4)).toBe('7.3291');
    // Opacus asserts assertAlmostEqual(epsilon, 7.32911117143) (7 places)
    expect(Math.abs(eps - 7.32911117143)).toBeLessThan(5e-8);
    expect(accountant.getPrivacySpent(1e-5)).toEqual({ epsilon: eps, bestAlpha: 3.9 });
  });

  test('matches the independent reference on the whole grid (560 points) to 1e-8 relative', () => {
    expect(ref.points).toHaveLength(560);
    let worst = 0;
    for (const [noiseMultiplier, sampleRate, steps, delta, epsilon, bestAlpha] of ref.points) {
      const accountant = new RDPAccountant();
      accountant.history = [{ noiseMultiplier, sampleRate, steps }];
      const spent = accountant.getPrivacySpent(delta);
      const err = Math.abs(spent.epsilon - epsilon) / epsilon;
      worst = Math.max(worst, err);
      expect(err, `sigma ${noiseMultiplier} q ${sampleRate} steps ${steps} delta ${delta}`).toBeLessThan(1e-8);
      expect(spent.bestAlpha).toBe(bestAlpha);
    }
    expect(worst).toBeLessThan(1e-8);
  });

  test('per-order RDP matches the reference, integer and fractional orders', () => {
    for (const [key, values] of Object.entries(ref.rdpPerStep)) {
      const [sigma, q] = key.split(':').map(Number);
      const mine = computeRdp({ q: q!, noiseMultiplier: sigma!, steps: 1 });
      values.forEach((v, i) => {
        // Near alpha = 1 with small q, A_alpha = 1 + tiny and double-precision cancellation limits
        // the relative accuracy of log(A_alpha) (Opacus's own values are 3.3e-8 off the reference
        // at sigma 4, q 0.004, alpha 1.1); it does not reach epsilon, checked to 1e-8 above.
        expect(Math.abs(mine[i]! - v), `${key} alpha ${DEFAULT_ALPHAS[i]}`).toBeLessThan(1e-7 * Math.abs(v) + 1e-15);
      });
    }
  });

  test('merges only consecutive identical steps, and composes mixed histories', () => {
    const a = new RDPAccountant();
    a.step({ noiseMultiplier: 1, sampleRate: 0.01 });
    a.step({ noiseMultiplier: 1, sampleRate: 0.01 });
    a.step({ noiseMultiplier: 2, sampleRate: 0.01 });
    a.step({ noiseMultiplier: 1, sampleRate: 0.01 });
    expect(a.history).toEqual([
      { noiseMultiplier: 1, sampleRate: 0.01, steps: 2 },
      { noiseMultiplier: 2, sampleRate: 0.01, steps: 1 },
      { noiseMultiplier: 1, sampleRate: 0.01, steps: 1 },
    ]);
    expect(a.steps).toBe(4);
    // RDP adds up over the history: the same as summing computeRdp of each part
    const rdp = computeRdp({ q: 0.01, noiseMultiplier: 1, steps: 3 });
    const rdp2 = computeRdp({ q: 0.01, noiseMultiplier: 2, steps: 1 });
    const sum = rdp.map((v, i) => v + rdp2[i]!);
    expect(a.getEpsilon(1e-5)).toBeCloseTo(getPrivacySpent({ rdp: sum, delta: 1e-5 }).epsilon, 12);
  });

  test("state dict round trip resumes where it left off (Opacus's load_state_dict test)", () => {
    const a = new RDPAccountant();
    for (let i = 0; i < 2250 - 1000; i++) a.step({ noiseMultiplier: 1.5, sampleRate: 0.04 });
    const state = a.stateDict();
    expect(state.history).not.toBe(a.history);
    const b = new RDPAccountant();
    b.loadStateDict(state);
    for (let i = 0; i < 1000; i++) b.step({ noiseMultiplier: 1.5, sampleRate: 0.04 });
    expect(Math.abs(b.getEpsilon(1e-5) - 7.32911117143)).toBeLessThan(5e-8);
    expect(() => b.loadStateDict({ mechanism: 'gdp', history: [] })).toThrow(ValueError);
    expect(() => b.loadStateDict({} as never)).toThrow(ValueError);
  });

  test('edge cases as Opacus: no steps, no noise, no sampling, q = 1, custom orders', () => {
    const a = new RDPAccountant();
    expect(a.getPrivacySpent(1e-5)).toEqual({ epsilon: 0, bestAlpha: 0 });
    a.step({ noiseMultiplier: 0, sampleRate: 0.1 });
    expect(a.getEpsilon(1e-5)).toBe(Infinity);
    const none = new RDPAccountant();
    none.step({ noiseMultiplier: 1, sampleRate: 0 });
    // zero RDP: epsilon is the conversion's own term, smallest at the largest order
    expect(none.getPrivacySpent(1e-5).bestAlpha).toBe(63);
    // q = 1 is the plain Gaussian mechanism: RDP alpha / (2 sigma^2)
    expect(computeRdp({ q: 1, noiseMultiplier: 2, steps: 3, orders: [2, 10.5] })).toEqual(new Float64Array([0.75, (3 * 10.5) / 8]));
    // an infinite order gives NaN epsilon there and is skipped
    const c = new RDPAccountant();
    c.step({ noiseMultiplier: 1.1, sampleRate: 0.01 });
    const withInf = c.getPrivacySpent(1e-5, { orders: [...DEFAULT_ALPHAS, Infinity] });
    expect(withInf).toEqual(c.getPrivacySpent(1e-5));
    expect(c.getEpsilon(1e-5, { alphas: [8] })).toBeGreaterThan(c.getEpsilon(1e-5));
    // only NaN: no guarantee
    expect(getPrivacySpent({ rdp: [Infinity], orders: [Infinity], delta: 1e-5 })).toEqual({ epsilon: Infinity, bestAlpha: NaN });
  });

  test('bad input gets a ValueError that says what is expected', () => {
    const a = new RDPAccountant();
    expect(() => a.step({ noiseMultiplier: -1, sampleRate: 0.1 })).toThrow(/noiseMultiplier must be/);
    expect(() => a.step({ noiseMultiplier: 1, sampleRate: 1.5 })).toThrow(/sampleRate must be in \[0, 1\]/);
    expect(() => a.step({ noiseMultiplier: NaN, sampleRate: 0.1 })).toThrow(ValueError);
    expect(() => a.getEpsilon(0)).toThrow(/delta must be in \(0, 1\)/);
    expect(() => a.getEpsilon(1e-5, { orders: [1, 2] })).toThrow(/order must be > 1/);
    expect(() => a.getEpsilon(1e-5, { orders: [2], alphas: [2] })).toThrow(ValueError);
    expect(() => getPrivacySpent({ rdp: [1, 2], orders: [2], delta: 1e-5 })).toThrow(/2 values but there are 1 orders/);
  });
});
