import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { DELETE_FLUSH_THRESHOLD, flushDeletes, pendingDeleteCount } from '../../src/workers/deletes.js';

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

test('a loop that never yields and never tidies: frees reach the worker without waiting for the event loop', () => {
  // Synchronous on purpose: no await, so no microtask and no FinalizationRegistry callback runs.
  const bob = new sy.VirtualWorker({ id: 'bob' });
  const model = new sy.nn.Linear(2, 1).send(bob);
  const x = sy.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]).send(bob);
  const y = sy.tensor([[0], [0], [1], [1]]).send(bob);
  const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 });
  const base = bob.objectCount;
  const counts: number[] = [];
  for (let step = 1; step <= 5_000; step++) {
    opt.zeroGrad();
    const out = model.forward(x);
    const diff = out.sub(y);
    const sq = diff.pow(2);
    const loss = sq.sum();
    loss.backward();
    opt.step();
    // The user frees what the user made; the optimizer and autograd free their own temporaries.
    for (const t of [out, diff, sq, loss]) t.dispose();
    if (step % 500 === 0) counts.push(bob.objectCount - base);
  }
  // Without the bounded queue every free of the run would still wait for a microtask (12 a step).
  expect(Math.max(...counts)).toBeLessThanOrEqual(DELETE_FLUSH_THRESHOLD + 12);
  expect(pendingDeleteCount()).toBeLessThan(DELETE_FLUSH_THRESHOLD);
  flushDeletes();
  expect(bob.objectCount).toBe(base);
  expect([model, x, y, opt].every(Boolean)).toBe(true);
});

test('without dispose, a non-yielding loop leaves only the user-visible intermediates on the worker', () => {
  // The optimizer's and autograd's temporaries are freed at once; the four results the user's
  // expression made (linear, sub, pow, sum) can only be found by the garbage collector, whose
  // callbacks wait for the event loop: bounded by sy.tidy, or freed at the next yield.
  const bob = new sy.VirtualWorker({ id: 'bob' });
  const model = new sy.nn.Linear(2, 1).send(bob);
  const x = sy.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]).send(bob);
  const y = sy.tensor([[0], [0], [1], [1]]).send(bob);
  const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 });
  const steps = 2_000;
  const base = bob.objectCount;
  for (let step = 0; step < steps; step++) {
    opt.zeroGrad();
    model.forward(x).sub(y).pow(2).sum().backward();
    opt.step();
  }
  flushDeletes();
  expect(bob.objectCount - base).toBe(4 * steps);
  expect([model, x, y, opt].every(Boolean)).toBe(true);
});
