// Plans from a hostile sender: a plan is data, checked when it arrives (unknown and unplannable
// commands, undefined slots, in-place changes of inputs, too many actions) and against the shapes
// of its inputs before it runs (arguments that do not fit, tensors over the cap). Each is refused
// with an error that says why, and the worker goes on serving.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { PLAN_LIMITS } from '../../src/plans/plan-ops.js';
import type { WireValue } from '../../src/workers/messages.js';

let next = 1_000_000;
const freshId = () => next++;

interface RawAction {
  op: string;
  self?: number;
  args: WireValue[];
  ret: number[];
}

function planNode(actions: RawAction[], program: Record<string, WireValue> = {}): WireValue {
  return {
    type: 'plan',
    name: 'hostile',
    program: { inputs: 1, state: 0, externals: [], sessions: [], actions: actions as unknown as WireValue, outputs: [actions.length], ...program },
    state: [],
  };
}

/** Stores `node` on `w` as a plan and runs it on x; returns the run's error (or undefined). */
async function runHostile(w: sy.VirtualWorker, node: WireValue, x: sy.Tensor, outputs: number, salted: boolean): Promise<string | undefined> {
  const planId = freshId();
  const ret = Array.from({ length: outputs }, freshId);
  w.receive({ kind: 'store', id: planId, obj: node }, 'me');
  const salt = salted ? 'ab'.repeat(16) : null;
  w.receive({ kind: 'cmd', op: `plan.run${outputs}`, self: planId, args: [[{ ref: x.idAtLocation! }], salt], ret }, 'me');
  try {
    await w.request({ kind: 'req', req: 0, op: 'get', args: [ret[0]!, false] }, sy.local);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

async function stillServes(w: sy.VirtualWorker): Promise<void> {
  const y = sy.tensor([1, 2]).send(w).add(1);
  expect([(await y.get()).arraySync()].flat()).toEqual([2, 3]);
}

describe('hostile plans', () => {
  const w = new sy.VirtualWorker({ id: 'hostile-bob' });
  const x = sy.tensor([[1, 2], [3, 4]]).send(w);

  const cases: [string, WireValue, RegExp][] = [
    ['an unknown op', planNode([{ op: 'eval', self: 0, args: ['process.exit()'], ret: [1] }]), /unknown operation 'eval'/],
    ['a command that may not be planned (moving data away)', planNode([{ op: 'sendTo', self: 0, args: ['mallory', '0'.repeat(32)], ret: [] }, { op: 'abs', self: 0, args: [], ret: [1] }], { outputs: [1] }), /'sendTo' cannot be part of a plan/],
    ['a plan that runs a plan (itself, or any other)', planNode([{ op: 'plan.run1', self: 0, args: [[{ ref: 0 }], null], ret: [1] }]), /'plan.run1' cannot be part of a plan/],
    ['a slot read before it is defined', planNode([{ op: 'add', self: 5, args: [1], ret: [1] }]), /reads slot 5, which is not defined before it/],
    ['results out of order', planNode([{ op: 'abs', self: 0, args: [], ret: [7] }], { outputs: [7] }), /next free slots in order/],
    ['an input changed in place', planNode([{ op: 'abs', self: 0, args: [], ret: [1] }, { op: 'assign_', self: 0, args: [{ ref: 1 }], ret: [] }], { outputs: [1] }), /change the plan's input 0 in place/],
    ['an input changed in place through its data()', planNode([
      { op: 'abs', self: 0, args: [], ret: [1] },
      { op: 'data', self: 0, args: [], ret: [2] },
      { op: 'assign_', self: 2, args: [{ ref: 1 }], ret: [] },
    ], { outputs: [1] }), /change the plan's input \(through slot 2\) in place/],
    ['a result that is an input', planNode([], { outputs: [0] }), /is not a slot an action made/],
    ['the wrong result count', planNode([{ op: 'abs', self: 0, args: [], ret: [1, 2] }]), /fills 1 result/],
    ['an undefined session', planNode([{ op: 'mpc.refresh', self: 0, args: [{ sess: 3 }, ['hostile-bob', 'x']], ret: [1] }]), /names session 3/],
    ['a malformed program', { type: 'plan', name: 'h', program: { inputs: -1 }, state: [] }, /inputs must be an integer/],
    ['too many actions', planNode(Array.from({ length: PLAN_LIMITS.actions + 1 }, (_, i) => ({ op: 'abs', self: i, args: [], ret: [i + 1] }))), /at most 50000/],
    // Checked against the inputs' shapes before anything runs:
    ['bad arguments (a number where a tensor goes)', planNode([{ op: 'matmul', self: 0, args: [5], ret: [1] }]), /argument 1 of 'matmul' must be a tensor/],
    ['shapes that do not fit', planNode([{ op: 'matmul', self: 0, args: [{ obj: { type: 'float', shape: [3, 3], values: new Float32Array(9) } }], ret: [1] }]), /does not fit its inputs/],
    ['a huge tensor (broadcastTo)', planNode([{ op: 'broadcastTo', self: 0, args: [[4096, 4096, 2, 2]], ret: [1] }]), /at most 16777216/],
    ['a huge tensor (oneHot)', planNode([{ op: 'oneHot', self: 0, args: [1e9], ret: [1] }]), /at most 16777216/],
    ['a huge tensor after harmless steps', planNode([
      { op: 'reshape', self: 0, args: [[4, 1]], ret: [1] },
      { op: 'broadcastTo', self: 1, args: [[4, 2 ** 23]], ret: [2] },
    ]), /plan action 1 \('broadcastTo'\)[\s\S]*at most 16777216/],
    ['huge dealer material', planNode([
      { op: 'mpc.deal', args: ['matmul', { sess: 0 }, ['a', 'b'], [65536, 65536], [65536, 1]], ret: [] },
      { op: 'abs', self: 0, args: [], ret: [1] },
    ], { sessions: ['0'.repeat(32)], outputs: [1] }), /dealer material would have/],
  ];

  for (const [what, node, why] of cases) {
    test(`refuses ${what}, and goes on serving`, async () => {
      const salted = JSON.stringify((node as { program?: { sessions?: unknown[] } }).program?.sessions ?? []).length > 2;
      const error = await runHostile(w, node, new sy.Tensor(x.child), 1, salted);
      expect(error).toMatch(why);
      await stillServes(w);
    });
  }

  test('plans with no results are refused all the same (the stored plan is not kept)', async () => {
    const planId = freshId();
    w.receive({ kind: 'store', id: planId, obj: planNode([{ op: 'sendTo', self: 0, args: ['mallory', '0'.repeat(32)], ret: [] }], { outputs: [] }) }, 'me');
    await expect(w.request({ kind: 'req', req: 0, op: 'get', args: [planId, false] }, sy.local)).rejects.toThrow(/'sendTo' cannot be part of a plan/);
    // x is still there
    expect(w.peek(x.idAtLocation!)).toBeDefined();
  });

  test('a run on something that is not a plan, or with the wrong inputs, is refused', async () => {
    const ret = freshId();
    w.receive({ kind: 'cmd', op: 'plan.run1', self: x.idAtLocation!, args: [[], null], ret: [ret] }, 'me');
    await expect(w.request({ kind: 'req', req: 0, op: 'get', args: [ret, false] }, sy.local)).rejects.toThrow(/not a plan/);
    const ok = planNode([{ op: 'abs', self: 0, args: [], ret: [1] }]);
    const planId = freshId();
    w.receive({ kind: 'store', id: planId, obj: ok }, 'me');
    const r2 = freshId();
    w.receive({ kind: 'cmd', op: 'plan.run1', self: planId, args: [[{ ref: x.idAtLocation! }, { ref: x.idAtLocation! }], null], ret: [r2] }, 'me');
    await expect(w.request({ kind: 'req', req: 0, op: 'get', args: [r2, false] }, sy.local)).rejects.toThrow(/takes 1 input/);
    const r3 = freshId();
    w.receive({ kind: 'cmd', op: 'plan.run2', self: planId, args: [[{ ref: x.idAtLocation! }], null], ret: [r3, freshId()] }, 'me');
    await expect(w.request({ kind: 'req', req: 0, op: 'get', args: [r3, false] }, sy.local)).rejects.toThrow(/returns 1 result/);
    // The well-formed plan runs.
    const r4 = freshId();
    w.receive({ kind: 'cmd', op: 'plan.run1', self: planId, args: [[{ ref: x.idAtLocation! }], null], ret: [r4] }, 'me');
    const node = await w.request({ kind: 'req', req: 0, op: 'get', args: [r4, false] }, sy.local);
    expect((node as { type: string }).type).toBe('float');
    await stillServes(w);
  });
});
