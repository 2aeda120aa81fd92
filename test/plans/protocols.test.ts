// PySyft 0.2.3's protocols (Part 8 bis tutorial and test/execution/test_protocol.py), ported:
// (worker, plan) pairs, deploy with named workers, synchronous runs here and on a worker that
// holds the protocol, and search-and-deploy (a protocol that is not deployed, kept on a worker for
// others to fetch).
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

function incProtocol(): sy.Protocol {
  const inc = () => sy.func2plan((x: sy.Tensor) => x.add(1), { argShapes: [[1]] });
  return new sy.Protocol([['worker1', inc()], ['worker2', inc()], ['worker3', inc()]]);
}

function workers(tag: string, names = ['alice', 'bob', 'charlie', 'james']): sy.VirtualWorker[] {
  // A short protocol timeout: a step that fails makes the next wait for its data, and the test
  // should fail in seconds, not after the default minute.
  return names.map((n) => new sy.VirtualWorker({ id: `${tag}-${n}`, timeoutMs: 3000 }));
}

describe('protocols', () => {
  test('deploy: the named workers are bound in order and each plan is sent to its worker', () => {
    const [alice, bob, charlie] = workers('deploy');
    const protocol = incProtocol();
    expect(protocol.workersResolved).toBe(false);
    protocol.deploy(alice!, bob!, charlie!);
    expect(protocol.workersResolved).toBe(true);
    protocol.plans.forEach(([w, p], i) => {
      expect(p).toBeInstanceOf(sy.PointerPlan);
      expect((p as sy.PointerPlan).location.id).toBe((w as sy.RemoteWorker).id);
      expect((w as sy.RemoteWorker).id).toBe([alice, bob, charlie][i]!.id);
    });
  });

  test('deployWithResolver: two pairs with one name run on one worker; a wrong count is refused', async () => {
    const [alice, bob] = workers('resolver');
    const protocol = incProtocol();
    protocol.plans[2] = ['worker1', protocol.plans[2]![1]];
    protocol.deploy(alice!, bob!);
    expect(protocol.plans.map(([w]) => (w as sy.RemoteWorker).id)).toEqual([alice!.id, bob!.id, alice!.id]);
    expect(flat(await protocol.run(sy.tensor([1])).get())).toEqual([4]);
    expect(() => incProtocol().deploy(alice!, bob!)).toThrow(sy.PlanError);
  });

  test('synchronousRun: the data goes through every plan, worker to worker, to a pointer on the last', async () => {
    const [alice, bob, charlie] = workers('sync');
    const protocol = incProtocol().deploy(alice!, bob!, charlie!);
    const ptr = protocol.run(sy.tensor([1]));
    expect(ptr.location).toBe(charlie);
    expect(ptr.isPointer).toBe(true);
    expect(flat(await ptr.get())).toEqual([4]);
    // Results moved between the workers and were freed on the way: nothing is left but the plans.
    for (const w of [alice!, bob!, charlie!]) {
      await w.sync();
      expect(w.objectCount).toBe(1);
    }
  });

  test('synchronousRemoteRun: a worker holding the protocol runs it on its data and keeps a pointer', async () => {
    const [alice, bob, charlie, james] = workers('remote');
    const protocol = incProtocol().deploy(alice!, bob!, charlie!);
    protocol.send(james!);
    const ptr = protocol.run(sy.tensor([1]).send(james!));
    expect(ptr.location).toBe(james);
    const inner = await ptr.get();
    expect(inner.location?.id).toBe(charlie!.id);
    expect(inner.isPointer).toBe(true);
    expect(flat(await inner.get())).toEqual([4]);
    // Data that is not where the protocol is: refused.
    expect(() => protocol.run(sy.tensor([1]))).toThrow(sy.PlanError);
  });

  test('the worker holding a deployed protocol may run its plans; nobody else may use them or the results', async () => {
    const [alice, bob, charlie, james] = workers('owners');
    const protocol = incProtocol().deploy(alice!, bob!, charlie!);
    const planOnAlice = (protocol.plans[0]![1] as sy.PointerPlan).idAtLocation;
    const ask = (w: sy.VirtualWorker, from: string, op: string, args: sy.WireValue[]) =>
      new Promise<{ ok: boolean; error?: { name: string } }>((resolve) => w.receive({ kind: 'req', req: 1, op, args }, from, resolve as never));
    // Before the protocol is sent there, james may not touch the plan (it is not even found).
    expect((await ask(alice!, james!.id, 'get', [planOnAlice, true])).error?.name).toBe('ObjectNotFoundError');
    protocol.send(james!);
    const ptr = protocol.run(sy.tensor([1]).send(james!));
    const inner = await ptr.get();
    // A stranger can neither fetch the plan nor the result the run left on charlie.
    expect((await ask(alice!, 'mallory', 'get', [planOnAlice, true])).error?.name).toBe('ObjectNotFoundError');
    const resultId = (inner.child as sy.PointerTensor).idAtLocation;
    expect((await ask(charlie!, 'mallory', 'get', [resultId, true])).error?.name).toBe('ObjectNotFoundError');
    expect(flat(await inner.get())).toEqual([4]);
  });

  test('searchAndDeploy: a protocol kept on a worker is fetched, deployed and run by someone else', async () => {
    const [alice, bob, charlie, james] = workers('search');
    const protocol = incProtocol();
    protocol.send(james!);
    const back = await protocol.get();
    expect(back).toBeInstanceOf(sy.Protocol);
    expect(back.workersResolved).toBe(false);
    back.deploy(alice!, bob!, charlie!);
    const ptr = back.run(sy.tensor([1]));
    expect(ptr.location).toBe(charlie);
    expect(flat(await ptr.get())).toEqual([4]);
    // BONUS: sent again, deployed this time, and run remotely.
    james!.clearObjects();
    back.send(james!);
    expect(flat(await (await back.run(sy.tensor([1]).send(james!)).get()).get())).toEqual([4]);
  });

  test('a protocol of pointer plans, and of a plan that is not built, is refused clearly', () => {
    const [alice, bob] = workers('mixed', ['alice', 'bob']);
    const inc = sy.func2plan((x: sy.Tensor) => x.add(1), { argShapes: [[1]] });
    const onBob = inc.send(bob!);
    expect(() => new sy.Protocol([[alice!, onBob]]).deploy()).toThrow(/cannot run on/);
    const unbuilt = sy.func2plan((x: sy.Tensor) => x.add(1));
    expect(() => new sy.Protocol([['w', unbuilt]]).deploy(alice!)).toThrow(/not built/);
    expect(() => new sy.Protocol([])).toThrow(sy.ValueError);
  });
});

function flat(t: sy.Tensor): number[] {
  return [t.arraySync()].flat(Infinity as 1) as number[];
}
