// By default the noise draws its bytes from the project's CSPRNG (ring/random.ts fillRandom, which
// is node:crypto randomFillSync or crypto.getRandomValues), and never from Math.random.
import { afterEach, describe, expect, test, vi } from 'vitest';

const fills = vi.hoisted(() => ({ calls: 0, bytes: 0 }));

vi.mock('../../src/ring/random.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/ring/random.js')>();
  return {
    ...real,
    fillRandom: (bytes: Uint8Array) => {
      fills.calls++;
      fills.bytes += bytes.length;
      real.fillRandom(bytes);
    },
  };
});

// test/setup.ts imported the library before the mock existed: load the dp modules afresh.
vi.resetModules();
const { discreteGaussianNoise, gaussianNoise } = await import('../../src/dp/index.js');

afterEach(() => vi.restoreAllMocks());

describe('noise randomness', () => {
  test('comes from the project CSPRNG, not Math.random', () => {
    const mathRandom = vi.spyOn(Math, 'random');
    fills.calls = 0;
    fills.bytes = 0;
    const a = gaussianNoise({ std: 1, count: 50_000 });
    expect(fills.calls).toBeGreaterThan(0);
    expect(fills.bytes).toBeGreaterThanOrEqual(50_000 * 8); // at least two words a sample
    const before = fills.calls;
    const b = discreteGaussianNoise({ std: 1, scale: 1000, count: 10 });
    expect(fills.calls).toBe(before + 1);
    expect(b).toHaveLength(10);
    expect(mathRandom).not.toHaveBeenCalled();
    // two draws of fresh CSPRNG noise differ
    expect(gaussianNoise({ std: 1, count: 1000 })).not.toEqual(a.subarray(0, 1000));
  });
});
