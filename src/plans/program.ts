/**
 * A plan as data: what one worker runs, as a list of allow-listed commands over numbered slots.
 *
 * Slots are the plan's own names for objects, in this order: the run's inputs, the tensors kept
 * with the plan (its state), the worker's objects the plan refers to by id (externals: the
 * parameters of a shared model, which stay where they are), then one new slot per result of
 * each action, in order. An action reads only slots defined before it, so a program is checked
 * once, when a worker receives it, and needs no names at run time. Arguments are wire values, with
 * `{ref: slot}` for a slot and `{sess: k}` for the k-th protocol session (given fresh values on
 * every run, see execute.ts).
 *
 * {@link checkProgram} is the only way from untrusted data to a runnable program: it refuses
 * unknown and unplannable commands, wrong result counts, undefined slots, in-place changes of
 * inputs and everything over {@link PLAN_LIMITS}, each with a {@link PlanError} that says why.
 */
import { getCommand, unknownCommandMessage } from '../workers/commands.js';
import { type ObjectId, type WireValue, checkWireValue, isObjectId } from '../workers/messages.js';
import { PlanError } from './errors.js';
import { PLAN_LIMITS, checkPlannable, mutatesTarget } from './plan-ops.js';

/** One command of a plan. `self` and `ret` are slots. */
export interface PlanAction {
  op: string;
  self?: number;
  args: WireValue[];
  ret: number[];
}

/** One worker's part of a plan, as it travels. */
export interface ProgramData {
  /** Slots 0 .. inputs-1 are the run's arguments. */
  inputs: number;
  /** The next `state` slots hold the tensors kept with the plan. */
  state: number;
  /** Then one slot per object id of the worker. */
  externals: ObjectId[];
  /** Recorded session ids, salted afresh on every run. */
  sessions: string[];
  actions: PlanAction[];
  /** The slots returned, in order. */
  outputs: number[];
}

/** A program that passed {@link checkProgram}, with what running it needs precomputed. */
export interface CheckedProgram extends ProgramData {
  /** Number of slots. */
  readonly slots: number;
  /** First local slot (results of actions). */
  readonly firstLocal: number;
  /** For each action, the earlier actions it waits for (the makers of what it reads; barriers). */
  readonly after: readonly (readonly number[])[];
  /** For each action, the later actions waiting for it. */
  readonly before: readonly (readonly number[])[];
  /** For each action, the slots it reads (target and references, with repeats). */
  readonly reads: readonly (readonly number[])[];
  /** For each slot, how many reads of it the actions make (a local is dropped after the last). */
  readonly uses: readonly number[];
  /** For each action, the indices of arguments that name a session. */
  readonly sessionArgs: readonly (readonly number[])[];
}

const SESSION_RE = /^[0-9a-f]{32}$/;

/** Commands whose result is their target's own object (or its value layer), not a copy. */
const ALIASING = new Set(['data', 'grad']);

function fail(why: string): never {
  throw new PlanError(`refused plan: ${why}`);
}

function count(v: unknown, what: string, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) fail(`${what} must be an integer in [0, ${max}]`);
  return v;
}

/** `{ref: n}` → n, else undefined. */
export function refOf(v: WireValue | undefined): number | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) return undefined;
  const o = v as Record<string, WireValue>;
  const keys = Object.keys(o);
  return keys.length === 1 && keys[0] === 'ref' && typeof o.ref === 'number' ? o.ref : undefined;
}

/** `{sess: k}` → k, else undefined. */
export function sessionRefOf(v: WireValue | undefined): number | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) return undefined;
  const o = v as Record<string, WireValue>;
  const keys = Object.keys(o);
  return keys.length === 1 && keys[0] === 'sess' && typeof o.sess === 'number' ? o.sess : undefined;
}

/** Checks untrusted program data; returns it ready to run. */
export function checkProgram(raw: unknown): CheckedProgram {
  if (raw === null || typeof raw !== 'object') fail('not an object');
  const p = raw as Record<string, unknown>;
  const inputs = count(p.inputs, 'inputs', PLAN_LIMITS.inputs);
  const state = count(p.state, 'state', PLAN_LIMITS.state);
  const externals = p.externals;
  if (!Array.isArray(externals) || externals.length > PLAN_LIMITS.externals || !externals.every(isObjectId)) {
    fail(`externals must be at most ${PLAN_LIMITS.externals} object ids`);
  }
  const sessions = p.sessions;
  if (!Array.isArray(sessions) || sessions.length > PLAN_LIMITS.sessions || !sessions.every((s) => typeof s === 'string' && SESSION_RE.test(s))) {
    fail(`sessions must be at most ${PLAN_LIMITS.sessions} ids of 32 hex characters`);
  }
  const actions = p.actions;
  if (!Array.isArray(actions)) fail('actions must be a list');
  if (actions.length > PLAN_LIMITS.actions) fail(`${actions.length} actions; a plan holds at most ${PLAN_LIMITS.actions}`);

  const firstLocal = inputs + state + externals.length;
  let next = firstLocal;
  const sessionArgs: number[][] = [];
  const reads: number[][] = [];
  const maker = new Map<number, number>();
  const after: number[][] = [];
  let barrier = -1;
  let sinceBarrier: number[] = [];
  // The inputs, and results that are the inputs themselves (never changed in place).
  const inputAlias = new Set<number>(Array.from({ length: inputs }, (_, k) => k));
  const use = (slot: unknown, i: number, what: string): number => {
    if (typeof slot !== 'number' || !Number.isSafeInteger(slot) || slot < 0 || slot >= next) {
      fail(`action ${i} reads ${what} ${String(slot)}, which is not defined before it`);
    }
    reads[i]!.push(slot);
    return slot;
  };
  const checked: PlanAction[] = actions.map((a: unknown, i: number) => {
    if (a === null || typeof a !== 'object') fail(`action ${i} is not an object`);
    const { op, self, args, ret } = a as Record<string, unknown>;
    reads.push([]);
    if (typeof op !== 'string' || op.length > 64) fail(`action ${i} has no op name`);
    const spec = getCommand(op);
    if (!spec) fail(`action ${i}: ${unknownCommandMessage(op)}`);
    checkPlannable(op);
    if (!Array.isArray(args) || args.length > 64) fail(`action ${i} ('${op}') needs at most 64 arguments`);
    try {
      checkWireValue(args, 1);
    } catch (e) {
      fail(`action ${i} ('${op}'): ${(e as Error).message}`);
    }
    if (spec.needsSelf !== (self !== undefined && self !== null)) fail(`action ${i}: '${op}' ${spec.needsSelf ? 'needs' : 'takes no'} target`);
    const target = self === undefined || self === null ? undefined : use(self, i, 'slot');
    if (target !== undefined && inputAlias.has(target) && mutatesTarget(op)) {
      fail(`action ${i}: '${op}' would change the plan's input ${target < inputs ? target : `(through slot ${target})`} in place; a plan changes only what it holds or made`);
    }
    const sess: number[] = [];
    (args as WireValue[]).forEach((v, j) => {
      const r = refOf(v);
      if (r !== undefined) use(r, i, 'slot');
      const k = sessionRefOf(v);
      if (k !== undefined) {
        if (!Number.isSafeInteger(k) || k < 0 || k >= sessions.length) fail(`action ${i} names session ${k}, which the plan does not have`);
        sess.push(j);
      }
    });
    sessionArgs.push(sess);
    if (!Array.isArray(ret) || ret.length !== spec.results) fail(`action ${i}: '${op}' fills ${spec.results} result(s), not ${Array.isArray(ret) ? ret.length : '?'}`);
    // `data` and `grad` return the very object (or its value) they are called on, not a copy.
    if (target !== undefined && inputAlias.has(target) && ALIASING.has(op)) inputAlias.add(next);
    ret.forEach((r) => {
      if (r !== next) fail(`action ${i}: results must take the next free slots in order (expected ${next}, got ${String(r)})`);
      maker.set(next, i);
      next++;
    });
    // What it waits for: the actions that made what it reads, and the last barrier. A command
    // that changes an object in place (or, backward, the gradients of a graph) is a barrier: it
    // waits for everything before it, and everything after waits for it.
    const deps = new Set<number>(barrier >= 0 ? [barrier] : []);
    for (const s of reads[i]!) {
      const m = maker.get(s);
      if (m !== undefined && m !== i) deps.add(m);
    }
    if (mutatesTarget(op) || op === 'backward') {
      for (const j of sinceBarrier) deps.add(j);
      barrier = i;
      sinceBarrier = [];
    } else sinceBarrier.push(i);
    after.push([...deps].sort((x, y) => x - y));
    const out: PlanAction = { op, args: args as WireValue[], ret: ret as number[] };
    if (target !== undefined) out.self = target;
    return out;
  });
  const outputs = p.outputs;
  if (!Array.isArray(outputs) || outputs.length > PLAN_LIMITS.outputs) fail(`outputs must be a list of at most ${PLAN_LIMITS.outputs} slots`);
  for (const o of outputs) {
    if (typeof o !== 'number' || !Number.isSafeInteger(o) || o < firstLocal || o >= next) fail(`output ${String(o)} is not a slot an action made`);
  }
  if (new Set(outputs).size !== outputs.length) fail('an output is returned twice');
  const uses = new Array<number>(next).fill(0);
  for (const r of reads) for (const s of r) uses[s]!++;
  const before: number[][] = checked.map(() => []);
  after.forEach((deps, i) => deps.forEach((d) => before[d]!.push(i)));
  return {
    inputs,
    state,
    externals: externals as ObjectId[],
    sessions: sessions as string[],
    actions: checked,
    outputs: outputs as number[],
    slots: next,
    firstLocal,
    after,
    before,
    reads,
    uses,
    sessionArgs,
  };
}

/** The data of a program (what travels), without what checking added. */
export function programData(p: ProgramData): ProgramData {
  return {
    inputs: p.inputs,
    state: p.state,
    externals: [...p.externals],
    sessions: [...p.sessions],
    actions: p.actions.map((a) => (a.self === undefined ? { op: a.op, args: a.args, ret: a.ret } : { op: a.op, self: a.self, args: a.args, ret: a.ret })),
    outputs: [...p.outputs],
  };
}
