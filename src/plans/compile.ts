/**
 * From the messages a trace recorded for one worker to that worker's program (program.ts).
 *
 * Every id in the messages is given a slot: the ids of the arguments' pointers are the inputs,
 * those of the plan's state (or of objects the function sent, constants) the state, ids the
 * messages read but never made are the worker's own objects (externals), and the results of
 * each command are new slots in order. Strings that are session ids the trace drew become
 * session references. Frees are not part of a plan: it drops its intermediates itself, and frees
 * of older objects are returned to be sent once, for real.
 */
import { decodeObject } from '../workers/codec.js';
import type { ObjectId, PostMessage, WireValue } from '../workers/messages.js';
import type { Worker } from '../workers/worker.js';
import { PlanError } from './errors.js';
import { checkPlannable } from './plan-ops.js';
import { type PlanAction, type ProgramData, refOf } from './program.js';

export interface CompileInput {
  messages: readonly PostMessage[];
  /** Ids of the argument pointers on this worker, in input order. */
  inputs: readonly ObjectId[];
  /** Ids standing for the plan's state tensors, in order. */
  state: readonly ObjectId[];
  /** Ids of the result pointers on this worker, in output order. */
  outputs: readonly ObjectId[];
  /** Session ids drawn during the trace. */
  sessions: ReadonlySet<string>;
  /** Whether the plan may refer to objects of the worker it did not get or make (plans over workers). */
  externals: boolean;
  /** Decodes objects the function sent (constants), as this process. */
  worker: Worker;
  /** For error messages. */
  where: string;
}

export interface Compiled {
  data: ProgramData;
  /** Objects the function sent to this worker while traced: kept with the plan as state, after the plan's own. */
  constants: object[];
  /** Frees of objects the plan did not make, to send for real. */
  frees: ObjectId[];
}

export function compile(c: CompileInput): Compiled {
  const slot = new Map<ObjectId, number>();
  c.inputs.forEach((id, i) => {
    if (slot.has(id)) throw new PlanError(`the same tensor is passed twice to the plan on '${c.where}': pass a copy`);
    slot.set(id, i);
  });
  c.state.forEach((id, i) => slot.set(id, c.inputs.length + i));
  const constants: object[] = [];
  const made = new Set<ObjectId>();
  const externals: ObjectId[] = [];
  // Pass 1: constants, and the ids read before any command of the trace made them.
  for (const m of c.messages) {
    if (m.kind === 'store') {
      slot.set(m.id, -1 - constants.length); // placed after the state below
      constants.push(decodeObject(m.obj, { worker: c.worker }));
      made.add(m.id);
    } else if (m.kind === 'cmd') {
      const reads = [m.self, ...m.args.map(refOf)].filter((x): x is number => x !== undefined);
      for (const id of reads) {
        if (slot.has(id) || made.has(id) || externals.includes(id)) continue;
        if (!c.externals) {
          throw new PlanError(
            `the function used a tensor on '${c.where}' that is neither an argument nor state of the plan: ` +
              'pass it as state (func2plan(fn, { state: [...] }) or a field of a Plan class)',
          );
        }
        externals.push(id);
      }
      for (const r of m.ret) made.add(r);
    }
  }
  const stateCount = c.state.length + constants.length;
  const base = c.inputs.length + stateCount;
  for (const [id, s] of slot) if (s < 0) slot.set(id, c.inputs.length + c.state.length + (-1 - s));
  externals.forEach((id, i) => slot.set(id, base + i));
  let next = base + externals.length;

  // Pass 2: the actions, ids replaced by slots and sessions by references.
  const sessions: string[] = [];
  const sessionIndex = new Map<string, number>();
  const session = (s: string): WireValue => {
    let k = sessionIndex.get(s);
    if (k === undefined) {
      sessionIndex.set(s, (k = sessions.length));
      sessions.push(s);
    }
    return { sess: k };
  };
  const actions: PlanAction[] = [];
  const frees: ObjectId[] = [];
  const locals = new Set<ObjectId>();
  for (const m of c.messages) {
    if (m.kind === 'del') {
      for (const id of m.ids) if (!locals.has(id) && !made.has(id)) frees.push(id);
      continue;
    }
    if (m.kind !== 'cmd') continue;
    checkPlannable(m.op);
    const args = m.args.map((a) => {
      const r = refOf(a);
      if (r !== undefined) return { ref: slot.get(r)! };
      if (typeof a === 'string' && c.sessions.has(a)) return session(a);
      return a;
    });
    const action: PlanAction = { op: m.op, args, ret: m.ret.map(() => next++) };
    if (m.self !== undefined) action.self = slot.get(m.self)!;
    m.ret.forEach((id, k) => {
      slot.set(id, action.ret[k]!);
      locals.add(id);
    });
    actions.push(action);
  }
  // Results must be slots the plan made, each once: anything else is copied first.
  const outputs: number[] = [];
  for (const id of c.outputs) {
    const s = slot.get(id);
    if (s === undefined) throw new PlanError(`a result of the plan on '${c.where}' was not made by it`);
    if (s >= base + externals.length && !outputs.includes(s)) outputs.push(s);
    else {
      const copy = next++;
      actions.push({ op: 'clone', self: s, args: [], ret: [copy] });
      outputs.push(copy);
    }
  }
  return {
    data: { inputs: c.inputs.length, state: stateCount, externals, sessions, actions, outputs },
    constants,
    frees,
  };
}
