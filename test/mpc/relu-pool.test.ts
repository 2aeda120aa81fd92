// Sequential pools before ReLU on shares (src/nn/relu-pool.ts): the same outputs and the same
// gradients as plaintext PyTorch order, for 2 and 3 parties over random kernels, strides and
// paddings, and the ReLU really sees the pooled (smaller) tensor on shares only.
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { flat, parties } from './helpers.js';

/** A ReLU (the class itself: Sequential swaps only exact ReLUs) that records the shape of every input. */
function spyReLU(): sy.nn.ReLU & { seen: number[][] } {
  const relu = Object.assign(new sy.nn.ReLU(), { seen: [] as number[][] });
  const forward = relu.forward.bind(relu);
  relu.forward = (x: sy.Tensor) => {
    relu.seen.push([...x.shape]);
    return forward(x);
  };
  return relu;
}

const cases = [
  { n: 2, kernel: 2, stride: 2, padding: 0, size: 8 },
  { n: 3, kernel: 3, stride: 2, padding: 1, size: 7 },
  { n: 2, kernel: 3, stride: 1, padding: 0, size: 6 },
  { n: 3, kernel: 2, stride: 1, padding: 1, size: 5 },
];

test.each(cases)('conv > ReLU > MaxPool2d($kernel, stride $stride, padding $padding) on $n parties: output and gradients equal plaintext', async ({ n, kernel, stride, padding, size }) => {
  const { workers, cryptoProvider } = parties(n, `relupool-${n}-${kernel}-${stride}-${padding}`);
  sy.manualSeed(5 + kernel + stride);
  const spy = spyReLU();
  const model = new sy.nn.Sequential(new sy.nn.Conv2d(2, 3, 3), spy, new sy.nn.MaxPool2d(kernel, { stride, padding }), new sy.nn.Flatten());
  const twin = model.copy();
  const x = sy.randn([2, 2, size, size]);
  const plainOut = twin.forward(x.clone().requiresGrad_());
  const convOut = [2, 3, size - 2, size - 2];
  plainOut.sum().backward();

  model.fixPrecision().share(...workers, { cryptoProvider, requiresGrad: true });
  spy.seen.length = 0;
  const data = x.fixPrecision().share(...workers, { cryptoProvider });
  const out = model.forward(data);
  // On shares the ReLU sees the pooled tensor, not the convolution's output.
  expect(spy.seen).toHaveLength(1);
  expect(spy.seen[0]).toEqual([2, 3, ...pooled(size - 2, kernel, stride, padding)]);
  expect(spy.seen[0]).not.toEqual(convOut);
  out.sum().backward();
  const got = flat((await out.get()).floatPrecision());
  const want = flat(plainOut.detach());
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 1));
  const [w, b] = model.parameters();
  const [tw, tb] = twin.parameters();
  const gw = flat((await w!.grad!.get()).floatPrecision());
  flat(tw!.grad!).forEach((v, i) => expect(gw[i]).toBeCloseTo(v, 1));
  const gb = flat((await b!.grad!.get()).floatPrecision());
  flat(tb!.grad!).forEach((v, i) => expect(gb[i]).toBeCloseTo(v, 1));
});

function pooled(h: number, k: number, s: number, p: number): [number, number] {
  const o = Math.floor((h + 2 * p - k) / s) + 1;
  return [o, o];
}

test('plaintext Sequential keeps PyTorch order (the ReLU sees the convolution output)', () => {
  const spy = spyReLU();
  const model = new sy.nn.Sequential(new sy.nn.Conv2d(1, 2, 3), spy, new sy.nn.MaxPool2d(2));
  model.forward(sy.randn([1, 1, 8, 8]));
  expect(spy.seen).toEqual([[1, 2, 6, 6]]);
});
