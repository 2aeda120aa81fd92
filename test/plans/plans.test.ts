// PySyft 0.2's plan behaviours (Part 8 tutorial and test/execution/test_plan.py), ported: building
// (from example tensors or argShapes), state, local calls, sending and remote calls with one
// message, fetching plans back, class plans, plans of modules, nested plans.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import type { Message } from '../../src/workers/messages.js';

function flat(t: sy.Tensor): number[] {
  return ([t.arraySync()].flat(Infinity as 1) as (number | bigint)[]).map(Number);
}

function workers(tag: string, n = 2): sy.VirtualWorker[] {
  return Array.from({ length: n }, (_, i) => new sy.VirtualWorker({ id: `${tag}-${i}` }));
}

/** Counts the messages `w` receives from this process while `fn` runs. */
async function messagesTo(w: sy.VirtualWorker, fn: () => unknown): Promise<Message[]> {
  const log: Message[] = [];
  const original = w.receive.bind(w);
  w.receive = (raw, from, reply) => {
    if (from === 'me') log.push(raw as Message);
    original(raw, from, reply);
  };
  try {
    await fn();
  } finally {
    w.receive = original;
  }
  return log;
}

const planAbs = () => sy.func2plan((data: sy.Tensor) => data.abs(), { argShapes: [[1]] });

class Net extends sy.Plan {
  fc1 = new sy.nn.Linear(2, 3);
  fc2 = new sy.nn.Linear(3, 1);
  bias = sy.tensor([1000]);
  forward(x: sy.Tensor): sy.Tensor {
    return this.fc2.forward(this.fc1.forward(x).relu()).add(this.bias);
  }
}

describe('building', () => {
  test('planBuiltAutomatically: argShapes build the plan at once', () => {
    const plan = planAbs();
    expect(plan.isBuilt).toBe(true);
    expect(plan.readablePlan.length).toBeGreaterThan(0);
    expect(plan.readablePlan.join('\n')).toMatch(/abs\(\)/);
    expect(typeof plan.toString()).toBe('string');
  });

  test('statefulPlanBuiltAutomatically: state tensors reach the function as its last argument', () => {
    const foo = sy.func2plan((x: sy.Tensor, state: sy.PlanState) => {
      const [bias] = state.read();
      return x.mul(2).add(bias!);
    }, { argShapes: [[1]], state: [sy.tensor([1])] });
    expect(foo.isBuilt).toBe(true);
    expect(flat(foo(sy.tensor([1, 2])) as sy.Tensor)).toEqual([3, 5]);
  });

  test('planBuild: a plan without shapes is built by build(example)', () => {
    const plan = sy.func2plan((data: sy.Tensor) => data.abs());
    expect(plan.isBuilt).toBe(false);
    expect(plan.readablePlan).toEqual([]);
    plan.build(sy.tensor([-1]));
    expect(plan.isBuilt).toBe(true);
    expect(plan.readablePlan.length).toBeGreaterThan(0);
  });

  test('statefulPlanBuild: an unbuilt plan runs its function, state included', () => {
    const foo = sy.func2plan((x: sy.Tensor, state: sy.PlanState) => x.mul(2).add(state.read()[0]!), { state: [sy.tensor([1])] });
    expect(flat(foo(sy.tensor([1, 2])) as sy.Tensor)).toEqual([3, 5]);
  });

  test('planBuiltAutomaticallyWithAnyDimension: -1 stands for any size', () => {
    const plan = sy.func2plan((data: sy.Tensor) => data.abs(), { argShapes: [[-1, 1]] });
    expect(plan.isBuilt).toBe(true);
    expect(flat(plan(sy.tensor([[-3], [4], [-5]])) as sy.Tensor)).toEqual([3, 4, 5]);
  });

  test('raiseExceptionForInvalidShape', () => {
    expect(() => sy.func2plan((d: sy.Tensor) => d, { argShapes: [[1, -20]] })).toThrow(sy.ValueError);
  });

  test('raiseExceptionWhenSendingUnbuiltPlan: a clear typed error', () => {
    const [bob] = workers('unbuilt', 1);
    const plan = sy.func2plan((data: sy.Tensor) => data);
    expect(() => plan.send(bob!)).toThrow(sy.PlanError);
    expect(() => plan.send(bob!)).toThrow(/not built: build it first/);
  });

  test('a traced plan is data: the commands of the op table, nothing else', () => {
    const plan = sy.func2plan((x: sy.Tensor) => x.add(x).abs(), { argShapes: [[2]] });
    const ops = plan.readablePlan.slice(1, -1).map((l) => /\.(\w+)\(/.exec(l)![1]);
    expect(ops).toEqual(['add', 'abs']);
  });

  test('a plan function that uses a local tensor it was not given is refused with a hint', () => {
    const outside = sy.tensor([1, 2]);
    const plan = sy.func2plan((x: sy.Tensor) => x.add(outside));
    expect(() => plan.build(sy.tensor([0, 0]))).toThrow(/pass it as state|not given/);
  });

  test('a plan that calls itself is refused', () => {
    const plan: sy.Plan = sy.func2plan((x: sy.Tensor) => plan(x) as sy.Tensor);
    expect(() => plan.build(sy.tensor([1]))).toThrow(/calls itself/);
  });
});

describe('running here', () => {
  test('planExecuteLocally: built on one shape, run on another', () => {
    expect(flat(planAbs()(sy.tensor([-1, 2, 3])) as sy.Tensor)).toEqual([1, 2, 3]);
  });

  test('planExecuteLocallyAmbiguousOutput and ...Input survive a trip through a worker', async () => {
    const [bob] = workers('ambiguous', 1);
    const out = sy.func2plan((x: sy.Tensor) => {
      const y = x.add(x);
      y.mul(2);
      return y;
    }, { argShapes: [[1]] });
    const inp = sy.func2plan((x: sy.Tensor, y: sy.Tensor, z: sy.Tensor) => {
      const a = x.add(x);
      const b = x.add(z);
      const c = y.add(z);
      return [c, b, a];
    }, { argShapes: [[1], [1], [1]] });
    const t = sy.tensor([2.5]);
    const backOut = (await out.send(bob!).get()) as sy.Plan;
    expect(flat(backOut(t) as sy.Tensor)).toEqual(flat(out(t) as sy.Tensor));
    const [t1, t2, t3] = [sy.tensor([1]), sy.tensor([2]), sy.tensor([3])];
    const backIn = (await inp.send(bob!).get()) as sy.Plan;
    const got = (backIn(t1, t2, t3) as sy.Tensor[]).map((r) => flat(r)[0]);
    expect(got).toEqual([5, 4, 2]);
    expect((inp(t1, t2, t3) as sy.Tensor[]).map((r) => flat(r)[0])).toEqual([5, 4, 2]);
  });

  test('addToState: a class plan keeps its tensor fields and its modules\' parameters', () => {
    class Holder extends sy.Plan {
      fc1 = new sy.nn.Linear(2, 3);
      fc2 = sy.tensor([1]);
      forward(x: sy.Tensor) {
        return x;
      }
    }
    expect(new Holder().state.read().length).toBe(3);
  });

  test('planMethodExecuteLocally: a built class plan runs its recorded commands, again and again', () => {
    sy.manualSeed(3);
    const net = new Net();
    const x = sy.tensor([[1, 2]]);
    const direct = flat(net(x) as sy.Tensor);
    expect(net.isBuilt).toBe(false);
    net.build(x);
    expect(flat(net(x) as sy.Tensor)).toEqual(direct);
    expect(flat(net(sy.tensor([[1, 2.1]])) as sy.Tensor)).toEqual(flat(net.forward(sy.tensor([[1, 2.1]]))));
  });

  test('statefulPlanMethodExecuteLocally: the state is read when the plan runs', () => {
    const net = new Net();
    net.build(sy.tensor([[1, 2]]));
    const before = flat(net(sy.tensor([[1, 2]])) as sy.Tensor)[0]!;
    expect(before).toBeGreaterThan(990);
    net.bias.copy_(sy.tensor([2000]));
    expect(flat(net(sy.tensor([[1, 2]])) as sy.Tensor)[0]!).toBeCloseTo(before + 1000, 3);
  });

  test('a plan of an nn module (func2plan(model)) runs as the module does, here and on a worker', async () => {
    sy.manualSeed(4);
    const [bob] = workers('module', 1);
    const model = new sy.nn.Sequential(new sy.nn.Linear(4, 3), new sy.nn.ReLU(), new sy.nn.Linear(3, 2));
    const plan = sy.func2plan(model, { argShapes: [[1, 4]] });
    expect(plan.state.read().length).toBe(4);
    const x = sy.tensor([[0.5, -1, 2, 0.25]]);
    const want = flat(model.forward(x));
    expect(flat(plan(x) as sy.Tensor)).toEqual(want);
    const remote = plan.send(bob!)(x.send(bob!)) as sy.Tensor;
    flat(await remote.get()).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
  });
});

describe('sending and calling on pointers', () => {
  test('planMultipleSend: one plan, sent to two workers in turn, one message per call', async () => {
    const [bob, alice] = workers('multi-send');
    const plan = planAbs();
    const ptrPlan = plan.send(bob!);
    expect(ptrPlan).toBeInstanceOf(sy.PointerPlan);
    expect(ptrPlan.location).toBe(bob);
    const x = sy.tensor([-1, 7, 3]).send(bob!);
    let p: sy.Tensor | undefined;
    const log = await messagesTo(bob!, () => {
      p = ptrPlan(x) as sy.Tensor;
    });
    expect(log.length).toBe(1);
    expect(log[0]!.kind).toBe('cmd');
    expect(flat(await p!.get())).toEqual([1, 7, 3]);
    const onAlice = plan.send(alice!);
    expect(flat(await (onAlice(sy.tensor([-1, 2, 3]).send(alice!)) as sy.Tensor).get())).toEqual([1, 2, 3]);
  });

  test('statefulPlanMultipleSend: the state travels with the plan', async () => {
    const [bob, alice] = workers('state-send');
    const plan = sy.func2plan((x: sy.Tensor, state: sy.PlanState) => x.abs().add(state.read()[0]!), { argShapes: [[1]], state: [sy.tensor([1])] });
    expect(flat(await (plan.send(bob!)(sy.tensor([-1, 7, 3]).send(bob!)) as sy.Tensor).get())).toEqual([2, 8, 4]);
    expect(flat(await (plan.send(alice!)(sy.tensor([-1, 2, 3]).send(alice!)) as sy.Tensor).get())).toEqual([2, 3, 4]);
  });

  test('planBuiltOnClass: a class plan sent to two devices', async () => {
    const [d1, d2] = workers('device');
    const net = new Net();
    net.build(sy.tensor([1, 2]));
    const want = flat(net(sy.tensor([-1, 2])) as sy.Tensor);
    for (const d of [d1!, d2!]) {
      const result = await (net.send(d)(sy.tensor([-1, 2]).send(d)) as sy.Tensor).get();
      flat(result).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    }
  });

  test('multipleWorkers and statefulPlanMultipleWorkers: send(bob, alice) runs where the data is', async () => {
    const [bob, alice] = workers('group');
    const plan = planAbs();
    const ptr = plan.send(bob!, alice!);
    expect(flat(await (ptr(sy.tensor([-1, 7, 3]).send(bob!)) as sy.Tensor).get())).toEqual([1, 7, 3]);
    expect(flat(await (ptr(sy.tensor([-1, 9, 3]).send(alice!)) as sy.Tensor).get())).toEqual([1, 9, 3]);
    const stateful = sy.func2plan((x: sy.Tensor, s: sy.PlanState) => x.abs().add(s.read()[0]!), { argShapes: [[1]], state: [sy.tensor([1], { dtype: 'int64' })] });
    const sp = stateful.send(bob!, alice!);
    expect(flat(await (sp(sy.tensor([-1, 7, 3], { dtype: 'int64' }).send(bob!)) as sy.Tensor).get())).toEqual([2, 8, 4]);
    expect(flat(await (sp(sy.tensor([-1, 9, 3], { dtype: 'int64' }).send(alice!)) as sy.Tensor).get())).toEqual([2, 10, 4]);
  });

  test('calling a built plan on pointers sends it where they are, once', async () => {
    const [bob] = workers('auto-send', 1);
    const plan = planAbs();
    const x = sy.tensor([-4]).send(bob!);
    const first = await messagesTo(bob!, () => plan(x));
    expect(first.map((m) => m.kind)).toEqual(['store', 'cmd']);
    const second = await messagesTo(bob!, () => plan(x));
    expect(second.map((m) => m.kind)).toEqual(['cmd']);
  });

  test('a thread worker holds and runs a plan as a virtual worker does', async () => {
    const t = await sy.ThreadWorker.start({ id: 'plan-thread' });
    try {
      const plan = sy.func2plan((x: sy.Tensor) => x.mul(3).sub(1), { argShapes: [[2]] });
      expect(flat(await (plan.send(t)(sy.tensor([1, -2]).send(t)) as sy.Tensor).get())).toEqual([2, -7]);
    } finally {
      await t.close();
    }
  });

  test('cachedPlanSend: sending twice to one worker gives the same pointer plan', () => {
    const [bob, alice] = workers('cached');
    const plan = planAbs();
    const a = plan.send(bob!);
    expect(plan.send(bob!)).toBe(a);
    expect(plan.getPointers().length).toBe(1);
    expect(plan.send(bob!, alice!)).toBe(plan.send(bob!, alice!));
  });

  test('a pointer plan brought back with get() is not handed out again: send() sends afresh', async () => {
    const [bob] = workers('resend', 1);
    const plan = planAbs();
    const first = plan.send(bob!);
    await first.get();
    const again = plan.send(bob!);
    expect(again).not.toBe(first);
    expect([(await (again(sy.tensor([-2]).send(bob!)) as sy.Tensor).get()).arraySync()].flat()).toEqual([2]);
  });

  test('fetchPlan and fetchStatefulPlan: a plan comes back and runs here, without its function', async () => {
    const [alice] = workers('fetch', 1);
    const plan = sy.func2plan((data: sy.Tensor) => data.mul(3), { argShapes: [[1]] });
    const fetched = (await plan.send(alice!).get()) as sy.Plan;
    const x = sy.tensor([-1, 2, 3]);
    expect(flat(fetched(x) as sy.Tensor)).toEqual([-3, 6, 9]);
    expect((fetched as unknown as { forward?: unknown }).forward).toBeUndefined();
    expect(fetched.isBuilt).toBe(true);
    

    class One extends sy.Plan {
      fc1 = new sy.nn.Linear(1, 1);
      forward(x: sy.Tensor) {
        return this.fc1.forward(x);
      }
    }
    const net = new One().build(sy.tensor([1.2]));
    const back = (await net.send(alice!).get()) as sy.Plan;
    expect(flat(back(sy.tensor([-1.26])) as sy.Tensor)).toEqual(flat(net(sy.tensor([-1.26])) as sy.Tensor));
    expect(back.state.read().length).toBe(2);
  });

  test('bindingFixPrecisionPlan and bindingEncryptedPlan: the fields stay bound to the state', async () => {
    const [alice, bob, charlie] = workers('binding', 3);
    class One extends sy.Plan {
      fc1 = new sy.nn.Linear(1, 1);
      forward(x: sy.Tensor) {
        return this.fc1.forward(x);
      }
    }
    const plan = new One().build(sy.tensor([1.2]));
    const original = flat(plan.fc1.weight)[0]!;
    plan.fixPrecision();
    expect(Math.abs(flat(plan.fc1.weight.floatPrecision())[0]! - original)).toBeLessThan(1e-2);

    const shared = new One().build(sy.tensor([1.2]));
    const w0 = flat(shared.fc1.weight)[0]!;
    const x = sy.tensor([-1]);
    const expected = flat(shared(x) as sy.Tensor)[0]!;
    shared.fixPrecision().share(alice!, bob!, { cryptoProvider: charlie! });
    expect(Math.abs(flat((await shared.fc1.weight.copy().get()).floatPrecision())[0]! - w0)).toBeLessThan(1e-2);
    // The recorded commands run on the new chains too: a shared input through the shared state.
    const y = shared(x.fixPrecision().share(alice!, bob!, { cryptoProvider: charlie! })) as sy.Tensor;
    expect(Math.abs(flat((await y.get()).floatPrecision())[0]! - expected)).toBeLessThan(2e-2);
  });

  test('trainPlanLocallyAndThenSendIt: train through the class plan, then build and run it remotely', async () => {
    sy.manualSeed(5);
    const [w] = workers('train-then-send', 1);
    class Tiny extends sy.Plan {
      fc1 = new sy.nn.Linear(2, 3);
      fc2 = new sy.nn.Linear(3, 2);
      forward(x: sy.Tensor) {
        return this.fc2.forward(this.fc1.forward(x).relu());
      }
    }
    const net = new Tiny();
    const x = sy.tensor([-1, 2]);
    const y = sy.tensor([1]);
    const opt = new sy.optim.SGD(net.parameters(), { lr: 0.01 });
    let previous = Infinity;
    for (let i = 0; i < 5; i++) {
      opt.zeroGrad();
      const loss = (net(x) as sy.Tensor).sub(y).pow(2).sum();
      loss.backward();
      opt.step();
      expect(loss.item()).toBeLessThan(previous);
      previous = loss.item();
    }
    const local = flat(net(x) as sy.Tensor);
    net.build(x);
    const remote = flat(await (net.send(w!)(x.send(w!)) as sy.Tensor).get());
    remote.forEach((v, i) => expect(v).toBeCloseTo(local[i]!, 5));
  });

  test('a training plan on a worker: the state it updates stays with the plan there', async () => {
    sy.manualSeed(6);
    const [bob] = workers('train-on-worker', 1);
    const model = new sy.nn.Linear(3, 1);
    const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 });
    const step = sy.func2plan((x: sy.Tensor, target: sy.Tensor) => {
      opt.zeroGrad();
      const loss = model.forward(x).sub(target).pow(2).mean();
      loss.backward();
      opt.step();
      return loss;
    }, { name: 'trainStep' });
    // The model's parameters are the plan's state (a class plan would hold them as fields).
    const plan = new (class extends sy.Plan {
      model = model;
      forward(x: sy.Tensor, t: sy.Tensor) {
        return step(x, t) as sy.Tensor;
      }
    })();
    const x = sy.tensor([[1, 0, -1], [0.5, 2, 1], [-1, 1, 0]]);
    const t = sy.tensor([[1], [-1], [0.5]]);
    plan.build(x, t);
    const before = flat(model.weight);
    const ptr = plan.send(bob!);
    const [xb, tb] = [x.send(bob!), t.send(bob!)];
    const losses: number[] = [];
    for (let i = 0; i < 8; i++) losses.push(flat(await (ptr(xb, tb) as sy.Tensor).get())[0]!);
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    // Trained there: the local model is as it was, the plan brought back carries the new weights.
    expect(flat(model.weight)).toEqual(before);
    const back = (await ptr.get()) as sy.Plan;
    expect(flat(back.state.read()[0]!)).not.toEqual(before);
  });
});

describe('nested plans', () => {
  test('planNestedNoBuildInner and ...BuildInnerPlanBefore/After: an inner plan is inlined', async () => {
    const [alice] = workers('nested', 1);
    for (const order of ['none', 'before', 'after'] as const) {
      const double = sy.func2plan((d: sy.Tensor) => d.mul(-2), order === 'before' ? { argShapes: [[1]] } : {});
      const outer = sy.func2plan((d: sy.Tensor) => (double(d) as sy.Tensor).abs());
      const x = sy.tensor([100]);
      outer.build(x);
      if (order === 'after') double.build(x);
      expect(flat(outer(x) as sy.Tensor)).toEqual([200]);
      expect(flat(await (outer.send(alice!)(x.send(alice!)) as sy.Tensor).get())).toEqual([200]);
    }
  });

  test('planNestedBuildInnerPlanState and ...MultiplePlansState: inner state becomes the outer plan\'s', async () => {
    const [alice] = workers('nested-state', 1);
    const int = (v: number[]) => sy.tensor(v);
    const plan3 = sy.func2plan((d: sy.Tensor, s: sy.PlanState) => d.add(s.read()[0]!).add(42), { argShapes: [[1]], state: [int([3])] });
    const plan22 = sy.func2plan((d: sy.Tensor) => d.add(1331), { argShapes: [[1]] });
    const plan21 = sy.func2plan((d: sy.Tensor, s: sy.PlanState) => (plan3(d) as sy.Tensor).mul(-2).add(s.read()[0]!), { argShapes: [[1]], state: [int([2])] });
    const plan1 = sy.func2plan((d: sy.Tensor) => plan22(plan21(d) as sy.Tensor) as sy.Tensor);
    const x = int([100]);
    plan1.build(x);
    // -2 * (x + 3 + 42) + 2 + 1331
    expect(flat(plan1(x) as sy.Tensor)).toEqual([1043]);
    expect(plan1.readablePlan[0]).toMatch(/state 2/);
    const ptr = plan1.send(alice!);
    const xa = x.send(alice!);
    ptr(xa);
    expect(flat(await (ptr(xa) as sy.Tensor).get())).toEqual([1043]);
  });
});
