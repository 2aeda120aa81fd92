// exp, reciprocal and log by approximations (src/tensors/approximations.ts) on secret shares,
// checked over the whole range each claims, and softmax, log-softmax, nllLoss and crossEntropy
// on shares (forward and gradient) against plaintext, for 2 and 3 parties.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { EXP_CEIL, EXP_FLOOR, POSITIVE_RANGE, logApprox, reciprocalApprox } from '../../src/tensors/approximations.js';
import { SeededRandom } from '../../src/util/seeded.js';
import { data, flat, parties } from './helpers.js';

const grid = (lo: number, hi: number, n = 801) => Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
const reveal = async (t: sy.Tensor) => flat((await t.get()).floatPrecision());
const worst = (got: number[], want: number[], rel = false) =>
  Math.max(...got.map((g, i) => Math.abs(g - want[i]!) / (rel ? Math.abs(want[i]!) : 1)));

for (const n of [2, 3]) {
  describe(`${n} parties`, () => {
    const { workers, cryptoProvider } = parties(n, `approx${n}`);
    const share = (v: Float32Array | sy.Tensor, precisionFractional = 3, requiresGrad = false) =>
      (v instanceof sy.Tensor ? v : sy.tensor(v)).fixPrecision({ precisionFractional }).share(...workers, { cryptoProvider, requiresGrad });

    test('exp: within 1.5e-3 on [-64, 0] and 2.5e-3 relative on [0, 6] at 3 digits; clamped outside', async () => {
      const neg = grid(EXP_FLOOR, 0);
      expect(worst(await reveal(share(neg).exp()), Array.from(neg, Math.exp))).toBeLessThan(1.5e-3);
      const pos = grid(0, EXP_CEIL);
      expect(worst(await reveal(share(pos).exp()), Array.from(pos, Math.exp), true)).toBeLessThan(2.5e-3);
      // The documented clamp: exp(-64) ~ 0 below, exp(6) above.
      const out = Float32Array.from([-1000, -200, -65, 7, 50, 500]);
      const got = await reveal(share(out).exp());
      got.slice(0, 3).forEach((g) => expect(Math.abs(g)).toBeLessThan(1e-3));
      got.slice(3).forEach((g) => expect(Math.abs(g - Math.exp(6)) / Math.exp(6)).toBeLessThan(2.5e-3));
    });

    test('reciprocal within 2e-4 relative and log within 2e-3 over [0.9, 11] at 5 digits', async () => {
      const v = grid(0.9, 11);
      const x = share(v, 5);
      const r = await reveal(new sy.Tensor(reciprocalApprox(x.child, 0.9, 11)));
      expect(worst(r, Array.from(v, (a) => 1 / a), true)).toBeLessThan(2e-4);
      const l = await reveal(new sy.Tensor(logApprox(x.child, 0.9, 11)));
      expect(worst(l, Array.from(v, Math.log))).toBeLessThan(2e-3);
    });

    test.each([3, 4])('sqrt and division by a shared tensor over [0.01, 100], log-spaced, at %i digits', async (digits) => {
      const [lo, hi] = POSITIVE_RANGE;
      // Against the values the shares hold (at 3 digits 0.01 is 10 units: the encoding's own error is not the approximation's).
      const encode = (v: Float32Array) => Float32Array.from(flat(sy.tensor(v).fixPrecision({ precisionFractional: digits }).floatPrecision()));
      const v = encode(Float32Array.from({ length: 401 }, (_, i) => lo * (hi / lo) ** (i / 400)));
      const unit = 10 ** -digits;
      const got = await reveal(share(v, digits).sqrt());
      // Within 2e-3 relative, or one unit.
      got.forEach((g, i) => expect(Math.abs(g - Math.sqrt(v[i]!)), `entry ${i}`).toBeLessThan(2e-3 * Math.sqrt(v[i]!) + unit));
      const a = encode(Float32Array.from(v, (_, i) => Math.sin(i) * 0.9));
      const q = await reveal(share(a, digits).div(share(v, digits)));
      q.forEach((g, i) => expect(Math.abs(g - a[i]! / v[i]!), `entry ${i}`).toBeLessThan(3e-3 * Math.abs(a[i]! / v[i]!) + 2 * unit));
    });

    test('softmax and logSoftmax within 2e-3 (3e-3 for log) of plaintext, from small logits to a spread of 1000', async () => {
      const rng = new SeededRandom(n);
      for (const scale of [1, 8, 40, 500]) {
        const x = data(rng, [16, 10], -scale, scale);
        expect(worst(await reveal(share(x).softmax(1)), flat(x.softmax(1)))).toBeLessThan(2e-3);
        const lp = flat(x.logSoftmax(1));
        const got = await reveal(share(x).logSoftmax(1));
        // Log-probabilities below the clamp (-64) are not claimed; the rest within 3e-3.
        got.forEach((g, i) => { if (lp[i]! > EXP_FLOOR + 3) expect(Math.abs(g - lp[i]!), `entry ${i}`).toBeLessThan(3e-3); });
      }
      // Along dim 0 too.
      const x = data(rng, [6, 4], -3, 3);
      expect(worst(await reveal(share(x).softmax(0)), flat(x.softmax(0)))).toBeLessThan(2e-3);
    });

    test('crossEntropy and nllLoss on shared logits: the loss and the logits gradient match plaintext', async () => {
      const rng = new SeededRandom(20 + n);
      const x = data(rng, [8, 10], -4, 4);
      const labels = sy.tensor(Array.from({ length: 8 }, (_, i) => (i * 7) % 10), { dtype: 'int64' });
      const plain = sy.tensor(flat(x), { shape: [8, 10], requiresGrad: true });
      const loss = sy.nn.functional.crossEntropy(plain, labels);
      loss.backward();
      const sx = share(x, 3, true);
      const sloss = sy.nn.functional.crossEntropy(sx, labels);
      sloss.backward();
      expect(Math.abs((await reveal(sloss))[0]! - loss.item())).toBeLessThan(5e-3);
      // (softmax - onehot) / 8, through exp of the log-probabilities, a product and the mean's
      // division, each rounding at 3 digits: within three units of the last digit.
      expect(worst(await reveal(sx.grad!), flat(plain.grad!))).toBeLessThan(3e-3);

      const sx2 = share(x, 3, true);
      const nll = sy.nn.functional.nllLoss(sx2.logSoftmax(1), labels, { reduction: 'sum' });
      const want = sy.nn.functional.nllLoss(x.logSoftmax(1), labels, { reduction: 'sum' }).item();
      expect(Math.abs((await reveal(nll))[0]! - want)).toBeLessThan(8 * 3e-3);
    });
  });
}
