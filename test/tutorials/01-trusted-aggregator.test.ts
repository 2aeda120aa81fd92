import { expect, test } from 'vitest';
import { main } from '../../tutorials/01-trusted-aggregator.js';

test('tutorial 01: both losses fall, and the average is the mean of the two trained models', async () => {
  const lines: string[] = [];
  const r = await main({ log: (s) => lines.push(s) });
  expect(r.rounds).toHaveLength(10);
  expect(lines.filter((l) => /^round +\d+\/10  bobLoss \d\.\d{3}  aliceLoss \d\.\d{3}  \d+\.\ds$/.test(l))).toHaveLength(10);
  // move() is lazy: the count is printed once the secure worker has both models (weight and bias each)
  expect(lines.find((l) => l.startsWith('secure_worker holds'))).toMatch(/^secure_worker holds 4 objects/);
  const first = r.rounds[0]!;
  const last = r.rounds[9]!;
  expect(last.bob).toBeLessThan(first.bob);
  expect(last.alice).toBeLessThan(first.alice);
  expect(last.bob + last.alice).toBeLessThan(0.05);
  r.last.averageWeight.forEach((w, i) => expect(w).toBeCloseTo((r.last.bobWeight[i]! + r.last.aliceWeight[i]!) / 2, 6));
  r.last.averageBias.forEach((b, i) => expect(b).toBeCloseTo((r.last.bobBias[i]! + r.last.aliceBias[i]!) / 2, 6));
  expect(r.last.bobWeight).not.toEqual(r.last.aliceWeight);
});
