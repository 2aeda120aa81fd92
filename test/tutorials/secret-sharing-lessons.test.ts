import { expect, test } from 'vitest';
import { main as lesson2 } from '../../tutorials/02-additive-secret-sharing.js';
import { main as lesson3 } from '../../tutorials/03-fixed-precision.js';
import { main as lesson4 } from '../../tutorials/04-secret-sharing-and-fixed-precision.js';
import { main as lesson5 } from '../../tutorials/05-federated-learning-encrypted-aggregation.js';

const quiet = () => {};

test('tutorial 02: 5 + 10 by hand modulo Q and with the library', async () => {
  const r = await lesson2(quiet);
  expect(r.byHand).toBe(15n);
  expect(r.library).toEqual([15]);
});

test('tutorial 03: 5.5 + 2.3 on encoded shares, and x·x in fixed precision', async () => {
  const r = await lesson3(quiet);
  expect(r.sum).toBeCloseTo(7.8, 10);
  r.product.forEach((v, i) => expect(v).toBeCloseTo([0.01, 0.04, 0.09][i]!, 6));
});

test('tutorial 04: the lesson x + x on shares, Bob holding one share at the end', async () => {
  const lines: string[] = [];
  const r = await lesson4((s) => lines.push(s));
  expect(r.y.map(Number)).toEqual([2, 4, 6, 8, 10]);
  expect(r.objectsAfterGet).toBe(1);
  r.sum.forEach((v, i) => expect(v).toBeCloseTo([0.2, 0.4, 0.6][i]!, 6));
  expect(lines.join('\n')).toContain('[AdditiveSharingTensor]');
  expect(lines.join('\n')).toContain('(Wrapper)>FixedPrecisionTensor>tensor([100, 200, 300])');
});

test('tutorial 05: losses fall and the revealed average is the mean of the two trained models', async () => {
  const r = await lesson5({ verify: true, log: quiet });
  expect(r.rounds.at(-1)!.bob).toBeLessThan(r.rounds[0]!.bob);
  expect(r.rounds.at(-1)!.alice).toBeLessThan(r.rounds[0]!.alice);
  const c = r.check!;
  c.average.forEach((a, i) => expect(Math.abs(a - (c.bob[i]! + c.alice[i]!) / 2)).toBeLessThan(2e-3));
});
