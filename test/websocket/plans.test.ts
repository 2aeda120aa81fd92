// Plans and protocols across processes: real `syft-ts worker` processes on 127.0.0.1 hold plans
// and run them, PySyft's remote plan tests (a function plan, a class plan) and, the deployment
// that matters, an encrypted training step traced once and run by the party processes with one
// message to each per step; protocols deployed and run across the processes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebsocketClientWorker, type WorkerProcess, startWorkerProcess } from '../../src/workers/websocket/index.js';
import { sy } from './helpers/net.js';

const TOKEN = 'plans-shared-token-93be10c4';
const dir = mkdtempSync('/tmp/syft-plans-');
const tokenFile = `${dir}/token`;
writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });

const procs: WorkerProcess[] = [];
let alice: WebsocketClientWorker, bob: WebsocketClientWorker, dealer: WebsocketClientWorker;

beforeAll(async () => {
  procs.push(...(await Promise.all(['alice', 'bob', 'dealer'].map((id) => startWorkerProcess({ id, tokenFile, timeoutMs: 30_000 })))));
  [alice, bob, dealer] = await Promise.all(procs.map((p) => WebsocketClientWorker.connect(p.url, { id: p.id, token: TOKEN })));
});

afterAll(async () => {
  await Promise.all([alice, bob, dealer].map((c) => c?.close()));
  await Promise.all(procs.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function flat(t: sy.Tensor): number[] {
  return [t.arraySync()].flat(Infinity as 1) as number[];
}

describe('plans on worker processes', () => {
  test('executePlanRemotely: a function plan sent to a process and run with one message', async () => {
    const myPlan = sy.func2plan((data: sy.Tensor) => {
      const x = data.mul(2);
      const y = x.sub(2).mul(10);
      return x.add(y);
    }, { argShapes: [[1]] });
    const x = sy.tensor([-1, 2, 3]);
    const local = flat(myPlan(x) as sy.Tensor);
    expect(local).toEqual([-42, 24, 46]);
    const ptr = myPlan.send(bob);
    const xPtr = x.send(bob);
    await bob.sync();
    const before = bob.traffic.messagesSent;
    const result = ptr(xPtr) as sy.Tensor;
    expect(bob.traffic.messagesSent - before).toBe(1);
    expect(result.isPointer).toBe(true);
    expect(flat(await result.get())).toEqual(local);
  });

  test('executePlanModuleRemotely: a class plan with its state, and the plan fetched back', async () => {
    sy.manualSeed(8);
    class Net extends sy.Plan {
      fc1 = new sy.nn.Linear(2, 3);
      fc2 = new sy.nn.Linear(3, 2);
      bias = sy.tensor([1000]);
      forward(x: sy.Tensor) {
        return this.fc2.forward(this.fc1.forward(x).relu()).add(this.bias);
      }
    }
    const net = new Net();
    const x = sy.tensor([-1, 2]);
    const local = flat(net(x) as sy.Tensor);
    expect(net.isBuilt).toBe(false);
    net.build(x);
    const ptr = net.send(alice);
    flat(await (ptr(x.send(alice)) as sy.Tensor).get()).forEach((v, i) => expect(v).toBeCloseTo(local[i]!, 3));
    const fetched = (await ptr.get()) as sy.Plan;
    expect((fetched as unknown as { forward?: unknown }).forward).toBeUndefined();
    flat(fetched(x) as sy.Tensor).forEach((v, i) => expect(v).toBeCloseTo(local[i]!, 3));
  });

  test('an encrypted training step as a plan: one message to each party process and to the dealer per step', async () => {
    sy.manualSeed(9);
    const parties = [alice, bob];
    const model = new sy.nn.Sequential(new sy.nn.Linear(10, 8), new sy.nn.ReLU(), new sy.nn.Linear(8, 3));
    model.fixPrecision().share(...parties, { cryptoProvider: dealer, requiresGrad: true });
    const twin = model.copy();
    const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 }).fixPrecision();
    const twinOpt = new sy.optim.SGD(twin.parameters(), { lr: 0.1 }).fixPrecision();
    const share = (t: sy.Tensor) => t.fixPrecision().share(...parties, { cryptoProvider: dealer });
    const x = share(sy.randn([8, 10]));
    const y = share(sy.rand([8, 3]));
    const stepOf = (m: sy.nn.Module, o: sy.optim.Optimizer) => (a: sy.Tensor, b: sy.Tensor) => {
      o.zeroGrad();
      const l = m.forward(a).sub(b).pow(2).sum().refresh().div(8);
      l.backward();
      o.step();
      return l;
    };
    const plan = sy.func2plan(stepOf(model, opt), { name: 'trainStep' });
    plan.build(x, y);
    plan.send();
    await Promise.all([alice, bob, dealer].map((c) => c.sync()));
    const planned: number[] = [];
    const op: number[] = [];
    for (let i = 0; i < 4; i++) {
      const sent = [alice, bob, dealer].map((c) => c.traffic.messagesSent);
      const loss = plan(x, y) as sy.Tensor;
      expect([alice, bob, dealer].map((c, k) => c.traffic.messagesSent - sent[k]!)).toEqual([1, 1, 1]);
      planned.push((await loss.get()).floatPrecision().item());
      op.push((await sy.tidy(() => stepOf(twin, twinOpt)(x, y)).get()).floatPrecision().item());
    }
    expect(planned.at(-1)!).toBeLessThan(planned[0]!);
    planned.forEach((v, i) => expect(Math.abs(v - op[i]!)).toBeLessThan(0.02 + 0.01 * Math.abs(op[i]!)));
  });
});

describe('protocols on worker processes', () => {
  const inc = () => sy.func2plan((x: sy.Tensor) => x.add(1), { argShapes: [[1]] });

  test('deploy and run across three processes; a protocol kept on one is fetched, deployed and run', async () => {
    const protocol = new sy.Protocol([['worker1', inc()], ['worker2', inc()], ['worker3', inc()]]);
    protocol.deploy(alice, bob, dealer);
    const ptr = protocol.run(sy.tensor([1]));
    expect(ptr.location?.id).toBe('dealer');
    expect(flat(await ptr.get())).toEqual([4]);

    const kept = new sy.Protocol([['w1', inc()], ['w2', inc()], ['w1', inc()]]);
    kept.send(bob);
    const back = await kept.get();
    back.deploy(dealer, alice);
    expect(flat(await back.run(sy.tensor([1])).get())).toEqual([4]);
  });
});
