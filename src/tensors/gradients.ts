/**
 * One GradFunc per differentiable op: each knows how to turn the gradient of its output into
 * gradients of its inputs, using only ops of the layer below — so the same code differentiates
 * plaintext, remote and secret-shared values.
 *
 * Rule that backward() relies on: `backward()` returns new tensors only, never a saved forward
 * value itself, so backward can free every intermediate gradient once it is done.
 */
import type { AbstractTensor } from '../layer/abstract.js';
import { avgPool2dBackward } from '../layer/composites.js';
import { type BinaryOp, type UnaryOp, binarySpec, unarySpec } from '../layer/ops.js';
import type { Pair } from '../layer/window.js';
import type { AutogradTensor } from './autograd.js';
import { SCOPE_WALK } from './scope.js';
import { type Shape, matmulShape, reduceDims, reduceShape, sameShape, unbroadcastDims } from '../shapes.js';

/** A public scalar or a tensor that takes no part in differentiation. */
export type Constant = number | AbstractTensor;

export abstract class GradFunc {
  /** The inputs that may need a gradient, in the order `backward` returns them. */
  constructor(inputs: readonly (AutogradTensor | undefined)[]) {
    this.inputs = inputs;
  }

  /** Emptied by release(): a used graph keeps nothing alive. */
  inputs: readonly (AutogradTensor | undefined)[];

  abstract get name(): string;

  /** Gradients for each input (undefined where an input needs none). */
  abstract backward(grad: AbstractTensor): (AbstractTensor | undefined)[];

  protected released = false;

  /**
   * Drops the saved values and the links to the inputs once backward ran: the graph stops
   * holding memory, and a sy.tidy scope returning the loss frees every activation.
   */
  release(): void {
    for (const k of Object.keys(this)) {
      if (k !== 'inputs' && k !== 'released' && k !== 'op') (this as Record<string, unknown>)[k] = undefined;
    }
    this.inputs = [];
    this.released = true;
  }

  get isReleased(): boolean {
    return this.released;
  }

  // Until backward has run, the saved values belong to the graph and must outlive a tidy scope
  // that returns the graph's output; afterwards there is nothing left to keep.
  [SCOPE_WALK](): Iterable<unknown> {
    return this.released ? [] : Object.values(this);
  }
}

/** Sums a broadcast gradient back down to `shape`. */
export function sumToShape(grad: AbstractTensor, shape: Shape): AbstractTensor {
  if (sameShape(grad.shape, shape)) return grad;
  const { dims } = unbroadcastDims(grad.shape, shape);
  const summed = dims.length ? grad.sum(dims, true) : grad;
  return sameShape(summed.shape, shape) ? summed : summed.reshape(shape);
}

function swapLast(t: AbstractTensor): AbstractTensor {
  const r = t.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return t.transpose(perm);
}

function needs(t: AutogradTensor | undefined): boolean {
  return t !== undefined && t.requiresGrad;
}

const title = (op: string) => op[0]!.toUpperCase() + op.slice(1);

/** A binary elementwise op: its gradients come from the op table (src/layer/ops.ts). */
export class BinaryBackward extends GradFunc {
  constructor(
    readonly op: BinaryOp,
    a: AutogradTensor | undefined,
    b: AutogradTensor | undefined,
    private aValue: Constant | undefined,
    private bValue: Constant | undefined,
    private aShape: Shape,
    private bShape: Shape,
  ) {
    super([a, b]);
  }
  get name() { return `${title(this.op)}Backward`; }
  backward(g: AbstractTensor) {
    const spec = binarySpec(this.op);
    const a = this.aValue as AbstractTensor | number;
    const b = this.bValue as AbstractTensor | number;
    return [
      needs(this.inputs[0]) ? copyOf(sumToShape(spec.da!(g, a, b), this.aShape), g) : undefined,
      needs(this.inputs[1]) ? copyOf(sumToShape(spec.db!(g, a, b), this.bShape), g) : undefined,
    ];
  }
}

/** A unary elementwise op: its gradient comes from the op table. */
export class UnaryBackward extends GradFunc {
  constructor(
    readonly op: UnaryOp,
    a: AutogradTensor,
    private x: AbstractTensor | undefined,
    private out: AbstractTensor | undefined,
  ) {
    super([a]);
  }
  get name() { return `${title(this.op)}Backward`; }
  backward(g: AbstractTensor) {
    return [copyOf(unarySpec(this.op).grad!(g, { x: this.x!, out: this.out! }), g)];
  }
}

// A gradient passed through unchanged would be the same object as the incoming one; give the
// input its own copy so that freeing one never frees the other.
function copyOf(t: AbstractTensor, incoming: AbstractTensor): AbstractTensor {
  return t === incoming ? t.clone() : t;
}

export class PowBackward extends GradFunc {
  constructor(a: AutogradTensor, private aValue: AbstractTensor, private exponent: number) { super([a]); }
  get name() { return 'PowBackward'; }
  backward(g: AbstractTensor) {
    const n = this.exponent;
    // n = 2 is the common case (squared errors): 2·a·g needs no power of a shared value.
    const dx = n === 2 ? g.mul(this.aValue).mul(2) : n === 1 ? g.clone() : g.mul(this.aValue.pow(n - 1)).mul(n);
    return [dx];
  }
}

export class MatmulBackward extends GradFunc {
  constructor(
    a: AutogradTensor | undefined,
    b: AutogradTensor | undefined,
    private aValue: AbstractTensor,
    private bValue: AbstractTensor,
  ) {
    super([a, b]);
  }
  get name() { return 'MatmulBackward'; }
  backward(g: AbstractTensor) {
    // Promote vectors to matrices as torch.matmul does, so one rule covers every rank.
    const a = this.aValue.shape.length === 1 ? this.aValue.reshape([1, this.aValue.shape[0]!]) : this.aValue;
    const b = this.bValue.shape.length === 1 ? this.bValue.reshape([this.bValue.shape[0]!, 1]) : this.bValue;
    const full = matmulShape(a.shape, b.shape);
    const g2 = sameShape(g.shape, full) ? g : g.reshape(full);
    const ga = needs(this.inputs[0]) ? sumToShape(g2.matmul(swapLast(b)), a.shape).reshape(this.aValue.shape) : undefined;
    const gb = needs(this.inputs[1]) ? sumToShape(swapLast(a).matmul(g2), b.shape).reshape(this.bValue.shape) : undefined;
    return [ga, gb];
  }
}

export class SumBackward extends GradFunc {
  constructor(a: AutogradTensor, private inShape: Shape, private dims: number[], private keepDim: boolean, private count = 1) {
    super([a]);
  }
  get name() { return this.count === 1 ? 'SumBackward' : 'MeanBackward'; }
  backward(g: AbstractTensor) {
    const kept = this.keepDim ? g : g.reshape(reduceShape(this.inShape, this.dims, true));
    // Dividing by the integer count is exact-to-one-unit on fixed precision, where multiplying by
    // 1/count would round 1/count itself.
    const scaled = this.count === 1 ? kept : kept.div(this.count);
    return [scaled.broadcastTo(this.inShape)];
  }
}

/** mean = sum / count; the gradient spreads `grad / count` over every element. */
export function meanBackward(a: AutogradTensor, inShape: Shape, dims: number[], keepDim: boolean): SumBackward {
  const count = dims.reduce((n, d) => n * inShape[d]!, 1);
  return new SumBackward(a, inShape, dims, keepDim, count);
}

export class MaxBackward extends GradFunc {
  constructor(a: AutogradTensor, private aValue: AbstractTensor, private out: AbstractTensor, private dim: number | undefined) {
    super([a]);
  }
  get name() { return 'MaxBackward'; }
  backward(g: AbstractTensor) {
    // The gradient goes to every element equal to the maximum, as tfjs does.
    const shape = this.aValue.shape;
    const dims = reduceDims(shape.length, this.dim);
    const keptShape = reduceShape(shape, dims, true);
    const mask = this.aValue.eq(this.out.reshape(keptShape).broadcastTo(shape));
    return [g.reshape(keptShape).broadcastTo(shape).mul(mask)];
  }
}

/** relu's gradient from what the forward pass kept (see AbstractTensor.reluForward). */
export class ReluBackward extends GradFunc {
  constructor(a: AutogradTensor, private saved: AbstractTensor) { super([a]); }
  get name() { return 'ReluBackward'; }
  backward(g: AbstractTensor) { return [g.reluBackward(this.saved)]; }
}

export class ReshapeBackward extends GradFunc {
  constructor(a: AutogradTensor, private inShape: Shape) { super([a]); }
  get name() { return 'ReshapeBackward'; }
  backward(g: AbstractTensor) { return [g.reshape(this.inShape)]; }
}

export class TransposeBackward extends GradFunc {
  constructor(a: AutogradTensor, private perm: readonly number[]) { super([a]); }
  get name() { return 'TransposeBackward'; }
  backward(g: AbstractTensor) {
    const inverse = new Array<number>(this.perm.length);
    this.perm.forEach((p, i) => (inverse[p] = i));
    return [g.transpose(inverse)];
  }
}

export class SliceBackward extends GradFunc {
  constructor(a: AutogradTensor, private inShape: Shape, private dim: number, private start: number, private end: number) {
    super([a]);
  }
  get name() { return 'SliceBackward'; }
  backward(g: AbstractTensor) {
    // Zeros where the slice did not look, the gradient where it did.
    return [g.pad(this.dim, this.start, this.inShape[this.dim]! - this.end)];
  }
}

export class BroadcastBackward extends GradFunc {
  constructor(a: AutogradTensor, private inShape: Shape) { super([a]); }
  get name() { return 'BroadcastBackward'; }
  backward(g: AbstractTensor) { return [copyOf(sumToShape(g, this.inShape), g)]; }
}

/** refresh() changes the shares, not the value: the gradient passes through. */
export class RefreshBackward extends GradFunc {
  constructor(a: AutogradTensor) { super([a]); }
  get name() { return 'RefreshBackward'; }
  backward(g: AbstractTensor) { return [g.clone()]; }
}

export class CloneBackward extends GradFunc {
  constructor(a: AutogradTensor) { super([a]); }
  get name() { return 'CloneBackward'; }
  backward(g: AbstractTensor) { return [g.clone()]; }
}

// ---- convolution, pooling and classification ------------------------------------------------

/** im2col is linear; its adjoint col2im carries the gradient back. */
export class Im2colBackward extends GradFunc {
  constructor(a: AutogradTensor, private size: Pair, private kernel: Pair, private stride: Pair, private padding: Pair) { super([a]); }
  get name() { return 'Im2colBackward'; }
  backward(g: AbstractTensor) { return [g.col2im(this.size, this.kernel, this.stride, this.padding)]; }
}

/** col2im's adjoint is im2col. */
export class Col2imBackward extends GradFunc {
  constructor(a: AutogradTensor, private kernel: Pair, private stride: Pair, private padding: Pair) { super([a]); }
  get name() { return 'Col2imBackward'; }
  backward(g: AbstractTensor) { return [g.im2col(this.kernel, this.stride, this.padding)]; }
}

/**
 * y = conv2d(x, w) + b: dx = convTranspose2d(g, w) (output padding recovers x's size when the
 * stride skipped its last rows), dw = x.conv2dWeight(g), db = g summed over images and positions.
 */
export class Conv2dBackward extends GradFunc {
  private xValue: AbstractTensor | undefined;
  private wValue: AbstractTensor | undefined;
  private inSize: Pair;
  private kernel: Pair;

  constructor(x: AutogradTensor, w: AutogradTensor | undefined, b: AutogradTensor | undefined, xValue: AbstractTensor, wValue: AbstractTensor, private stride: Pair, private padding: Pair) {
    super([x, w, b]);
    // Each gradient needs the other operand only.
    this.xValue = needs(w) ? xValue : undefined;
    this.wValue = needs(x) ? wValue : undefined;
    this.inSize = [xValue.shape[2]!, xValue.shape[3]!];
    this.kernel = [wValue.shape[2]!, wValue.shape[3]!];
  }
  get name() { return 'ConvolutionBackward'; }
  backward(g: AbstractTensor) {
    const [x, w, b] = this.inputs;
    const [h, w0] = this.inSize;
    const extra: Pair = [(h + 2 * this.padding[0] - this.kernel[0]) % this.stride[0], (w0 + 2 * this.padding[1] - this.kernel[1]) % this.stride[1]];
    return [
      needs(x) ? g.convTranspose2d(this.wValue!, undefined, this.stride, this.padding, extra) : undefined,
      needs(w) ? this.xValue!.conv2dWeight(g, this.kernel, this.stride, this.padding) : undefined,
      needs(b) ? g.sum([0, 2, 3]) : undefined,
    ];
  }
}

/** y = x @ w^T + b: dx = g @ w, dw = g^T @ x (over all leading dims), db = g summed over them. */
export class LinearBackward extends GradFunc {
  private xValue: AbstractTensor | undefined;
  private wValue: AbstractTensor | undefined;

  constructor(x: AutogradTensor, w: AutogradTensor | undefined, b: AutogradTensor | undefined, xValue: AbstractTensor, wValue: AbstractTensor) {
    super([x, w, b]);
    this.xValue = needs(w) ? xValue : undefined;
    this.wValue = needs(x) ? wValue : undefined;
  }
  get name() { return 'LinearBackward'; }
  backward(g: AbstractTensor) {
    const [x, w, b] = this.inputs;
    const out = g.shape[g.shape.length - 1]!;
    const g2 = g.shape.length === 2 ? g : g.reshape([-1, out]);
    let dw: AbstractTensor | undefined;
    if (needs(w)) {
      const xv = this.xValue!;
      const x2 = xv.shape.length === 2 ? xv : xv.reshape([-1, xv.shape[xv.shape.length - 1]!]);
      dw = g2.transpose([1, 0]).matmul(x2);
    }
    return [needs(x) ? g.matmul(this.wValue!) : undefined, dw, needs(b) ? g2.sum(0) : undefined];
  }
}

/** Each window's gradient goes to its maximum (the layer below decides how ties split). */
export class MaxPool2dBackward extends GradFunc {
  constructor(a: AutogradTensor, private x: AbstractTensor, private kernel: Pair, private stride: Pair, private padding: Pair) { super([a]); }
  get name() { return 'MaxPool2DWithIndicesBackward'; }
  backward(g: AbstractTensor) { return [this.x.maxPool2dBackward(g, this.kernel, this.stride, this.padding)]; }
}

export class AvgPool2dBackward extends GradFunc {
  constructor(a: AutogradTensor, private inShape: Shape, private kernel: Pair, private stride: Pair, private padding: Pair) { super([a]); }
  get name() { return 'AvgPool2DBackward'; }
  backward(g: AbstractTensor) { return [avgPool2dBackward(g, this.inShape, this.kernel, this.stride, this.padding)]; }
}

/**
 * From the output y along `dim`: log-softmax gives g - exp(y) * sum(g), softmax gives
 * y * (g - sum(g * y)).
 */
export class SoftmaxBackward extends GradFunc {
  constructor(a: AutogradTensor, private out: AbstractTensor, private dim: number, private log: boolean) { super([a]); }
  get name() { return this.log ? 'LogSoftmaxBackward' : 'SoftmaxBackward'; }
  backward(g: AbstractTensor) {
    const y = this.out;
    if (this.log) return [g.sub(y.exp().mul(g.sum(this.dim, true)))];
    return [y.mul(g.sub(g.mul(y).sum(this.dim, true)))];
  }
}

/** gather's adjoint: the gradient added back at the gathered positions of zeros like x. */
export class GatherBackward extends GradFunc {
  constructor(a: AutogradTensor, private x: AbstractTensor, private dim: number, private index: AbstractTensor) { super([a]); }
  get name() { return 'GatherBackward'; }
  backward(g: AbstractTensor) { return [this.x.fullLike(0).scatterAdd(this.dim, this.index, g)]; }
}

export class ScatterAddBackward extends GradFunc {
  constructor(a: AutogradTensor, src: AutogradTensor | undefined, private dim: number, private index: AbstractTensor) { super([a, src]); }
  get name() { return 'ScatterAddBackward'; }
  backward(g: AbstractTensor) {
    const [a, src] = this.inputs;
    return [needs(a) ? g.clone() : undefined, needs(src) ? g.gather(this.dim, this.index) : undefined];
  }
}
