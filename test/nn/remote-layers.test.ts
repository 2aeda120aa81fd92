// The layers on remote (pointer) models: every op the model sends is in the op table and run by
// the worker's allow-list, and a remote model computes what its local twin computes, step for step.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { OPS } from '../../src/layer/ops.js';
import { tensorCommands } from '../../src/tensors/commands.js';
import { maxRelErr, randArr, rng, tensorOf, values } from './reference.js';

const F = sy.nn.functional;

/** PySyft's Part 6 CNN, scaled down (with batch norm and dropout on top). */
class Net extends sy.nn.Module {
  conv1 = new sy.nn.Conv2d(1, 4, 3);
  bn = new sy.nn.BatchNorm2d(4);
  conv2 = new sy.nn.Conv2d(4, 6, 3, { stride: 1, padding: 1 });
  fc1 = new sy.nn.Linear(6 * 2 * 2, 8);
  drop = new sy.nn.Dropout(0.3);
  fc2 = new sy.nn.Linear(8, 3);
  forward(x: sy.Tensor): sy.Tensor {
    let h = F.maxPool2d(F.relu(this.bn.forward(this.conv1.forward(x))), 2);
    h = F.avgPool2d(F.relu(this.conv2.forward(h)), 2);
    h = this.drop.forward(F.relu(this.fc1.forward(h.flatten(1))));
    return F.logSoftmax(this.fc2.forward(h), 1);
  }
}

test('every op a layer sends is in the op table and on the allow-list', () => {
  for (const op of ['im2col', 'col2im', 'conv2d', 'convTranspose2d', 'conv2dWeight', 'maxPool2d', 'maxPool2dBackward', 'avgPool2d', 'linear', 'logSoftmax', 'softmax', 'gather', 'scatterAdd', 'dropoutMask']) {
    expect(OPS[op]?.remote, op).toBe(true);
    expect(tensorCommands[op], op).toBeDefined();
  }
});

describe.each([false, true])('a remote CNN (serialize: %s)', (serialize) => {
  test('trains exactly as its local twin: losses, parameters, running statistics, dropout masks', async () => {
    const bob = new sy.VirtualWorker({ id: `cnn-bob-${serialize}`, serialize });
    sy.manualSeed(21);
    const local = new Net();
    const remote = local.copy().send(bob);
    const r = rng(22);
    const batches = Array.from({ length: 3 }, () => ({
      x: tensorOf(randArr(r, 5 * 1 * 10 * 10), [5, 1, 10, 10]),
      y: sy.tensor([0, 2, 1, 1, 0], { dtype: 'int64' }),
    }));
    const optL = new sy.optim.Adam(local.parameters(), { lr: 0.01 });
    const optR = new sy.optim.Adam(remote.parameters(), { lr: 0.01 });
    const xs = batches.map((b) => ({ x: b.x.send(bob), y: b.y.send(bob) }));
    for (let i = 0; i < batches.length; i++) {
      sy.manualSeed(100 + i); // the same dropout mask on both sides
      const lossL = sy.tidy(() => {
        optL.zeroGrad();
        const l = F.nllLoss(local.forward(batches[i]!.x), batches[i]!.y);
        l.backward();
        optL.step();
        return l;
      });
      sy.manualSeed(100 + i);
      const lossR = sy.tidy(() => {
        optR.zeroGrad();
        const l = F.nllLoss(remote.forward(xs[i]!.x), xs[i]!.y);
        l.backward();
        optR.step();
        return l;
      });
      expect(lossR.isPointer).toBe(true);
      expect((await lossR.get()).item()).toBeCloseTo(lossL.item(), 5);
    }
    expect(remote.parameters().every((p) => p.isPointer)).toBe(true);
    expect(remote.bn.runningMean!.isPointer).toBe(true);
    // Only the parameters, buffers, data and Adam's moments remain on the worker.
    await bob.sync();
    const nParams = local.parameters().length;
    expect(bob.objectCount).toBe(nParams + 2 + 2 * batches.length + 2 * nParams);
    await remote.get();
    local.parameters().forEach((p, j) => expect(maxRelErr(values(remote.parameters()[j]!), values(p))).toBeLessThan(1e-5));
    expect(maxRelErr(values(remote.bn.runningVar!), values(local.bn.runningVar!))).toBeLessThan(1e-6);
    // eval mode on the fetched model equals the local twin's
    local.eval();
    remote.eval();
    expect(maxRelErr(values(remote.forward(batches[0]!.x)), values(local.forward(batches[0]!.x)))).toBeLessThan(1e-5);
  });
});

test('a worker refuses a windowed op whose arguments do not fit, before computing anything', async () => {
  const bob = new sy.VirtualWorker({ id: 'cnn-refuse' });
  const x = sy.zeros([1, 1, 4, 4]).send(bob);
  const w = sy.zeros([2, 1, 5, 5]).send(bob);
  // The pointer checks the same rule before sending…
  expect(() => F.conv2d(x, w)).toThrow(/does not fit a 4x4 input/);
  // …and the worker checks it again for a command that skips the pointer's check.
  const p = x.child as sy.PointerTensor;
  const [out] = p.command('conv2d', [w.child, null, [1, 1], [0, 0]], [[1, 2, 1, 1]]);
  await expect(out!.get()).rejects.toThrow(/does not fit a 4x4 input/);
  const [big] = p.command('im2col', [[1, 1], [1, 1], [20000, 20000]], [[1, 1, 1]]);
  await expect(big!.get()).rejects.toThrow(/2\^28 elements/);
});

test('stateDict and loadStateDict on a remote model: pointers in, pointers out', async () => {
  const bob = new sy.VirtualWorker({ id: 'cnn-state' });
  sy.manualSeed(3);
  const a = new Net().send(bob);
  const b = new Net().send(bob);
  const dict = a.stateDict();
  expect(Object.values(dict).filter((t) => t.isPointer).length).toBe(a.parameters().length + a.buffers().length);
  b.loadStateDict(dict);
  await Promise.all([a.get(), b.get()]);
  a.parameters().forEach((p, i) => expect(values(b.parameters()[i]!)).toEqual(values(p)));
  // a local dict cannot load into a remote model: the error says what to do
  const c = new Net().send(bob);
  expect(() => c.loadStateDict(new Net().stateDict())).toThrow(/send\(\) the state dict's tensors/);
});

test('functional ops on pointers: adaptive pooling (sends its pooling matrix), softmax, losses', async () => {
  const bob = new sy.VirtualWorker({ id: 'cnn-functional' });
  const r = rng(9);
  const x = tensorOf(randArr(r, 2 * 3 * 7 * 5), [2, 3, 7, 5]);
  const xs = x.send(bob);
  expect(maxRelErr(values(await F.adaptiveAvgPool2d(xs, [3, 2]).get()), values(F.adaptiveAvgPool2d(x, [3, 2])))).toBeLessThan(1e-6);
  const logits = tensorOf(randArr(r, 4 * 5), [4, 5]);
  const labels = sy.tensor([4, 0, 2, 2], { dtype: 'int64' });
  const [ls, ys] = [logits.send(bob), labels.send(bob)];
  expect(maxRelErr(values(await F.softmax(ls, 1).get()), values(F.softmax(logits, 1)))).toBeLessThan(1e-6);
  expect((await F.crossEntropy(ls, ys, { reduction: 'sum' }).get()).item()).toBeCloseTo(F.crossEntropy(logits, labels, { reduction: 'sum' }).item(), 5);
  expect((await F.mseLoss(ls, ls.mul(2)).get()).item()).toBeCloseTo(F.mseLoss(logits, logits.mul(2)).item(), 6);
  expect(maxRelErr(values(await F.unfold(xs, 2, 1, 1, 2).get()), values(F.unfold(x, 2, 1, 1, 2)))).toBe(0);
});
