// Truncation after a product must be unbiased: a unit lost on every product adds up in sums of
// products (convolution gradients, batch gradients). Mean error over many products, 2 and 3 parties.
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { SeededRandom } from '../../src/util/seeded.js';
import { data, flat, parties } from './helpers.js';

test.each([2, 3])('%i parties: the mean error of shared products is far below one unit', async (n) => {
  const { workers, cryptoProvider } = parties(n, `bias${n}`);
  const a = data(new SeededRandom(n), [4000], -2, 2);
  const b = data(new SeededRandom(n + 10), [4000], -2, 2);
  const bs = flat(b.fixPrecision().floatPrecision());
  const want = flat(a.fixPrecision().floatPrecision()).map((v, i) => v * bs[i]!);
  const got = flat((await a.fixPrecision().share(...workers, { cryptoProvider }).mul(b.fixPrecision().share(...workers, { cryptoProvider })).get()).floatPrecision());
  const errs = got.map((g, i) => g - want[i]!);
  const mean = errs.reduce((s, e) => s + e, 0) / errs.length;
  // One unit is 0.001; each error is within one unit and their mean within a tenth of it.
  expect(Math.max(...errs.map(Math.abs))).toBeLessThanOrEqual(0.0011);
  expect(Math.abs(mean)).toBeLessThan(0.0001);
});
