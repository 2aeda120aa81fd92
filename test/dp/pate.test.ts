// PATE analysis against PySyft 0.2. The expected figures were printed by running PySyft v0.2.9's
// syft/frameworks/torch/dp/pate.py perform_analysis (its NumPy version; torch stubbed out) on the
// inputs built here; the first case is the one in PySyft's test/torch/differential_privacy/
// test_pate.py.
import { describe, expect, test } from 'vitest';
import { ValueError } from '../../src/errors.js';
import { pate } from '../../src/dp/index.js';

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

/** A small deterministic generator, to fill the parts of the inputs the figures must not depend on. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** PySyft's test example: 100 teachers, 50 examples, labels 0..9, the first 10 examples unanimous for 0. */
function pysyftExample(seed: number): { teacherPreds: number[][]; indices: number[] } {
  const rand = lcg(seed);
  const teacherPreds = Array.from({ length: 100 }, () => Array.from({ length: 50 }, (_, i) => (i < 10 ? 0 : Math.floor(rand() * 10))));
  teacherPreds[0]![10] = 9; // so that label 9 occurs whatever the seed (PySyft counts 10 labels)
  const indices = Array.from({ length: 50 }, () => Math.floor(rand() * 10));
  return { teacherPreds, indices };
}

/** Case B: 250 teachers, 40 examples, agreement varying from 100 to 239 votes. */
function caseB(): number[][] {
  return Array.from({ length: 250 }, (_, j) =>
    Array.from({ length: 40 }, (_, i) => (j < 100 + ((i * 37) % 140) ? i % 10 : (i * 7 + j * 3 + ((i * j) % 11)) % 10)),
  );
}

describe('pate.performAnalysis', () => {
  test("PySyft's test example: 1.4828339080100443 and 7.837641821656743", () => {
    // PySyft's indices are random labels 0..9, used as example indices: they pick the unanimous
    // examples 0..9, so the figures do not depend on the random votes elsewhere (two fillings).
    for (const seed of [1, 2]) {
      const r = pate.performAnalysis({ ...pysyftExample(seed), noiseEps: 0.1, delta: 1e-5 });
      expect(rel(r.dataDependentEps, 1.4828339080100443)).toBeLessThan(1e-12);
      expect(rel(r.dataIndependentEps, 7.837641821656743)).toBeLessThan(1e-12);
      expect(r.dataDependentEps).toBeLessThan(r.dataIndependentEps); // what PySyft's test asserts
      expect(r.bestMoment).toBe(8); // PySyft warns: may not have used enough values of l
    }
  });

  test('varying agreement (case B), with other noise, delta, moments and index order (case C)', () => {
    const teacherPreds = caseB();
    const b = pate.performAnalysis({ teacherPreds, indices: Array.from({ length: 40 }, (_, i) => i), noiseEps: 0.1 });
    expect(rel(b.dataDependentEps, 1.4427312302221362)).toBeLessThan(1e-12);
    expect(rel(b.dataIndependentEps, 6.878231366242558)).toBeLessThan(1e-12);
    const c = pate.performAnalysis({
      teacherPreds,
      indices: Array.from({ length: 40 }, (_, i) => (i * 3) % 40),
      noiseEps: 0.05,
      delta: 1e-6,
      moments: 16,
    });
    expect(rel(c.dataDependentEps, 1.1107120123075116)).toBeLessThan(1e-12);
    expect(rel(c.dataIndependentEps, 3.526938819745535)).toBeLessThan(1e-12);
  });

  test('weak consensus, where the moment bound falls back to eps l (case D)', () => {
    const teacherPreds = Array.from({ length: 20 }, (_, j) => Array.from({ length: 25 }, (_, i) => (i + j * j + ((j * i) % 3)) % 4));
    const d = pate.performAnalysis({ teacherPreds, indices: Array.from({ length: 25 }, (_, i) => i), noiseEps: 0.5 });
    expect(rel(d.dataDependentEps, 26.43911568312128)).toBeLessThan(1e-12);
    expect(rel(d.dataIndependentEps, 26.43911568312128)).toBeLessThan(1e-12);
  });

  test('the parts: q of the noisy max and the log-moment bound', () => {
    const counts = [120, 30, 50, 0, 0, 0, 0, 0, 0, 0];
    expect(rel(pate.computeQNoisyMax(counts, 0.1), 0.0025416445863925717)).toBeLessThan(1e-13);
    // [l, logmgf_exact(0.01, 0.2, l), logmgf_exact(0.3, 0.2, l), logmgf_exact(0.6, 0.2, l), logmgf_from_counts(counts, 0.1, l)]
    const rows = [
      [1, 0.004423220813376857, 0.04000000000000001, 0.04000000000000001, 0.001125138685301097],
      [3, 0.014783277339790606, 0.24000000000000005, 0.24000000000000005, 0.0037724969450017667],
      [8, 0.055833996586601514, 1.1118563134379051, 1.4400000000000004, 0.014455485046559205],
    ];
    for (const [l, a, b, c, d] of rows) {
      expect(rel(pate.logmgfExact(0.01, 0.2, l!), a!)).toBeLessThan(1e-13);
      expect(rel(pate.logmgfExact(0.3, 0.2, l!), b!)).toBeLessThan(1e-13);
      expect(rel(pate.logmgfExact(0.6, 0.2, l!), c!)).toBeLessThan(1e-13);
      expect(rel(pate.logmgfFromCounts(counts, 0.1, l!), d!)).toBeLessThan(1e-13);
    }
    // a unanimous vote among 2 labels caps q at 1 - 1/2
    expect(pate.computeQNoisyMax([0, 0], 0.1)).toBe(0.5);
  });

  test('bad input gets a ValueError', () => {
    const { teacherPreds, indices } = pysyftExample(3);
    const ok = { teacherPreds, indices, noiseEps: 0.1 };
    expect(() => pate.performAnalysis({ ...ok, teacherPreds: [] })).toThrow(/non-empty array/);
    expect(() => pate.performAnalysis({ ...ok, teacherPreds: [[0, 1], [0]] })).toThrow(/row 1 has 1 entries/);
    expect(() => pate.performAnalysis({ ...ok, teacherPreds: [[0, 1.5]], indices: [0] })).toThrow(/not a label/);
    expect(() => pate.performAnalysis({ ...ok, indices: [50] })).toThrow(/indices\[0\] = 50/);
    expect(() => pate.performAnalysis({ ...ok, noiseEps: 0 })).toThrow(/noiseEps must be/);
    expect(() => pate.performAnalysis({ ...ok, delta: 2 })).toThrow(/delta must be in/);
    expect(() => pate.performAnalysis({ ...ok, moments: 0 })).toThrow(/moments must be/);
    expect(() => pate.performAnalysis({ ...ok, numLabels: 5 })).toThrow(ValueError);
  });
});
