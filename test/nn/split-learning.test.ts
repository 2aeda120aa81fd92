// Split learning as PySyft 0.2's SplitNN tutorials train it: a model cut across workers, the
// activation moved across each cut (`a.detach().move(next).requiresGrad_()`), backward() on the
// far side, the moved tensor's .grad moved back and `a.backward(grad)` on the near side. Checked
// against a local twin (same initial weights, same batches): the same losses and weights to 1e-5.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

const flat = (t: sy.Tensor) => (t.arraySync() as number[]).flat(3);

/** PySyft's SplitNN class (Tutorial 2), with this library's calls. */
class SplitNN {
  inputs: (sy.Tensor | undefined)[] = [];
  outputs: (sy.Tensor | undefined)[] = [];
  constructor(readonly models: sy.nn.Module[], readonly optimizers: sy.optim.SGD[]) {}

  forward(x: sy.Tensor): sy.Tensor {
    this.inputs[0] = x;
    this.outputs[0] = this.models[0]!.forward(x);
    for (let i = 1; i < this.models.length; i++) {
      let input = this.outputs[i - 1]!.detach().requiresGrad_();
      if (this.outputs[i - 1]!.location !== this.models[i]!.location) input = input.move(this.models[i]!.location!).requiresGrad_();
      this.inputs[i] = input;
      this.outputs[i] = this.models[i]!.forward(input);
    }
    return this.outputs.at(-1)!;
  }

  backward(): void {
    for (let i = this.models.length - 2; i >= 0; i--) {
      let gradIn = this.inputs[i + 1]!.grad!.copy();
      if (this.outputs[i]!.location !== this.inputs[i + 1]!.location) gradIn = gradIn.move(this.outputs[i]!.location!);
      this.outputs[i]!.backward(gradIn);
    }
  }

  zeroGrads(): void {
    for (const o of this.optimizers) o.zeroGrad();
  }

  step(): void {
    for (const o of this.optimizers) o.step();
  }
}

function segments(sizes: number[][]): sy.nn.Sequential[] {
  return sizes.map(([i, o], k) => (k < sizes.length - 1 ? new sy.nn.Sequential(new sy.nn.Linear(i!, o!), new sy.nn.ReLU()) : new sy.nn.Sequential(new sy.nn.Linear(i!, o!))));
}

function toyBatches(count: number, batch: number, inputs: number, classes: number) {
  const x = sy.randn([count * batch, inputs]);
  const labels = Array.from({ length: count * batch }, (_, i) => (i * 7) % classes);
  const y = sy.tensor(labels.map((l) => Array.from({ length: classes }, (_, c) => (c === l ? 1 : 0))));
  return Array.from({ length: count }, (_, b) => [x.slice(b * batch, (b + 1) * batch), y.slice(b * batch, (b + 1) * batch)] as const);
}

describe('split learning trains with plain backward() calls, equal to a local twin', () => {
  test("Tutorial 1's cut: alice holds the images and the bottom, bob the labels and the top", async () => {
    const alice = new sy.VirtualWorker({ id: 'split-alice' });
    const bob = new sy.VirtualWorker({ id: 'split-bob' });
    sy.manualSeed(0);
    const models = segments([[20, 16], [16, 12], [12, 4]]);
    const [bottom, top] = [new sy.nn.Sequential(models[0]!, models[1]!), models[2]!];
    const twin = [bottom.copy(), top.copy()];
    const batches = toyBatches(6, 8, 20, 4);
    bottom.send(alice);
    top.send(bob);
    expect([bottom.location, top.location]).toEqual([alice, bob]);
    const opts = [bottom, top].map((m) => new sy.optim.SGD(m.parameters(), { lr: 0.03 }));
    const twinOpts = twin.map((m) => new sy.optim.SGD(m.parameters(), { lr: 0.03 }));

    const losses: number[] = [];
    const twinLosses: number[] = [];
    const objects: number[] = [];
    for (const [x, y] of batches) {
      const images = x.send(alice);
      const labels = y.send(bob);
      const loss = sy.tidy(() => {
        for (const o of opts) o.zeroGrad();
        const a = bottom.forward(images); // on alice
        const remoteA = a.detach().move(bob).requiresGrad_(); // the cut: only the activation crosses
        const pred = top.forward(remoteA); // on bob
        const loss = sy.nn.crossEntropy(pred, labels);
        loss.backward(); // on bob, down to the cut
        const gradA = remoteA.grad!.copy().move(alice); // the gradient crosses back
        a.backward(gradA); // on alice
        for (const o of opts) o.step();
        return loss;
      });
      losses.push((await loss.get()).item());
      images.dispose();
      labels.dispose();
      await alice.sync();
      await bob.sync();
      objects.push(alice.objectCount + bob.objectCount);

      for (const o of twinOpts) o.zeroGrad();
      const l = sy.nn.crossEntropy(twin[1]!.forward(twin[0]!.forward(x)), y);
      l.backward();
      for (const o of twinOpts) o.step();
      twinLosses.push(l.item());
    }
    losses.forEach((l, i) => expect(Math.abs(l - twinLosses[i]!)).toBeLessThan(1e-5));
    expect(losses.at(-1)!).toBeLessThan(losses[0]!); // it learns
    // Nothing piles up on the workers from step to step: the parameters only.
    expect(new Set(objects).size).toBe(1);
    expect(objects[0]).toBe(bottom.parameters().length + top.parameters().length);
    await Promise.all([bottom.get(), top.get()]);
    [bottom, top].forEach((m, k) =>
      m.parameters().forEach((p, i) => {
        const want = flat(twin[k]!.parameters()[i]!);
        flat(p).forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThan(1e-5));
      }),
    );
  });

  test("Tutorial 2's SplitNN over three workers gives the twin's losses and weights", async () => {
    const workers = ['split3-alice', 'split3-bob', 'split3-claire'].map((id) => new sy.VirtualWorker({ id }));
    sy.manualSeed(1);
    const models = segments([[10, 8], [8, 6], [6, 3]]);
    const twin = models.map((m) => m.copy());
    models.forEach((m, i) => m.send(workers[i]!));
    const split = new SplitNN(models, models.map((m) => new sy.optim.SGD(m.parameters(), { lr: 0.05 })));
    const twinOpts = twin.map((m) => new sy.optim.SGD(m.parameters(), { lr: 0.05 }));
    for (const [x, y] of toyBatches(4, 5, 10, 3)) {
      const loss = sy.tidy(() => {
        split.zeroGrads();
        const pred = split.forward(x.send(workers[0]!));
        const loss = sy.nn.crossEntropy(pred, y.send(workers[2]!));
        loss.backward();
        split.backward();
        split.step();
        return loss;
      });
      const remote = (await loss.get()).item();
      for (const o of twinOpts) o.zeroGrad();
      const l = sy.nn.crossEntropy(twin.reduce<sy.Tensor>((h, m) => m.forward(h), x), y);
      l.backward();
      for (const o of twinOpts) o.step();
      expect(Math.abs(remote - l.item())).toBeLessThan(1e-5);
    }
    for (const [k, m] of models.entries()) {
      await m.get();
      m.parameters().forEach((p, i) => {
        const want = flat(twin[k]!.parameters()[i]!);
        flat(p).forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThan(1e-5));
      });
    }
  });

  test('across thread workers too', async () => {
    const [alice, bob] = await Promise.all(['split-talice', 'split-tbob'].map((id) => sy.ThreadWorker.start({ id })));
    try {
      alice.introduce(bob, sy.local);
      sy.manualSeed(2);
      const [bottom, top] = segments([[6, 5], [5, 2]]);
      const twin = [bottom!.copy(), top!.copy()];
      bottom!.send(alice);
      top!.send(bob);
      const opts = [bottom!, top!].map((m) => new sy.optim.SGD(m.parameters(), { lr: 0.1 }));
      const twinOpts = twin.map((m) => new sy.optim.SGD(m.parameters(), { lr: 0.1 }));
      for (const [x, y] of toyBatches(3, 4, 6, 2)) {
        const loss = sy.tidy(() => {
          for (const o of opts) o.zeroGrad();
          const a = bottom!.forward(x.send(alice));
          const remoteA = a.detach().move(bob).requiresGrad_();
          const loss = sy.nn.crossEntropy(top!.forward(remoteA), y.send(bob));
          loss.backward();
          a.backward(remoteA.grad!.copy().move(alice));
          for (const o of opts) o.step();
          return loss;
        });
        for (const o of twinOpts) o.zeroGrad();
        const l = sy.nn.crossEntropy(twin[1]!.forward(twin[0]!.forward(x)), y);
        l.backward();
        for (const o of twinOpts) o.step();
        expect(Math.abs((await loss.get()).item() - l.item())).toBeLessThan(1e-5);
      }
      await bottom!.get();
      flat(bottom!.parameters()[0]!).forEach((v, j) => expect(Math.abs(v - flat(twin[0]!.parameters()[0]!)[j]!)).toBeLessThan(1e-5));
    } finally {
      await Promise.all([alice.close(), bob.close()]);
    }
  });
});
