// `.grad` travels with its tensor (the autograd codec): after a remote backward(), get() brings
// the gradient home (PySyft's test_remote_autograd and test_gradient_send_recv), send() and move()
// keep it, a remote model's get() brings its parameters' gradients; and where a tensor is, who
// owns the handle, and where a model is (tensor.location, tensor.owner, model.location).
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

const flat = (t: sy.Tensor | undefined) => (t!.arraySync() as number[]).flat(3);

describe.each([false, true])('gradients travel with their tensors (serialize: %s)', (serialize) => {
  let n = 0;
  const worker = (name: string) => new sy.VirtualWorker({ id: `${name}-${serialize ? 's' : 'p'}${n++}`, serialize });

  test('after a remote backward(), get() brings the tensor home with its .grad (PySyft test_remote_autograd)', async () => {
    const bob = worker('bob');
    const x = sy.tensor([1, 2, 3, 4], { requiresGrad: true }).send(bob);
    x.add(x).sum().backward();
    const remoteGrad = await x.grad!.get();
    x.mul(x).sum().backward(); // accumulates: 2 + 2x
    const back = await x.get();
    expect(back.isPointer).toBe(false);
    expect(back.requiresGrad).toBe(true);
    expect(back.isLeaf).toBe(true);
    expect(flat(remoteGrad)).toEqual([2, 2, 2, 2]);
    expect(flat(back.grad)).toEqual([4, 6, 8, 10]);
    // It trains on here as any leaf does.
    back.sum().backward();
    expect(flat(back.grad)).toEqual([5, 7, 9, 11]);
  });

  test('send() and get() keep a gradient computed here (PySyft test_gradient_send_recv); move() keeps it too', async () => {
    const bob = worker('bob');
    const alice = worker('alice');
    const x = sy.tensor([1, 2, 3, 4], { requiresGrad: true });
    x.mul(3).sum().backward();
    const p = x.send(bob);
    await bob.sync();
    expect(flat(await p.grad!.get())).toEqual([3, 3, 3, 3]);
    p.move(alice);
    p.mul(p).sum().backward();
    const t = await p.get();
    expect(flat(t.grad)).toEqual([5, 7, 9, 11]); // 3 + 2x, accumulated on alice
    expect(t.requiresGrad).toBe(true);
  });

  test("a remote model's get() brings its parameters' gradients home", async () => {
    const bob = worker('bob');
    sy.manualSeed(3);
    const model = new sy.nn.Linear(3, 2);
    const twin = model.copy();
    const data = sy.tensor([[1, 2, 3], [-1, 0.5, 2]]);
    model.send(bob);
    model.forward(data.send(bob)).pow(2).sum().backward();
    await model.get();
    twin.forward(data).pow(2).sum().backward();
    model.parameters().forEach((p, i) => {
      const want = flat(twin.parameters()[i]!.grad);
      flat(p.grad).forEach((g, j) => expect(g).toBeCloseTo(want[j]!, 5));
    });
  });

  test('a gradient of the wrong shape in a message is refused with the object', async () => {
    const bob = worker('bob');
    const value = { type: 'float', shape: [2], values: new Float32Array([1, 2]) };
    bob.post({ kind: 'store', id: 11, obj: { type: 'autograd', requiresGrad: true, child: value, grad: { type: 'float', shape: [3], values: new Float32Array(3) } } }, sy.local);
    bob.post({ kind: 'store', id: 12, obj: { type: 'autograd', requiresGrad: true, child: value, grad: { type: 'autograd', requiresGrad: false, child: value } } }, sy.local);
    bob.post({ kind: 'store', id: 13, obj: { type: 'autograd', requiresGrad: true, child: value, grad: value } }, sy.local);
    await bob.sync();
    expect(bob.objectIds()).toEqual([13]);
    expect(flat(new sy.Tensor((bob.peek(13) as sy.AbstractTensor).gradLayer()!))).toEqual([1, 2]);
  });
});

describe('where tensors and models are', () => {
  test('tensor.location is the worker holding the numbers; tensor.owner the worker owning the handle', () => {
    const bob = new sy.VirtualWorker({ id: 'where-bob' });
    const x = sy.tensor([1]);
    expect(x.location).toBeUndefined();
    expect(x.owner).toBe(sy.local);
    expect(sy.local.id).toBe('me');
    const p = x.send(bob);
    expect(p.location).toBe(bob);
    expect(p.owner).toBe(sy.local);
  });

  test('model.location: undefined here, the worker once sent, an error naming where the parameters are when they are spread', () => {
    const bob = new sy.VirtualWorker({ id: 'where-mbob' });
    const alice = new sy.VirtualWorker({ id: 'where-malice' });
    const crypto = new sy.VirtualWorker({ id: 'where-mcrypto' });
    const model = new sy.nn.Sequential(new sy.nn.Linear(2, 3), new sy.nn.ReLU(), new sy.nn.Linear(3, 1));
    expect(model.location).toBeUndefined();
    model.send(bob);
    expect(model.location).toBe(bob);
    const data = sy.tensor([[1, 2]]).send(bob);
    expect(data.location).toBe(model.location); // train where the data is
    model.move(alice);
    expect(model.location).toBe(alice);
    (model.layers[2] as sy.nn.Linear).bias!.move(bob);
    expect(() => model.location).toThrow(sy.StateError);
    expect(() => model.location).toThrow(/0\.weight, 0\.bias, 2\.weight on 'where-malice'; 2\.bias on 'where-mbob'.*model\.move\(worker\)/);
    const shared = new sy.nn.Linear(2, 1).fixPrecision().share(bob, alice, { cryptoProvider: crypto });
    expect(() => shared.location).toThrow(/secret-shared.*A shared model lives with all of its parties/);
    expect(new sy.nn.ReLU().location).toBeUndefined(); // no parameters: here
  });
});
