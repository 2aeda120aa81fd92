import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';

test('10,000 training steps on a virtual worker keep tfjs tensors and the worker store flat', async () => {
  const bob = new sy.VirtualWorker({ id: 'bob' });
  const model = new sy.nn.Linear(2, 1).send(bob);
  const x = sy.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]).send(bob);
  const y = sy.tensor([[0], [0], [1], [1]]).send(bob);
  const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.5 });
  const tensorsAt: number[] = [];
  const objectsAt: number[] = [];
  let loss = 0;
  for (let step = 1; step <= 10_000; step++) {
    const l = sy.tidy(() => {
      opt.zeroGrad();
      const l = model.forward(x).sub(y).pow(2).sum();
      l.backward();
      opt.step();
      return l;
    });
    if (step % 100 === 0) {
      loss = (await l.get()).item();
      tensorsAt.push(tf.memory().numTensors);
      objectsAt.push(bob.objectCount);
    } else {
      l.dispose();
    }
  }
  await bob.sync();
  expect(loss).toBeLessThan(0.1);
  // tfjs holds nothing between ops, at any point of the run
  expect(new Set(tensorsAt).size).toBe(1);
  // weight, bias, two momentum buffers, x and y: nothing else survives a step
  expect(Math.max(...objectsAt)).toBe(6);
  expect(bob.objectCount).toBe(6);
  // referenced until the end, so the GC cannot free their remote objects during the checks
  expect([model, x, y, opt].every(Boolean)).toBe(true);
});
