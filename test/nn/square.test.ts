// sy.nn.Square, the CryptoNets activation: x^2 and its gradient 2x, in plaintext and on shares.
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { flat, parties } from '../mpc/helpers.js';

test('Square squares, passes 2x·g back, and prints like a PyTorch module', () => {
  const x = sy.tensor([-2, 0.5, 3], { requiresGrad: true });
  const sq = new sy.nn.Square();
  const y = sq.forward(x);
  expect(flat(y)).toEqual([4, 0.25, 9]);
  y.mul(sy.tensor([1, 2, -1])).sum().backward();
  expect(flat(x.grad!)).toEqual([-4, 2, -6]);
  expect(String(new sy.nn.Sequential(new sy.nn.Linear(2, 2), sq))).toContain('(1): Square()');
});

test('Square on shares in a model: forward and gradients match plaintext, no comparison needed', async () => {
  const { workers, cryptoProvider } = parties(2, 'square');
  sy.manualSeed(3);
  const make = () => new sy.nn.Sequential(new sy.nn.Linear(4, 3), new sy.nn.Square(), new sy.nn.Linear(3, 2));
  const plain = make();
  const shared = make();
  shared.loadStateDict(plain.stateDict());
  const x = sy.randn([5, 4]);
  const want = flat(plain.forward(x));
  plain.forward(x).sum().backward();
  shared.fixPrecision().share(...workers, { cryptoProvider, requiresGrad: true });
  const sx = x.fixPrecision().share(...workers, { cryptoProvider });
  const got = flat((await shared.forward(sx).get()).floatPrecision());
  got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThan(0.02 + 0.01 * Math.abs(want[i]!)));
  shared.forward(sx).sum().backward();
  const [ps, ss] = [plain.parameters(), shared.parameters()];
  for (let i = 0; i < ps.length; i++) {
    const g = flat((await ss[i]!.grad!.get()).floatPrecision());
    flat(ps[i]!.grad!).forEach((w, j) => expect(Math.abs(g[j]! - w)).toBeLessThan(0.05 + 0.01 * Math.abs(w)));
  }
});
