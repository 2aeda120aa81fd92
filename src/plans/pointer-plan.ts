/**
 * PointerPlan: a plan that was sent to workers, and the way to run it there with one message per
 * worker (PySyft's PointerPlan).
 *
 * A plan built over local values may be sent to several workers; calling the pointer plan on
 * pointers runs it on the worker that holds them. A plan built over workers is sent to each
 * worker it touches; calling it sends each of them one `plan.run` message (every party, and the
 * crypto provider), all with the same fresh salt. Results are pointers, returned at once, with ids
 * chosen here; `await result.get()` is where a failure surfaces, as for any command.
 */
import { ValueError } from '../errors.js';
import type { Shape } from '../shapes.js';
import { Tensor } from '../tensor.js';
import { PointerTensor } from '../tensors/pointer.js';
import { decodeObject } from '../workers/codec.js';
import { local } from '../workers/local.js';
import type { ObjectId, WireValue } from '../workers/messages.js';
import type { RemoteWorker } from '../workers/worker.js';
import { randomId, randomSessionId } from '../util/random.js';
import { type Built, type BuiltLocal, type BuiltWorkers, sameShapeList } from './build.js';
import { callableInstance } from './callable.js';
import { runCommandName } from './commands.js';
import { PlanError } from './errors.js';
import { PlanObject } from './held-plan.js';
import { dealsOf, dealt, isDealerPart, poolCapacity } from './preprocess.js';
import { replayShapes } from './replay.js';
import { match, rebuild } from './templates.js';

/** Where a plan was sent: the worker, the plan's id there, and the shapes of its state then. */
export interface PlanLocation {
  worker: RemoteWorker;
  id: ObjectId;
  stateShapes: Shape[];
}

interface Internals {
  built: Built;
  name: string;
  locations: Map<string, PlanLocation>;
  fetched: (obj: PlanObject) => unknown;
  /** Salts of runs whose deals the crypto provider already sent (the offline pool, preprocess.ts). */
  pool: string[];
  /** Whether an online run taking a pooled salt has the provider deal one more run meanwhile. */
  refill: boolean;
}

/** What {@link PointerPlan.preprocess} did. */
export interface PreprocessReport {
  /** Runs now dealt ahead (the pool's size). */
  pooled: number;
  /** Runs this call added. */
  added: number;
  /** Deals of one run, by kind of correlated randomness (from the plan's trace). */
  dealsPerRun: Record<string, number>;
  /** Most runs the pool holds. */
  capacity: number;
}

const internals = new WeakMap<PointerPlan, Internals>();

function inner(p: PointerPlan): Internals {
  const i = internals.get(p);
  if (!i) throw new PlanError('this pointer plan was not made by send()');
  return i;
}

function liveTensor(a: unknown, i: number): Tensor {
  if (!(a instanceof Tensor)) throw new ValueError(`argument ${i + 1} of a plan must be a Tensor`);
  return a;
}

/** A plan held by one or more workers. Call it like a function; `get()` brings it back. */
export interface PointerPlan {
  (...args: Tensor[]): Tensor | Tensor[];
}

export class PointerPlan {
  constructor(built: Built, name: string, locations: Map<string, PlanLocation>, fetched: (obj: PlanObject) => unknown) {
    const self = callableInstance<PointerPlan>(new.target.prototype, (s, args) => s.call(...(args as Tensor[])));
    internals.set(self, { built, name, locations, fetched, pool: [], refill: false });
    return self;
  }

  /** The plan's name. */
  get name(): string {
    return inner(this).name;
  }

  /** The workers holding the plan. */
  get locations(): RemoteWorker[] {
    return [...inner(this).locations.values()].map((l) => l.worker);
  }

  /** The (first) worker holding the plan. */
  get location(): RemoteWorker {
    const l = this.locations[0];
    if (!l) throw new PlanError('this pointer plan was retrieved with get() and points nowhere now');
    return l;
  }

  /** The plan's id at its (first) worker. */
  get idAtLocation(): ObjectId {
    const l = [...inner(this).locations.values()][0];
    if (!l) throw new PlanError('this pointer plan was retrieved with get() and points nowhere now');
    return l.id;
  }

  /** The shape of the plan's single result for the inputs it was built with, when that is known. */
  outputShape(): Shape | undefined {
    const b = inner(this).built;
    return b.kind === 'local' && b.outputShapes?.length === 1 ? b.outputShapes[0] : undefined;
  }

  /**
   * Runs the plan where it is, with one message per worker, and returns pointers to its results
   * at once (one tensor, or a list when the plan returns several).
   */
  call(...args: Tensor[]): Tensor | Tensor[] {
    const i = inner(this);
    const out = i.built.kind === 'local' ? this.runLocalPlan(i, i.built, args) : this.runOverWorkers(i, i.built, args);
    return i.built.single ? out[0]! : out;
  }

  private runLocalPlan(i: Internals, b: BuiltLocal, args: readonly Tensor[]): Tensor[] {
    const p = b.object.program;
    if (args.length !== p.inputs) throw new PlanError(`the plan '${i.name}' takes ${p.inputs} argument(s), got ${args.length}`);
    const pointers = args.map((a, k) => {
      const c = liveTensor(a, k).child;
      if (!(c instanceof PointerTensor)) throw new PlanError(`argument ${k + 1} is not a pointer: call the plan itself to run it here`);
      if (c.released) throw new PlanError(`argument ${k + 1} was already retrieved, moved or freed`);
      return c;
    });
    const where = pointers[0]?.location ?? [...i.locations.values()][0]?.worker;
    if (!where) throw new PlanError('this pointer plan points nowhere now');
    const loc = i.locations.get(where.id);
    if (!loc) {
      const at = [...i.locations.keys()].join("', '");
      throw new PlanError(`the data is on '${where.id}' but the plan '${i.name}' was sent to '${at}': send the plan there too`);
    }
    for (const [k, ptr] of pointers.entries()) {
      if (ptr.location.id !== where.id) throw new PlanError(`argument ${k + 1} is on '${ptr.location.id}', the first on '${where.id}': a plan runs on one worker`);
    }
    const shapes = pointers.map((ptr) => ptr.shape);
    const outShapes =
      b.inputShapes && b.outputShapes && sameShapeList(shapes, b.inputShapes)
        ? b.outputShapes
        : (() => {
            const slots = replayShapes(p, [...shapes, ...loc.stateShapes], (a, j) => b.object.inlineShape(a, j));
            return p.outputs.map((o) => slots[o]!);
          })();
    const ret = outShapes.map(() => randomId());
    const salt: WireValue = p.sessions.length > 0 ? randomSessionId() : null;
    where.post(
      { kind: 'cmd', op: runCommandName(ret.length), self: loc.id, args: [pointers.map((ptr) => ({ ref: ptr.idAtLocation })), salt], ret },
      local,
    );
    return ret.map((id, k) => {
      const ptr = new PointerTensor(where, id, outShapes[k]!, local);
      const fp = b.outputFixed[k];
      if (fp) ptr.fixedPrecision = { ...fp };
      return new Tensor(ptr);
    });
  }

  private runOverWorkers(i: Internals, b: BuiltWorkers, args: readonly Tensor[]): Tensor[] {
    if (args.length !== b.argTemplates.length) throw new PlanError(`the plan '${i.name}' takes ${b.argTemplates.length} argument(s), got ${args.length}`);
    const inputs = new Map<string, ObjectId[]>();
    args.forEach((a, k) =>
      match(b.argTemplates[k]!, liveTensor(a, k).child, (leaf, ptr) => {
        if (ptr.released) throw new PlanError(`argument ${k + 1} was already retrieved, moved or freed`);
        let list = inputs.get(leaf.worker);
        if (!list) inputs.set(leaf.worker, (list = []));
        list[leaf.index] = ptr.idAtLocation;
      }, `argument ${k + 1}`),
    );
    // A pooled salt: the crypto provider dealt this run already, and gets no message now.
    const pooled = i.pool.shift();
    const salt = pooled ?? randomSessionId();
    const rets = new Map<string, ObjectId[]>();
    // Workers that take no inputs (the crypto provider) first: their seeds are on the way as the parties start.
    const order = [...b.parts.entries()].sort(([, x], [, y]) => x.object.program.inputs - y.object.program.inputs);
    for (const [id, part] of order) {
      if (pooled !== undefined && isDealerPart(part.object.program)) continue;
      const loc = i.locations.get(id);
      if (!loc) throw new PlanError(`the plan '${i.name}' is no longer on '${id}'`);
      const ins = inputs.get(id) ?? [];
      const ret = part.object.program.outputs.map(() => randomId());
      rets.set(id, ret);
      loc.worker.post({ kind: 'cmd', op: runCommandName(ret.length), self: loc.id, args: [ins.map((x) => ({ ref: x })), salt], ret }, local);
    }
    // In the background: the provider deals a later run while the parties run this one.
    if (pooled !== undefined && i.refill) this.dealAhead(i, b, 1);
    return b.outputTemplates.map((tmpl) =>
      new Tensor(
        rebuild(
          tmpl,
          (leaf) => new PointerTensor(b.workers.get(leaf.worker)!, rets.get(leaf.worker)![leaf.index]!, leaf.shape, local),
          (id) => b.workers.get(id)!,
        ),
      ),
    );
  }

  /** Runs the crypto provider has dealt ahead for this plan (the offline pool). */
  get pooledRuns(): number {
    return inner(this).pool.length;
  }

  /**
   * The offline phase (preprocess.ts): the crypto provider deals the correlated randomness of the
   * next `runs` runs now, and the promise resolves once every party has it. Those runs then send
   * the provider nothing and never wait on it. With `refill`, each run that takes a pooled deal
   * has the provider deal one more in the background, so the pool stays full.
   *
   * @example
   * ```ts
   * const step = sy.func2plan(trainStep);
   * step.build(batch.data, batch.target);
   * step.send();
   * await step.preprocess(8, { refill: true });  // or: await sy.mpc.preprocess(step, { runs: 8 })
   * step(batch.data, batch.target);                // online only: parties and their peers
   * ```
   */
  async preprocess(runs: number, opts: { refill?: boolean } = {}): Promise<PreprocessReport> {
    const i = inner(this);
    const b = i.built;
    if (!Number.isSafeInteger(runs) || runs < 0) throw new ValueError('preprocess(runs): runs must be a whole number of runs, 0 or more');
    if (b.kind !== 'workers') throw new PlanError(`the plan '${i.name}' runs on one worker and deals no correlated randomness: nothing to preprocess`);
    const dealers = this.dealerParts(i, b);
    if (dealers.length === 0) throw new PlanError(`the plan '${i.name}' has no crypto provider part: nothing to preprocess`);
    const deals = dealers.reduce((n, [, part]) => n + part.object.program.actions.length, 0);
    const capacity = poolCapacity(deals);
    if (i.pool.length + runs > capacity) {
      throw new PlanError(`the plan '${i.name}' deals ${deals} times a run: at most ${capacity} runs are dealt ahead (${i.pool.length} are); ask for fewer`);
    }
    if (opts.refill !== undefined) i.refill = opts.refill;
    this.dealAhead(i, b, runs);
    await Promise.all(dealers.map(([, part]) => dealt(part.worker, local)));
    const dealsPerRun: Record<string, number> = {};
    for (const [, part] of dealers) for (const [k, n] of Object.entries(dealsOf(part.object.program))) dealsPerRun[k] = (dealsPerRun[k] ?? 0) + n;
    return { pooled: i.pool.length, added: runs, dealsPerRun, capacity };
  }

  private dealerParts(i: Internals, b: BuiltWorkers) {
    return [...b.parts.entries()].filter(([id, part]) => isDealerPart(part.object.program) && i.locations.has(id));
  }

  // Has the crypto provider run its part of `runs` future runs now, with salts kept in the pool.
  private dealAhead(i: Internals, b: BuiltWorkers, runs: number): void {
    const dealers = this.dealerParts(i, b);
    for (let r = 0; r < runs; r++) {
      const salt = randomSessionId();
      for (const [id] of dealers) {
        const loc = i.locations.get(id)!;
        loc.worker.post({ kind: 'cmd', op: runCommandName(0), self: loc.id, args: [[], salt], ret: [] }, local);
      }
      i.pool.push(salt);
    }
  }

  /**
   * Brings the plan back from its (first) worker, which forgets it: a plan that runs here, with
   * the state it has there (PySyft's `get` of a pointer plan).
   */
  async get(): Promise<unknown> {
    const i = inner(this);
    if (i.built.kind !== 'local') throw new PlanError('a plan built over several workers holds one part on each: it cannot be brought back whole');
    const [id, loc] = [...i.locations.entries()][0] ?? [];
    if (!loc) throw new PlanError('this pointer plan was already retrieved with get()');
    i.locations.delete(id!);
    const node = await loc.worker.request({ kind: 'req', req: 0, op: 'get', args: [loc.id, false] }, local);
    const obj = decodeObject(node, { worker: local });
    if (!(obj instanceof PlanObject)) throw new PlanError(`worker '${loc.worker.id}' holds no plan under ${loc.id}`);
    return i.fetched(obj);
  }

  /** Frees the plan on every worker holding it. */
  dispose(): void {
    const i = inner(this);
    for (const l of i.locations.values()) {
      try {
        l.worker.post({ kind: 'del', ids: [l.id] }, local);
      } catch {
        // The worker is gone, and the plan with it.
      }
    }
    i.locations.clear();
    // Deals made ahead for it are left unused (they wait in the parties' mailboxes, bounded there).
    i.pool.length = 0;
  }

  toString(): string {
    const i = inner(this);
    const where = [...i.locations.values()].map((l) => `${l.worker.id}:${l.id}`).join(', ');
    return `[PointerPlan ${i.name} | me -> ${where || 'nowhere'}]`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
