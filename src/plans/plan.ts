/**
 * Plans (PySyft 0.2's Part 8): a function or a model traced once into a list of allow-listed
 * commands, then run with one message per worker.
 *
 * - `sy.func2plan(fn, { argShapes })` makes a plan of a function (built at once when the shapes
 *   are given); `sy.func2plan(model)` one of an `nn` module; a `sy.Plan` subclass with a
 *   `forward` method and tensors or modules in its fields is a class plan, whose tensors are its
 *   state (parameters kept with the plan).
 * - `plan.build(...args)` traces it on arguments like these (`plan.isBuilt` says whether it was).
 *   Over local values it is PySyft's plan: it runs here, or on any worker it is sent to
 *   (`plan.send(bob)` returns a PointerPlan; `pointerPlan(ptr)` runs it there with one message;
 *   `pointerPlan.get()` brings it back). Over shared values it is bound to the workers of the
 *   step: calling it sends one message to each party and one to the crypto provider, with a
 *   fresh salt for the sessions of every run (execute.ts).
 * - A plan that was never built cannot be sent (a PlanError says to build it); calling one runs
 *   its function directly, as a module would.
 * Calling a plan while another is being traced inlines it (its state becomes the outer plan's).
 *
 * @example
 * ```ts
 * const plan = sy.func2plan((x: sy.Tensor) => x.add(x).abs(), { argShapes: [[2]] });
 * plan.isBuilt;                          // true
 * const ptrPlan = plan.send(bob);
 * const y = ptrPlan(sy.tensor([1, -2]).send(bob));   // one message to bob
 * await y.get();                         // tensor([2., 4.])
 * ```
 */
import { ValueError } from '../errors.js';
import { AbstractTensor } from '../layer/abstract.js';
import { type ShareOptions, Tensor } from '../tensor.js';
import type { PrecisionOptions } from '../tensors/fixed-precision.js';
import { PointerTensor } from '../tensors/pointer.js';
import { encodeObject } from '../workers/codec.js';
import { local } from '../workers/local.js';
import type { RemoteWorker } from '../workers/worker.js';
import { randomId } from '../util/random.js';
import { type Built, type BuiltLocal, type BuiltWorkers, adoptState, buildLocal, buildOverWorkers, isLocalBuild } from './build.js';
import { match } from './templates.js';
import { callableInstance } from './callable.js';
import { PlanError } from './errors.js';
import { execute } from './execute.js';
import { PlanObject } from './held-plan.js';
import { type PlanLocation, PointerPlan } from './pointer-plan.js';
import { describeProgram } from './readable.js';
import { PlanState, checkArgShapes, tensorsIn } from './plan-state.js';
import { currentTrace } from './trace.js';

/** What a plan returns: a tensor, or several. */
export type PlanOutput = Tensor | Tensor[];

export interface PlanOptions {
  /**
   * Shapes of the arguments: the plan is built at once, over local placeholders of these shapes
   * (a -1 stands for any size and is built as 1).
   */
  argShapes?: readonly (readonly number[])[];
  /** Tensors kept with the plan; a function plan gets them as its last argument (`state.read()`). */
  state?: readonly Tensor[];
  /** The plan's name (default: the function's or class's). */
  name?: string;
}

interface Internals {
  name: string;
  fn: ((...args: never[]) => unknown) | undefined;
  /** State given to func2plan (passed to the function). */
  given: PlanState | undefined;
  built: Built | undefined;
  /** Builds over workers for arguments of other shapes than the first (a smaller last batch). */
  variants: BuiltWorkers[];
  /** Pointer plans by worker id (plans over local values). */
  pointers: Map<string, PointerPlan>;
  /** Pointer plans of builds over workers, by build. */
  deployed: Map<Built, PointerPlan>;
}

/** How many builds over workers a plan keeps for arguments of different shapes. */
const MAX_VARIANTS = 8;

const internals = new WeakMap<object, Internals>();

function inner(p: Plan): Internals {
  const i = internals.get(p);
  if (!i) throw new PlanError('this plan was not made by the Plan constructor');
  return i;
}

/** A plan: call it like a function. */
export interface Plan {
  (...args: Tensor[]): PlanOutput;
}

/**
 * A plan (PySyft's `sy.Plan`). Subclass it with a `forward(...args)` method for a class plan,
 * whose tensor and module fields are its state; or make one with {@link func2plan}. A plan
 * brought back from a worker has no `forward`: it runs as it was built.
 *
 * @example
 * ```ts
 * class Net extends sy.Plan {
 *   fc1 = new sy.nn.Linear(2, 3);
 *   fc2 = new sy.nn.Linear(3, 2);
 *   forward(x: sy.Tensor) { return this.fc2.forward(this.fc1.forward(x).relu()); }
 * }
 * const net = new Net().build(sy.tensor([1, 2]));
 * const y = net.send(bob)(sy.tensor([1, 2]).send(bob));
 * ```
 */
export class Plan {
  constructor(opts: PlanOptions = {}) {
    const self = callableInstance<Plan>(new.target.prototype, (s, args) => s.call(...(args as Tensor[])));
    internals.set(self, {
      name: opts.name ?? (new.target.name || 'plan'),
      fn: undefined,
      given: opts.state === undefined ? undefined : new PlanState(opts.state),
      built: undefined,
      variants: [],
      pointers: new Map(),
      deployed: new Map(),
    });
    return self;
  }

  /** The plan's name. */
  get name(): string {
    return inner(this).name;
  }

  /** Whether the plan was built (its commands recorded). */
  get isBuilt(): boolean {
    return inner(this).built !== undefined;
  }

  /** The tensors kept with the plan: func2plan's `state`, or a class plan's tensor and module fields. */
  get state(): PlanState {
    const i = inner(this);
    if (i.given) return i.given;
    if (i.built?.kind === 'local' && !i.fn && !forwardOf(this)) return new PlanState(i.built.stateTensors);
    const out: Tensor[] = [];
    const seen = new Set<unknown>([this]);
    for (const v of Object.values(this)) tensorsIn(v, out, seen);
    return new PlanState(out);
  }

  /** The state's tensors (the parameters of its modules among them), as a module's `parameters()`. */
  parameters(): Tensor[] {
    return this.state.read();
  }

  /** How the function is run while traced or called directly. */
  private runner(): (args: Tensor[]) => unknown {
    const i = inner(this);
    const own = forwardOf(this);
    const f = (i.fn ?? (own ? own.bind(this) : undefined)) as ((...a: unknown[]) => unknown) | undefined;
    if (!f) throw new PlanError(`the plan '${i.name}' has no function: it was fetched from a worker, and runs only as built`);
    return i.given ? (args) => f(...args, i.given) : (args) => f(...args);
  }

  /**
   * Traces the plan on these arguments (local values, or remote and shared ones: see the file's
   * comment). Returns the plan.
   */
  build(...args: Tensor[]): this {
    if (currentTrace()) throw new PlanError('a plan cannot be built while another is being traced');
    args.forEach((a, k) => {
      if (!(a instanceof Tensor)) throw new ValueError(`argument ${k + 1} of build() must be a Tensor`);
    });
    const i = inner(this);
    const traced = { name: i.name, plan: this, run: this.runner(), state: this.state.read() };
    i.built = isLocalBuild(args) && this.state.read().every((s) => isLocalBuild([s]))
      ? buildLocal(traced, args.map((a) => a.shape))
      : buildOverWorkers(traced, args);
    i.variants = [];
    i.pointers.clear();
    i.deployed.clear();
    return this;
  }

  /** @internal Builds from shapes (func2plan's argShapes). */
  buildFromShapes(shapes: readonly (readonly number[])[]): this {
    const i = inner(this);
    i.built = buildLocal({ name: i.name, plan: this, run: this.runner(), state: this.state.read() }, checkArgShapes(shapes));
    i.variants = [];
    i.pointers.clear();
    i.deployed.clear();
    return this;
  }

  /**
   * Runs the plan. Built over local values: here on local arguments, or on the worker holding
   * pointer arguments (sending the plan there first if it is not yet). Built over workers: on
   * them, one message each. Not built: runs the function directly.
   */
  call(...args: Tensor[]): PlanOutput {
    const i = inner(this);
    const t = currentTrace();
    if (t) {
      // Inside another plan's trace: inline this one.
      if (t.plans.has(this)) throw new PlanError(`the plan '${i.name}' calls itself: a plan is a fixed list of commands and cannot recurse`);
      t.plans.add(this);
      try {
        if (t.standIn) for (const s of this.state.read()) adoptState(t, s);
        if (i.fn || forwardOf(this)) return this.runner()(args) as PlanOutput;
        return this.runHere(i.built as BuiltLocal, args);
      } finally {
        t.plans.delete(this);
      }
    }
    if (!i.built) return this.runner()(args) as PlanOutput;
    if (i.built.kind === 'workers') return this.sendToWorkers(this.variantFor(i.built, args)).call(...args);
    const pointer = args.find((a) => a instanceof Tensor && a.child instanceof PointerTensor)?.child as PointerTensor | undefined;
    if (pointer) return this.send(pointer.location).call(...args);
    return this.runHere(i.built, args);
  }

  // Runs the program here, on the arguments' layers, with the state's current values.
  private runHere(b: BuiltLocal, args: readonly Tensor[]): PlanOutput {
    const p = b.object.program;
    if (args.length !== p.inputs) throw new PlanError(`the plan '${this.name}' takes ${p.inputs} argument(s), got ${args.length}`);
    args.forEach((a, k) => {
      if (!(a instanceof Tensor)) throw new ValueError(`argument ${k + 1} of a plan must be a Tensor`);
    });
    const state = [...b.stateTensors.map((s) => s.child), ...b.constants];
    const out = execute(p, { worker: local, from: local.id, inputs: args.map((a) => a.child), state, externals: [] });
    if (out instanceof Promise) {
      out.catch(() => undefined);
      throw new PlanError(`the plan '${this.name}' runs protocol steps: build it over shared values to run it on the workers`);
    }
    // State the plan updated in place (an optimizer step) goes back into its tensors.
    b.stateTensors.forEach((s, k) => {
      if (state[k] !== s.child) s.child = state[k] as AbstractTensor;
    });
    const tensors = out.map((o) => new Tensor(o as AbstractTensor));
    return b.single ? tensors[0]! : tensors;
  }

  /**
   * Sends the plan, with its state, to `workers` (PySyft's `plan.send`), returning a pointer plan
   * that runs it on whichever of them holds the data. A plan built over workers is sent to those
   * (call `send()` without arguments). Sending a plan that was not built is refused.
   */
  send(...workers: RemoteWorker[]): PointerPlan {
    const i = inner(this);
    const b = i.built;
    if (!b) {
      throw new PlanError(
        `the plan '${i.name}' is not built: build it first (plan.build(...example tensors), or func2plan(fn, { argShapes }))`,
      );
    }
    if (b.kind === 'workers') {
      if (workers.length > 0) throw new PlanError(`the plan '${i.name}' was built over its workers and runs on them: call send() without arguments`);
      return this.sendToWorkers();
    }
    if (workers.length === 0) throw new ValueError('send() needs the worker(s) to send the plan to');
    const key = workers.map((w) => w.id).join(',');
    const cached = i.pointers.get(key);
    // A pointer plan brought back with get() (or freed) points nowhere: send afresh.
    if (cached && workers.every((w) => cached.locations.some((l) => l.id === w.id))) return cached;
    for (const [k, v] of [...i.pointers]) if (v === cached) i.pointers.delete(k);
    const state = [...b.stateTensors.map((s) => s.child), ...b.constants];
    for (const s of state) {
      if (s instanceof AbstractTensor && [...s.layers()].some((l) => l instanceof PointerTensor)) {
        throw new PlanError(`the state of the plan '${i.name}' is remote or shared: a plan sent to a worker brings its state by value; build it over shared values instead`);
      }
    }
    const node = encodeObject(heldPlanOf(this));
    const locations = new Map<string, PlanLocation>();
    for (const w of workers) {
      const id = randomId();
      w.post({ kind: 'store', id, obj: node }, local);
      locations.set(w.id, { worker: w, id, stateShapes: state.map((s) => (s as AbstractTensor).shape) });
    }
    const ptr = new PointerPlan(b, i.name, locations, fetchedPlan);
    i.pointers.set(key, ptr);
    for (const w of workers) if (!i.pointers.has(w.id)) i.pointers.set(w.id, ptr);
    return ptr;
  }

  /**
   * The build over workers these arguments fit: the first, or one made for their shapes (traced
   * again from the function, at most MAX_VARIANTS of them).
   */
  private variantFor(first: BuiltWorkers, args: readonly Tensor[]): BuiltWorkers {
    const i = inner(this);
    for (const b of [first, ...i.variants]) if (fits(b, args)) return b;
    if (!(i.fn || forwardOf(this)) || i.variants.length >= MAX_VARIANTS) {
      // Says what does not match.
      for (const [k, a] of args.entries()) if (first.argTemplates[k]) match(first.argTemplates[k]!, a.child, () => {}, `argument ${k + 1}`);
      throw new PlanError(`the plan '${i.name}' takes ${first.argTemplates.length} argument(s) like the ones it was built with`);
    }
    const b = buildOverWorkers({ name: i.name, plan: this, run: this.runner(), state: this.state.read() }, args);
    i.variants.push(b);
    return b;
  }

  // Sends each worker its part of a plan built over workers (once).
  private sendToWorkers(b: Built | undefined = inner(this).built): PointerPlan {
    const i = inner(this);
    if (b?.kind !== 'workers') throw new PlanError('not a plan over workers');
    const cached = i.deployed.get(b);
    if (cached) return cached;
    const locations = new Map<string, PlanLocation>();
    for (const [id, part] of b.parts) {
      const objId = randomId();
      part.worker.post({ kind: 'store', id: objId, obj: encodeObject(part.object) }, local);
      locations.set(id, { worker: part.worker, id: objId, stateShapes: [] });
    }
    const ptr = new PointerPlan(b, i.name, locations, fetchedPlan);
    i.deployed.set(b, ptr);
    return ptr;
  }

  /** The pointer plans made by send() (PySyft's `get_pointers`). */
  getPointers(): PointerPlan[] {
    const i = inner(this);
    return [...new Set([...i.pointers.values(), ...i.deployed.values()])];
  }

  /**
   * How many commands each worker's part of the plan holds (by worker id; `'*'` for a plan over
   * local values): what one run saves in messages, against sending the step op by op.
   */
  get commandCounts(): Record<string, number> {
    const b = inner(this).built;
    if (!b) return {};
    if (b.kind === 'local') return { '*': b.object.program.actions.length };
    return Object.fromEntries([...b.parts].map(([id, p]) => [id, p.object.program.actions.length]));
  }

  /** The recorded commands of each worker, as lines (PySyft's `readable_plan`). */
  get readablePlan(): string[] {
    const b = inner(this).built;
    if (!b) return [];
    const parts = b.kind === 'local' ? [['', b.object] as const] : [...b.parts].map(([id, p]) => [`${id}: `, p.object] as const);
    return parts.flatMap(([where, obj]) => describeProgram(obj).map((l) => where + l));
  }

  /** Encodes every state tensor as fixed precision (as a module's `fixPrecision()`). Returns the plan. */
  fixPrecision(opts: PrecisionOptions = {}): this {
    for (const p of this.state.read()) p.child = p.fixPrecision(opts).child;
    return this;
  }

  /** Secret-shares every state tensor (as a module's `share()`). Returns the plan. */
  share(...args: (RemoteWorker | ShareOptions)[]): this {
    for (const p of this.state.read()) p.child = p.share(...args).child;
    return this;
  }

  toString(): string {
    const i = inner(this);
    const head = `<Plan ${i.name}${i.built ? '' : ' (not built)'}>`;
    return [head, ...this.readablePlan.map((l) => `  ${l}`)].join('\n');
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** A class plan's `forward` method (subclasses define it; the base class has none). */
function forwardOf(p: Plan): ((...args: Tensor[]) => PlanOutput) | undefined {
  const f = (p as unknown as { forward?: unknown }).forward;
  return typeof f === 'function' ? (f as (...args: Tensor[]) => PlanOutput) : undefined;
}

/** Whether `args` match the argument templates of `b`. */
function fits(b: BuiltWorkers, args: readonly Tensor[]): boolean {
  if (args.length !== b.argTemplates.length) return false;
  try {
    args.forEach((a, k) => match(b.argTemplates[k]!, a.child, () => {}, `argument ${k + 1}`));
    return true;
  } catch {
    return false;
  }
}

/**
 * The object a worker would hold for a plan built over local values, with its state's current
 * values (what `send()` sends; protocols carry plans this way).
 */
export function heldPlanOf(plan: Plan): PlanObject {
  const i = inner(plan);
  const b = i.built;
  if (!b) throw new PlanError(`the plan '${i.name}' is not built: build it first (plan.build(...example tensors), or func2plan(fn, { argShapes }))`);
  if (b.kind !== 'local') throw new PlanError(`the plan '${i.name}' was built over its workers and stays bound to them`);
  return new PlanObject(b.object.program, [...b.stateTensors.map((s) => s.child), ...b.constants], i.name, new Map());
}

/** A plan brought back from a worker: it runs as built, with its state. */
export function fetchedPlan(obj: PlanObject): Plan {
  const plan = new Plan({ name: obj.name });
  const i = inner(plan);
  i.built = {
    kind: 'local',
    object: obj,
    stateTensors: obj.state.map((s) => new Tensor(s as AbstractTensor)),
    constants: [],
    inputShapes: undefined,
    outputShapes: undefined,
    single: obj.program.outputs.length === 1,
    outputFixed: obj.program.outputs.map(() => undefined),
  };
  return plan;
}

/** @internal Gives a plan its function (func2plan). */
export function attachFunction(plan: Plan, fn: (...args: never[]) => unknown): void {
  inner(plan).fn = fn;
}
