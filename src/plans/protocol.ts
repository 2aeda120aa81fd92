/**
 * Protocols (PySyft 0.2.3's Part 8 bis): a sequence of (worker, plan) pairs. `deploy(...workers)`
 * binds the pairs' workers and sends each plan to its worker; `run(x)` sends x to the first
 * worker, runs its plan there, moves the result to the next worker (worker to worker: the
 * orchestrator never sees it), and so on; the result is a pointer to the last worker.
 *
 * A pair's worker is a worker, or a name standing for one: `deploy` maps the names, in order of
 * first appearance, to the workers it is given, so two pairs with one name run on one worker.
 * `send(worker)` puts the protocol on a worker: deployed, that worker can run it (`run` on a
 * pointer to data there: the worker sends, runs and moves in its turn and holds a pointer to
 * the result); not deployed, it is kept there for others to `get()` and deploy (PySyft's
 * search-and-deploy).
 *
 * @example
 * ```ts
 * const inc = () => sy.func2plan((x: sy.Tensor) => x.add(1), { argShapes: [[1]] });
 * const protocol = new sy.Protocol([['worker1', inc()], ['worker2', inc()], ['worker3', inc()]]);
 * protocol.deploy(alice, bob, charlie);
 * const y = protocol.run(sy.tensor([1]));   // a pointer to charlie
 * await y.get();                             // tensor([4.])
 * ```
 */
import { ValueError } from '../errors.js';
import { AbstractTensor } from '../layer/abstract.js';
import type { Shape } from '../shapes.js';
import { Tensor } from '../tensor.js';
import { PointerTensor, sendLayer } from '../tensors/pointer.js';
import { type Codec, bad, decodeObject, encodeObject, expectFields, expectInt, expectShape, expectString } from '../workers/codec.js';
import { type CommandSpec, argLayer } from '../workers/commands.js';
import { local } from '../workers/local.js';
import { type ObjectId, type WireNode, type WireValue, isObjectId } from '../workers/messages.js';
import type { RemoteWorker, Worker } from '../workers/worker.js';
import { randomId } from '../util/random.js';
import { runCommandName } from './commands.js';
import { PlanError } from './errors.js';
import { PlanObject } from './held-plan.js';
import { Plan, fetchedPlan, heldPlanOf } from './plan.js';
import { PointerPlan } from './pointer-plan.js';

/** A pair's worker: a worker, or a name standing for one until `deploy`. */
export type ProtocolWorker = RemoteWorker | string;

function isWorker(w: unknown): w is RemoteWorker {
  return typeof w === 'object' && w !== null && typeof (w as RemoteWorker).post === 'function' && typeof (w as RemoteWorker).id === 'string';
}

const MAX_STEPS = 64;

/** One step of a protocol as a worker holds it: where it runs, and the plan (by id there, or by value). */
export interface ProtocolStep {
  worker: string;
  plan: { id: ObjectId; outputShape: Shape | null } | PlanObject;
}

/** A protocol as a worker holds it. */
export class ProtocolObject {
  constructor(readonly steps: ProtocolStep[]) {}
}

export const protocolCodec: Codec<ProtocolObject> = {
  type: 'protocol',
  cls: ProtocolObject,
  encode: (p, child) => ({
    type: 'protocol',
    steps: p.steps.map((s): WireValue =>
      s.plan instanceof PlanObject
        ? { worker: s.worker, plan: child(s.plan) }
        : { worker: s.worker, id: s.plan.id, shape: s.plan.outputShape === null ? null : [...s.plan.outputShape] },
    ),
  }),
  decode(node: WireNode, child) {
    expectFields(node, ['steps']);
    if (!Array.isArray(node.steps) || node.steps.length === 0 || node.steps.length > MAX_STEPS) bad('protocol', `steps must be a list of 1 to ${MAX_STEPS}`);
    return new ProtocolObject(
      node.steps.map((raw) => {
        if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || ArrayBuffer.isView(raw)) bad('protocol', 'a step must be an object');
        const s = raw as WireNode;
        const worker = expectString('protocol', s.worker, 64);
        if ('plan' in s) {
          expectFields(s, ['worker', 'plan']);
          const plan = child(s.plan!);
          if (!(plan instanceof PlanObject)) bad('protocol', 'a step carries a plan');
          return { worker, plan };
        }
        expectFields(s, ['worker', 'id', 'shape']);
        const id = expectInt('protocol', s.id, 1, Number.MAX_SAFE_INTEGER);
        return { worker, plan: { id, outputShape: s.shape === null ? null : expectShape('protocol', s.shape) } };
      }),
    );
  },
};

/** What one step needs to run a deployed plan: where it is, and the shape of its result. */
interface Deployed {
  worker: RemoteWorker;
  id: ObjectId;
  outputShape: Shape | null;
}

/**
 * Runs deployed steps from `owner`'s side: `x` (a pointer owned by `owner`) goes through each
 * plan in turn, moved worker to worker. Returns the pointer to the last result.
 */
function runSteps(steps: readonly Deployed[], x: PointerTensor, owned: boolean, owner: Worker): PointerTensor {
  let cur = x;
  let mine = owned;
  for (const s of steps) {
    if (cur.location.id !== s.worker.id) {
      // The caller's own data is never moved away: only results of earlier steps travel.
      if (!mine) throw new PlanError(`the data is on '${cur.location.id}' but the protocol starts on '${s.worker.id}': send it there (or pass a local tensor)`);
      cur = cur.move(s.worker);
    }
    const id = randomId();
    s.worker.post({ kind: 'cmd', op: runCommandName(1), self: s.id, args: [[{ ref: cur.idAtLocation }], null], ret: [id] }, owner);
    const next = new PointerTensor(s.worker, id, s.outputShape ?? cur.shape, owner);
    if (mine) cur.dispose();
    cur = next;
    mine = true;
  }
  return cur;
}

/** A sequence of (worker, plan) pairs, deployed and run together. */
export class Protocol {
  /** The pairs; the workers may be names until `deploy`. */
  plans: [ProtocolWorker, Plan | PointerPlan][];
  /** Where the protocol was sent, if it was. */
  location: RemoteWorker | undefined;
  #idAtLocation: ObjectId | undefined;

  constructor(plans: readonly (readonly [ProtocolWorker, Plan | PointerPlan])[]) {
    if (!Array.isArray(plans) || plans.length === 0 || plans.length > MAX_STEPS) throw new ValueError(`a protocol needs 1 to ${MAX_STEPS} (worker, plan) pairs`);
    plans.forEach(([w, p], k) => {
      if (typeof w !== 'string' && !isWorker(w)) throw new ValueError(`pair ${k + 1}: the worker must be a worker or a name`);
      if (!(p instanceof Plan) && !(p instanceof PointerPlan)) throw new ValueError(`pair ${k + 1}: the plan must be a Plan or a PointerPlan`);
    });
    this.plans = plans.map(([w, p]) => [w, p]);
  }

  /** Whether every pair's worker is a worker (not a name). */
  get workersResolved(): boolean {
    return this.plans.every(([w]) => isWorker(w));
  }

  /**
   * Maps the pairs' names to `workers` (in order of first appearance), then sends each plan to
   * its worker. Returns the protocol.
   */
  deploy(...workers: RemoteWorker[]): this {
    workers.forEach((w, k) => {
      if (!isWorker(w)) throw new ValueError(`deploy(): argument ${k + 1} must be a worker`);
    });
    const names = [...new Set(this.plans.map(([w]) => w).filter((w): w is string => typeof w === 'string'))];
    if (names.length !== workers.length) {
      throw new PlanError(`this protocol names ${names.length} worker(s) (${names.join(', ')}); deploy() got ${workers.length}`);
    }
    const byName = new Map(names.map((n, k) => [n, workers[k]!]));
    this.plans = this.plans.map(([w, p]) => {
      const worker = typeof w === 'string' ? byName.get(w)! : w;
      if (p instanceof PointerPlan) {
        if (!p.locations.some((l) => l.id === worker.id)) throw new PlanError(`a pointer plan on '${p.location.id}' cannot run on '${worker.id}'`);
        return [worker, p];
      }
      return [worker, p.send(worker)];
    });
    return this;
  }

  private deployed(): Deployed[] {
    if (!this.workersResolved) throw new PlanError('this protocol is not deployed: call deploy(...workers) first');
    return this.plans.map(([w, p]) => {
      const worker = w as RemoteWorker;
      if (!(p instanceof PointerPlan)) throw new PlanError('this protocol is not deployed: call deploy(...workers) first');
      const id = p.locations.length === 1 ? p.idAtLocation : undefined;
      if (id === undefined || p.location.id !== worker.id) throw new PlanError(`the plan of the step on '${worker.id}' is not (only) there`);
      return { worker, id, outputShape: outputShapeOf(p) };
    });
  }

  /**
   * Runs every plan in turn on `x` (sent to the first worker when it is local; when the
   * protocol was sent to a worker, `x` must be there and that worker runs it). Returns a pointer
   * to the result (on the last worker; or, run remotely, on the worker holding the protocol).
   */
  run(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new ValueError('run() takes a Tensor');
    if (this.location) {
      const c = x.child;
      if (!(c instanceof PointerTensor) || c.location.id !== this.location.id) {
        throw new PlanError(`this protocol runs on '${this.location.id}', where it was sent: send the data there first`);
      }
      const id = randomId();
      this.location.post({ kind: 'cmd', op: 'protocol.run', self: this.#idAtLocation!, args: [{ ref: c.idAtLocation }], ret: [id] }, local);
      const lastShape = this.deployed().at(-1)!.outputShape ?? c.shape;
      return new Tensor(new PointerTensor(this.location, id, lastShape, local));
    }
    const steps = this.deployed();
    const c = x.child;
    if (c instanceof PointerTensor) return new Tensor(runSteps(steps, c, false, local));
    return new Tensor(runSteps(steps, sendLayer(c, steps[0]!.worker), true, local));
  }

  /** Puts the protocol (deployed or not) on `worker`. Returns the protocol, whose `run` now runs there. */
  send(worker: RemoteWorker): this {
    if (!isWorker(worker)) throw new ValueError('send() needs a worker');
    const steps: ProtocolStep[] = this.plans.map(([w, p]) => {
      const name = typeof w === 'string' ? w : w.id;
      if (p instanceof PointerPlan) {
        if (typeof w === 'string') throw new PlanError('a protocol with pointer plans must be deployed before it is sent');
        return { worker: name, plan: { id: this.deployedStep(w, p), outputShape: outputShapeOf(p) } };
      }
      return { worker: name, plan: heldPlanOf(p) };
    });
    // The deployed plans are ours on their workers: the worker holding the protocol runs them in
    // its own name, so it is granted their use (asked before the protocol is stored there, so the
    // grants reach the plans' workers ahead of any run it starts).
    for (const [w, p] of this.plans) {
      if (p instanceof PointerPlan && typeof w !== 'string' && w.id !== worker.id) {
        void w.request({ kind: 'req', req: 0, op: 'grant', args: [p.idAtLocation, worker.id] }, local).catch(() => undefined);
      }
    }
    const id = randomId();
    worker.post({ kind: 'store', id, obj: encodeObject(new ProtocolObject(steps)) }, local);
    this.location = worker;
    this.#idAtLocation = id;
    return this;
  }

  private deployedStep(w: RemoteWorker, p: PointerPlan): ObjectId {
    if (p.location.id !== w.id) throw new PlanError(`the plan of the step on '${w.id}' is not there`);
    return p.idAtLocation;
  }

  /**
   * Brings the protocol back from the worker it was sent to, which forgets it (PySyft's
   * search, then `get`). Plans it carried by value come back as plans, ready to deploy.
   */
  async get(): Promise<Protocol> {
    if (!this.location) throw new PlanError('this protocol was not sent anywhere');
    const where = this.location;
    const node = await where.request({ kind: 'req', req: 0, op: 'get', args: [this.#idAtLocation!, false] }, local);
    this.location = undefined;
    this.#idAtLocation = undefined;
    return protocolFrom(decodeObject(node, { worker: local }));
  }
}

/** The shape of a pointer plan's (single) result, when it is known without its inputs. */
function outputShapeOf(p: PointerPlan): Shape | null {
  return p.outputShape() ?? null;
}

function protocolFrom(obj: object): Protocol {
  if (!(obj instanceof ProtocolObject)) throw new PlanError('the worker holds no protocol there');
  return new Protocol(
    obj.steps.map((s) => {
      if (!(s.plan instanceof PlanObject)) {
        throw new PlanError('a deployed protocol stays on its workers; send one that is not deployed to share it');
      }
      return [s.worker, fetchedPlan(s.plan)] as const;
    }),
  );
}

// A worker running a protocol it holds, on data it holds: it sends, runs and moves as an
// orchestrator would, and keeps the pointer to the result.
const protocolRun: CommandSpec = {
  results: 1,
  needsSelf: true,
  run(ctx, self, args) {
    if (!(self instanceof ProtocolObject)) throw new PlanError('the target is not a protocol');
    if (args.length !== 1) throw new PlanError('protocol.run takes the data');
    const x = argLayer(ctx, args[0], 'the data');
    const steps: Deployed[] = self.steps.map((s) => {
      if (s.plan instanceof PlanObject) throw new PlanError('this protocol is not deployed: deploy it before it runs');
      if (!isObjectId(s.plan.id)) throw new PlanError('bad plan id');
      const worker = s.worker === ctx.worker.id ? ctx.worker.asRemote() : ctx.worker.resolvePeer(s.worker);
      return { worker, id: s.plan.id, outputShape: s.plan.outputShape };
    });
    const owner = ctx.worker;
    if (x instanceof PointerTensor) return runSteps(steps, x, false, owner);
    return runSteps(steps, sendLayer(x as AbstractTensor, steps[0]!.worker, owner), true, owner);
  },
};

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const protocolCommands: Record<string, CommandSpec> = { 'protocol.run': protocolRun };
