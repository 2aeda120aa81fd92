/**
 * Building a plan: tracing its function (trace.ts) and compiling what it recorded (compile.ts)
 * into one program per worker, with the templates of its arguments and results.
 *
 * Two kinds, chosen by the arguments:
 * - over local values (PySyft's plans): one program, for whichever worker the plan is sent to
 *   or for running here. Arguments and state are placeholders on a stand-in; the state's values
 *   travel with the plan;
 * - over remote or shared values: one program per worker the step touches (each party, the crypto
 *   provider), bound to those workers. Objects the function reaches through its closure (a
 *   shared model's parameters) are referred to by id and stay where they are.
 */
import { AbstractTensor } from '../layer/abstract.js';
import { type Shape, sameShape } from '../shapes.js';
import { Tensor } from '../tensor.js';
import { AdditiveSharingTensor } from '../tensors/additive-sharing.js';
import { PointerTensor, handOverPointers } from '../tensors/pointer.js';
import { tidy } from '../tensors/scope.js';
import { local } from '../workers/local.js';
import { decodeObject } from '../workers/codec.js';
import type { ObjectId, WireValue } from '../workers/messages.js';
import type { RemoteWorker } from '../workers/worker.js';
import { randomId } from '../util/random.js';
import { compile } from './compile.js';
import { PlanError } from './errors.js';
import { type PlanObject, makePlanObject } from './held-plan.js';
import { replayShapes } from './replay.js';
import { type Template, describe, isLocalChain } from './templates.js';
import { StandIn, Trace, closeTrace, traceRun } from './trace.js';

/** A plan built over local values: one program, state kept here as live tensors. */
export interface BuiltLocal {
  kind: 'local';
  /** The program, checked; its state slots are the state tensors' values, then the constants. */
  object: PlanObject;
  stateTensors: Tensor[];
  constants: object[];
  /** Shapes it was built with (undefined for a plan fetched from a worker). */
  inputShapes: Shape[] | undefined;
  outputShapes: Shape[] | undefined;
  /** Whether the function returned one tensor (else a list). */
  single: boolean;
  /** Results as pointers: whether each carries fixed precision (remote calls). */
  outputFixed: (Extract<Template, { kind: 'pointer' }>['fixedPrecision'])[];
}

/** A plan built over workers: a program per worker. */
export interface BuiltWorkers {
  kind: 'workers';
  parts: Map<string, { worker: RemoteWorker; object: PlanObject }>;
  workers: Map<string, RemoteWorker>;
  argTemplates: Template[];
  outputTemplates: Template[];
  single: boolean;
}

export type Built = BuiltLocal | BuiltWorkers;

/** How a plan's function is called while traced. */
export interface Traced {
  name: string;
  /** The plan itself (a plan that calls itself is refused). */
  plan: object;
  /** Runs the function on these arguments (state is its business). */
  run: (args: Tensor[]) => unknown;
  /** The tensors kept with the plan. */
  state: Tensor[];
}

function outputsOf(value: unknown, name: string): { outputs: Tensor[]; single: boolean } {
  if (value instanceof Tensor) return { outputs: [value], single: true };
  if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Tensor)) return { outputs: value as Tensor[], single: false };
  throw new PlanError(`the plan '${name}' must return a tensor or a list of tensors`);
}

/** Whether every argument (and the state) is held here: the plan is then built over local values. */
export function isLocalBuild(args: readonly Tensor[]): boolean {
  return args.every((a) => isLocalChain(a.child));
}

/**
 * Swaps a state tensor's value for a placeholder on the trace's stand-in, for the length of a
 * trace over local values; returns the placeholder's id.
 */
export function adoptState(t: Trace, tensor: Tensor): ObjectId {
  const found = t.adopted.find((a) => a.tensor === tensor);
  if (found) return found.id;
  const value = tensor.child;
  if (!isLocalChain(value)) {
    throw new PlanError('a plan built over local values keeps local state; this state tensor is remote or shared: build the plan over shared values instead');
  }
  const id = randomId();
  tensor.child = new PointerTensor(t.standIn!, id, value.shape, local);
  t.adopted.push({ tensor, id, value, restore: () => (tensor.child = value) });
  return id;
}

// Rephrases the pointer layer's refusal to mix a local tensor in, for someone writing a plan.
function explain(e: unknown, name: string): unknown {
  if (e instanceof Error && /one tensor is local/.test(e.message)) {
    return new PlanError(
      `the plan '${name}' uses a local tensor it was not given: a plan keeps its tensors as state ` +
        '(func2plan(fn, { state: [...] }), or a field of a Plan class) or takes them as arguments',
    );
  }
  return e;
}

/** Builds a plan over local values, on placeholders of the arguments' shapes. */
export function buildLocal(p: Traced, shapes: readonly Shape[]): BuiltLocal {
  const t = new Trace();
  t.plans.add(p.plan);
  t.standIn = new StandIn(t);
  const inputs = shapes.map((s) => new Tensor(new PointerTensor(t.standIn!, randomId(), s, local)));
  let value: unknown;
  try {
    for (const s of p.state) adoptState(t, s);
    value = traceRun(t, [], () => tidy(() => p.run(inputs)));
  } catch (e) {
    throw explain(e, p.name);
  } finally {
    for (const a of t.adopted) a.restore();
  }
  const { outputs, single } = outputsOf(value, p.name);
  const outPointers = outputs.map((o) => {
    const c = o.child;
    if (!(c instanceof PointerTensor) || c.location !== t.standIn) throw new PlanError(`the plan '${p.name}' returned a tensor it did not compute from its arguments and state`);
    return c;
  });
  closeTrace(t);
  const compiled = compile({
    messages: t.messages.get(t.standIn.id) ?? [],
    inputs: inputs.map((i) => (i.child as PointerTensor).idAtLocation),
    state: t.adopted.map((a) => a.id),
    outputs: outPointers.map((o) => o.idAtLocation),
    sessions: t.sessions,
    externals: false,
    worker: local,
    where: 'its worker',
  });
  const stateTensors = t.adopted.map((a) => a.tensor as Tensor);
  const state: object[] = [...stateTensors.map((s) => s.child), ...compiled.constants];
  const object = makePlanObject(compiled.data, state, p.name, decodeLocal);
  // The worker will check these again; checking here refuses a bad plan before it is sent.
  const slots = replayShapes(object.program, [...shapes, ...state.map((s) => (s as AbstractTensor).shape)], (i, j) => object.inlineShape(i, j));
  return {
    kind: 'local',
    object,
    stateTensors,
    constants: compiled.constants,
    inputShapes: [...shapes],
    outputShapes: object.program.outputs.map((o) => slots[o]!),
    single,
    outputFixed: outPointers.map((o) => (o.fixedPrecision ? { ...o.fixedPrecision } : undefined)),
  };
}

function decodeLocal(n: WireValue): object {
  return decodeObject(n, { worker: local });
}

/** The workers a chain's pointers and shared tensors involve. */
export function workersOf(values: readonly AbstractTensor[], into = new Map<string, RemoteWorker>()): Map<string, RemoteWorker> {
  for (const v of values) {
    for (const l of v.layers()) {
      if (l instanceof PointerTensor) into.set(l.location.id, l.location);
      if (l instanceof AdditiveSharingTensor && l.cryptoProvider) into.set(l.cryptoProvider.id, l.cryptoProvider);
    }
  }
  return into;
}

/** Builds a plan over remote or shared values: a program per worker it touches. */
export function buildOverWorkers(p: Traced, args: readonly Tensor[]): BuiltWorkers {
  const workers = workersOf([...args.map((a) => a.child), ...p.state.map((s) => s.child)]);
  const inputs = new Map<string, ObjectId[]>();
  const leaf = (into: Map<string, ObjectId[]>) => (ptr: PointerTensor) => {
    let list = into.get(ptr.location.id);
    if (!list) into.set(ptr.location.id, (list = []));
    list.push(ptr.idAtLocation);
    return list.length - 1;
  };
  const argTemplates = args.map((a, i) => describe(a.child, leaf(inputs), `argument ${i + 1}`));
  const t = new Trace();
  t.plans.add(p.plan);
  let value: unknown;
  try {
    value = traceRun(t, [...workers.values()], () => tidy(() => p.run([...args])));
  } catch (e) {
    throw explain(e, p.name);
  }
  const { outputs, single } = outputsOf(value, p.name);
  const outIds = new Map<string, ObjectId[]>();
  const outputTemplates = outputs.map((o, i) => describe(o.child, leaf(outIds), `result ${i + 1}`));
  for (const w of outIds.keys()) {
    if (!workers.has(w)) throw new PlanError(`a result of the plan '${p.name}' is on '${w}', a worker the plan's arguments do not involve`);
  }
  for (const o of outputs) handOverPointers(o.child);
  closeTrace(t);
  const parts = new Map<string, { worker: RemoteWorker; object: PlanObject }>();
  for (const [id, worker] of workers) {
    const messages = t.messages.get(id) ?? [];
    const out = outIds.get(id) ?? [];
    if (messages.length === 0 && out.length === 0) continue;
    const compiled = compile({
      messages,
      inputs: inputs.get(id) ?? [],
      state: [],
      outputs: out,
      sessions: t.sessions,
      externals: true,
      worker: local,
      where: id,
    });
    if (compiled.frees.length > 0) worker.post({ kind: 'del', ids: compiled.frees }, local);
    parts.set(id, { worker, object: makePlanObject(compiled.data, compiled.constants, p.name, decodeLocal) });
  }
  if (parts.size === 0) throw new PlanError(`the plan '${p.name}' sends nothing to any worker`);
  return { kind: 'workers', parts, workers, argTemplates, outputTemplates, single };
}

/** Whether two shape lists are equal. */
export function sameShapeList(a: readonly Shape[], b: readonly Shape[]): boolean {
  return a.length === b.length && a.every((s, i) => sameShape(s, b[i]!));
}
