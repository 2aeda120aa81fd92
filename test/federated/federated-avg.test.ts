// sy.federated.federatedAvg as PySyft's utils.federated_avg: the parameter-wise mean of copies of
// one model (sum, times 1/n), as a new model, local or on the workers' common worker; the inputs
// are left as they were; mismatched models are refused with what differs.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

class Net extends sy.nn.Module {
  fc1 = new sy.nn.Linear(2, 3);
  fc2 = new sy.nn.Linear(3, 1);
  forward(x: sy.Tensor): sy.Tensor {
    return this.fc2.forward(this.fc1.forward(x).relu());
  }
}

/** A Net whose every parameter element is `base + index` (exact in float32). */
function net(base: number): Net {
  const n = new Net();
  for (const p of n.parameters()) {
    const v = Float32Array.from({ length: p.numel() }, (_, i) => base + i);
    p.data = sy.tensor(v, { shape: p.shape });
  }
  return n;
}

const flat = (m: sy.nn.Module) => m.parameters().map((p) => (p.child.child as sy.FloatTensor).values);

describe('federatedAvg', () => {
  test('the exact mean of four local models; the inputs are unchanged; a new model that trains', () => {
    const models = [net(1), net(2), net(10), net(-5)];
    const before = models.map(flat).map((ps) => ps.map((v) => v.slice()));
    const avg = sy.federated.federatedAvg(models);
    expect(avg).toBeInstanceOf(Net);
    expect(models).not.toContain(avg);
    // (1 + 2 + 10 - 5) / 4 = 2: every element is 2 + its index.
    flat(avg).forEach((v) => expect([...v]).toEqual(Array.from(v, (_, i) => 2 + i)));
    models.forEach((m, k) => expect(flat(m)).toEqual(before[k]));
    expect(avg.parameters().every((p) => p.requiresGrad && p.isLeaf && p.isParameter)).toBe(true);
    avg.forward(sy.tensor([[1, 2]])).sum().backward();
    expect(avg.fc1.weight.grad).toBeDefined();
    expect(models[0]!.fc1.weight.grad).toBeUndefined();
  });

  test('three models: sum times 1/3 in float32, as PySyft scales; a Map or an object works too', () => {
    const models = [net(0.1), net(0.7), net(-0.25)];
    const want = flat(models[0]!).map((v, k) =>
      Array.from(v, (_, i) => Math.fround(Math.fround(Math.fround(v[i]! + flat(models[1]!)[k]![i]!) + flat(models[2]!)[k]![i]!) * Math.fround(1 / 3))),
    );
    expect(flat(sy.federated.federatedAvg(models)).map((v) => [...v])).toEqual(want);
    expect(flat(sy.federated.federatedAvg(new Map(models.map((m, i) => [i, m]))))).toEqual(flat(sy.federated.federatedAvg(models)));
    expect(flat(sy.federated.federatedAvg({ bob: models[0]!, alice: models[1]!, carol: models[2]! }))).toEqual(flat(sy.federated.federatedAvg(models)));
  });

  test('models on one worker are averaged there', async () => {
    const secure = new sy.VirtualWorker({ id: 'avg-secure' });
    const bob = new sy.VirtualWorker({ id: 'avg-bob' });
    const alice = new sy.VirtualWorker({ id: 'avg-alice' });
    const bobs = net(3).send(bob);
    const alices = net(5).send(alice);
    // As PySyft's Part 4: the trained copies move to a trusted worker, which averages them.
    bobs.move(secure);
    alices.move(secure);
    const avg = sy.federated.federatedAvg([bobs, alices]);
    expect(avg.parameters().every((p) => p.location === secure)).toBe(true);
    const home = await avg.copy().get();
    flat(home).forEach((v) => expect([...v]).toEqual(Array.from(v, (_, i) => 4 + i)));
    // The inputs are still there, unchanged.
    const b = await bobs.get();
    flat(b).forEach((v) => expect([...v]).toEqual(Array.from(v, (_, i) => 3 + i)));
    await secure.sync();
    expect(secure.objectCount).toBe(2 * 4); // alice's model and the average: 4 parameters each
  });

  test('mismatched or scattered models are refused, saying what differs', () => {
    class Other extends sy.nn.Module {
      fc1 = new sy.nn.Linear(2, 3);
      forward(x: sy.Tensor): sy.Tensor {
        return this.fc1.forward(x);
      }
    }
    class Wide extends sy.nn.Module {
      fc1: sy.nn.Linear;
      constructor(n: number) {
        super();
        this.fc1 = new sy.nn.Linear(2, n);
      }
      forward(x: sy.Tensor): sy.Tensor {
        return this.fc1.forward(x);
      }
    }
    expect(() => sy.federated.federatedAvg([])).toThrow(/at least one model/);
    expect(() => sy.federated.federatedAvg([net(1), new Other() as unknown as Net])).toThrow(/model 1 is a Other and model 0 a Net/);
    expect(() => sy.federated.federatedAvg([new Wide(3), new Wide(4)])).toThrow(/fc1.weight is \[4, 2\] in model 1 and \[3, 2\] in model 0/);
    const bob = new sy.VirtualWorker({ id: 'avg-bob-2' });
    const alice = new sy.VirtualWorker({ id: 'avg-alice-2' });
    expect(() => sy.federated.federatedAvg([net(1).send(bob), net(1).send(alice)])).toThrow(
      /fc1.weight of model 1 is 'avg-alice-2' and the parameters of model 0 are 'avg-bob-2': bring the models to one place first/,
    );
    expect(() => sy.federated.federatedAvg([net(1), net(1).send(bob)])).toThrow(/is 'avg-bob-2' and the parameters of model 0 are here \(local\)/);
    expect(() => sy.federated.federatedAvg([{} as Net])).toThrow(/not a sy.nn.Module/);
  });
});
