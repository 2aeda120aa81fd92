// getNoiseMultiplier: Opacus's own test figures (opacus/tests/accountants_test.py) and the
// guarantee that the returned noise never overshoots the budget.
import { describe, expect, test } from 'vitest';
import { ValueError } from '../../src/errors.js';
import { MAX_SIGMA, RDPAccountant, getNoiseMultiplier } from '../../src/dp/index.js';

describe('getNoiseMultiplier', () => {
  test("Opacus's RDP figures: 1.416 for 90 epochs, 1.3562 for 2000 steps (eps 8, q 0.04)", () => {
    const epochs = getNoiseMultiplier({ targetEpsilon: 8, targetDelta: 1e-5, sampleRate: 0.04, epochs: 90 });
    expect(Math.abs(epochs - 1.416)).toBeLessThan(5e-5); // assertAlmostEqual(places=4)
    const steps = getNoiseMultiplier({ targetEpsilon: 8, targetDelta: 1e-5, sampleRate: 0.04, steps: 2000 });
    expect(Math.abs(steps - 1.3562)).toBeLessThan(5e-5);
  });

  test("Opacus's GDP figure: 1.3232421875", () => {
    expect(getNoiseMultiplier({ targetEpsilon: 8, targetDelta: 1e-5, sampleRate: 0.04, epochs: 90, accountant: 'gdp' })).toBe(1.3232421875);
  });

  test('the returned noise spends less than the target, by at most the tolerance', () => {
    const cases = [
      { targetEpsilon: 1, targetDelta: 1e-5, sampleRate: 1e-3, epochs: 10 },
      { targetEpsilon: 3, targetDelta: 1e-5, sampleRate: 256 / 8000, epochs: 20 },
      { targetEpsilon: 9.5, targetDelta: 1e-6, sampleRate: 0.1, epochs: 50 },
      { targetEpsilon: 2, targetDelta: 1e-4, sampleRate: 0.02, steps: 777, epsilonTolerance: 0.001 },
    ];
    for (const c of cases) {
      const sigma = getNoiseMultiplier(c);
      const a = new RDPAccountant();
      a.history = [{ noiseMultiplier: sigma, sampleRate: c.sampleRate, steps: c.steps ?? Math.floor(c.epochs! / c.sampleRate) }];
      const eps = a.getEpsilon(c.targetDelta);
      expect(eps).toBeLessThan(c.targetEpsilon);
      expect(c.targetEpsilon - eps).toBeLessThanOrEqual(c.epsilonTolerance ?? 0.01);
    }
  });

  test('a budget no noise can meet, and bad options, give ValueErrors that say what to change', () => {
    // q = 1 for 10^6 steps at epsilon 1e-3 needs sigma well past 10^6
    expect(() => getNoiseMultiplier({ targetEpsilon: 1e-3, targetDelta: 1e-10, sampleRate: 1, steps: 1e6 })).toThrow(
      new RegExp(`no noise multiplier up to ${MAX_SIGMA}.*raise targetEpsilon`),
    );
    const base = { targetEpsilon: 1, targetDelta: 1e-5, sampleRate: 0.01 };
    expect(() => getNoiseMultiplier(base)).toThrow(/either steps or epochs/);
    expect(() => getNoiseMultiplier({ ...base, steps: 10, epochs: 1 })).toThrow(/either steps or epochs/);
    expect(() => getNoiseMultiplier({ ...base, steps: 1.5 })).toThrow(/steps must be a positive integer/);
    expect(() => getNoiseMultiplier({ ...base, epochs: 0.001 })).toThrow(/less than one step/);
    expect(() => getNoiseMultiplier({ ...base, targetEpsilon: 0, steps: 10 })).toThrow(/targetEpsilon must be/);
    expect(() => getNoiseMultiplier({ ...base, targetDelta: 1, steps: 10 })).toThrow(/targetDelta must be in/);
    expect(() => getNoiseMultiplier({ ...base, sampleRate: 0, steps: 10 })).toThrow(/sampleRate must be in/);
    expect(() => getNoiseMultiplier({ ...base, steps: 10, accountant: 'prv' as never })).toThrow(/no accountant named 'prv'/);
    expect(() => getNoiseMultiplier({ ...base, steps: 10, epsilonTolerance: -1 })).toThrow(ValueError);
  });
});
