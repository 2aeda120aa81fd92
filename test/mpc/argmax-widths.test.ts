// argmax on shares at the edges of the pairwise protocol: width 2 (an AND tree with no level),
// width 1 (no pair at all), and the whole tensor (dim undefined).
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
test('argmax width 2 and 1', async () => {
  const [a, b, d] = ['k2a', 'k2b', 'k2d'].map((id) => new sy.VirtualWorker({ id }));
  const t = sy.tensor([[1, 2], [3, -1], [5, 5], [-2, -3]]);
  const s = t.fixPrecision().share(a!, b!, { cryptoProvider: d! });
  expect((await s.argmax(1).get()).floatPrecision().arraySync()).toEqual([1, 0, 0, 0]);
  const one = sy.tensor([[1], [2]]).fixPrecision().share(a!, b!, { cryptoProvider: d! });
  expect((await one.argmax(1).get()).floatPrecision().arraySync()).toEqual([0, 0]);
  expect((await s.argmax().get()).floatPrecision().arraySync()).toEqual(t.argmax().arraySync());
});
