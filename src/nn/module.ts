/**
 * `Module`: a model made of parameters and sub-modules, as in PyTorch. Parameters are found by
 * looking at the module's own fields (tensors made with `this.parameter(...)`, modules, and
 * arrays of modules), so a model is written as a plain class. Buffers (`this.buffer(...)`, such
 * as batch norm's running statistics) are state that is not trained: they travel with the model
 * and are in its state dict, but optimizers never see them.
 */
import { ShapeError, StateError, ValueError } from '../errors.js';
import { type ShareOptions, Tensor } from '../tensor.js';
import type { PrecisionOptions } from '../tensors/fixed-precision.js';
import { AutogradTensor } from '../tensors/autograd.js';
import { sendLayer } from '../tensors/pointer.js';
import { SCOPE_WALK } from '../tensors/scope.js';
import type { RemoteWorker } from '../workers/worker.js';

/** The tensors modules registered as buffers. */
const BUFFERS = new WeakSet<Tensor>();

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Refuse missing and unexpected keys (default true, as PyTorch). Shapes must fit either way. */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} did not match (with `strict: false`). */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

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

  /** Registers `t` as a buffer of this module: state that is saved and moved, not trained. */
  protected buffer(t: Tensor): Tensor {
    BUFFERS.add(t);
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

  /** Every buffer with its dotted name (`bn1.runningMean` is saved as `bn1.running_mean`). */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Tensor && BUFFERS.has(v)) out.push([prefix + k, v]);
    }
    for (const [k, m] of this.namedChildren()) out.push(...m.namedBuffers(`${prefix}${k}.`));
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  // Parameters and buffers: everything a model holds in tensors.
  private tensors(): Tensor[] {
    return [...this.parameters(), ...this.buffers()];
  }

  /** State a module keeps outside its parameters and buffers, as (name, tensor) pairs (e.g. a counter). */
  protected extraState(): [string, Tensor][] {
    return [];
  }

  /** Takes one entry of {@link extraState} back; returns whether the name was one of them. */
  protected loadExtraState(_name: string, _value: Tensor): boolean {
    return false;
  }

  /**
   * Every parameter and buffer by name, as PyTorch's `state_dict()`: names are dotted paths in
   * PyTorch's spelling (`conv1.weight`, `bn.running_mean`), values share the model's numbers
   * without its graph (remote models give pointers). Save it, or load it into a twin with
   * {@link loadStateDict}.
   *
   * @example
   * ```ts
   * const twin = new Net();
   * twin.loadStateDict(model.stateDict());
   * ```
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    this.collectState('', out);
    return out;
  }

  private ownState(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Tensor && (v.isParameter || BUFFERS.has(v))) out.push([snakeCase(k), v]);
    }
    return out;
  }

  private collectState(prefix: string, out: Record<string, Tensor>): void {
    for (const [k, v] of this.ownState()) out[prefix + k] = v.detach();
    for (const [k, v] of this.extraState()) out[prefix + k] = v;
    for (const [k, m] of this.namedChildren()) m.collectState(`${prefix}${k}.`, out);
  }

  /**
   * Copies a state dict's tensors into this model's parameters and buffers, as PyTorch's
   * `load_state_dict`. Shapes must match; with `strict` (the default) the keys must match too,
   * and a missing or unexpected key is an error that lists them all. Values must be where the
   * model is: local for a local model, on the same worker for a remote one.
   */
  loadStateDict(dict: Readonly<Record<string, Tensor>>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    if (dict === null || typeof dict !== 'object') throw new ValueError('loadStateDict needs an object of name -> Tensor (from stateDict())');
    const strict = opts.strict ?? true;
    const targets = new Map<string, (v: Tensor) => void>();
    this.collectTargets('', targets);
    const missingKeys = [...targets.keys()].filter((k) => !Object.hasOwn(dict, k));
    const unexpectedKeys = Object.keys(dict).filter((k) => !targets.has(k));
    if (strict && (missingKeys.length || unexpectedKeys.length)) {
      const parts = [
        missingKeys.length ? `missing key(s): ${missingKeys.map((k) => `"${k}"`).join(', ')}` : '',
        unexpectedKeys.length ? `unexpected key(s): ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}` : '',
      ].filter(Boolean);
      throw new ValueError(`error(s) loading the state dict of ${this.constructor.name}: ${parts.join('; ')} (pass { strict: false } to load the keys that match)`);
    }
    for (const [k, load] of targets) {
      if (!Object.hasOwn(dict, k)) continue;
      const v = dict[k];
      if (!(v instanceof Tensor)) throw new ValueError(`loadStateDict: "${k}" must be a Tensor`);
      load(v);
    }
    return { missingKeys, unexpectedKeys };
  }

  private collectTargets(prefix: string, out: Map<string, (v: Tensor) => void>): void {
    for (const [k, t] of this.ownState()) out.set(prefix + k, (v) => loadInto(prefix + k, t, v));
    for (const [k] of this.extraState()) out.set(prefix + k, (v) => void this.loadExtraState(k, v));
    for (const [k, m] of this.namedChildren()) m.collectTargets(`${prefix}${k}.`, out);
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
    const copyTensor = (t: Tensor): Tensor => {
      const c = t.copy();
      if (BUFFERS.has(t)) BUFFERS.add(c);
      return c;
    };
    for (const [k, v] of Object.entries(this)) {
      let c: unknown = v;
      if (v instanceof Tensor) c = copyTensor(v);
      else if (v instanceof Module) c = v.copy();
      else if (Array.isArray(v)) c = v.map((x) => (x instanceof Module ? x.copy() : x instanceof Tensor ? copyTensor(x) : x));
      (twin as Record<string, unknown>)[k] = c;
    }
    return twin;
  }

  /** Sends every parameter and buffer to `worker`; the module now holds pointers. Returns the module. */
  send(worker: RemoteWorker): this {
    for (const p of this.tensors()) p.child = sendLayer(p.child, worker);
    return this;
  }

  /** Brings every parameter and buffer back (reconstructing shared ones). Returns the module. */
  async get(): Promise<this> {
    const ps = this.tensors();
    const values = await Promise.all(ps.map((p) => p.child.get()));
    ps.forEach((p, i) => (p.child = values[i]!));
    return this;
  }

  /** Moves every remote parameter and buffer to `worker`, worker to worker. Returns the module. */
  move(worker: RemoteWorker): this {
    for (const p of this.tensors()) p.move(worker);
    return this;
  }

  /** Encodes every parameter and buffer as fixed precision (gradients are not kept). Returns the module. */
  fixPrecision(opts: PrecisionOptions = {}): this {
    for (const p of this.tensors()) p.child = p.fixPrecision(opts).child;
    return this;
  }

  /** Decodes every parameter back to floats that require grad (and every buffer to floats). Returns the module. */
  floatPrecision(): this {
    for (const p of this.parameters()) {
      const f = p.floatPrecision();
      p.child = f.isPointer ? f.child : new AutogradTensor(f.child, { requiresGrad: true });
    }
    for (const b of this.buffers()) b.child = b.floatPrecision().child;
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
    // Buffers are shared too, but never trained.
    const last = args[args.length - 1];
    const plain = last !== undefined && typeof (last as RemoteWorker).post !== 'function' ? [...args.slice(0, -1), { ...(last as ShareOptions), requiresGrad: false }] : args;
    for (const b of this.buffers()) b.child = b.share(...plain).child;
    return this;
  }

  /** Frees the remote objects of every parameter and buffer. */
  dispose(): void {
    for (const p of this.tensors()) p.dispose();
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
    return this.tensors();
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

/** PyTorch's spelling of a field name: `runningMean` -> `running_mean`. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Loads `value` into the model's tensor `target` (named `key`), checking shape and place. */
function loadInto(key: string, target: Tensor, value: Tensor): void {
  const [a, b] = [target.shape, value.shape];
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new ShapeError(`loadStateDict: "${key}" has shape [${b.join(', ')}] in the state dict but [${a.join(', ')}] in the model`);
  }
  const where = (t: Tensor) => t.location?.id;
  if (where(target) !== where(value)) {
    const there = (t: Tensor) => (where(t) ? `on '${where(t)}'` : 'local');
    throw new ValueError(
      `loadStateDict: "${key}" is ${there(target)} in the model but ${there(value)} in the state dict: ` +
        `load it before model.send(), or send() the state dict's tensors to the model's worker`,
    );
  }
  target.copy_(value);
}

/** Throws a clear error when a module gets something that is not a tensor. */
export function expectTensor(x: unknown, who: string): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`${who}.forward() needs a Tensor`);
  return x;
}

