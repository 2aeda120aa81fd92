import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers its gradients only on request; the reference below needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { SeededRandom } from '../../src/util/seeded.js';

const rng = new SeededRandom(7);
const randomArray = (shape: number[], lo = -2, hi = 2) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
};

interface Case {
  name: string;
  shapes: number[][];
  ours: (xs: sy.Tensor[]) => sy.Tensor;
  theirs: (xs: tf.Tensor[]) => tf.Tensor;
  range?: [number, number];
}

const cases: Case[] = [
  { name: 'add (broadcast)', shapes: [[3, 4], [4]], ours: ([a, b]) => a!.add(b!), theirs: ([a, b]) => tf.add(a!, b!) },
  { name: 'add scalar', shapes: [[3]], ours: ([a]) => a!.add(2), theirs: ([a]) => tf.add(a!, 2) },
  { name: 'sub (broadcast)', shapes: [[2, 3], [2, 1]], ours: ([a, b]) => a!.sub(b!), theirs: ([a, b]) => tf.sub(a!, b!) },
  { name: 'mul (broadcast)', shapes: [[2, 3], [1, 3]], ours: ([a, b]) => a!.mul(b!), theirs: ([a, b]) => tf.mul(a!, b!) },
  { name: 'mul scalar', shapes: [[5]], ours: ([a]) => a!.mul(-3), theirs: ([a]) => tf.mul(a!, -3) },
  { name: 'div', shapes: [[2, 3], [2, 3]], ours: ([a, b]) => a!.div(b!), theirs: ([a, b]) => tf.div(a!, b!), range: [0.5, 2] },
  { name: 'div scalar', shapes: [[4]], ours: ([a]) => a!.div(4), theirs: ([a]) => tf.div(a!, 4) },
  { name: 'pow 2', shapes: [[4]], ours: ([a]) => a!.pow(2), theirs: ([a]) => tf.pow(a!, 2) },
  { name: 'pow 3', shapes: [[4]], ours: ([a]) => a!.pow(3), theirs: ([a]) => tf.pow(a!, 3) },
  { name: 'neg', shapes: [[4]], ours: ([a]) => a!.neg(), theirs: ([a]) => tf.neg(a!) },
  { name: 'exp', shapes: [[4]], ours: ([a]) => a!.exp(), theirs: ([a]) => tf.exp(a!) },
  { name: 'log', shapes: [[4]], ours: ([a]) => a!.log(), theirs: ([a]) => tf.log(a!), range: [0.2, 3] },
  { name: 'sqrt', shapes: [[4]], ours: ([a]) => a!.sqrt(), theirs: ([a]) => tf.sqrt(a!), range: [0.2, 3] },
  { name: 'abs', shapes: [[4]], ours: ([a]) => a!.abs(), theirs: ([a]) => tf.abs(a!) },
  { name: 'relu', shapes: [[3, 3]], ours: ([a]) => a!.relu(), theirs: ([a]) => tf.relu(a!) },
  { name: 'sigmoid', shapes: [[4]], ours: ([a]) => a!.sigmoid(), theirs: ([a]) => tf.sigmoid(a!) },
  { name: 'tanh', shapes: [[4]], ours: ([a]) => a!.tanh(), theirs: ([a]) => tf.tanh(a!) },
  { name: 'matmul', shapes: [[3, 4], [4, 2]], ours: ([a, b]) => a!.matmul(b!), theirs: ([a, b]) => tf.matMul(a!, b!) },
  { name: 'matmul matrix-vector', shapes: [[3, 4], [4]], ours: ([a, b]) => a!.matmul(b!), theirs: ([a, b]) => tf.squeeze(tf.matMul(a!, tf.reshape(b!, [4, 1])), [1]) },
  { name: 'matmul batched', shapes: [[2, 3, 4], [4, 5]], ours: ([a, b]) => a!.matmul(b!), theirs: ([a, b]) => tf.matMul(a!, tf.broadcastTo(b!, [2, 4, 5])) },
  { name: 'sum all', shapes: [[2, 3]], ours: ([a]) => a!.sum(), theirs: ([a]) => tf.sum(a!) },
  { name: 'sum dim keepDim', shapes: [[2, 3]], ours: ([a]) => a!.sum(1, true), theirs: ([a]) => tf.sum(a!, 1, true) },
  { name: 'mean dim', shapes: [[2, 3, 2]], ours: ([a]) => a!.mean([0, 2]), theirs: ([a]) => tf.mean(a!, [0, 2]) },
  { name: 'max dim', shapes: [[3, 4]], ours: ([a]) => a!.max(1), theirs: ([a]) => tf.max(a!, 1) },
  { name: 'reshape', shapes: [[2, 6]], ours: ([a]) => a!.reshape([3, -1]), theirs: ([a]) => tf.reshape(a!, [3, 4]) },
  { name: 'transpose 3-D', shapes: [[2, 3, 4]], ours: ([a]) => a!.transpose([2, 0, 1]), theirs: ([a]) => tf.transpose(a!, [2, 0, 1]) },
  { name: 't', shapes: [[2, 3]], ours: ([a]) => a!.t(), theirs: ([a]) => tf.transpose(a!) },
  { name: 'slice dim 1', shapes: [[3, 5]], ours: ([a]) => a!.slice(1, 4, 1), theirs: ([a]) => tf.slice(a!, [0, 1], [3, 3]) },
  { name: 'slice dim 0', shapes: [[4, 2]], ours: ([a]) => a!.slice(0, 2), theirs: ([a]) => tf.slice(a!, [0, 0], [2, 2]) },
  { name: 'broadcastTo', shapes: [[3, 1]], ours: ([a]) => a!.broadcastTo([2, 3, 4]), theirs: ([a]) => tf.broadcastTo(a!, [2, 3, 4]) },
  { name: 'clone', shapes: [[3]], ours: ([a]) => a!.clone().mul(2), theirs: ([a]) => tf.mul(tf.clone(a!), 2) },
];

describe('every op differentiates as tfjs does', () => {
  for (const c of cases) {
    test(c.name, () => {
      const [lo, hi] = c.range ?? [-2, 2];
      const data = c.shapes.map((s) => randomArray(s, lo, hi));
      const outShape = c.theirs(data.map((d, i) => tf.tensor(d, c.shapes[i]))).shape;
      const w = randomArray(outShape);
      const xs = data.map((d, i) => sy.tensor(d, { shape: c.shapes[i], requiresGrad: true }));
      c.ours(xs).mul(sy.tensor(w, { shape: outShape })).sum().backward();
      const expected = tf.grads((...ts: tf.Tensor[]) => tf.sum(tf.mul(c.theirs(ts), tf.tensor(w, outShape))))(
        data.map((d, i) => tf.tensor(d, c.shapes[i])),
      );
      xs.forEach((x, i) => {
        const got = x.grad!.child as sy.FloatTensor;
        const want = expected[i]!.dataSync();
        expect(x.grad!.shape).toEqual(c.shapes[i]);
        got.values.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 4));
      });
    });
  }
});

describe('gradients against float64 finite differences', () => {
  // L(x) = sum(w * f(x)), differentiated numerically in float64.
  const f64: [string, (x: number) => number, (t: sy.Tensor) => sy.Tensor, [number, number]][] = [
    ['exp', Math.exp, (t) => t.exp(), [-1, 1]],
    ['log', Math.log, (t) => t.log(), [0.5, 2]],
    ['tanh', Math.tanh, (t) => t.tanh(), [-1, 1]],
    ['sigmoid', (x) => 1 / (1 + Math.exp(-x)), (t) => t.sigmoid(), [-2, 2]],
    ['cube', (x) => x ** 3, (t) => t.pow(3), [-1, 1]],
    ['sqrt', Math.sqrt, (t) => t.sqrt(), [0.5, 2]],
  ];
  for (const [name, ref, ours, [lo, hi]] of f64) {
    test(name, () => {
      const x = Array.from({ length: 6 }, () => rng.uniform(lo, hi));
      const w = Array.from({ length: 6 }, () => rng.uniform(-1, 1));
      const t = sy.tensor(x, { requiresGrad: true });
      ours(t).mul(sy.tensor(w)).sum().backward();
      const g = (t.grad!.child as sy.FloatTensor).values;
      const h = 1e-6;
      x.forEach((xi, i) => {
        const numeric = (w[i]! * (ref(xi + h) - ref(xi - h))) / (2 * h);
        expect(Math.abs(g[i]! - numeric)).toBeLessThan(1e-4 * Math.max(1, Math.abs(numeric)));
      });
    });
  }

  test('a two-layer network', () => {
    const x = [[0.5, -1], [2, 0.25], [-0.75, 1.5]];
    const w1 = [[0.3, -0.2, 0.1], [0.4, 0.5, -0.6]];
    const w2 = [[0.7], [-0.3], [0.2]];
    const loss64 = (a: number[][]) => {
      let s = 0;
      for (const row of x) {
        const h = [0, 1, 2].map((j) => Math.tanh(row[0]! * a[0]![j]! + row[1]! * a[1]![j]!));
        const y = h.reduce((acc, hj, j) => acc + hj * w2[j]![0]!, 0);
        s += y * y;
      }
      return s;
    };
    const W1 = sy.tensor(w1, { requiresGrad: true });
    sy.tensor(x).matmul(W1).tanh().matmul(sy.tensor(w2)).pow(2).sum().backward();
    const g = W1.grad!.arraySync() as number[][];
    const h = 1e-6;
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        const up = w1.map((r) => [...r]);
        const down = w1.map((r) => [...r]);
        up[i]![j]! += h;
        down[i]![j]! -= h;
        expect(g[i]![j]!).toBeCloseTo((loss64(up) - loss64(down)) / (2 * h), 4);
      }
    }
  });
});

describe('autograd bookkeeping', () => {
  test('a tensor used twice gets the sum of both paths', () => {
    const x = sy.tensor([1, 2, 3], { requiresGrad: true });
    x.mul(x).add(x).sum().backward();
    expect(x.grad!.arraySync()).toEqual([3, 5, 7]);
  });

  test('x + x gives each operand its own gradient object', () => {
    const x = sy.tensor([1, 2], { requiresGrad: true });
    const y = sy.tensor([5, 6], { requiresGrad: true });
    x.add(y).sum().backward();
    expect(x.grad!.child).not.toBe(y.grad!.child);
    expect(x.grad!.arraySync()).toEqual([1, 1]);
  });

  test('gradients accumulate until zeroed', () => {
    const x = sy.tensor([1, 2], { requiresGrad: true });
    x.mul(3).sum().backward();
    x.mul(3).sum().backward();
    expect(x.grad!.arraySync()).toEqual([6, 6]);
    x.grad = undefined;
    expect(x.grad).toBeUndefined();
  });

  test('a second backward through a released graph is refused', () => {
    const x = sy.tensor([1, 2], { requiresGrad: true });
    const y = x.mul(x).sum();
    y.backward();
    expect(() => y.backward()).toThrow(/second time/);
    const z = x.mul(x).sum();
    z.backward(undefined, { retainGraph: true });
    z.backward();
    expect(x.grad!.arraySync()).toEqual([2 + 4, 4 + 8]);
  });

  test('noGrad and detach record nothing; comparisons never require grad', () => {
    const x = sy.tensor([1, 2], { requiresGrad: true });
    expect(sy.noGrad(() => x.mul(2)).requiresGrad).toBe(false);
    expect(x.detach().mul(2).requiresGrad).toBe(false);
    expect(x.gt(1).requiresGrad).toBe(false);
    expect(() => sy.tensor([1, 2]).sum().backward()).toThrow(sy.SyftError);
    expect(() => x.mul(2).backward()).toThrow(/single-element/);
  });
});
