// Float tensors run tfjs kernels directly on the backend (src/tensors/tf-kernels.ts). Nothing may
// stay in tfjs: neither tracked tensors nor backend buffers, over a long CNN training run, and
// also when a kernel fails half way.
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { liveKernelData, runKernel } from '../../src/tensors/tf-kernels.js';

class Net extends sy.nn.Module {
  conv1 = new sy.nn.Conv2d(1, 4, 5);
  conv2 = new sy.nn.Conv2d(4, 6, 3, { padding: 1 });
  bn = new sy.nn.BatchNorm2d(6);
  fc = new sy.nn.Linear(6 * 2 * 2, 10);
  forward(x: sy.Tensor): sy.Tensor {
    const F = sy.nn.functional;
    const h = F.maxPool2d(F.relu(this.conv1.forward(x)), 2);
    const g = F.avgPool2d(F.relu(this.bn.forward(this.conv2.forward(h))), 2);
    return F.logSoftmax(this.fc.forward(F.dropout(g.flatten(1), 0.2, this.training)), 1);
  }
}

test('300 CNN training steps leave tfjs and its backend holding nothing', () => {
  sy.manualSeed(1);
  const model = new Net();
  const opt = new sy.optim.Adam(model.parameters(), { lr: 1e-2 });
  const x = sy.randn([8, 1, 14, 14]);
  const y = sy.tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: 'int64' });
  const at: [number, number][] = [];
  let first = 0;
  let last = 0;
  for (let step = 0; step < 300; step++) {
    opt.zeroGrad();
    const loss = sy.nn.nllLoss(model.forward(x), y);
    loss.backward();
    opt.step();
    if (step === 0) first = loss.item();
    last = loss.item();
    if (step % 50 === 0) at.push([tf.memory().numTensors, liveKernelData()]);
  }
  expect(last).toBeLessThan(first / 4);
  expect(new Set(at.map(([t]) => t)).size).toBe(1);
  expect(new Set(at.map(([, d]) => d)).size).toBe(1);
  expect(liveKernelData()).toBe(at[0]![1]);
});

test('a kernel that throws frees the inputs it was given', () => {
  const before = liveKernelData();
  const a = { values: new Float32Array(6), shape: [1, 2, 3] };
  expect(() => runKernel('BatchMatMul', { a, b: { values: new Float32Array(8), shape: [1, 4, 2] } }, {})).toThrow();
  expect(() => runKernel('NoSuchKernel', { x: a })).toThrow(/no 'NoSuchKernel' kernel/);
  expect(liveKernelData()).toBe(before);
});
