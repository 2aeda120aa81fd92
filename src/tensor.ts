/**
 * `Tensor` is the handle users hold. Its `.child` is the first layer of the chain; every method
 * forwards to it, so the same call works on a local tensor, a pointer to a remote one, or a
 * secret-shared fixed-precision one.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { type PrivacyError, StateError, ValueError } from './errors.js';
import { AbstractTensor, type Dims } from './layer/abstract.js';
import { AutogradTensor, copyLayer, noGrad } from './tensors/autograd.js';
import { FloatTensor } from './tensors/float.js';
import { AdditiveSharingTensor } from './tensors/additive-sharing.js';
import {
  DEFAULT_BASE,
  DEFAULT_PRECISION,
  FixedPrecisionTensor,
  type PrecisionOptions,
  fixPrecisionLayer,
  floatPrecisionLayer,
} from './tensors/fixed-precision.js';
import { PaillierTensor, type PaillierEncryptOptions, decryptLayer, encryptLayer } from './tensors/paillier.js';
import { PointerTensor, handOverPointers, sendLayer } from './tensors/pointer.js';
import { sendPointer } from './tensors/chains.js';
import { guardReveal } from './tensors/reveal-guard.js';
import type { PaillierPrivateKey, RemoteKey } from './he/index.js';
import { RingTensor } from './ring/index.js';
import { shareLocal, shareRemote } from './tensors/sharing.js';
import { SCOPE_WALK } from './tensors/scope.js';
import { type Shape, normDim, toIndices } from './shapes.js';
import type { RemoteWorker, Worker } from './workers/worker.js';
import { addMeta, checkDescription, checkTags, copyMeta, metaOf } from './workers/tags.js';
import { local } from './workers/local.js';
import { checkCount, checkOptions, describe } from './util/options.js';
import { registerHandles } from './workers/handles.js';

/** Checks fixed-precision options from plain JavaScript (misspelt keys, bad values). */
export function checkPrecision(opts: unknown, where: string): PrecisionOptions {
  const o = checkOptions<PrecisionOptions>(opts, ['base', 'precisionFractional'], where);
  if (o.base !== undefined) checkCount(o.base, `${where}: base`, 2);
  if (o.precisionFractional !== undefined) checkCount(o.precisionFractional, `${where}: precisionFractional`, 0);
  return o;
}

/** What tensor ops accept as their other operand. */
export type TensorArg = Tensor | number;

/** Options of `share()`. */
export interface ShareOptions {
  /** The worker that deals correlated randomness for private multiplication and comparison. */
  cryptoProvider?: RemoteWorker;
  /** Put an AutogradTensor on top, so the shared tensor can be trained (`model.share(..., { requiresGrad: true })`). */
  requiresGrad?: boolean;
  /**
   * The largest |value| the shared tensor holds, as a real number, when the sharer knows it (a data
   * owner knows its data's range): products of bounded shared values that could leave the ring
   * raise before they run. Local values are measured without it.
   */
  bound?: number;
}

/** Splits `share(bob, alice, { cryptoProvider })`'s arguments. */
export function parseShareArgs(args: readonly (RemoteWorker | ShareOptions)[]): { workers: RemoteWorker[]; opts: ShareOptions } {
  const last = args[args.length - 1];
  // A trailing plain object is the options; anything else is meant as a worker.
  const hasOptions = last !== undefined && !isWorker(last) && typeof last === 'object' && last !== null && Object.getPrototypeOf(last) === Object.prototype;
  const opts = hasOptions ? checkOptions<ShareOptions>(last, ['cryptoProvider', 'requiresGrad', 'bound'], 'share()') : {};
  const workers = (hasOptions ? args.slice(0, -1) : args) as RemoteWorker[];
  workers.forEach((w, i) => checkWorker(w, `share(): argument ${i + 1}`));
  if (opts.cryptoProvider !== undefined) checkWorker(opts.cryptoProvider, 'share(): cryptoProvider');
  if (opts.bound !== undefined && (typeof opts.bound !== 'number' || !(opts.bound >= 0) || !Number.isFinite(opts.bound))) {
    throw new ValueError(`share(): bound must be a non-negative finite number, got ${describe(opts.bound)}`);
  }
  return { workers, opts };
}

function isWorker(a: unknown): a is RemoteWorker {
  return typeof (a as RemoteWorker | null)?.post === 'function' && typeof (a as RemoteWorker).id === 'string';
}

/** A worker argument from plain JavaScript: a worker object, not its name. */
export function checkWorker(w: unknown, where: string): RemoteWorker {
  if (isWorker(w)) return w;
  const hint = typeof w === 'string' ? ` (a worker's name is not enough: pass the worker object, e.g. the VirtualWorker you made with id '${w}')` : '';
  throw new ValueError(`${where} must be a worker, got ${describe(w)}${hint}`);
}

function layerOf(o: TensorArg | bigint): AbstractTensor | number | bigint {
  if (o instanceof Tensor) return o.child;
  if (typeof o === 'number' || typeof o === 'bigint') return o;
  throw new ValueError(`expected a Tensor or a number, got ${typeof o}`);
}

/** The first layer holding numbers locally (below autograd), or undefined. */
function localLeaf(t: AbstractTensor): AbstractTensor | undefined {
  const l = t instanceof AutogradTensor ? t.child : t;
  return l.children().length === 0 && !(l instanceof PointerTensor) && !(l instanceof PaillierTensor) ? l : undefined;
}

export class Tensor {
  #child: AbstractTensor;
  /** Set on a module's parameters; printing then says `Parameter`. */
  isParameter = false;

  constructor(child: AbstractTensor) {
    if (!(child instanceof AbstractTensor)) throw new ValueError('a Tensor wraps a tensor layer');
    this.#child = child;
  }

  /** The first layer of the chain. */
  get child(): AbstractTensor {
    return this.#child;
  }

  /** Replaces the chain under this handle (modules do this when they send, get or share). */
  set child(c: AbstractTensor) {
    if (!(c instanceof AbstractTensor)) throw new ValueError('a Tensor wraps a tensor layer');
    this.#child = c;
  }

  get shape(): number[] {
    return [...this.#child.shape];
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.#child.shape.length;
  }

  /** Number of elements. */
  numel(): number {
    return this.#child.shape.reduce((a, b) => a * b, 1);
  }

  private wrap(c: AbstractTensor): Tensor {
    return new Tensor(c);
  }

  // When only the other operand records gradients (shared data times a shared weight), this side
  // joins the graph as a constant, as in PyTorch. (Float leaves do the same for ops run on
  // workers, which see layers, not Tensors.)
  private binary(o: TensorArg, f: (a: AbstractTensor, b: AbstractTensor | number | bigint) => AbstractTensor): Tensor {
    const b = layerOf(o);
    const lift = b instanceof AutogradTensor && !(this.#child instanceof AutogradTensor);
    return this.wrap(f(lift ? new AutogradTensor(this.#child) : this.#child, b));
  }

  // ---- ops ---------------------------------------------------------------------------------

  add(o: TensorArg): Tensor { return this.binary(o, (a, b) => a.add(b)); }
  sub(o: TensorArg): Tensor { return this.binary(o, (a, b) => a.sub(b)); }
  mul(o: TensorArg): Tensor { return this.binary(o, (a, b) => a.mul(b)); }
  div(o: TensorArg): Tensor { return this.binary(o, (a, b) => a.div(b)); }
  /** Elementwise power with a public exponent. */
  pow(exponent: number): Tensor { return this.wrap(this.#child.pow(exponent)); }
  neg(): Tensor { return this.wrap(this.#child.neg()); }
  exp(): Tensor { return this.wrap(this.#child.exp()); }
  log(): Tensor { return this.wrap(this.#child.log()); }
  sqrt(): Tensor { return this.wrap(this.#child.sqrt()); }
  abs(): Tensor { return this.wrap(this.#child.abs()); }
  /** -1 where the value is negative, 0 where it is zero, 1 where it is positive (no gradient). */
  sign(): Tensor { return this.wrap(this.#child.unary('sign')); }
  relu(): Tensor { return this.wrap(this.#child.relu()); }
  sigmoid(): Tensor { return this.wrap(this.#child.sigmoid()); }
  tanh(): Tensor { return this.wrap(this.#child.tanh()); }
  eq(o: TensorArg): Tensor { return this.wrap(this.#child.eq(layerOf(o))); }
  gt(o: TensorArg): Tensor { return this.wrap(this.#child.gt(layerOf(o))); }
  lt(o: TensorArg): Tensor { return this.wrap(this.#child.lt(layerOf(o))); }
  ge(o: TensorArg): Tensor { return this.wrap(this.#child.ge(layerOf(o))); }
  le(o: TensorArg): Tensor { return this.wrap(this.#child.le(layerOf(o))); }

  matmul(o: Tensor): Tensor {
    if (!(o instanceof Tensor)) throw new ValueError('matmul needs a Tensor operand');
    return this.binary(o, (a, b) => a.matmul(b as AbstractTensor));
  }
  /** Alias of {@link matmul} (PyTorch's `mm`). */
  mm(o: Tensor): Tensor { return this.matmul(o); }

  /** Sum over `dims` (all when omitted). */
  sum(dims?: Dims, keepDim = false): Tensor { return this.wrap(this.#child.sum(dims, keepDim)); }
  mean(dims?: Dims, keepDim = false): Tensor { return this.wrap(this.#child.mean(dims, keepDim)); }
  /** Largest value over `dim` (over everything when omitted). */
  max(dim?: number, keepDim = false): Tensor { return this.wrap(this.#child.max(dim, keepDim)); }
  /** Index of the largest value over `dim` (of the flattened tensor when omitted). */
  argmax(dim?: number, keepDim = false): Tensor { return this.wrap(this.#child.argmax(dim, keepDim)); }

  reshape(shape: readonly number[]): Tensor { return this.wrap(this.#child.reshape(shape)); }
  /** PyTorch's `view`: `x.view(-1, 784)`. */
  view(...shape: number[]): Tensor { return this.reshape(shape); }
  /** Permutes dims (reverses them when omitted). */
  transpose(perm?: readonly number[]): Tensor { return this.wrap(this.#child.transpose(perm)); }
  /** Transpose of a matrix. */
  t(): Tensor {
    if (this.ndim > 2) throw new ValueError(`t() needs a tensor of rank 2 or less, got rank ${this.ndim}; use transpose(perm)`);
    return this.ndim < 2 ? this : this.transpose([1, 0]);
  }
  /** PyTorch's `x[start:end]` along `dim` (default 0): `x.slice(0, 2)` is `x[0:2]`. */
  slice(start: number, end?: number, dim = 0): Tensor { return this.wrap(this.#child.slice(start, end, dim)); }
  /**
   * PyTorch's `index_select`: the slabs at `indices` along `dim`, in that order. On a pointer the
   * worker gathers them (one command); indices must be in range.
   *
   * @example
   * ```ts
   * sy.tensor([[1, 2], [3, 4], [5, 6]]).indexSelect(0, [2, 0]);   // tensor([[5., 6.], [1., 2.]])
   * ```
   */
  indexSelect(dim: number, indices: readonly number[] | Int32Array): Tensor {
    return this.wrap(this.#child.indexSelect(dim, toIndices(indices)));
  }
  broadcastTo(shape: readonly number[]): Tensor { return this.wrap(this.#child.broadcastTo(shape)); }
  /**
   * Flattens dims `startDim` to `endDim` into one, as PyTorch's `flatten` (all by default).
   *
   * @example
   * ```ts
   * sy.zeros([64, 1, 28, 28]).flatten(1).shape;   // [64, 784]
   * ```
   */
  flatten(startDim = 0, endDim = -1): Tensor {
    const s = this.shape;
    if (s.length === 0) return this.reshape([1]);
    const a = normDim(startDim, s.length);
    const b = normDim(endDim, s.length);
    if (a > b) throw new ValueError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
    return this.reshape([...s.slice(0, a), s.slice(a, b + 1).reduce((p, d) => p * d, 1), ...s.slice(b + 1)]);
  }
  /** log(softmax(x)) along `dim`, computed stably (max-shifted), as PyTorch's `log_softmax`. */
  logSoftmax(dim: number): Tensor { return this.wrap(this.#child.logSoftmax(dim)); }
  /** exp(x) / sum(exp(x)) along `dim`, max-shifted, as PyTorch's `softmax`. */
  softmax(dim: number): Tensor { return this.wrap(this.#child.softmax(dim)); }
  /**
   * PyTorch's `gather`: picks entries along `dim` at `index` (a public int64 tensor of the same
   * rank). `logProbs.gather(1, labels.view(-1, 1))` picks each row's label.
   */
  gather(dim: number, index: Tensor): Tensor {
    if (!(index instanceof Tensor)) throw new ValueError('gather needs a Tensor index');
    return this.wrap(this.#child.gather(dim, index.child));
  }
  /** Rows of one-hot vectors for a tensor of class indices. */
  oneHot(numClasses: number): Tensor { return this.wrap(this.#child.oneHot(numClasses)); }
  /** A differentiable copy (PyTorch's `clone`). */
  clone(): Tensor { return this.wrap(this.#child.clone()); }

  // ---- in place: the handle keeps its identity (and, remote, its id); never recorded ------

  private inPlace(f: (v: AbstractTensor) => AbstractTensor): this {
    const view = this.#child.dataLayer();
    const value = noGrad(() => f(view));
    this.#child.assign_(value);
    value.dispose();
    // A remote tensor's data view is an object of its own on the worker; a local one is not.
    if (view !== this.#child && view !== this.#child.child) view.dispose();
    return this;
  }

  add_(o: TensorArg): this { return this.inPlace((v) => v.add(layerOf(o))); }
  sub_(o: TensorArg): this { return this.inPlace((v) => v.sub(layerOf(o))); }
  mul_(o: TensorArg): this { return this.inPlace((v) => v.mul(layerOf(o))); }
  div_(o: TensorArg): this { return this.inPlace((v) => v.div(layerOf(o))); }
  zero_(): this { return this.inPlace((v) => v.fullLike(0)); }
  /** Takes `src`'s values (same kind of chain: local, remote on the same worker, or shared alike). */
  copy_(src: Tensor): this {
    const v = src.child instanceof AutogradTensor ? src.child.child : src.child;
    this.#child.assign_(v);
    return this;
  }

  // ---- autograd ----------------------------------------------------------------------------

  get requiresGrad(): boolean {
    return this.#child.requiresGrad;
  }

  /** Starts (or stops) recording operations on this leaf tensor. */
  requiresGrad_(on = true): this {
    const c = this.#child;
    if (c instanceof AutogradTensor) c.requiresGrad = on;
    else if (c instanceof PointerTensor) c.requiresGrad_(on);
    else if (on) {
      this.#child = new AutogradTensor(c, { requiresGrad: true });
      copyMeta(c, this.#child);
    }
    return this;
  }

  /** The gradient accumulated by `backward()`. */
  get grad(): Tensor | undefined {
    const g = this.#child.gradLayer();
    return g && this.wrap(g);
  }

  set grad(g: Tensor | undefined) {
    this.#child.setGradLayer(g?.child);
  }

  get isLeaf(): boolean {
    return !(this.#child instanceof AutogradTensor) || this.#child.isLeaf;
  }

  /** The value without autograd, sharing its numbers (PyTorch's `.data`). */
  get data(): Tensor {
    return this.wrap(this.#child.dataLayer());
  }

  /** Replaces the value, keeping this tensor (and its gradient settings). */
  set data(v: Tensor) {
    this.copy_(v);
  }

  /** A tensor with the same numbers that records no gradient. */
  detach(): Tensor {
    return this.wrap(this.#child.dataLayer());
  }

  /**
   * Back-propagates from this tensor, filling `.grad` of every leaf that requires it. Runs
   * where the tensor lives: on a worker for a pointer, among the parties for a shared tensor.
   */
  backward(grad?: Tensor, opts: { retainGraph?: boolean } = {}): void {
    const c = this.#child;
    if (c instanceof AutogradTensor) c.backward(grad?.child, opts);
    else c.backward(grad?.child);
  }

  // ---- reading values ----------------------------------------------------------------------

  private leafOrThrow(what: string): AbstractTensor {
    const leaf = localLeaf(this.#child);
    if (leaf) return leaf;
    const c = this.#child;
    const hint =
      c instanceof PointerTensor
        ? `it is on '${c.location.id}': await x.get() first`
        : c instanceof PaillierTensor
          ? 'it is encrypted: decrypt(privateKey) first'
          : 'its numbers are not plain here: get() and floatPrecision() first';
    throw new StateError(`cannot ${what} of this tensor: ${hint}`);
  }

  /** The value of a one-element tensor. */
  item(): number {
    const leaf = this.leafOrThrow('read the item');
    if (leaf.shape.reduce((a, b) => a * b, 1) !== 1) {
      throw new ValueError(`item() needs a one-element tensor, this one has shape [${leaf.shape.join(', ')}]`);
    }
    const v = (leaf as unknown as { values?: ArrayLike<number>; data?: ArrayLike<bigint> });
    return v.values ? v.values[0]! : Number(v.data![0]!);
  }

  /** The values as nested arrays (a number for a scalar). */
  arraySync(): unknown {
    const leaf = this.leafOrThrow('read the values');
    return (leaf as unknown as { toNested(): unknown }).toNested();
  }

  /** The values as nested arrays, as tfjs's `array()`. */
  async array(): Promise<unknown> {
    return this.arraySync();
  }

  /** A new tf.Tensor with these values (local float tensors); the caller disposes it. */
  toTf(): tf.Tensor {
    const leaf = this.leafOrThrow('convert to tf.Tensor');
    if (!(leaf instanceof FloatTensor)) throw new ValueError('toTf() needs a float tensor');
    return leaf.toTf();
  }

  // ---- remote ------------------------------------------------------------------------------

  /** True when the numbers are on another worker. */
  get isPointer(): boolean {
    return this.#child instanceof PointerTensor;
  }

  /** The worker holding the numbers, for a pointer. */
  get location(): RemoteWorker | undefined {
    return this.#child instanceof PointerTensor ? this.#child.location : undefined;
  }

  /** The id of the remote object, for a pointer. */
  get idAtLocation(): number | undefined {
    return this.#child instanceof PointerTensor ? this.#child.idAtLocation : undefined;
  }

  /**
   * The worker that owns this handle, as PySyft's `tensor.owner`: `sy.local` ("me") for the
   * tensors user code holds, local or remote. (Where a pointer's numbers are is {@link location}.)
   */
  get owner(): Worker {
    return this.#child instanceof PointerTensor ? this.#child.owner : local;
  }

  /**
   * Sends a copy to `worker`, returning a pointer to it. Works on whole chains (a requiresGrad
   * tensor arrives as one, so the worker records the graph; its `.grad` and its tags go along).
   *
   * Sending a pointer sends the pointer, not the data (PySyft's pointer chains): after
   * `x.send(bob).send(alice)`, Alice holds a pointer to Bob's tensor and this side a pointer to
   * Alice's. Ops on it run where the data is; `get()` peels one level (Alice's pointer comes back,
   * pointing at Bob); `remoteGet()` has Alice fetch the data. The pointer sent is spent: its
   * object belongs to the pointer Alice holds, and is freed when that one is. Chains run on
   * in-process and thread workers (a WebSocket worker's links carry protocol values only).
   *
   * @example
   * ```ts
   * const chain = sy.tensor([1, 2, 3]).send(bob).send(alice);
   * const y = chain.add(chain);                   // alice forwards it to bob, where the data is
   * const onBob = await y.get();                  // a pointer to bob's result, owned here
   * console.log((await onBob.get()).toString());  // tensor([2., 4., 6.])
   * ```
   */
  send(worker: RemoteWorker): Tensor {
    const dest = checkWorker(worker, 'send()');
    const c = this.#child;
    let p: PointerTensor;
    if (c instanceof PointerTensor) p = sendPointer(c, dest);
    else {
      p = sendLayer(c, dest);
      handOverPointers(c);
    }
    copyMeta(c, p);
    const t = this.wrap(p);
    t.isParameter = this.isParameter;
    return t;
  }

  /**
   * Brings the value here (reconstructing shared values) and frees it where it was. A tensor
   * that requires grad comes back with its `.grad` (computed by a remote `backward()`) and its
   * tags; the graph that produced a non-leaf stays where it was computed.
   *
   * For a pointer chain, `get()` peels one level: what comes back is the pointer the worker
   * held, now owned here.
   */
  async get(): Promise<Tensor> {
    const c = this.#child;
    // What comes back from a chain points at `pointee`: this side must reach it.
    if (c instanceof PointerTensor && c.pointee) c.owner.addWorker(c.pointee);
    return this.wrap(await c.get());
  }

  /**
   * PySyft's `remote_get`: for a pointer to a pointer (`x.send(bob).send(alice)`), the middle
   * worker (Alice) fetches the data from the last (Bob), worker to worker; this handle then
   * points at the data on Alice. Lazy like an op: returns this handle at once.
   *
   * @example
   * ```ts
   * const chain = sy.tensor([1, 2]).send(bob).send(alice);
   * chain.remoteGet();                 // the tensor is on alice now, bob holds nothing
   * (await chain.get()).toString();    // tensor([1., 2.])
   * ```
   */
  remoteGet(): this {
    const c = this.#child;
    if (!(c instanceof PointerTensor)) throw new ValueError('remoteGet() needs a pointer to a pointer (x.send(bob).send(alice)): this tensor is here already');
    c.command('remoteGet', [], []);
    c.pointee = undefined;
    return this;
  }

  /**
   * Moves the remote value to `worker`, worker to worker (the orchestrator never sees it). This
   * handle follows it. A leaf that requires grad stays one, with its `.grad`; a non-leaf arrives
   * as a plain value (its graph stays behind and is freed), so a model cut across workers moves
   * `a.detach()` and sends the gradient back (tutorial 10). For a pointer chain, what moves is
   * the pointer the worker holds; a pointer moved to the worker it points at becomes the data there.
   */
  move(worker: RemoteWorker): this {
    const c = this.#child;
    if (!(c instanceof PointerTensor)) throw new ValueError('move() needs a pointer: send() a local tensor instead');
    const dest = checkWorker(worker, 'move()');
    if (dest.id === c.owner.id && dest.id !== c.location.id) throw new ValueError(`'${dest.id}' is this pointer's own worker: bring the value here with await x.get()`);
    this.#child = c.move(dest);
    copyMeta(c, this.#child);
    return this;
  }

  // ---- tags ----------------------------------------------------------------------------------

  /**
   * Adds tags (PySyft's `tensor.tag('#mnist', '#train')`): workers find tagged tensors with
   * `await worker.search(['#mnist', '#train'])`. Tags belong to the tensor: they travel with it
   * (`x.tag('#a').send(bob)` leaves them with Bob), come back with `get()` and move with
   * `move()`. On a pointer, the worker's object is tagged. A tag is 1-128 printable characters.
   *
   * @example
   * ```ts
   * sy.tensor([1, 2]).tag('#toy', '#train').describe('two numbers').send(bob);
   * const [found] = await bob.search(['#toy', '#train']);   // a pointer to it
   * ```
   */
  tag(...tags: string[]): this {
    const list = checkTags(tags, 'tag()');
    const c = this.#child;
    addMeta(c, list);
    if (c instanceof PointerTensor) c.command('tag_', [list], []);
    return this;
  }

  /** Sets the description (PySyft's `tensor.describe('...')`); it travels with the tensor, as tags do. */
  describe(text: string): this {
    checkDescription(text);
    const c = this.#child;
    addMeta(c, [], text);
    if (c instanceof PointerTensor) c.command('describe_', [text], []);
    return this;
  }

  /** The tensor's tags (empty when it has none). */
  get tags(): string[] {
    return [...(metaOf(this.#child)?.tags ?? [])];
  }

  /** The tensor's description, if it has one. */
  get description(): string | undefined {
    return metaOf(this.#child)?.description;
  }

  /**
   * A deep copy with new storage (a new remote object, for a pointer) and no graph: a leaf
   * that requires grad stays one.
   */
  copy(): Tensor {
    const t = this.wrap(copyLayer(this.#child));
    t.isParameter = this.isParameter;
    return t;
  }

  /** Frees the remote objects this tensor owns (local numbers are left to the GC). */
  dispose(): void {
    this.#child.dispose();
  }

  // ---- fixed precision and secret sharing ------------------------------------------------------

  /**
   * Encodes floats as fixed-precision integers (PySyft's `fix_precision`): 0.1 becomes 100 with
   * the defaults (base 10, 3 digits). Works on a remote tensor too (encoded where it is).
   *
   * @example
   * ```ts
   * const x = sy.tensor([0.1, 0.2, 0.3]).fixPrecision();
   * x.toString();            // (Wrapper)>FixedPrecisionTensor>tensor([100, 200, 300])
   * x.floatPrecision();      // tensor([0.1000, 0.2000, 0.3000])
   * ```
   */
  fixPrecision(opts: PrecisionOptions = {}): Tensor {
    opts = checkPrecision(opts, 'fixPrecision()');
    const c = this.#child;
    if (c instanceof PointerTensor) {
      const base = opts.base ?? DEFAULT_BASE;
      const precisionFractional = opts.precisionFractional ?? DEFAULT_PRECISION;
      const p = c.command('fixPrecision', [base, precisionFractional], [c.shape])[0]!;
      p.fixedPrecision = { base, precisionFractional };
      return this.wrap(p);
    }
    return this.wrap(fixPrecisionLayer(c, opts));
  }

  /** Short name, as PySyft's `fix_prec`. */
  fixPrec(opts: PrecisionOptions = {}): Tensor {
    return this.fixPrecision(opts);
  }

  /** Decodes fixed-precision integers back to floats (PySyft's `float_precision`). */
  floatPrecision(): Tensor {
    const c = this.#child;
    if (c instanceof PointerTensor) return this.wrap(c.command('floatPrecision', [], [c.shape])[0]!);
    return this.wrap(floatPrecisionLayer(c));
  }

  /** Short name, as PySyft's `float_prec`. */
  floatPrec(): Tensor {
    return this.floatPrecision();
  }

  /**
   * Splits the value into additive shares in Z_2^64, one per worker, from the OS CSPRNG.
   * Integers (`dtype: 'int64'`) and fixed-precision tensors can be shared; floats must be
   * fixed first. A remote tensor is split by the worker holding it, which sends the shares
   * straight to the workers: this side never sees them.
   *
   * Porting PySyft: for a pointer, PySyft's `ptr.fix_precision().share(bob, alice,
   * crypto_provider=james)` leaves a pointer to the shared tensor on the worker, which its Part 10
   * then fetches with `.get()`. Here `share()` of a pointer returns the shared tensor itself, so
   * there is nothing to fetch — and a `.get()` on it would reconstruct that worker's value in the
   * clear, which secure aggregation exists to prevent. That `get()` is refused with a
   * {@link PrivacyError}: drop it, combine the workers' shared values (`a.add(b)`) and `get()` only
   * the aggregate. (Values computed from it are ordinary shared tensors; a tensor you share
   * yourself, from here, is yours to reconstruct.)
   *
   * @example
   * ```ts
   * const x = sy.tensor([1, 2, 3, 4, 5], { dtype: 'int64' }).share(bob, alice, secureWorker);
   * const w = sy.tensor([[0.5, -1]]).fixPrecision().share(bob, alice, { cryptoProvider });
   * // Part 10's secure aggregation: each worker shares its own parameter; only the sum is revealed.
   * const sum = bobsParam.fixPrecision().share(bob, alice, { cryptoProvider: james })
   *   .add(alicesParam.fixPrecision().share(bob, alice, { cryptoProvider: james }));
   * const mean = (await sum.get()).floatPrecision().div(2);
   * ```
   */
  share(...args: (RemoteWorker | ShareOptions)[]): Tensor {
    const { workers, opts } = parseShareArgs(args);
    const c = this.#child;
    const value = c instanceof AutogradTensor ? c.child : c;
    let shared: AbstractTensor;
    if (value instanceof PointerTensor) {
      const fp = value.fixedPrecision;
      const ast = new AdditiveSharingTensor(
        shareRemote(value, workers, fp ? [fp.base, fp.precisionFractional] : null),
        opts.cryptoProvider,
      );
      guardReveal(ast, value.location.id);
      shared = fp ? new FixedPrecisionTensor(ast, fp.base, fp.precisionFractional, opts.bound) : ast;
    } else if (value instanceof FixedPrecisionTensor && value.child instanceof RingTensor) {
      const ast = new AdditiveSharingTensor(shareLocal(value.child, workers, local), opts.cryptoProvider);
      shared = new FixedPrecisionTensor(ast, value.base, value.precisionFractional, opts.bound ?? value.bound);
    } else if (value instanceof RingTensor) {
      shared = new AdditiveSharingTensor(shareLocal(value, workers, local), opts.cryptoProvider);
    } else if (value instanceof FloatTensor) {
      throw new ValueError('floats cannot be shared as they are: call fixPrecision() first (or use an int64 tensor)');
    } else {
      throw new ValueError(`a ${value.layerName} cannot be shared (already shared?)`);
    }
    const t = this.wrap(opts.requiresGrad ? new AutogradTensor(shared, { requiresGrad: true }) : shared);
    t.isParameter = this.isParameter;
    return t;
  }

  // ---- homomorphic encryption ------------------------------------------------------------------

  /**
   * Encrypts the values with Paillier (`Tensor > PaillierTensor`): the result can be added to
   * other ciphertexts and to plain values, and multiplied by public numbers and matrices, by
   * anyone holding only the public key. On a pointer, the worker holding the data encrypts.
   *
   * @example
   * ```ts
   * const { publicKey, privateKey } = await sy.paillier.keygen({ bits: 2048 });
   * const e = sy.tensor([0.5, -1.25]).encrypt({ protocol: 'paillier', publicKey });
   * e.add(e).mul(3).decrypt(privateKey);   // tensor([3., -7.5])
   * ```
   */
  encrypt(opts: PaillierEncryptOptions): Tensor {
    return this.wrap(encryptLayer(this.#child, opts));
  }

  /** Decrypts a Paillier tensor with the private key (or a key held by the same worker). */
  decrypt(privateKey: PaillierPrivateKey | RemoteKey): Tensor {
    return this.wrap(decryptLayer(this.#child, privateKey));
  }

  /** Re-randomises the shares of a shared tensor (the value does not change). */
  refresh(): Tensor {
    return this.wrap(this.#child.refresh());
  }

  // ---- printing ------------------------------------------------------------------------------

  toString(): string {
    const c = this.#child;
    if (c instanceof AutogradTensor && localLeaf(c)) {
      const body = c.child.chainString();
      const extra = c.gradFn ? `, grad_fn=<${c.gradFn.name}>` : c.requiresGrad ? ', requires_grad=True' : '';
      const text = `${body.slice(0, -1)}${extra})`;
      return this.isParameter ? `Parameter containing:\n${text}` : text;
    }
    if (localLeaf(c)) return this.isParameter ? `Parameter containing:\n${c.chainString()}` : c.chainString();
    return `${this.isParameter ? 'Parameter' : '(Wrapper)'}>${c.chainString()}`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  [SCOPE_WALK](): Iterable<unknown> {
    return [this.#child];
  }
}

// How the workers hand out tensors (search results, `objects` views) without importing this file.
declare module './workers/handles.js' {
  interface HandleTypes {
    tensor: Tensor;
  }
}
registerHandles({
  pointer: (location, id, shape, owner, meta) => {
    const p = new PointerTensor(location, id, shape, owner).borrow();
    addMeta(p, meta.tags, meta.description);
    return new Tensor(p);
  },
  view: (obj) => (obj instanceof AbstractTensor ? new Tensor(obj) : obj),
});
