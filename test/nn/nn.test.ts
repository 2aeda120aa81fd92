import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

const flat = (t: sy.Tensor) => [t.arraySync()].flat(Infinity as 1) as number[];

describe('nn', () => {
  test('Linear computes x W^T + b and is initialised within ±1/sqrt(in)', () => {
    sy.manualSeed(3);
    const lin = new sy.nn.Linear(4, 3);
    expect(lin.weight.shape).toEqual([3, 4]);
    expect(lin.bias!.shape).toEqual([3]);
    expect(flat(lin.weight).every((v) => Math.abs(v) <= 0.5)).toBe(true);
    const x = sy.tensor([[1, 2, 3, 4], [0, -1, 0.5, 2]]);
    const want = tf.add(tf.matMul(x.toTf(), lin.weight.toTf(), false, true), lin.bias!.toTf()).arraySync() as number[][];
    (lin.forward(x).arraySync() as number[][]).flat().forEach((v, i) => expect(v).toBeCloseTo(want.flat()[i]!, 5));
    expect(lin.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
  });

  test('manualSeed makes initialisation reproducible', () => {
    sy.manualSeed(11);
    const a = flat(new sy.nn.Linear(3, 2).weight);
    sy.manualSeed(11);
    expect(flat(new sy.nn.Linear(3, 2).weight)).toEqual(a);
  });

  test('Sequential finds nested parameters and prints like PyTorch', () => {
    const model = new sy.nn.Sequential(new sy.nn.Linear(4, 3), new sy.nn.ReLU(), new sy.nn.Linear(3, 2));
    expect(model.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(model.toString()).toBe(
      'Sequential(\n  (0): Linear(in_features=4, out_features=3, bias=True)\n  (1): ReLU()\n  (2): Linear(in_features=3, out_features=2, bias=True)\n)',
    );
    expect(model.forward(sy.zeros([5, 4])).shape).toEqual([5, 2]);
  });

  test('mseLoss and crossEntropy match their definitions', () => {
    const p = sy.tensor([[0.2, 0.8], [0.5, 0.1]]);
    const t = sy.tensor([[0, 1], [1, 0]]);
    expect(sy.nn.mseLoss(p, t).item()).toBeCloseTo((0.04 + 0.04 + 0.25 + 0.01) / 4, 6);
    expect(sy.nn.mseLoss(p, t, { reduction: 'sum' }).item()).toBeCloseTo(0.34, 6);
    const logits = [[1, 2, 0.5], [-1, 0, 3]];
    const labels = [1, 2];
    const ref = logits.reduce((s, row, i) => {
      const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
      return s + lse - row[labels[i]!]!;
    }, 0) / 2;
    expect(sy.nn.crossEntropy(sy.tensor(logits), sy.tensor(labels)).item()).toBeCloseTo(ref, 5);
    expect(sy.nn.crossEntropy(sy.tensor(logits), sy.tensor([[0, 1, 0], [0, 0, 1]])).item()).toBeCloseTo(ref, 5);
  });

  test('copy is deep: training the copy leaves the original alone', () => {
    const model = new sy.nn.Linear(2, 1);
    const before = flat(model.weight);
    const twin = model.copy();
    expect(twin.weight).not.toBe(model.weight);
    expect(twin.weight.requiresGrad).toBe(true);
    const opt = new sy.optim.SGD(twin.parameters(), { lr: 0.5 });
    sy.nn.mseLoss(twin.forward(sy.tensor([[1, 1]])), sy.tensor([[5]])).backward();
    opt.step();
    expect(flat(model.weight)).toEqual(before);
    expect(flat(twin.weight)).not.toEqual(before);
  });
});

describe('optim', () => {
  const grads = (w0: number[], x: number[]) => {
    // loss = (w . x)^2 / 2  =>  dL/dw = (w . x) x
    const s = w0.reduce((a, w, i) => a + w * x[i]!, 0);
    return x.map((v) => s * v);
  };
  const stepOnce = (w: sy.Tensor, x: number[]) => {
    w.matmul(sy.tensor(x)).pow(2).div(2).backward();
  };

  test('SGD with momentum and weight decay follows the PyTorch update rule', () => {
    const x = [1, -2];
    const w = sy.tensor([0.5, 0.25], { requiresGrad: true });
    const opt = new sy.optim.SGD([w], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    let ref = [0.5, 0.25];
    let buf: number[] | undefined;
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      stepOnce(w, x);
      opt.step();
      const d = grads(ref, x).map((g, j) => g + 0.01 * ref[j]!);
      buf = buf ? buf.map((b, j) => 0.9 * b + d[j]!) : d;
      ref = ref.map((v, j) => v - 0.1 * buf![j]!);
    }
    flat(w).forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 5));
  });

  test('Adam follows its update rule', () => {
    const x = [1, -2];
    const w = sy.tensor([0.5, 0.25], { requiresGrad: true });
    const opt = new sy.optim.Adam([w], { lr: 0.05 });
    let ref = [0.5, 0.25];
    let m = [0, 0];
    let v = [0, 0];
    for (let t = 1; t <= 3; t++) {
      opt.zeroGrad();
      stepOnce(w, x);
      opt.step();
      const g = grads(ref, x);
      m = m.map((mi, j) => 0.9 * mi + 0.1 * g[j]!);
      v = v.map((vi, j) => 0.999 * vi + 0.001 * g[j]! ** 2);
      ref = ref.map((r, j) => r - (0.05 * (m[j]! / (1 - 0.9 ** t))) / (Math.sqrt(v[j]! / (1 - 0.999 ** t)) + 1e-8));
    }
    flat(w).forEach((val, i) => expect(val).toBeCloseTo(ref[i]!, 5));
  });

  test.each([false, true])('a remote model trains exactly as the same model locally (serialize: %s)', async (serialize) => {
    const bob = new sy.VirtualWorker({ id: 'bob', serialize });
    sy.manualSeed(5);
    const model = new sy.nn.Sequential(new sy.nn.Linear(3, 4), new sy.nn.Tanh(), new sy.nn.Linear(4, 2));
    const remote = model.copy().send(bob);
    const x = sy.tensor([[1, 0, -1], [0.5, 2, 0], [1, 1, 1]]);
    const y = sy.tensor([[1, 0], [0, 1], [1, 1]]);
    const xs = x.send(bob);
    const ys = y.send(bob);
    for (const [m, inp, out, Opt] of [
      [model, x, y, sy.optim.Adam],
      [remote, xs, ys, sy.optim.Adam],
    ] as const) {
      const opt = new Opt(m.parameters(), { lr: 0.05 });
      for (let i = 0; i < 5; i++) {
        sy.tidy(() => {
          opt.zeroGrad();
          sy.nn.mseLoss(m.forward(inp), out).backward();
          opt.step();
        });
      }
    }
    expect(remote.parameters().every((p) => p.isPointer)).toBe(true);
    await remote.get();
    model.parameters().forEach((p, i) => {
      const q = remote.parameters()[i]!;
      flat(p).forEach((v, j) => expect(flat(q)[j]).toBeCloseTo(v, 5));
    });
    // The parameters left with get(); x, y and Adam's two moment buffers per parameter (which
    // live where the parameters lived) remain; every intermediate of the five steps is gone.
    await bob.sync();
    expect(bob.objectCount).toBe(2 + 2 * 4);
  });
});
