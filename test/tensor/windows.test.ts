// The windowed ops on every kind of tensor. Float tensors run kernels; integers, fixed precision
// and secret shares run the composites of src/layer/composites.ts (im2col, linear maps and one
// matmul). Each composite is checked against the float kernel: exactly on integers, within the
// fixed-point rounding on fixed precision, and on shares among 2 and 3 parties.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { RingTensor } from '../../src/ring/index.js';
import { parties } from '../mpc/helpers.js';
import { maxRelErr, randArr, rng, tensorOf, values } from '../nn/reference.js';

const F = sy.nn.functional;
const ints = (r: ReturnType<typeof rng>, shape: number[], lo = -4, hi = 4) =>
  Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(r.uniform(lo, hi + 1)));
const ring = (a: Float64Array, shape: number[]) => new sy.Tensor(RingTensor.from(shape, Array.from(a, (v) => BigInt(v))));
const ringValues = (t: sy.Tensor) => Float64Array.from(([t.arraySync()].flat(Infinity as 1) as bigint[]).map(Number));

describe('ring integers: composites equal the float kernels exactly', () => {
  const r = rng(31);
  test.each([
    [[2, 2, 6, 5], [3, 2, 3, 2], [1, 2], [1, 0]],
    [[1, 3, 7, 7], [2, 3, 3, 3], [2, 2], [1, 1]],
    [[3, 1, 5, 4], [1, 1, 2, 2], [1, 1], [0, 0]],
  ] as const)('conv2d of %j by %j, its input and weight gradients, im2col and col2im', (xs, ws, stride, padding) => {
    const x = ints(r, [...xs]);
    const w = ints(r, [...ws]);
    const b = ints(r, [ws[0]]);
    const yf = F.conv2d(tensorOf(x, [...xs]), tensorOf(w, [...ws]), tensorOf(b, [ws[0]]), stride, padding);
    const yr = F.conv2d(ring(x, [...xs]), ring(w, [...ws]), ring(b, [ws[0]]), stride, padding);
    expect(ringValues(yr)).toEqual(values(yf));
    // the gradients' ops: convTranspose2d and conv2dWeight on the output's shape
    const g = ints(r, yf.shape);
    const extra = [0, 1].map((i) => (xs[i + 2]! + 2 * padding[i]! - ws[i + 2]!) % stride[i]!) as [number, number];
    const dxf = new sy.Tensor(tensorOf(g, yf.shape).child.convTranspose2d(tensorOf(w, [...ws]).child, undefined, stride, padding, extra));
    const dxr = new sy.Tensor(ring(g, yf.shape).child.convTranspose2d(ring(w, [...ws]).child, undefined, stride, padding, extra));
    expect(dxf.shape).toEqual([...xs]);
    expect(ringValues(dxr)).toEqual(values(dxf));
    const kernel = [ws[2], ws[3]] as [number, number];
    const dwf = new sy.Tensor(tensorOf(x, [...xs]).child.conv2dWeight(tensorOf(g, yf.shape).child, kernel, stride, padding));
    const dwr = new sy.Tensor(ring(x, [...xs]).child.conv2dWeight(ring(g, yf.shape).child, kernel, stride, padding));
    expect(dwf.shape).toEqual([...ws]);
    expect(ringValues(dwr)).toEqual(values(dwf));
    const cols = F.unfold(ring(x, [...xs]), kernel, 1, padding, stride);
    expect(ringValues(cols)).toEqual(values(F.unfold(tensorOf(x, [...xs]), kernel, 1, padding, stride)));
    const folded = F.fold(ring(ringValues(cols), cols.shape), [xs[2], xs[3]], kernel, 1, padding, stride);
    expect(ringValues(folded)).toEqual(values(F.fold(tensorOf(ringValues(cols), cols.shape), [xs[2], xs[3]], kernel, 1, padding, stride)));
  });

  test('max pooling (padding too), max, argmax, gather and scatterAdd on ring tensors', () => {
    const x = ints(r, [2, 2, 5, 5], -9, 9);
    for (const [k, s, p] of [[2, 2, 0], [3, 2, 1], [2, 1, 1]] as const) {
      expect(ringValues(F.maxPool2d(ring(x, [2, 2, 5, 5]), k, s, p))).toEqual(values(F.maxPool2d(tensorOf(x, [2, 2, 5, 5]), k, s, p)));
    }
    const t = RingTensor.from([2, 3], [4n, -1n, 4n, -7n, 2n, 9n]);
    expect(t.max(1).toNested()).toEqual([4n, 9n]);
    expect(t.argmax(1).toNested()).toEqual([0n, 2n]); // the first of tied maxima
    expect(t.argmax().toNested()).toEqual(5n);
    expect(t.gather(1, RingTensor.from([2, 2], [2n, 0n, 1n, 1n])).toNested()).toEqual([[4n, 4n], [2n, 2n]]);
    expect(t.scatterAdd(1, RingTensor.from([2, 1], [1n, 0n]), RingTensor.from([2, 1], [10n, 20n])).toNested()).toEqual([[4n, 9n, 4n], [13n, 2n, 9n]]);
    expect(() => t.gather(1, RingTensor.from([2, 1], [3n, 0n]))).toThrow(/out of range/);
  });
});

describe('fixed precision: composites within the fixed-point rounding of the float kernels', () => {
  const r = rng(32);
  test('conv2d, pooling, linear', () => {
    const x = randArr(r, 2 * 2 * 6 * 6, -2, 2);
    const w = randArr(r, 3 * 2 * 3 * 3);
    const b = randArr(r, 3);
    const [tx, tw, tb] = [tensorOf(x, [2, 2, 6, 6]), tensorOf(w, [3, 2, 3, 3]), tensorOf(b, [3])];
    const fp = (t: sy.Tensor) => t.fixPrecision();
    const back = (t: sy.Tensor) => values(t.floatPrecision());
    expect(maxRelErr(back(F.conv2d(fp(tx), fp(tw), fp(tb), 1, 1)), values(F.conv2d(tx, tw, tb, 1, 1)))).toBeLessThan(2e-2);
    expect(maxRelErr(back(F.maxPool2d(fp(tx), 3, 2, 1)), values(F.maxPool2d(tx, 3, 2, 1)))).toBeLessThan(1e-3);
    expect(maxRelErr(back(F.avgPool2d(fp(tx), 2)), values(F.avgPool2d(tx, 2)))).toBeLessThan(2e-3);
    const lw = tensorOf(randArr(r, 4 * 6), [4, 6]);
    const lx = tensorOf(randArr(r, 3 * 6), [3, 6]);
    expect(maxRelErr(back(F.linear(fp(lx), fp(lw))), values(F.linear(lx, lw)))).toBeLessThan(1e-2);
  });
});

describe.each([2, 3])('secret-shared among %i parties', (n) => {
  test('conv2d with a shared or a public weight, average and max pooling, im2col/col2im, gather', async () => {
    const { workers, cryptoProvider } = parties(n, `win-${n}`);
    const r = rng(40 + n);
    const x = randArr(r, 2 * 2 * 5 * 5, -2, 2);
    const w = randArr(r, 2 * 2 * 3 * 3);
    const b = randArr(r, 2);
    const [tx, tw, tb] = [tensorOf(x, [2, 2, 5, 5]), tensorOf(w, [2, 2, 3, 3]), tensorOf(b, [2])];
    const share = (t: sy.Tensor) => t.fixPrecision().share(...workers, { cryptoProvider });
    const open = async (t: sy.Tensor) => values((await t.get()).floatPrecision());
    const want = values(F.conv2d(tx, tw, tb, 2, 1));
    expect(maxRelErr(await open(F.conv2d(share(tx), share(tw), share(tb), 2, 1)), want)).toBeLessThan(2e-2);
    expect(maxRelErr(await open(F.conv2d(share(tx), tw.fixPrecision(), tb.fixPrecision(), 2, 1)), want)).toBeLessThan(2e-2);
    expect(maxRelErr(await open(F.avgPool2d(share(tx), 2, 1)), values(F.avgPool2d(tx, 2, 1)))).toBeLessThan(2e-3);
    expect(maxRelErr(await open(F.maxPool2d(share(tx), 2)), values(F.maxPool2d(tx, 2)))).toBeLessThan(1e-3);
    const cols = F.unfold(share(tx), 3, 1, 1, 2);
    expect(maxRelErr(await open(F.fold(cols, 5, 3, 1, 1, 2)), values(F.fold(F.unfold(tx, 3, 1, 1, 2), 5, 3, 1, 1, 2)))).toBeLessThan(5e-3); // sums of up to 4 rounded values
    const logits = tensorOf(randArr(r, 3 * 4), [3, 4]);
    const labels = sy.tensor([3, 0, 2], { dtype: 'int64' });
    const picked = share(logits).gather(1, labels.reshape([3, 1]));
    expect(maxRelErr(await open(picked), values(logits.gather(1, labels.reshape([3, 1]))))).toBeLessThan(1e-3);
  });

  test('autograd through a shared convolution: the weight gradient matches plaintext', async () => {
    const { workers, cryptoProvider } = parties(n, `win-grad-${n}`);
    const r = rng(50 + n);
    const x = randArr(r, 1 * 1 * 5 * 5, -1, 1);
    const w = randArr(r, 2 * 1 * 3 * 3);
    const tw = tensorOf(w, [2, 1, 3, 3], { requiresGrad: true });
    F.conv2d(tensorOf(x, [1, 1, 5, 5]), tw).sum().backward();
    const sw = tensorOf(w, [2, 1, 3, 3]).fixPrecision().share(...workers, { cryptoProvider, requiresGrad: true });
    const sx = tensorOf(x, [1, 1, 5, 5]).fixPrecision().share(...workers, { cryptoProvider });
    F.conv2d(sx, sw).sum().backward();
    const g = values((await sw.grad!.get()).floatPrecision());
    expect(maxRelErr(g, values(tw.grad!))).toBeLessThan(2e-2);
  });
});
