// Every layer's forward pass against a plain float64 reference (test/nn/reference.ts) and its
// backward pass against central finite differences of that reference, on random shapes, strides
// and paddings. Losses are sum(out * R) for a random R, so every output element's gradient counts.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import {
  type Arr,
  type Case,
  conv2dRef,
  finiteDiff,
  im2colRef,
  maxRelErr,
  pool2dRef,
  randArr,
  randomCase,
  rng,
  softmaxRef,
  tensorOf,
  values,
} from './reference.js';

const F = sy.nn.functional;

/** Backward of sum(out * R) through syft-ts, for each input that requires grad. */
function grads(out: sy.Tensor, weights: Arr, inputs: sy.Tensor[]): Float64Array[] {
  out.mul(tensorOf(weights, out.shape)).sum().backward();
  return inputs.map((t) => values(t.grad!));
}

describe('conv2d', () => {
  const r = rng(1);
  const cases: Case[] = [
    { n: 2, c: 1, h: 16, w: 16, o: 4, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0 }, // PySyft's Part 6 first layer, smaller
    { n: 1, c: 3, h: 7, w: 6, o: 2, kh: 3, kw: 2, sh: 2, sw: 3, ph: 1, pw: 1 },
    { n: 2, c: 3, h: 8, w: 7, o: 2, kh: 3, kw: 2, sh: 1, sw: 1, ph: 1, pw: 0 }, // weight gradient by convolution
    ...Array.from({ length: 6 }, () => randomCase(r)),
  ];
  test.each(cases.map((k, i) => [i, k] as const))('case %i: forward = reference, gradients = finite differences', (_i, k) => {
    const x = randArr(r, k.n * k.c * k.h * k.w);
    const w = randArr(r, k.o * k.c * k.kh * k.kw);
    const b = randArr(r, k.o);
    const ref = conv2dRef(x, w, b, k);
    const tx = tensorOf(x, [k.n, k.c, k.h, k.w], { requiresGrad: true });
    const tw = tensorOf(w, [k.o, k.c, k.kh, k.kw], { requiresGrad: true });
    const tb = tensorOf(b, [k.o], { requiresGrad: true });
    const y = F.conv2d(tx, tw, tb, [k.sh, k.sw], [k.ph, k.pw]);
    expect(y.shape).toEqual([k.n, k.o, ref.oh, ref.ow]);
    expect(maxRelErr(values(y), ref.out)).toBeLessThan(1e-5);
    const R = randArr(r, ref.out.length);
    const [gx, gw, gb] = grads(y, R, [tx, tw, tb]);
    const [fx, fw, fb] = finiteDiff(([xx, ww, bb]) => conv2dRef(xx!, ww!, bb!, k).out, [x, w, b], R);
    expect(maxRelErr(gx!, fx!)).toBeLessThan(1e-4);
    expect(maxRelErr(gw!, fw!)).toBeLessThan(1e-4);
    expect(maxRelErr(gb!, fb!)).toBeLessThan(1e-4);
  });

  test("Part 6's layers start as PyTorch's: weight and bias uniform in +-1/sqrt(fanIn) (kaiming_uniform, a = sqrt(5))", () => {
    // fanIn = inChannels * kh * kw for a convolution, inFeatures for a linear layer. A uniform
    // draw in +-b has mean 0 and variance b^2 / 3, and its extremes come close to +-b.
    sy.manualSeed(11);
    const layers: [string, { weight: sy.Tensor; bias: sy.Tensor | undefined }, number][] = [
      ['Conv2d(1, 20, 5)', new sy.nn.Conv2d(1, 20, 5), 25],
      ['Conv2d(20, 50, 5)', new sy.nn.Conv2d(20, 50, 5), 500],
      ['Linear(800, 500)', new sy.nn.Linear(800, 500), 800],
      ['Linear(500, 10)', new sy.nn.Linear(500, 10), 500],
    ];
    for (const [name, layer, fanIn] of layers) {
      const bound = 1 / Math.sqrt(fanIn);
      for (const [what, p] of [['weight', layer.weight], ['bias', layer.bias!]] as const) {
        const v = values(p);
        const mean = v.reduce((a, x) => a + x, 0) / v.length;
        const variance = v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length;
        const top = v.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
        const [lo, hi] = v.reduce(([a, b], x) => [Math.min(a, x), Math.max(b, x)], [Infinity, -Infinity]);
        const q = v.length >= 50 ? 0.9 : 0.5; // both ends reached: both signs, the full width
        expect(top, `${name} ${what}`).toBeLessThanOrEqual(bound);
        expect(hi, `${name} ${what}`).toBeGreaterThan(q * bound);
        expect(lo, `${name} ${what}`).toBeLessThan(-q * bound);
        // Four standard errors: of the mean (b / sqrt(3n)) and of the variance (0.9 / sqrt(n) relative).
        expect(Math.abs(mean) / bound, `${name} ${what}`).toBeLessThan(4 / Math.sqrt(3 * v.length));
        expect(Math.abs(variance / ((bound * bound) / 3) - 1), `${name} ${what}`).toBeLessThan(3.6 / Math.sqrt(v.length));
      }
    }
  });

  test('without bias, and the Conv2d module initialises and prints like PyTorch', () => {
    sy.manualSeed(4);
    const conv = new sy.nn.Conv2d(2, 3, 3, { padding: 1, bias: false });
    expect(conv.bias).toBeUndefined();
    expect(conv.weight.shape).toEqual([3, 2, 3, 3]);
    expect(values(conv.weight).every((v) => Math.abs(v) <= 1 / Math.sqrt(18))).toBe(true);
    expect(conv.toString()).toBe('Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)');
    expect(new sy.nn.Conv2d(1, 20, 5).toString()).toBe('Conv2d(1, 20, kernel_size=(5, 5), stride=(1, 1))');
    const k: Case = { n: 1, c: 2, h: 4, w: 5, o: 3, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 };
    const x = randArr(rng(2), 40);
    const y = conv.forward(tensorOf(x, [1, 2, 4, 5]));
    expect(maxRelErr(values(y), conv2dRef(x, values(conv.weight), undefined, k).out)).toBeLessThan(1e-5);
    expect(new sy.nn.Conv2d(2, 3, 3, { padding: 'same' }).forward(tensorOf(x, [1, 2, 4, 5])).shape).toEqual([1, 3, 4, 5]);
  });

  test('bad shapes and arguments are refused with errors that say what fits', () => {
    const x = sy.zeros([1, 2, 5, 5]);
    expect(() => F.conv2d(x, sy.zeros([3, 4, 3, 3]))).toThrow(/must be \[outChannels, 2, kh, kw\]/);
    expect(() => F.conv2d(x, sy.zeros([3, 2, 7, 7]))).toThrow(/does not fit a 5x5 input/);
    expect(() => F.conv2d(x, sy.zeros([3, 2, 3, 3]), sy.zeros([2]))).toThrow(/bias \[2\] must be \[3\]/);
    expect(() => F.conv2d(x, sy.zeros([3, 2, 3, 3]), null, 0)).toThrow(sy.ValueError);
    expect(() => F.conv2d(sy.zeros([2, 5, 5]), sy.zeros([3, 2, 3, 3]))).toThrow(/\[N, C, H, W\]/);
    expect(() => new sy.nn.Conv2d(2, 3, 2, { padding: 'same' })).not.toThrow();
    expect(() => new sy.nn.Conv2d(2, 3, 2, { padding: 'same' }).forward(x)).toThrow(/odd kernel/);
  });
});

describe('pooling', () => {
  const r = rng(3);
  const poolCase = (): Case => {
    const k = randomCase(r);
    return { ...k, o: k.c };
  };
  const cases = [{ n: 2, c: 3, h: 24, w: 24, o: 3, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 } as Case, ...Array.from({ length: 6 }, poolCase)];

  test.each(cases.map((k, i) => [i, k] as const))('case %i: max and average pooling forward and backward', (_i, k) => {
    const x = randArr(r, k.n * k.c * k.h * k.w);
    for (const mode of ['max', 'avg'] as const) {
      const ref = pool2dRef(x, k, mode);
      const tx = tensorOf(x, [k.n, k.c, k.h, k.w], { requiresGrad: true });
      const pool = mode === 'max' ? F.maxPool2d : F.avgPool2d;
      const y = pool(tx, [k.kh, k.kw], [k.sh, k.sw], [k.ph, k.pw]);
      expect(y.shape).toEqual([k.n, k.c, ref.oh, ref.ow]);
      expect(maxRelErr(values(y), ref.out)).toBeLessThan(1e-6);
      const R = randArr(r, ref.out.length);
      const [gx] = grads(y, R, [tx]);
      const [fx] = finiteDiff(([xx]) => pool2dRef(xx!, k, mode).out, [x], R);
      expect(maxRelErr(gx!, fx!)).toBeLessThan(1e-4);
    }
  });

  test('max pooling sends a tied window gradient to its first maximum, as PyTorch', () => {
    const x = sy.tensor([[[[1, 1], [0, 1]]]], { requiresGrad: true });
    F.maxPool2d(x, 2).sum().backward();
    expect(x.grad!.arraySync()).toEqual([[[[1, 0], [0, 0]]]]);
  });

  test('modules: defaults and printing follow PyTorch', () => {
    const x = sy.randn([1, 2, 6, 6]);
    expect(new sy.nn.MaxPool2d(2).forward(x).shape).toEqual([1, 2, 3, 3]);
    expect(new sy.nn.MaxPool2d(3, { stride: 1, padding: 1 }).forward(x).shape).toEqual([1, 2, 6, 6]);
    expect(new sy.nn.AvgPool2d([2, 3]).forward(x).shape).toEqual([1, 2, 3, 2]);
    expect(new sy.nn.MaxPool2d(2).toString()).toBe('MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)');
    expect(new sy.nn.AvgPool2d(2).toString()).toBe('AvgPool2d(kernel_size=2, stride=2, padding=0)');
    expect(() => F.maxPool2d(x, 2, 2, 2)).toThrow(/at most half the kernel/);
  });

  test('adaptive average pooling: windows [floor(i*s/n), ceil((i+1)*s/n)) and gradients', () => {
    const k = { n: 2, c: 2, h: 7, w: 5 };
    const x = randArr(r, k.n * k.c * k.h * k.w);
    const [oh, ow] = [3, 2];
    const ref = (xx: Arr): Arr => {
      const out = new Float64Array(k.n * k.c * oh * ow);
      for (let p = 0; p < k.n * k.c; p++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++) {
            const [h0, h1, w0, w1] = [Math.floor((i * k.h) / oh), Math.ceil(((i + 1) * k.h) / oh), Math.floor((j * k.w) / ow), Math.ceil(((j + 1) * k.w) / ow)];
            let s = 0;
            for (let a = h0; a < h1; a++) for (let b = w0; b < w1; b++) s += xx[(p * k.h + a) * k.w + b]!;
            out[(p * oh + i) * ow + j] = s / ((h1 - h0) * (w1 - w0));
          }
      return out;
    };
    const tx = tensorOf(x, [k.n, k.c, k.h, k.w], { requiresGrad: true });
    const y = new sy.nn.AdaptiveAvgPool2d([oh, ow]).forward(tx);
    expect(maxRelErr(values(y), ref(x))).toBeLessThan(1e-6);
    const R = randArr(r, oh * ow * k.n * k.c);
    const [gx] = grads(y, R, [tx]);
    expect(maxRelErr(gx!, finiteDiff(([xx]) => ref(xx!), [x], R)[0]!)).toBeLessThan(1e-4);
    // Dividing sizes take the average-pool path; null keeps a dim.
    expect(F.adaptiveAvgPool2d(sy.ones([1, 1, 4, 6]), [2, null]).shape).toEqual([1, 1, 2, 6]);
    expect(values(F.adaptiveAvgPool2d(tensorOf(Float64Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]), 1))).toEqual(Float64Array.of(7.5));
  });
});

describe('im2col and col2im (F.unfold / F.fold)', () => {
  const r = rng(5);
  test.each(Array.from({ length: 6 }, (_, i) => [i] as const))('case %i: unfold = reference, fold is its adjoint', () => {
    const k = randomCase(r);
    const x = Float64Array.from(Float32Array.from(randArr(r, k.n * k.c * k.h * k.w))); // exact in float32
    const tx = tensorOf(x, [k.n, k.c, k.h, k.w], { requiresGrad: true });
    const cols = F.unfold(tx, [k.kh, k.kw], 1, [k.ph, k.pw], [k.sh, k.sw]);
    const ref = im2colRef(x, k);
    expect(maxRelErr(values(cols), ref)).toBe(0);
    // <unfold(x), y> = <x, fold(y)> for every y: fold is unfold's adjoint.
    const y = randArr(r, ref.length);
    const folded = values(F.fold(tensorOf(y, cols.shape), [k.h, k.w], [k.kh, k.kw], 1, [k.ph, k.pw], [k.sh, k.sw]));
    const lhs = ref.reduce((s, v, i) => s + v * y[i]!, 0);
    const rhs = x.reduce((s, v, i) => s + v * folded[i]!, 0);
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
    // and unfold's gradient is fold
    const [gx] = grads(cols, y, [tx]);
    expect(maxRelErr(gx!, folded)).toBeLessThan(1e-6);
  });
});

describe('softmax, log-softmax, losses', () => {
  const r = rng(6);
  test('log-softmax and softmax along any dim: values and gradients', () => {
    for (const [shape, dim] of [[[4, 7], 1], [[3, 5], 0], [[2, 3, 4], -1], [[6], 0]] as const) {
      const n = shape.reduce((a: number, b: number) => a * b, 1);
      const x = randArr(r, n, -4, 4);
      // Reference over rows along `dim`: move dim last.
      const perm = (xx: Arr, log: boolean): Arr => {
        const d = (dim + shape.length) % shape.length;
        const outer = shape.slice(0, d).reduce((a: number, b: number) => a * b, 1);
        const len = shape[d]!;
        const inner = shape.slice(d + 1).reduce((a: number, b: number) => a * b, 1);
        const out = new Float64Array(n);
        for (let o = 0; o < outer; o++)
          for (let j = 0; j < inner; j++) {
            const row = Float64Array.from({ length: len }, (_, t) => xx[(o * len + t) * inner + j]!);
            softmaxRef(row, 1, len, log).forEach((v, t) => (out[(o * len + t) * inner + j] = v));
          }
        return out;
      };
      for (const log of [true, false]) {
        const tx = tensorOf(x, [...shape], { requiresGrad: true });
        const y = log ? F.logSoftmax(tx, dim) : tx.softmax(dim);
        expect(maxRelErr(values(y), perm(x, log))).toBeLessThan(1e-6);
        const R = randArr(r, n);
        const [gx] = grads(y, R, [tx]);
        expect(maxRelErr(gx!, finiteDiff(([xx]) => perm(xx!, log), [x], R)[0]!)).toBeLessThan(1e-4);
      }
    }
    // large logits stay finite (max-shifted)
    expect(values(sy.tensor([[1000, 0, -1000]]).logSoftmax(1))[0]).toBeCloseTo(0, 5);
    expect(new sy.nn.LogSoftmax(1).toString()).toBe('LogSoftmax(dim=1)');
  });

  test('nllLoss with int64 targets: mean, sum, none, class weights; crossEntropy = nllLoss(logSoftmax)', () => {
    const [n, c] = [5, 4];
    const logits = randArr(r, n * c, -2, 2);
    const labels = [3, 0, 1, 3, 2];
    const weight = [0.5, 2, 1, 0.25];
    const target = sy.tensor(labels, { dtype: 'int64' });
    const lp = softmaxRef(logits, n, c, true);
    const per = labels.map((t, i) => -lp[i * c + t]!);
    const x = tensorOf(logits, [n, c], { requiresGrad: true });
    const logProbs = x.logSoftmax(1);
    expect(sy.nn.nllLoss(logProbs, target).item()).toBeCloseTo(per.reduce((a, b) => a + b) / n, 5);
    expect(sy.nn.nllLoss(logProbs, target, { reduction: 'sum' }).item()).toBeCloseTo(per.reduce((a, b) => a + b), 5);
    expect([...values(sy.nn.nllLoss(logProbs, target, { reduction: 'none' }))].map((v) => +v.toFixed(5))).toEqual(per.map((v) => +v.toFixed(5)));
    const wsum = labels.reduce((s, t) => s + weight[t]!, 0);
    const wmean = labels.reduce((s, t, i) => s + weight[t]! * per[i]!, 0) / wsum;
    expect(sy.nn.nllLoss(logProbs, target, { weight: sy.tensor(weight) }).item()).toBeCloseTo(wmean, 5);
    expect(sy.nn.crossEntropy(x, target).item()).toBeCloseTo(per.reduce((a, b) => a + b) / n, 5);
    // gradient of the mean cross entropy: (softmax - onehot) / n
    sy.nn.crossEntropy(x, target).backward();
    const sm = softmaxRef(logits, n, c, false);
    const want = Float64Array.from(sm, (v, i) => (v - (labels[Math.floor(i / c)] === i % c ? 1 : 0)) / n);
    expect(maxRelErr(values(x.grad!), want)).toBeLessThan(1e-5);
    // soft (probability) targets and float class indices
    const onehot = sy.tensor(labels.map((t) => Array.from({ length: c }, (_, j) => (j === t ? 1 : 0))));
    expect(sy.nn.crossEntropy(x.detach(), onehot).item()).toBeCloseTo(per.reduce((a, b) => a + b) / n, 5);
    expect(sy.nn.crossEntropy(x.detach(), sy.tensor(labels)).item()).toBeCloseTo(per.reduce((a, b) => a + b) / n, 5);
    // [N, C, d] inputs with [N, d] targets
    const x3 = tensorOf(randArr(r, 2 * 3 * 4), [2, 3, 4]);
    const t3 = sy.tensor([[0, 1, 2, 1], [2, 2, 0, 0]], { dtype: 'int64' });
    const lp3 = values(x3.logSoftmax(1));
    const want3 = -[[0, 1, 2, 1], [2, 2, 0, 0]].flatMap((row, a) => row.map((t, j) => lp3[(a * 3 + t) * 4 + j]!)).reduce((s, v) => s + v) / 8;
    expect(sy.nn.crossEntropy(x3, t3).item()).toBeCloseTo(want3, 5);
  });

  test('losses refuse targets that do not fit, naming the fix', () => {
    const lp = sy.zeros([3, 4]);
    expect(() => sy.nn.nllLoss(lp, sy.tensor([0, 1], { dtype: 'int64' }))).toThrow(/do not fit/);
    expect(() => sy.nn.nllLoss(lp, sy.tensor([0, 1, 4], { dtype: 'int64' })).item()).toThrow(/out of range/);
    expect(() => sy.nn.nllLoss(lp, sy.tensor([0, 1, 2], { dtype: 'int64' }), { reduction: 'avg' as 'mean' })).toThrow(/reduction must be/);
    expect(() => sy.nn.mseLoss(lp, sy.zeros([3, 5]))).toThrow(sy.ShapeError);
  });
});

describe('batch norm', () => {
  const r = rng(7);
  const ref = (x: Arr, shape: number[], w: Arr, b: Arr, eps: number): { out: Arr; mean: Arr; varUnbiased: Arr } => {
    const c = shape[1]!;
    const inner = shape.slice(2).reduce((p, d) => p * d, 1);
    const n = shape[0]!;
    const count = n * inner;
    const mean = new Float64Array(c);
    const v = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let a = 0; a < n; a++) for (let i = 0; i < inner; i++) s += x[(a * c + ch) * inner + i]!;
      mean[ch] = s / count;
      let q = 0;
      for (let a = 0; a < n; a++) for (let i = 0; i < inner; i++) q += (x[(a * c + ch) * inner + i]! - mean[ch]!) ** 2;
      v[ch] = q / count;
    }
    const out = Float64Array.from(x, (val, idx) => {
      const ch = Math.floor(idx / inner) % c;
      return ((val - mean[ch]!) / Math.sqrt(v[ch]! + eps)) * w[ch]! + b[ch]!;
    });
    return { out, mean, varUnbiased: v.map((q) => (q * count) / (count - 1)) };
  };

  test.each([[[6, 3]], [[4, 3, 5]], [[3, 2, 4, 5]]] as const)('train mode on %j: output, gradients and running statistics as PyTorch', (shape) => {
    const bn = shape.length === 4 ? new sy.nn.BatchNorm2d(shape[1]!) : new sy.nn.BatchNorm1d(shape[1]!);
    const n = shape.reduce((a: number, b: number) => a * b, 1);
    const x = randArr(r, n, -2, 3);
    const w = randArr(r, shape[1]!, 0.5, 1.5);
    const b = randArr(r, shape[1]!);
    bn.weight!.copy_(tensorOf(w, [shape[1]!]));
    bn.bias!.copy_(tensorOf(b, [shape[1]!]));
    const tx = tensorOf(x, [...shape], { requiresGrad: true });
    const y = bn.forward(tx);
    const want = ref(x, [...shape], w, b, 1e-5);
    expect(maxRelErr(values(y), want.out)).toBeLessThan(1e-5);
    expect(maxRelErr(values(bn.runningMean!), want.mean.map((m) => 0.1 * m))).toBeLessThan(1e-6);
    expect(maxRelErr(values(bn.runningVar!), want.varUnbiased.map((v) => 0.9 + 0.1 * v))).toBeLessThan(1e-5);
    expect(bn.numBatchesTracked).toBe(1);
    const R = randArr(r, n);
    const [gx, gw, gb] = grads(y, R, [tx, bn.weight!, bn.bias!]);
    const [fx, fw, fb] = finiteDiff(([xx, ww, bb]) => ref(xx!, [...shape], ww!, bb!, 1e-5).out, [x, w, b], R);
    expect(maxRelErr(gx!, fx!)).toBeLessThan(2e-4);
    expect(maxRelErr(gw!, fw!)).toBeLessThan(2e-4);
    expect(maxRelErr(gb!, fb!)).toBeLessThan(2e-4);
  });

  test('eval mode uses the running statistics; momentum null is a running average', () => {
    const bn = new sy.nn.BatchNorm2d(2, { momentum: null });
    const xs = [randArr(r, 2 * 2 * 3 * 3), randArr(r, 2 * 2 * 3 * 3, 1, 4)];
    for (const x of xs) bn.forward(tensorOf(x, [2, 2, 3, 3]));
    const m = [0, 1].map((ch) => xs.map((x) => ref(x, [2, 2, 3, 3], Float64Array.of(1, 1), Float64Array.of(0, 0), 0).mean[ch]!).reduce((a, b) => a + b) / 2);
    expect(maxRelErr(values(bn.runningMean!), m)).toBeLessThan(1e-5);
    bn.eval();
    const x = randArr(r, 2 * 2 * 3 * 3);
    const rm = values(bn.runningMean!);
    const rv = values(bn.runningVar!);
    const want = Float64Array.from(x, (v, i) => {
      const ch = Math.floor(i / 9) % 2;
      return (v - rm[ch]!) / Math.sqrt(rv[ch]! + 1e-5);
    });
    expect(maxRelErr(values(bn.forward(tensorOf(x, [2, 2, 3, 3]))), want)).toBeLessThan(1e-5);
    expect(bn.numBatchesTracked).toBe(2);
    expect(bn.toString()).toBe('BatchNorm2d(2, eps=0.00001, momentum=None, affine=True, track_running_stats=True)');
    expect(() => bn.forward(sy.zeros([2, 3, 3, 3]))).toThrow(/C = 2/);
  });
});

describe('dropout', () => {
  test('train mode zeroes about p of the elements and scales the rest; eval mode is the identity; seeded', () => {
    const drop = new sy.nn.Dropout(0.25);
    const x = sy.ones([200, 50]);
    sy.manualSeed(9);
    const y = values(drop.forward(x));
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(zeros).toBeGreaterThan(0.22);
    expect(zeros).toBeLessThan(0.28);
    expect(y.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
    sy.manualSeed(9);
    expect(values(drop.forward(x))).toEqual(y);
    drop.eval();
    expect(drop.forward(x)).toBe(x);
    // the gradient goes through the kept elements only, scaled
    drop.train();
    const t = sy.ones([10, 10], { requiresGrad: true });
    const out = drop.forward(t);
    out.sum().backward();
    expect(values(t.grad!)).toEqual(values(out));
    expect(values(F.dropout(x, 1))).toEqual(new Float64Array(10000));
    expect(() => new sy.nn.Dropout(1.5)).toThrow(/\[0, 1\]/);
  });
});

describe('a chain of layers (float tensors keep convolution outputs channels last between ops)', () => {
  test('conv > relu > maxpool > conv > relu > maxpool > linear: forward and every gradient against the reference', () => {
    const r = rng(8);
    const k1: Case = { n: 2, c: 2, h: 10, w: 10, o: 3, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 };
    const [x, w1, b1] = [randArr(r, 2 * 2 * 10 * 10), randArr(r, 3 * 2 * 3 * 3), randArr(r, 3)];
    const [w2, b2] = [randArr(r, 4 * 3 * 3 * 3), randArr(r, 4)];
    const fcw = randArr(r, 5 * 4 * 2 * 2);
    const relu = (a: Arr) => a.map((v) => Math.max(v, 0));
    const ref = ([xx, ww1, bb1, ww2, bb2, ff]: Arr[]): Arr => {
      const h1 = pool2dRef(relu(conv2dRef(xx!, ww1!, bb1!, k1).out), { ...k1, c: 3, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 }, 'max').out; // [2, 3, 5, 5]
      const k2: Case = { n: 2, c: 3, h: 5, w: 5, o: 4, kh: 3, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0 };
      const h2 = pool2dRef(relu(conv2dRef(h1, ww2!, bb2!, k2).out), { ...k2, c: 4, h: 3, w: 3, kh: 2, kw: 2, sh: 1, sw: 1 }, 'max').out; // [2, 4, 2, 2]
      const out = new Float64Array(2 * 5);
      for (let a = 0; a < 2; a++) for (let o = 0; o < 5; o++) for (let i = 0; i < 16; i++) out[a * 5 + o] += ff![o * 16 + i]! * h2[a * 16 + i]!;
      return out;
    };
    const t = [
      tensorOf(x, [2, 2, 10, 10], { requiresGrad: true }),
      tensorOf(w1, [3, 2, 3, 3], { requiresGrad: true }),
      tensorOf(b1, [3], { requiresGrad: true }),
      tensorOf(w2, [4, 3, 3, 3], { requiresGrad: true }),
      tensorOf(b2, [4], { requiresGrad: true }),
      tensorOf(fcw, [5, 16], { requiresGrad: true }),
    ];
    const h = F.maxPool2d(F.relu(F.conv2d(t[0]!, t[1]!, t[2]!, 1, 1)), 2);
    const g = F.maxPool2d(F.relu(F.conv2d(h, t[3]!, t[4]!)), 2, 1);
    const y = F.linear(g.flatten(1), t[5]!);
    expect(maxRelErr(values(y), ref([x, w1, b1, w2, b2, fcw]))).toBeLessThan(1e-5);
    const R = randArr(r, 10);
    const got = grads(y, R, t);
    const want = finiteDiff(ref, [x, w1, b1, w2, b2, fcw], R);
    got.forEach((gr, i) => expect(maxRelErr(gr, want[i]!), `input ${i}`).toBeLessThan(2e-4));
  });
});
