/**
 * `Module`: a model made of parameters and sub-modules, as in PyTorch. Parameters are found by
 * looking at the module's own fields (tensors made with `this.parameter(...)`, modules, and
 * arrays of modules), so a model is written as a plain class.
 */
import { StateError, ValueError } from '../errors.js';
import { type ShareOptions, Tensor } from '../tensor.js';
import type { PrecisionOptions } from '../tensors/fixed-precision.js';
import { AutogradTensor } from '../tensors/autograd.js';
import { sendLayer } from '../tensors/pointer.js';
import { SCOPE_WALK } from '../tensors/scope.js';
import type { RemoteWorker } from '../workers/worker.js';

export abstract class Module {
  /** Training mode (PyTorch's `model.train()` / `model.eval()`). */
  training = true;

  /** Computes the output. */
  abstract forward(x: Tensor): Tensor;

  /** Marks `t` as a parameter of this module: a leaf that requires grad. */
  protected parameter(t: Tensor): Tensor {
    if (!(t.child instanceof AutogradTensor)) t.requiresGrad_(true);
    t.isParameter = true;
    return t;
  }

  /** The module's direct sub-modules, with their field names. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Module) out.push([k, v]);
      else if (Array.isArray(v)) v.forEach((m, i) => m instanceof Module && out.push([`${i}`, m]));
    }
    return out;
  }

  /** Every parameter with its dotted name (`fc1.weight`), depth first in field order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Tensor && v.isParameter) out.push([prefix + k, v]);
    }
    for (const [k, m] of this.namedChildren()) out.push(...m.namedParameters(`${prefix}${k}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /**
   * The worker holding this model's parameters (PySyft's `model.location`), or undefined when
   * they are here. A model whose parameters are on several workers, or secret-shared, has no one
   * location: that is a {@link StateError} naming where they are.
   *
   * @example
   * ```ts
   * model.send(bob);
   * model.location === bob;            // true
   * data.location === model.location;  // train where the data is
   * ```
   */
  get location(): RemoteWorker | undefined {
    return locationOf(this.constructor.name, this.namedParameters());
  }

  /** Drops every parameter's gradient, freeing it (copy a gradient first to keep it). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = undefined;
  }

  train(on = true): this {
    this.training = on;
    for (const [, m] of this.namedChildren()) m.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * A deep copy: new parameters with the same values (new remote objects for a remote model).
   * `model.copy().send(bob)` gives Bob his own model, as in the seed lesson.
   */
  copy(): this {
    const twin = Object.create(Object.getPrototypeOf(this)) as this;
    for (const [k, v] of Object.entries(this)) {
      let c: unknown = v;
      if (v instanceof Tensor) c = v.copy();
      else if (v instanceof Module) c = v.copy();
      else if (Array.isArray(v)) c = v.map((x) => (x instanceof Module ? x.copy() : x instanceof Tensor ? x.copy() : x));
      (twin as Record<string, unknown>)[k] = c;
    }
    return twin;
  }

  /** Sends every parameter to `worker`; the module now holds pointers. Returns the module. */
  send(worker: RemoteWorker): this {
    for (const p of this.parameters()) p.child = sendLayer(p.child, worker);
    return this;
  }

  /** Brings every parameter back (reconstructing shared ones). Returns the module. */
  async get(): Promise<this> {
    const ps = this.parameters();
    const values = await Promise.all(ps.map((p) => p.child.get()));
    ps.forEach((p, i) => (p.child = values[i]!));
    return this;
  }

  /** Moves every remote parameter to `worker`, worker to worker. Returns the module. */
  move(worker: RemoteWorker): this {
    for (const p of this.parameters()) p.move(worker);
    return this;
  }

  /** Encodes every parameter as fixed precision (their gradients are not kept). Returns the module. */
  fixPrecision(opts: PrecisionOptions = {}): this {
    for (const p of this.parameters()) p.child = p.fixPrecision(opts).child;
    return this;
  }

  /** Decodes every parameter back to floats that require grad. Returns the module. */
  floatPrecision(): this {
    for (const p of this.parameters()) {
      const f = p.floatPrecision();
      p.child = f.isPointer ? f.child : new AutogradTensor(f.child, { requiresGrad: true });
    }
    return this;
  }

  /**
   * Secret-shares every parameter among `workers`; with `{ requiresGrad: true }` the shared
   * model can be trained. Returns the module.
   *
   * @example
   * ```ts
   * model.fixPrecision().share(alice, bob, { cryptoProvider, requiresGrad: true });
   * ```
   */
  share(...args: (RemoteWorker | ShareOptions)[]): this {
    for (const p of this.parameters()) p.child = p.share(...args).child;
    return this;
  }

  /** Frees the remote objects of every parameter. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }

  /** Extra text inside the parentheses when printed, as PyTorch's `extra_repr`. */
  protected extraRepr(): string {
    return '';
  }

  toString(): string {
    const children = this.namedChildren();
    const name = this.constructor.name;
    if (children.length === 0) return `${name}(${this.extraRepr()})`;
    const lines = children.map(([k, m]) => `  (${k}): ${m.toString().replace(/\n/g, '\n  ')}`);
    return `${name}(\n${lines.join('\n')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  [SCOPE_WALK](): Iterable<unknown> {
    return this.parameters();
  }
}

/** The one worker all of `params` are on (undefined: all here), or a StateError saying where they are. */
function locationOf(model: string, params: readonly [string, Tensor][]): RemoteWorker | undefined {
  const shared = (t: Tensor) => [...t.child.layers()].some((l) => l.layerName === 'AdditiveSharingTensor');
  const where = (t: Tensor): string => (t.location ? `on '${t.location.id}'` : shared(t) ? 'secret-shared' : 'here');
  const places = new Map<string, string[]>();
  for (const [name, p] of params) {
    const w = where(p);
    places.set(w, [...(places.get(w) ?? []), name]);
  }
  if (places.size <= 1 && !places.has('secret-shared')) return params[0]?.[1].location;
  const list = [...places].map(([w, names]) => `${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''} ${w}`);
  throw new StateError(
    `${model} has no single location: its parameters are ${list.join('; ')}. ` +
      (places.has('secret-shared') ? 'A shared model lives with all of its parties.' : 'Move them to one worker (model.move(worker)) or get() them first.'),
  );
}

/** Throws a clear error when a module gets something that is not a tensor. */
export function expectTensor(x: unknown, who: string): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`${who}.forward() needs a Tensor`);
  return x;
}

