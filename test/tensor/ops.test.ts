import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

const close = (a: unknown, b: unknown, tol = 1e-5) => {
  const fa = [a].flat(Infinity as 1) as number[];
  const fb = [b].flat(Infinity as 1) as number[];
  expect(fa.length).toBe(fb.length);
  fa.forEach((v, i) => expect(Math.abs(v - fb[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(fb[i]!))));
};

describe('float tensor ops', () => {
  const a = sy.tensor([[1, -2, 3], [0.5, 4, -6]]);
  const b = sy.tensor([[2, 2, -1], [1, 0.25, 3]]);
  const row = sy.tensor([10, 20, 30]);

  test('elementwise with broadcasting and scalars', () => {
    expect(a.add(b).arraySync()).toEqual([[3, 0, 2], [1.5, 4.25, -3]]);
    expect(a.sub(row).arraySync()).toEqual([[-9, -22, -27], [-9.5, -16, -36]]);
    expect(a.mul(2).arraySync()).toEqual([[2, -4, 6], [1, 8, -12]]);
    close(a.div(b).arraySync(), [[0.5, -1, -3], [0.5, 16, -2]]);
    expect(a.neg().arraySync()).toEqual([[-1, 2, -3], [-0.5, -4, 6]]);
    expect(a.pow(2).arraySync()).toEqual([[1, 4, 9], [0.25, 16, 36]]);
    expect(a.relu().arraySync()).toEqual([[1, 0, 3], [0.5, 4, 0]]);
  });

  test('unary functions match tfjs', () => {
    const x = [[0.1, -0.2, 0.3], [1.5, -2.5, 0.7]];
    const t = tf.tensor(x);
    const cases: [string, (s: sy.Tensor) => sy.Tensor, (u: tf.Tensor) => tf.Tensor][] = [
      ['sigmoid', (s) => s.sigmoid(), tf.sigmoid],
      ['tanh', (s) => s.tanh(), tf.tanh],
      ['exp', (s) => s.exp(), tf.exp],
      ['abs', (s) => s.abs(), tf.abs],
    ];
    for (const [, ours, theirs] of cases) close(ours(sy.tensor(x)).arraySync(), theirs(t).arraySync());
    close(sy.tensor([[0.5, 2]]).log().arraySync(), [[Math.log(0.5), Math.log(2)]]);
    close(sy.tensor([4, 9]).sqrt().arraySync(), [2, 3]);
  });

  test('comparisons give 0/1', () => {
    expect(a.gt(b).arraySync()).toEqual([[0, 0, 1], [0, 1, 0]]);
    expect(a.lt(0).arraySync()).toEqual([[0, 1, 0], [0, 0, 1]]);
    expect(a.eq(sy.tensor([[1, 0, 3], [0, 4, 0]])).arraySync()).toEqual([[1, 0, 1], [0, 1, 0]]);
    expect(a.ge(3).arraySync()).toEqual([[0, 0, 1], [0, 1, 0]]);
    expect(a.le(0.5).arraySync()).toEqual([[0, 1, 0], [1, 0, 1]]);
  });

  test('matmul, including vectors and batches', () => {
    expect(a.matmul(b.t()).arraySync()).toEqual([[-5, 9.5], [15, -16.5]]);
    expect(a.matmul(row).arraySync()).toEqual([60, -95]);
    const batch = sy.tensor([[[1, 2]], [[3, 4]]]); // [2, 1, 2]
    expect(batch.matmul(sy.tensor([[1], [1]])).arraySync()).toEqual([[[3]], [[7]]]);
    expect(() => a.matmul(b)).toThrow(sy.ShapeError);
  });

  test('reductions', () => {
    expect(a.sum().item()).toBeCloseTo(0.5);
    expect(a.sum(0).arraySync()).toEqual([1.5, 2, -3]);
    expect(a.sum(1, true).arraySync()).toEqual([[2], [-1.5]]);
    close(a.mean(1).arraySync(), [2 / 3, -0.5]);
    expect(a.max().item()).toBe(4);
    expect(a.max(1).arraySync()).toEqual([3, 4]);
    expect(a.argmax(1).arraySync()).toEqual([2, 1]);
    expect(a.argmax().item()).toBe(4);
  });

  test('shape ops', () => {
    expect(a.reshape([3, 2]).arraySync()).toEqual([[1, -2], [3, 0.5], [4, -6]]);
    expect(a.view(-1).shape).toEqual([6]);
    expect(a.t().arraySync()).toEqual([[1, 0.5], [-2, 4], [3, -6]]);
    expect(a.slice(0, 1).arraySync()).toEqual([[1, -2, 3]]);
    expect(a.slice(1).arraySync()).toEqual([[0.5, 4, -6]]);
    expect(a.slice(-1).shape).toEqual([1, 3]);
    expect(a.slice(1, 3, 1).arraySync()).toEqual([[-2, 3], [4, -6]]);
    expect(row.broadcastTo([2, 3]).arraySync()).toEqual([[10, 20, 30], [10, 20, 30]]);
    expect(sy.tensor([2, 0]).oneHot(3).arraySync()).toEqual([[0, 0, 1], [1, 0, 0]]);
    expect(() => a.reshape([4, 2])).toThrow(sy.ShapeError);
  });

  test('in-place ops keep the tensor and change its value', () => {
    const x = sy.tensor([1, 2, 3]);
    const same = x.add_(1);
    expect(same).toBe(x);
    expect(x.arraySync()).toEqual([2, 3, 4]);
    x.mul_(2).sub_(1);
    expect(x.arraySync()).toEqual([3, 5, 7]);
    x.zero_();
    expect(x.arraySync()).toEqual([0, 0, 0]);
  });

  test('bad input gets typed errors that say what to do', () => {
    expect(() => sy.tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => a.add(sy.tensor([1, 2]))).toThrow(/cannot be broadcast/);
    expect(() => a.item()).toThrow(/one-element/);
    expect(() => sy.tensor([1.5], { dtype: 'int64' })).toThrow(sy.ValueError);
  });

  test('tf.memory() holds no tensors between ops', () => {
    const before = tf.memory().numTensors;
    let x = sy.tensor([[1, 2], [3, 4]], { requiresGrad: true });
    for (let i = 0; i < 50; i++) x = x.matmul(x.t()).mul(0.01).add(1).relu();
    x.sum().backward();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('printing as PyTorch and PySyft do', () => {
  test('plain tensors', () => {
    expect(sy.tensor([0.1, 0.2, 0.3]).toString()).toBe('tensor([0.1000, 0.2000, 0.3000])');
    expect(sy.tensor([1, 2, 3]).toString()).toBe('tensor([1., 2., 3.])');
    expect(sy.tensor(1.4823).toString()).toBe('tensor(1.4823)');
    expect(sy.tensor([[1, 2], [3, 4]]).toString()).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    expect(sy.tensor([9.1678e-5, 1]).toString()).toBe('tensor([9.1678e-05, 1.0000e+00])');
  });

  test('autograd and parameters', () => {
    expect(sy.tensor([1, 2], { requiresGrad: true }).toString()).toBe('tensor([1., 2.], requires_grad=True)');
    const y = sy.tensor([1, 2], { requiresGrad: true }).sum();
    expect(y.toString()).toBe('tensor(3., grad_fn=<SumBackward>)');
    const lin = new sy.nn.Linear(2, 1);
    expect(lin.weight.toString()).toMatch(/^Parameter containing:\ntensor\(\[\[.*\]\], requires_grad=True\)$/);
    expect(lin.toString()).toBe('Linear(in_features=2, out_features=1, bias=True)');
  });

  test('pointers', () => {
    const bob = new sy.VirtualWorker({ id: 'bob' });
    const p = sy.tensor([1, 2]).send(bob);
    expect(p.toString()).toMatch(/^\(Wrapper\)>\[PointerTensor \| me:\d+ -> bob:\d+\]$/);
    expect(bob.toString()).toBe('<VirtualWorker id:bob #objects:1>');
  });
});
