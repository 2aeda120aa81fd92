// Convolution, pooling and the CNN modules on fixed-precision secret shares (2 and 3 parties,
// with a crypto provider), forward and backward, against the same ops in plaintext on random
// shapes, strides and paddings. Values are in [-1, 1] at 3 decimal digits; the tolerance is
// 0.03 + 1% of the value for products summed over a window (each of up to 48 terms carries a
// rounding of at most 0.0005 and the truncation's one unit), 0.002 for pooling (exact but for
// the encoding) and 0.002 + 0.001 per window element for pooling's input gradient (an average
// pool divides each window's gradient by its size, a truncation of up to one unit, and
// overlapping windows add those up).
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { type Case, randArr, randomCase, rng, tensorOf } from '../nn/reference.js';
import { flat, parties } from './helpers.js';

const F = sy.nn.functional;
const close = (got: number[], want: number[], abs: number) => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!), `entry ${i}: ${g} vs ${want[i]}`).toBeLessThan(abs + 0.01 * Math.abs(want[i]!)));
};
const reveal = async (t: sy.Tensor) => flat((await t.get()).floatPrecision());

for (const n of [2, 3]) {
  describe(`${n} parties`, () => {
    const { workers, cryptoProvider } = parties(n, `cnn${n}`);
    const share = (t: sy.Tensor, requiresGrad = false) => t.fixPrecision().share(...workers, { cryptoProvider, requiresGrad });
    const r = rng(10 + n);
    const cases: Case[] = [
      { n: 2, c: 1, h: 12, w: 12, o: 3, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0 },
      { n: 1, c: 2, h: 7, w: 6, o: 2, kh: 3, kw: 2, sh: 2, sw: 3, ph: 1, pw: 1 },
      ...Array.from({ length: 3 }, () => randomCase(r)),
    ];

    test.each(cases.map((k, i) => [i, k] as const))('conv2d case %i: shared x shared, shared x public, public x shared, and gradients', async (_i, k) => {
      const xs = [k.n, k.c, k.h, k.w];
      const wsh = [k.o, k.c, k.kh, k.kw];
      const [x, w, b] = [randArr(r, k.n * k.c * k.h * k.w), randArr(r, k.o * k.c * k.kh * k.kw), randArr(r, k.o)];
      const [tx, tw, tb] = [tensorOf(x, xs, { requiresGrad: true }), tensorOf(w, wsh, { requiresGrad: true }), tensorOf(b, [k.o], { requiresGrad: true })];
      const stride: [number, number] = [k.sh, k.sw];
      const padding: [number, number] = [k.ph, k.pw];
      const y = F.conv2d(tx, tw, tb, stride, padding);
      const want = flat(y);
      const R = randArr(r, want.length);
      y.mul(tensorOf(R, y.shape)).sum().backward();

      const [sx, sw, sb] = [share(tensorOf(x, xs), true), share(tensorOf(w, wsh), true), share(tensorOf(b, [k.o]), true)];
      const sy_ = F.conv2d(sx, sw, sb, stride, padding);
      expect(sy_.shape).toEqual(y.shape);
      sy_.mul(tensorOf(R, y.shape)).sum().backward();
      close(await reveal(sy_), want, 0.03);
      close(await reveal(sx.grad!), flat(tx.grad!), 0.03);
      close(await reveal(sw.grad!), flat(tw.grad!), 0.03);
      close(await reveal(sb.grad!), flat(tb.grad!), 0.03);

      // A public model on shared data, and shared weights on public data.
      close(await reveal(F.conv2d(share(tensorOf(x, xs)), tensorOf(w, wsh).fixPrecision(), tensorOf(b, [k.o]).fixPrecision(), stride, padding)), want, 0.03);
      close(await reveal(F.conv2d(tensorOf(x, xs).fixPrecision(), share(tensorOf(w, wsh)), share(tensorOf(b, [k.o])), stride, padding)), want, 0.03);
    });

    test.each(cases.map((k, i) => [i, k] as const))('maxPool2d and avgPool2d case %i, forward and backward', async (_i, k) => {
      const kernel: [number, number] = [Math.max(k.kh, 1), Math.max(k.kw, 1)];
      const padding: [number, number] = [Math.min(k.ph, kernel[0] >> 1), Math.min(k.pw, kernel[1] >> 1)];
      const stride: [number, number] = [k.sh, k.sw];
      const xs = [k.n, k.c, k.h, k.w];
      const x = randArr(r, k.n * k.c * k.h * k.w);
      for (const pool of [F.maxPool2d, F.avgPool2d]) {
        const tx = tensorOf(x, xs, { requiresGrad: true });
        const y = pool(tx, kernel, stride, padding);
        const R = randArr(r, y.shape.reduce((a, b) => a * b, 1));
        y.mul(tensorOf(R, y.shape)).sum().backward();
        const sx = share(tensorOf(x, xs), true);
        const s = pool(sx, kernel, stride, padding);
        s.mul(tensorOf(R, y.shape)).sum().backward();
        close(await reveal(s), flat(y), 0.002);
        close(await reveal(sx.grad!), flat(tx.grad!), 0.002 + 0.001 * kernel[0] * kernel[1]);
      }
    });

    test('max pooling after ReLU: tied zero windows pass the gradient to one element, as PyTorch', async () => {
      const x = tensorOf(Float64Array.from({ length: 32 }, (_, i) => (i % 5 === 0 ? 0.5 : -0.25)), [1, 2, 4, 4]);
      const plain = x.detach().requiresGrad_();
      const py = F.maxPool2d(plain.relu(), 2);
      py.sum().backward();
      const sx = share(x, true);
      const s = F.maxPool2d(sx.relu(), 2);
      s.sum().backward();
      close(await reveal(s), flat(py), 0.002);
      const g = await reveal(sx.grad!);
      close(g, flat(plain.grad!), 0.002);
      expect(g.reduce((a, b) => a + b, 0)).toBeCloseTo(flat(plain.grad!).reduce((a, b) => a + b, 0), 2);
    });

    test('max pooling backward after the tidy scope of its forward ended: the tournament runs again', async () => {
      const x = tensorOf(randArr(r, 2 * 2 * 4 * 4), [2, 2, 4, 4]);
      const plain = x.detach().requiresGrad_();
      F.maxPool2d(plain.mul(2), 2).sum().backward();
      const sx = share(x, true);
      const y = sy.tidy(() => F.maxPool2d(sx.mul(2), 2));
      y.sum().backward();
      close(await reveal(sx.grad!), flat(plain.grad!), 0.004);
    });

    test('adaptiveAvgPool2d (dividing and not dividing the input) and flatten, with gradients', async () => {
      const x = randArr(r, 2 * 3 * 7 * 6);
      for (const size of [[1, 1], [3, 2], [7, 6]] as [number, number][]) {
        const tx = tensorOf(x, [2, 3, 7, 6], { requiresGrad: true });
        const y = F.adaptiveAvgPool2d(tx, size).flatten(1);
        const R = randArr(r, y.shape.reduce((a, b) => a * b, 1));
        y.mul(tensorOf(R, y.shape)).sum().backward();
        const sx = share(tensorOf(x, [2, 3, 7, 6]), true);
        const s = F.adaptiveAvgPool2d(sx, size).flatten(1);
        expect(s.shape).toEqual(y.shape);
        s.mul(tensorOf(R, y.shape)).sum().backward();
        close(await reveal(s), flat(y), 0.003);
        close(await reveal(sx.grad!), flat(tx.grad!), 0.003);
      }
    });

    test('eval-mode BatchNorm2d on shared data, of a public and of a shared model', async () => {
      sy.manualSeed(5);
      const bn = new sy.nn.BatchNorm2d(3);
      bn.train();
      for (let i = 0; i < 3; i++) bn.forward(sy.randn([4, 3, 5, 5]).mul(2).add(1));
      bn.eval();
      const x = sy.randn([2, 3, 5, 5]);
      const want = flat(bn.forward(x));
      close(await reveal(bn.forward(share(x))), want, 0.01);
      // Shared running statistics: sqrt and the division by approximations (variance in [0.01, 100]).
      bn.fixPrecision().share(...workers, { cryptoProvider });
      close(await reveal(bn.forward(share(x))), want, 0.02);
    });

    // At 4 digits: at 3, a window whose two largest values (or whose maximum and 0, before the
    // ReLU) are within the rounding of each other sends its gradient elsewhere than plaintext does,
    // a few percent of the largest gradient.
    test('a Conv2d/MaxPool2d model shared with fixPrecision().share(): inference and every gradient match plaintext', async () => {
      sy.manualSeed(7);
      const make = () =>
        new sy.nn.Sequential(new sy.nn.Conv2d(1, 4, 3, { padding: 1 }), new sy.nn.ReLU(), new sy.nn.MaxPool2d(2), new sy.nn.Flatten(), new sy.nn.Linear(4 * 4 * 4, 3));
      const plain = make();
      const shared = make();
      shared.loadStateDict(plain.stateDict());
      const x = sy.randn([3, 1, 8, 8]);
      const t = sy.randn([3, 3]);
      const want = flat(plain.forward(x));
      plain.forward(x).sub(t).mul(0.1).pow(2).sum().backward();

      const opts = { precisionFractional: 4 };
      shared.fixPrecision(opts).share(...workers, { cryptoProvider, requiresGrad: true });
      const sx = x.fixPrecision(opts).share(...workers, { cryptoProvider });
      close(await reveal(shared.forward(sx)), want, 0.01);
      shared.forward(sx).sub(t.fixPrecision(opts).share(...workers, { cryptoProvider })).mul(0.1).pow(2).sum().backward();
      const [ps, ss] = [plain.parameters(), shared.parameters()];
      for (let i = 0; i < ps.length; i++) {
        const g = flat(ps[i]!.grad!);
        const top = Math.max(...g.map(Math.abs));
        close(await reveal(ss[i]!.grad!), g, 0.03 * top + 0.001);
      }
    });
  });
}
