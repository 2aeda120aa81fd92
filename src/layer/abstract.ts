/**
 * The layer interface of the tensor chain.
 *
 * A user holds a `Tensor` wrapper; its `.child` is an `AbstractTensor`, whose own `.child` is the
 * next layer, down to a leaf that holds numbers (a FloatTensor or a RingTensor). Each layer
 * implements the ops it changes and forwards the rest. An op a layer cannot do throws a typed
 * {@link UnsupportedOperationError} that names the layer, so a wrong chain fails loudly.
 *
 * It sits on the ground floor, below the ring, because the ring's tensors are a layer too (every
 * share on a worker is one); the op table (./ops.ts) beside it says what each op takes.
 */
import { UnsupportedOperationError } from '../errors.js';
import type { Shape } from '../shapes.js';
import * as C from './composites.js';
import { type UnaryOp, unarySpec } from './ops.js';
import type { Pair } from './window.js';

/** Objects a tidy scope should look into when collecting what a result still references. */
export const SCOPE_WALK: unique symbol = Symbol('syft.scopeWalk');

/** A public scalar (number) or a tensor layer. bigint scalars are ring elements. */
export type Operand = AbstractTensor | number | bigint;

/** A dims argument of a reduction: one dim, several, or all when omitted. */
export type Dims = number | readonly number[] | undefined;

export abstract class AbstractTensor {
  /** The layer's name as PySyft prints it in a chain, for example `FixedPrecisionTensor`. */
  abstract get layerName(): string;

  abstract readonly shape: Shape;

  /** The next layer down, or undefined for a leaf. */
  get child(): AbstractTensor | undefined {
    return undefined;
  }

  /** Printed form of this layer and everything below it, as PySyft shows chains. */
  abstract chainString(): string;

  toString(): string {
    return this.chainString();
  }

  protected unsupported(op: string, hint = ''): never {
    throw new UnsupportedOperationError(
      `${this.layerName} does not support '${op}'${hint ? `: ${hint}` : ''}`,
    );
  }

  // ---- elementwise, with numpy/PyTorch broadcasting --------------------------------------
  add(_o: Operand): AbstractTensor { return this.unsupported('add'); }
  sub(_o: Operand): AbstractTensor { return this.unsupported('sub'); }
  mul(_o: Operand): AbstractTensor { return this.unsupported('mul'); }
  div(_o: Operand): AbstractTensor { return this.unsupported('div'); }
  pow(_exponent: number): AbstractTensor { return this.unsupported('pow'); }

  /**
   * A unary elementwise op of the table (src/layer/ops.ts). Layers with kernels override this;
   * the default is the op's composite, where it has one, made of this layer's other ops.
   */
  unary(op: UnaryOp): AbstractTensor {
    const composite = unarySpec(op).composite;
    return composite ? composite(this) : this.unsupported(op);
  }

  neg(): AbstractTensor { return this.unary('neg'); }
  exp(): AbstractTensor { return this.unary('exp'); }
  log(): AbstractTensor { return this.unary('log'); }
  sqrt(): AbstractTensor { return this.unary('sqrt'); }
  abs(): AbstractTensor { return this.unary('abs'); }
  relu(): AbstractTensor { return this.unary('relu'); }
  /**
   * relu for autograd: the output and what its gradient needs. By default that is the 0/1 mask
   * (x > 0), computed once for both passes: relu(x) = x · mask, and on shares one secure
   * comparison serves forward and backward.
   */
  reluForward(): [out: AbstractTensor, saved: AbstractTensor] {
    const mask = this.gt(0);
    return [this.mul(mask), mask];
  }
  /** relu's input gradient (this is the output gradient) from what reluForward kept: g · mask by default. */
  reluBackward(saved: AbstractTensor): AbstractTensor { return this.mul(saved); }
  sigmoid(): AbstractTensor { return this.unary('sigmoid'); }
  tanh(): AbstractTensor { return this.unary('tanh'); }

  // ---- comparisons: 1 where true, 0 where false ----------------------------------------
  eq(_o: Operand): AbstractTensor { return this.unsupported('eq'); }
  gt(_o: Operand): AbstractTensor { return this.unsupported('gt'); }
  lt(_o: Operand): AbstractTensor { return this.unsupported('lt'); }
  ge(_o: Operand): AbstractTensor { return this.unsupported('ge'); }
  le(_o: Operand): AbstractTensor { return this.unsupported('le'); }

  // ---- linear algebra and reductions ----------------------------------------------------
  matmul(_o: AbstractTensor): AbstractTensor { return this.unsupported('matmul'); }
  /** `o @ this`: layers that must handle a public left operand themselves (shares) override it. */
  rmatmul(o: AbstractTensor): AbstractTensor { return o.matmul(this); }
  sum(_dims?: Dims, _keepDim?: boolean): AbstractTensor { return this.unsupported('sum'); }
  mean(_dims?: Dims, _keepDim?: boolean): AbstractTensor { return this.unsupported('mean'); }
  max(_dim?: number, _keepDim?: boolean): AbstractTensor { return this.unsupported('max'); }
  argmax(_dim?: number, _keepDim?: boolean): AbstractTensor { return this.unsupported('argmax'); }

  // ---- shape ----------------------------------------------------------------------------
  reshape(_shape: readonly number[]): AbstractTensor { return this.unsupported('reshape'); }
  transpose(_perm?: readonly number[]): AbstractTensor { return this.unsupported('transpose'); }
  /** PyTorch's `x[start:end]` along `dim` (default 0). */
  slice(_start: number, _end?: number, _dim?: number): AbstractTensor { return this.unsupported('slice'); }
  /** PyTorch's `index_select(dim, indices)`: the slabs at `indices` along `dim`, in that order. */
  indexSelect(_dim: number, _indices: Int32Array): AbstractTensor { return this.unsupported('indexSelect'); }
  broadcastTo(_shape: readonly number[]): AbstractTensor { return this.unsupported('broadcastTo'); }
  /** Adds `before` and `after` zeros along `dim` (the gradient of a slice). */
  pad(_dim: number, _before: number, _after: number): AbstractTensor { return this.unsupported('pad'); }
  /** One-hot rows of length `numClasses` for a tensor of class indices. */
  oneHot(_numClasses: number): AbstractTensor { return this.unsupported('oneHot'); }

  // ---- convolution and pooling over [N, C, H, W] (geometry: ./window.ts) ---------------
  // im2col, col2im, gather and scatterAdd are primitives (each leaf has a kernel, the other layers
  // forward them); the rest default to their composites (./composites.ts).

  /** Sliding windows as columns, PyTorch's `F.unfold`: [N, C, H, W] -> [N, C*kh*kw, L]. */
  im2col(_kernel: Pair, _stride: Pair, _padding: Pair): AbstractTensor { return this.unsupported('im2col'); }
  /** Columns summed back into an [N, C, H, W] plane of `size` (overlaps add up), PyTorch's `F.fold`. */
  col2im(_size: Pair, _kernel: Pair, _stride: Pair, _padding: Pair): AbstractTensor { return this.unsupported('col2im'); }
  /** 2-D cross-correlation with `weight` [O, C, kh, kw] and an optional `bias` [O], as PyTorch's `F.conv2d`. */
  conv2d(weight: AbstractTensor, bias: AbstractTensor | undefined, stride: Pair, padding: Pair): AbstractTensor {
    return C.conv2dComposite(this, weight, bias, stride, padding);
  }
  /** PyTorch's `F.conv_transpose2d`: the input gradient of `conv2d` (this is the output gradient). */
  convTranspose2d(weight: AbstractTensor, bias: AbstractTensor | undefined, stride: Pair, padding: Pair, outputPadding: Pair): AbstractTensor {
    return C.convTranspose2dComposite(this, weight, bias, stride, padding, outputPadding);
  }
  /** The weight gradient of `this.conv2d(weight)` for the output gradient `grad`: [O, C, kh, kw]. */
  conv2dWeight(grad: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
    return C.conv2dWeightComposite(this, grad, kernel, stride, padding);
  }
  /** Largest value of each window of each channel. */
  maxPool2d(kernel: Pair, stride: Pair, padding: Pair): AbstractTensor { return C.maxPool2dComposite(this, kernel, stride, padding); }
  /** The input gradient of `this.maxPool2d(...)` for the output gradient `grad`. */
  maxPool2dBackward(grad: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
    return C.maxPool2dBackwardComposite(this, grad, kernel, stride, padding);
  }
  /** Mean of each window of each channel (padding zeros count, as PyTorch's default). */
  avgPool2d(kernel: Pair, stride: Pair, padding: Pair): AbstractTensor { return C.avgPool2dComposite(this, kernel, stride, padding); }
  /** `this @ weight^T + bias`, PyTorch's `F.linear`. */
  linear(weight: AbstractTensor, bias: AbstractTensor | undefined): AbstractTensor { return C.linearComposite(this, weight, bias); }

  // ---- classification -------------------------------------------------------------------
  logSoftmax(dim: number): AbstractTensor { return C.logSoftmaxComposite(this, dim); }
  softmax(dim: number): AbstractTensor { return C.softmaxComposite(this, dim); }
  /** PyTorch's `gather`: out[..., i, ...] = this[..., index[..., i, ...], ...] along `dim`. */
  gather(_dim: number, _index: AbstractTensor): AbstractTensor { return this.unsupported('gather'); }
  /** A copy with `src` added at `index` along `dim` (PyTorch's out-of-place `scatter_add`). */
  scatterAdd(_dim: number, _index: AbstractTensor, _src: AbstractTensor): AbstractTensor { return this.unsupported('scatterAdd'); }
  /** A dropout mask of this shape: 0 with probability `p`, else 1/(1-p); `seed` fixes the draw. */
  dropoutMask(_p: number, _seed: number): AbstractTensor { return this.unsupported('dropoutMask'); }

  /** Re-randomises secret shares (a no-op on the value). */
  refresh(): AbstractTensor { return this.unsupported('refresh', 'only secret-shared tensors can be refreshed'); }

  // ---- making and copying ---------------------------------------------------------------
  /** A tensor of this layer's kind, this shape, every element `value` (a public constant). */
  fullLike(_value: number): AbstractTensor { return this.unsupported('fullLike'); }
  zerosLike(): AbstractTensor { return this.fullLike(0); }
  onesLike(): AbstractTensor { return this.fullLike(1); }
  /** A deep copy: new storage (and new remote objects, for pointers). */
  clone(): AbstractTensor { return this.unsupported('clone'); }

  /**
   * Replaces this layer's value with `src`'s, keeping this object (and, for pointers, the remote
   * id). `src` is consumed: its storage becomes this tensor's, so the caller must not use it again.
   */
  assign_(_src: AbstractTensor): void { this.unsupported('assign_'); }

  // ---- autograd hooks (AutogradTensor implements them; PointerTensor forwards them) -----
  get requiresGrad(): boolean { return false; }
  backward(_grad?: AbstractTensor): void {
    this.unsupported('backward', 'the tensor does not require grad; create it with { requiresGrad: true }');
  }
  /** The accumulated gradient, if any. */
  gradLayer(): AbstractTensor | undefined { return undefined; }
  setGradLayer(_grad: AbstractTensor | undefined): void { this.unsupported('set grad'); }
  /** The value without autograd (PyTorch's `.data`). */
  dataLayer(): AbstractTensor { return this; }

  // ---- life cycle -----------------------------------------------------------------------
  /**
   * Brings the value home: pointers fetch (and remove) their remote object, shared tensors
   * reconstruct, other layers rebuild themselves around their fetched child.
   */
  async get(): Promise<AbstractTensor> { return this; }

  /** Bytes of numbers this layer holds itself, not counting the layers below it (for quotas). */
  ownBytes(): number {
    return 0;
  }

  /** The layers directly below this one: the child, or every share for a shared tensor. */
  children(): readonly AbstractTensor[] {
    const c = this.child;
    return c ? [c] : [];
  }

  /** Frees what this layer holds elsewhere (remote objects). Local numbers are left to the GC. */
  dispose(): void {
    for (const c of this.children()) c.dispose();
  }

  /** What a tidy scope must look into to find the remote objects this layer references. */
  [SCOPE_WALK](): Iterable<unknown> {
    return this.children();
  }

  /** Visits this layer and every layer below it, depth first. */
  *layers(): Generator<AbstractTensor> {
    yield this;
    for (const c of this.children()) yield* c.layers();
  }
}
