// Per-sample gradients from one forward and one backward pass against the reference: one backward
// per sample (B separate passes of the same model), for Linear (2-D and 3-D inputs, with and
// without bias), Conv2d (stride, padding, 'same', no bias) and a model that mixes them. BatchNorm
// and layers without a rule are refused.
import { beforeAll, describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { GradSampleModule } from '../../src/dp/grad-sample.js';

const { nn } = sy;

beforeAll(async () => {
  await sy.ready();
});

function values(t: sy.Tensor): Float32Array {
  return Float32Array.from((t.arraySync() as unknown as number[]).flat(Infinity as 1) as unknown as number[]);
}

/** The loss both passes differentiate: sum over samples of a per-sample scalar (so sample b's gradient is its own). */
function loss(out: sy.Tensor, r: sy.Tensor): sy.Tensor {
  return out.mul(r).sum();
}

/** Per-sample gradients by B backward passes, one sample at a time. */
function reference(model: sy.nn.Module, x: sy.Tensor, r: sy.Tensor): Map<sy.Tensor, Float32Array> {
  const b = x.shape[0]!;
  const out = new Map<sy.Tensor, Float32Array>();
  const params = model.parameters();
  for (const p of params) out.set(p, new Float32Array(b * p.numel()));
  for (let i = 0; i < b; i++) {
    model.zeroGrad();
    loss(model.forward(x.slice(i, i + 1)), r.slice(i, i + 1)).backward();
    for (const p of params) out.get(p)!.set(values(p.grad!), i * p.numel());
  }
  model.zeroGrad();
  return out;
}

function check(model: sy.nn.Module, inShape: number[]): void {
  const x = sy.randn(inShape);
  const gs = new GradSampleModule(model);
  const y = gs.forward(x);
  const r = sy.randn(y.shape);
  loss(y, r).backward();
  const fast = gs.perSampleGradients();
  expect(gs.batchSize).toBe(inShape[0]);
  // The ordinary gradient is still there and is the sum of the per-sample ones.
  for (const p of model.parameters()) {
    const g = values(p.grad!);
    const ps = fast.get(p)!;
    const n = p.numel();
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let b = 0; b < inShape[0]!; b++) s += ps[b * n + j]!;
      expect(Math.abs(s - g[j]!)).toBeLessThan(1e-4 * (1 + Math.abs(g[j]!)));
    }
  }
  gs.clear();
  gs.detach(); // the reference runs the plain model
  const ref = reference(model, x, r);
  expect([...fast.keys()].sort()).toEqual([...ref.keys()].sort());
  for (const [p, want] of ref) {
    const got = fast.get(p)!;
    expect(got.length).toBe(want.length);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
    expect(worst).toBeLessThan(1e-5);
  }
}

describe('per-sample gradients equal one backward per sample', () => {
  test('Linear, 2-D input, with bias', () => check(new nn.Linear(7, 5), [6, 7]));
  test('Linear without bias', () => check(new nn.Linear(4, 3, { bias: false }), [5, 4]));
  test('Linear on a 3-D input (applied to the last dim)', () => check(new nn.Linear(4, 3), [3, 5, 4]));
  test('Conv2d, stride 1, no padding', () => check(new nn.Conv2d(2, 3, 3), [4, 2, 6, 6]));
  test('Conv2d, stride 2, padding 1, no bias', () => check(new nn.Conv2d(3, 4, [3, 2], { stride: 2, padding: 1, bias: false }), [3, 3, 7, 6]));
  test("Conv2d, padding 'same'", () => check(new nn.Conv2d(1, 2, 5, { padding: 'same' }), [2, 1, 6, 6]));
  test('a CNN: Conv2d, ReLU, MaxPool, Flatten, Linear, ReLU, Linear', () =>
    check(
      new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(4 * 3 * 3, 8), new nn.ReLU(), new nn.Linear(8, 3)),
      [5, 1, 8, 8],
    ));
  test('a layer used twice in one pass: the per-sample gradients of both uses add up', () => {
    class Twice extends nn.Module {
      readonly fc = new nn.Linear(3, 3);
      forward(x: sy.Tensor): sy.Tensor {
        return this.fc.forward(this.fc.forward(x).relu());
      }
    }
    check(new Twice(), [4, 3]);
  });
});

describe('models DP-SGD cannot train are refused', () => {
  test('BatchNorm', () => {
    const m = new nn.Sequential(new nn.Linear(4, 4), new nn.BatchNorm1d(4), new nn.Linear(4, 2));
    expect(() => new GradSampleModule(m)).toThrow(sy.UnsupportedOperationError);
    expect(() => new GradSampleModule(m)).toThrow(/BatchNorm is not compatible with DP-SGD/);
  });
  test('BatchNorm without parameters (affine false) too', () => {
    expect(() => new GradSampleModule(new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2, { affine: false })))).toThrow(/BatchNorm/);
  });
  test('a layer with parameters and no rule', () => {
    class Scale extends nn.Module {
      readonly s = this.parameter(sy.ones([1]));
      forward(x: sy.Tensor): sy.Tensor {
        return x.mul(this.s);
      }
    }
    expect(() => new GradSampleModule(new nn.Sequential(new nn.Linear(2, 2), new Scale()))).toThrow(/no per-sample gradient rule; DP-SGD supports Linear, Conv2d/);
  });
});

describe('clipping without materialising (ghost clipping for Linear) equals clipping the per-sample gradients', () => {
  function compare(model: sy.nn.Module, inShape: number[], maxGradNorm: number): void {
    const gs = new GradSampleModule(model);
    const y = gs.forward(sy.randn(inShape));
    loss(y, sy.randn(y.shape)).backward();
    const fast = gs.clipAndSum(maxGradNorm, 2);
    const per = gs.perSampleGradients();
    const params = model.parameters();
    const ref = sy.dp.clipAndSum(params.map((p) => per.get(p)!), params.map((p) => p.numel()), inShape[0]!, maxGradNorm, 2);
    fast.norms.forEach((n, b) => expect(Math.abs(n - ref.norms[b]!)).toBeLessThan(1e-5 * ref.norms[b]!));
    expect(fast.factors.some((f) => f < 1)).toBe(true);
    params.forEach((p, i) => {
      const a = fast.sums.get(p)!;
      const r = ref.sums[i]!;
      for (let j = 0; j < r.length; j++) expect(Math.abs(a[j]! - r[j]!)).toBeLessThan(1e-5 * (1 + Math.abs(r[j]!)));
    });
  }
  test('an MLP (every layer takes the shortcut)', () =>
    compare(new nn.Sequential(new nn.Linear(9, 7), new nn.ReLU(), new nn.Linear(7, 4)), [12, 9], 0.5));
  test('a CNN and a 3-D Linear input (materialised)', () =>
    compare(new nn.Sequential(new nn.Conv2d(1, 3, 3), new nn.ReLU(), new nn.Linear(4, 2)), [5, 1, 6, 6], 0.5));
});

test('a copy of a wrapped model is wrapped on its own', () => {
  const gs = new GradSampleModule(new nn.Linear(3, 2));
  const twin = gs.copy();
  expect(twin).toBeInstanceOf(GradSampleModule);
  twin.forward(sy.randn([4, 3])).sum().backward();
  expect(twin.batchSize).toBe(4);
  expect(gs.batchSize).toBe(0);
  expect(twin.parameters()[0]).not.toBe(gs.parameters()[0]);
});
