/**
 * AutogradTensor records the graph of the ops run on it and differentiates it in `backward()`.
 * It sits above whatever holds the numbers — a float leaf, a pointer, or a fixed-precision
 * shared tensor — and computes gradients with that layer's own ops, so encrypted training uses
 * exactly the GradFuncs plaintext training uses.
 */
import { StateError, ValueError } from '../errors.js';
import { AbstractTensor, type Dims, type Operand } from '../layer/abstract.js';
import { type BinaryOp, type UnaryOp, binarySpec, unarySpec } from '../layer/ops.js';
import type { Pair } from '../layer/window.js';
import * as G from './gradients.js';
import { SCOPE_WALK, keep } from './scope.js';
import { type Codec, bad, expectBool, expectFields } from '../workers/codec.js';
import { type Shape, normDim, reduceDims, resolveReshape, sizeOf, sliceBounds, transposeShape } from '../shapes.js';

let gradEnabled = true;

/**
 * Runs `fn` without recording gradients (PyTorch's `torch.no_grad()`), for inference and for
 * optimizer updates.
 */
export function noGrad<T>(fn: () => T): T {
  const before = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = before;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** The value an operand contributes to a computation: an autograd tensor's child, else itself. */
function valueOf(o: Operand): Operand {
  return o instanceof AutogradTensor ? o.child : o;
}

function node(o: Operand): AutogradTensor | undefined {
  return o instanceof AutogradTensor ? o : undefined;
}

function shapeOf(o: Operand): Shape {
  return typeof o === 'number' || typeof o === 'bigint' ? [] : o.shape;
}

export class AutogradTensor extends AbstractTensor {
  #child: AbstractTensor;
  #requiresGrad: boolean;
  #grad: AbstractTensor | undefined;
  /** The op that produced this tensor; undefined for leaves. */
  gradFn: G.GradFunc | undefined;

  constructor(child: AbstractTensor, opts: { requiresGrad?: boolean; gradFn?: G.GradFunc } = {}) {
    super();
    if (child instanceof AutogradTensor) throw new ValueError('an AutogradTensor cannot wrap another AutogradTensor');
    this.#child = child;
    this.gradFn = opts.gradFn;
    this.#requiresGrad = opts.requiresGrad ?? opts.gradFn !== undefined;
  }

  get layerName(): string {
    return 'AutogradTensor';
  }

  override get child(): AbstractTensor {
    return this.#child;
  }

  get shape(): Shape {
    return this.#child.shape;
  }

  override get requiresGrad(): boolean {
    return this.#requiresGrad;
  }

  override set requiresGrad(v: boolean) {
    if (!v && this.gradFn) throw new ValueError('requiresGrad can only be turned off on leaf tensors; use detach()');
    this.#requiresGrad = v;
  }

  get isLeaf(): boolean {
    return this.gradFn === undefined;
  }

  chainString(): string {
    return `AutogradTensor>${this.#child.chainString()}`;
  }

  // The result of an op: a graph node when any input requires grad and recording is on.
  private result(out: AbstractTensor, inputs: Operand[], makeFn: () => G.GradFunc): AutogradTensor {
    const track = gradEnabled && inputs.some((i) => i instanceof AutogradTensor && i.requiresGrad);
    return new AutogradTensor(out, track ? { gradFn: makeFn() } : {});
  }

  // Binary elementwise ops record their gradients from the table (src/layer/ops.ts).
  private binary(op: BinaryOp, o: Operand): AutogradTensor {
    const a = this.#child;
    const b = valueOf(o);
    const out = (a[op] as (x: Operand) => AbstractTensor).call(a, b);
    const spec = binarySpec(op);
    if (!spec.da) return new AutogradTensor(out); // comparisons: never differentiable
    const saves = spec.saves ?? 'both';
    return this.result(out, [this, o], () =>
      new G.BinaryBackward(op, this, node(o), saves === 'a' || saves === 'both' ? a : undefined,
        saves === 'b' || saves === 'both' ? constant(b) : undefined, this.shape, shapeOf(o)),
    );
  }

  override add(o: Operand) { return this.binary('add', o); }
  override sub(o: Operand) { return this.binary('sub', o); }
  override mul(o: Operand) { return this.binary('mul', o); }
  override div(o: Operand) { return this.binary('div', o); }
  override eq(o: Operand) { return this.binary('eq', o); }
  override gt(o: Operand) { return this.binary('gt', o); }
  override lt(o: Operand) { return this.binary('lt', o); }
  override ge(o: Operand) { return this.binary('ge', o); }
  override le(o: Operand) { return this.binary('le', o); }

  override pow(exponent: number) {
    const a = this.#child;
    const out = exponent === 2 ? a.mul(a) : a.pow(exponent);
    return this.result(out, [this], () => new G.PowBackward(this, a, exponent));
  }

  /** Unary ops record their gradients from the table; an op without one is not differentiable. */
  override unary(op: UnaryOp): AutogradTensor {
    const x = this.#child;
    if (op === 'relu') {
      // The layer below says what relu's gradient keeps: the 0/1 mask by default (computed once
      // for both passes; on shares that halves the secure comparisons), the output on floats.
      const [out, saved] = x.reluForward();
      return this.result(out, [this], () => new G.ReluBackward(this, saved));
    }
    const out = x.unary(op);
    const spec = unarySpec(op);
    if (!spec.grad) return new AutogradTensor(out);
    const saves = spec.saves;
    return this.result(out, [this], () =>
      new G.UnaryBackward(op, this, saves === 'x' || saves === undefined ? x : undefined, saves === 'out' || saves === undefined ? out : undefined),
    );
  }

  override argmax(dim?: number, keepDim?: boolean) { return new AutogradTensor(this.#child.argmax(dim, keepDim)); }

  override matmul(o: AbstractTensor) {
    const a = this.#child;
    const b = valueOf(o) as AbstractTensor;
    const out = a.matmul(b);
    return this.result(out, [this, o], () => new G.MatmulBackward(this, node(o), a, b));
  }

  override sum(dims?: Dims, keepDim = false) {
    const inShape = this.shape;
    const d = reduceDims(inShape.length, dims);
    return this.result(this.#child.sum(dims, keepDim), [this], () => new G.SumBackward(this, inShape, d, keepDim));
  }

  override mean(dims?: Dims, keepDim = false) {
    const inShape = this.shape;
    const d = reduceDims(inShape.length, dims);
    return this.result(this.#child.mean(dims, keepDim), [this], () => G.meanBackward(this, inShape, d, keepDim));
  }

  override max(dim?: number, keepDim = false) {
    const a = this.#child;
    const out = a.max(dim, keepDim);
    return this.result(out, [this], () => new G.MaxBackward(this, a, out, dim));
  }

  override reshape(shape: readonly number[]) {
    const inShape = this.shape;
    resolveReshape(inShape, shape);
    return this.result(this.#child.reshape(shape), [this], () => new G.ReshapeBackward(this, inShape));
  }

  override transpose(perm?: readonly number[]) {
    const p = perm ?? this.shape.map((_, i) => this.shape.length - 1 - i);
    transposeShape(this.shape, p);
    const norm = p.map((d) => normDim(d, this.shape.length));
    return this.result(this.#child.transpose(perm), [this], () => new G.TransposeBackward(this, norm));
  }

  override slice(start: number, end?: number, dim = 0) {
    const inShape = this.shape;
    const [d, s, e] = sliceBounds(inShape, start, end, dim);
    return this.result(this.#child.slice(start, end, dim), [this], () => new G.SliceBackward(this, inShape, d, s, e));
  }

  override broadcastTo(shape: readonly number[]) {
    const inShape = this.shape;
    return this.result(this.#child.broadcastTo(shape), [this], () => new G.BroadcastBackward(this, inShape));
  }

  // ---- convolution, pooling, classification: one graph node each, gradients in gradients.ts --

  override im2col(kernel: Pair, stride: Pair, padding: Pair) {
    const [, , h, w] = this.shape;
    return this.result(this.#child.im2col(kernel, stride, padding), [this], () => new G.Im2colBackward(this, [h!, w!], kernel, stride, padding));
  }

  override col2im(size: Pair, kernel: Pair, stride: Pair, padding: Pair) {
    return this.result(this.#child.col2im(size, kernel, stride, padding), [this], () => new G.Col2imBackward(this, kernel, stride, padding));
  }

  override conv2d(weight: AbstractTensor, bias: AbstractTensor | undefined, stride: Pair, padding: Pair) {
    const x = this.#child;
    const w = valueOf(weight) as AbstractTensor;
    const b = bias === undefined ? undefined : (valueOf(bias) as AbstractTensor);
    const out = x.conv2d(w, b, stride, padding);
    return this.result(out, [this, weight, ...(bias ? [bias] : [])], () => new G.Conv2dBackward(this, node(weight), bias && node(bias), x, w, stride, padding));
  }

  override linear(weight: AbstractTensor, bias: AbstractTensor | undefined) {
    const x = this.#child;
    const w = valueOf(weight) as AbstractTensor;
    const b = bias === undefined ? undefined : (valueOf(bias) as AbstractTensor);
    return this.result(x.linear(w, b), [this, weight, ...(bias ? [bias] : [])], () => new G.LinearBackward(this, node(weight), bias && node(bias), x, w));
  }

  override maxPool2d(kernel: Pair, stride: Pair, padding: Pair) {
    const x = this.#child;
    return this.result(x.maxPool2d(kernel, stride, padding), [this], () => new G.MaxPool2dBackward(this, x, kernel, stride, padding));
  }

  override avgPool2d(kernel: Pair, stride: Pair, padding: Pair) {
    const inShape = this.shape;
    return this.result(this.#child.avgPool2d(kernel, stride, padding), [this], () => new G.AvgPool2dBackward(this, inShape, kernel, stride, padding));
  }

  override logSoftmax(dim: number) {
    const out = this.#child.logSoftmax(dim);
    return this.result(out, [this], () => new G.SoftmaxBackward(this, out, dim, true));
  }

  override softmax(dim: number) {
    const out = this.#child.softmax(dim);
    return this.result(out, [this], () => new G.SoftmaxBackward(this, out, dim, false));
  }

  override gather(dim: number, index: AbstractTensor) {
    const x = this.#child;
    const idx = valueOf(index) as AbstractTensor;
    return this.result(x.gather(dim, idx), [this], () => new G.GatherBackward(this, x, dim, idx));
  }

  override scatterAdd(dim: number, index: AbstractTensor, src: AbstractTensor) {
    const idx = valueOf(index) as AbstractTensor;
    return this.result(this.#child.scatterAdd(dim, idx, valueOf(src) as AbstractTensor), [this, src], () => new G.ScatterAddBackward(this, node(src), dim, idx));
  }

  override dropoutMask(p: number, seed: number) {
    return new AutogradTensor(this.#child.dropoutMask(p, seed));
  }

  override pad(dim: number, before: number, after: number) {
    return new AutogradTensor(this.#child.pad(dim, before, after));
  }

  // No gradient is written for it yet: refused where one would be needed, rather than dropped.
  override indexSelect(dim: number, indices: Int32Array) {
    if (this.requiresGrad && gradEnabled) this.unsupported('indexSelect', 'it records no gradient yet; detach() the tensor first');
    return new AutogradTensor(this.#child.indexSelect(dim, indices));
  }

  override oneHot(numClasses: number) {
    return new AutogradTensor(this.#child.oneHot(numClasses));
  }

  override fullLike(value: number) {
    return new AutogradTensor(this.#child.fullLike(value));
  }

  override clone() {
    return this.result(this.#child.clone(), [this], () => new G.CloneBackward(this));
  }

  override refresh() {
    return this.result(this.#child.refresh(), [this], () => new G.RefreshBackward(this));
  }

  override assign_(src: AbstractTensor): void {
    this.#child.assign_(valueOf(src) as AbstractTensor);
  }

  // ---- autograd ---------------------------------------------------------------------------

  override gradLayer(): AbstractTensor | undefined {
    return this.#grad;
  }

  /** Replaces the gradient; the one it replaces is freed. */
  override setGradLayer(grad: AbstractTensor | undefined): void {
    if (this.#grad && this.#grad !== grad) this.#grad.dispose();
    this.#grad = grad === undefined ? undefined : keep(grad);
  }

  override dataLayer(): AbstractTensor {
    return this.#child;
  }

  /**
   * Differentiates the graph that produced this tensor and adds each leaf's gradient to its
   * `.grad`. Without `grad`, this must hold a single element (a loss). Intermediate gradients
   * are freed as soon as they are used, and the graph's saved values are released unless
   * `retainGraph` is set.
   */
  override backward(grad?: AbstractTensor, opts: { retainGraph?: boolean } = {}): void {
    if (!this.#requiresGrad) {
      throw new StateError('backward() on a tensor that does not require grad: create its inputs with { requiresGrad: true }');
    }
    let seed = grad;
    if (seed === undefined) {
      if (sizeOf(this.shape) !== 1) {
        throw new ValueError(`backward() without a gradient needs a single-element output, got shape [${this.shape.join(', ')}]`);
      }
      seed = this.#child.onesLike();
    }
    const order = topologicalOrder(this);
    const pending = new Map<AutogradTensor, AbstractTensor>([[this, seed]]);
    const made = new Set<AbstractTensor>();
    if (grad === undefined) made.add(seed);
    const installed = new Set<AbstractTensor>();

    for (const n of order) {
      const g = pending.get(n);
      if (g === undefined) continue;
      pending.delete(n);
      const fn = n.gradFn;
      if (fn === undefined) {
        if (n.#requiresGrad) n.accumulateGrad(g, made, installed);
        continue;
      }
      if (fn.isReleased) {
        throw new StateError('backward() through a graph a second time: pass { retainGraph: true } to the first backward()');
      }
      const grads = fn.backward(g);
      fn.inputs.forEach((input, i) => {
        const gi = grads[i];
        if (!input || !gi || !input.#requiresGrad) return;
        made.add(gi);
        const before = pending.get(input);
        if (before === undefined) pending.set(input, gi);
        else {
          const sum = before.add(gi);
          made.add(sum);
          pending.set(input, sum);
        }
      });
      if (!opts.retainGraph) fn.release();
    }
    for (const t of made) if (!installed.has(t)) t.dispose();
  }

  private accumulateGrad(g: AbstractTensor, made: Set<AbstractTensor>, installed: Set<AbstractTensor>): void {
    // A gradient object may reach two leaves (x + x); each leaf gets its own.
    const mine = installed.has(g) || !made.has(g) ? g.clone() : g;
    const next = this.#grad ? this.#grad.add(mine) : mine;
    if (this.#grad) {
      this.#grad.dispose();
      if (next !== mine) made.add(mine);
    }
    installed.add(next);
    this.#grad = keep(next);
  }

  override async get(): Promise<AbstractTensor> {
    return new AutogradTensor(await this.#child.get(), { requiresGrad: this.#requiresGrad && this.isLeaf });
  }

  override dispose(): void {
    this.#child.dispose();
  }

  override [SCOPE_WALK](): Iterable<unknown> {
    return [this.#child, this.#grad, this.gradFn];
  }
}

/**
 * A deep copy with new storage and no graph (PySyft's `copy()`): a leaf that requires grad stays
 * one; a pointer copies its object on the worker.
 */
export function copyLayer(t: AbstractTensor): AbstractTensor {
  if (t instanceof AutogradTensor) {
    const value = noGrad(() => t.child.clone());
    return new AutogradTensor(value, { requiresGrad: t.requiresGrad && t.isLeaf });
  }
  const remote = t as AbstractTensor & { copyRemote?: () => AbstractTensor };
  return remote.copyRemote ? remote.copyRemote() : t.clone();
}

// A saved operand of a product: the tensor itself, or the number.
function constant(b: Operand): G.Constant {
  return typeof b === 'bigint' ? Number(b) : b;
}

/** Nodes reachable from `root` through gradFn inputs, outputs before inputs. */
function topologicalOrder(root: AutogradTensor): AutogradTensor[] {
  const order: AutogradTensor[] = [];
  const seen = new Set<AutogradTensor>();
  const stack: [AutogradTensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [n, done] = stack.pop()!;
    if (done) {
      order.push(n);
      continue;
    }
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push([n, true]);
    for (const i of n.gradFn?.inputs ?? []) if (i && !seen.has(i)) stack.push([i, false]);
  }
  return order.reverse();
}

// Travels as its value, whether it is a leaf that requires grad, and its gradient when it has one
// (so `get()` after a remote `backward()` brings `.grad` home, and `move()` keeps it, as PySyft's
// tensors carry theirs); the graph stays behind.
export const autogradCodec: Codec<AutogradTensor> = {
  type: 'autograd',
  cls: AutogradTensor,
  encode: (t, child) => {
    const grad = t.gradLayer();
    return { type: 'autograd', requiresGrad: t.requiresGrad && t.isLeaf, child: child(t.child), ...(grad ? { grad: child(grad) } : {}) };
  },
  decode(node, child) {
    expectFields(node, ['requiresGrad', 'child'], ['grad']);
    const value = child(node.child!);
    if (!(value instanceof AbstractTensor) || value instanceof AutogradTensor) bad('autograd', 'child must be a tensor layer');
    const out = new AutogradTensor(value, { requiresGrad: expectBool('autograd', node.requiresGrad) });
    if (node.grad !== undefined) {
      const grad = child(node.grad);
      if (!(grad instanceof AbstractTensor) || grad instanceof AutogradTensor) bad('autograd', 'grad must be a tensor layer');
      if (grad.shape.length !== value.shape.length || grad.shape.some((d, i) => d !== value.shape[i])) bad('autograd', 'grad must have the shape of the value');
      out.setGradLayer(grad);
    }
    return out;
  },
};
