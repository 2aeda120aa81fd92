/**
 * The float leaf of the chain: float32 numbers in ordinary (garbage-collected) memory, computed
 * on by tfjs kernels and by plain-JavaScript kernels (./float-kernels.ts).
 *
 * Why not keep a tf.Tensor here: tfjs tensors live outside the JS heap and must be disposed by
 * hand, and a PyTorch-style API gives no moment to do it (nobody calls dispose() on `a.add(b)`).
 * JS FinalizationRegistry callbacks only run after major GCs, so leaning on them lets thousands
 * of tensors pile up. Instead every tfjs kernel call writes its inputs into the backend, runs and
 * reads the result back, skipping tfjs's engine (./tf-kernels.ts): tfjs holds nothing between
 * ops, so `tf.memory().numTensors` and the backend's buffers stay flat however long a run is.
 *
 * Which kernels: matrix products, convolutions and max pooling go to tfjs (XNNPACK on the wasm
 * backend; ./float-conv.ts), with the layout changes around them done in one pass each, inside
 * the backend's memory; elementwise ops go to tfjs too; windows, softmax rows, gathers,
 * comparisons and transposes run in JS (./float-kernels.ts, ./float-windows.ts), where tfjs
 * would cost more than the work (the wasm backend's Transpose kernel, and its matmuls with
 * transposed or batched operands, measured several times slower than a tiled copy followed by a
 * plain matmul).
 *
 * Storage order: convolution and pooling results keep tfjs's channels-last order ([N, H, W, C])
 * until something that needs the logical order reads `values` (see #nhwc), so a conv > relu >
 * pool > conv chain changes layout at its ends only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertReady } from '../backend.js';
import { UnsupportedOperationError, ValueError } from '../errors.js';
import { AbstractTensor, type Dims, type Operand } from '../layer/abstract.js';
import { type BinaryOp, type UnaryOp, binarySpec, opSpec, unarySpec } from '../layer/ops.js';
import {
  type Pair,
  col2imShape,
  conv2dShape,
  conv2dWeightShape,
  convTranspose2dShape,
  im2colShape,
  pool2dShape,
  window2d,
  windowOut,
} from '../layer/window.js';
import { RingTensor } from '../ring/index.js';
import { AutogradTensor } from './autograd.js';
import * as K from './float-kernels.js';
import * as F from './float-conv.js';
import * as Wn from './float-windows.js';
import { formatFloat } from './format.js';
import { gatherAlong } from '../util/gather.js';
import { type KernelInput, runKernel } from './tf-kernels.js';
import { type Codec, expectFields, expectShape, expectTyped } from '../workers/codec.js';
import {
  type Shape,
  broadcastShapes,
  checkShape,
  indexSelectShape,
  broadcastStrides,
  broadcastToShape,
  matmulShape,
  normDim,
  padShape,
  reduceDims,
  reduceShape,
  resolveReshape,
  sameShape,
  sizeOf,
  sliceBounds,
  stridesOf,
  transposeShape,
} from '../shapes.js';

type Dims4 = [number, number, number, number];

export class FloatTensor extends AbstractTensor {
  #shape: Shape;
  /** The numbers, row-major in the logical order, or channels-last when #nhwc. */
  #data: Float32Array;
  /**
   * A 4-D tensor whose numbers are stored [N, H, W, C] (channels last), as convolutions and
   * pooling produce and consume them on tfjs: chains of them skip a transpose per op. `values`
   * turns the storage to the logical [N, C, H, W] order the first time anything else reads it.
   */
  #nhwc = false;

  /** `values` is taken as is (not copied): do not change it afterwards. */
  constructor(shape: Shape, values: Float32Array) {
    super();
    if (values.length !== sizeOf(shape)) {
      throw new ValueError(`FloatTensor: ${values.length} values do not fill shape [${shape.join(', ')}]`);
    }
    this.#shape = shape;
    this.#data = values;
  }

  /** A 4-D tensor from numbers stored channels last ([N, H, W, C]). */
  private static channelsLast(shape: Shape, data: Float32Array): FloatTensor {
    const t = new FloatTensor(shape, data);
    // With one channel, or one position per plane, both orders are the same.
    t.#nhwc = shape[1]! > 1 && shape[2]! * shape[3]! > 1;
    return t;
  }

  /** A tensor of this shape and storage order with other numbers (an elementwise result). */
  private like(data: Float32Array): FloatTensor {
    const t = new FloatTensor(this.#shape, data);
    t.#nhwc = this.#nhwc;
    return t;
  }

  static fromTf(t: tf.Tensor): FloatTensor {
    const v = t.dataSync();
    return new FloatTensor([...t.shape], v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>));
  }

  static full(shape: Shape, value: number): FloatTensor {
    return new FloatTensor(shape, new Float32Array(sizeOf(shape)).fill(value));
  }

  get layerName(): string {
    return 'FloatTensor';
  }

  get shape(): Shape {
    return this.#shape;
  }

  override ownBytes(): number {
    return this.#data.byteLength;
  }

  /** The numbers, row-major. Treat as read-only. */
  get values(): Float32Array {
    if (this.#nhwc) {
      const [n, c, h, w] = this.#shape as Dims4;
      this.#data = K.transposeLastF32(this.#data, n, h * w, c);
      this.#nhwc = false;
    }
    return this.#data;
  }

  /** A new tf.Tensor with these values; the caller owns (and disposes) it. */
  toTf(): tf.Tensor {
    assertReady();
    return tf.tensor(this.values, [...this.#shape], 'float32');
  }

  chainString(): string {
    return formatFloat(this.#shape, this.values);
  }

  /** The tensor as nested arrays (a number for a scalar). */
  toNested(): unknown {
    const v = this.values;
    const s = this.#shape;
    if (s.length === 0) return v[0];
    let k = 0;
    const build = (d: number): unknown[] =>
      Array.from({ length: s[d]! }, () => (d === s.length - 1 ? v[k++] : build(d + 1)));
    return build(0);
  }

  // ---- running kernels ------------------------------------------------------------------------

  /** A tfjs kernel on these values (input `x`, or the inputs given), as a new tensor. */
  private kernel(name: string, attrs: object = {}, inputs?: Record<string, FloatTensor | number>, shape?: Shape): FloatTensor {
    const ins: Record<string, KernelInput | number> = {};
    for (const [k, v] of Object.entries(inputs ?? { x: this })) ins[k] = typeof v === 'number' ? v : v.input();
    const out = runKernel(name, ins, attrs);
    return new FloatTensor(shape ?? out.shape, out.values);
  }

  private input(): KernelInput {
    return { values: this.values, shape: this.#shape };
  }

  private operand(o: Operand, op: string): FloatTensor | number {
    if (typeof o === 'number') return o;
    if (o instanceof FloatTensor) return o;
    if (typeof o === 'bigint') return Number(o);
    throw new UnsupportedOperationError(
      `cannot ${op} a local float tensor and a ${o.layerName}: ` +
        (o.layerName === 'PointerTensor'
          ? 'one tensor is local and the other remote; send() the local one to the same worker, or get() the remote one'
          : 'convert one of them first (fixPrecision(), share(), floatPrecision() or get())'),
    );
  }

  private tensorOperand(o: AbstractTensor, op: string): FloatTensor {
    const t = this.operand(o, op);
    if (typeof t === 'number') throw new ValueError(`${op} needs a tensor operand, not a number`);
    return t;
  }

  // Elementwise ops of the table run the tfjs kernel it names; broadcasting is checked first,
  // for a message that says what to do.
  private elementwise(op: BinaryOp, o: Operand): FloatTensor {
    const other = this.operand(o, op);
    if (other instanceof FloatTensor) broadcastShapes(this.#shape, other.shape);
    // Elementwise over storage as it is, when both operands are stored alike (or one is a number).
    if (typeof other === 'number' || (this.#nhwc === other.#nhwc && sameShape(this.#shape, other.#shape))) {
      const n = [this.#data.length];
      const b = typeof other === 'number' ? other : { values: other.#data, shape: n };
      return this.like(runKernel(binarySpec(op).tf, { a: { values: this.#data, shape: n }, b }).values);
    }
    return this.kernel(binarySpec(op).tf, {}, { a: this, b: other });
  }

  // A constant meeting a tensor that records gradients joins the graph (x.matmul(W), W a
  // parameter), as in PyTorch.
  private lifted(...os: (Operand | undefined)[]): AutogradTensor | undefined {
    return os.some((o) => o instanceof AutogradTensor) ? new AutogradTensor(this) : undefined;
  }

  // A public value meeting an encrypted one (plain + enc): the encrypted side knows how to
  // combine with a public operand, so the op is handed over (commuted where it must be).
  private static reflects(o: Operand): o is AbstractTensor {
    return o instanceof AbstractTensor && o.layerName === 'PaillierTensor';
  }

  override add(o: Operand): AbstractTensor {
    if (FloatTensor.reflects(o)) return o.add(this);
    return this.lifted(o)?.add(o) ?? this.elementwise('add', o);
  }
  override sub(o: Operand): AbstractTensor {
    if (FloatTensor.reflects(o)) return o.neg().add(this);
    return this.lifted(o)?.sub(o) ?? this.elementwise('sub', o);
  }
  override mul(o: Operand): AbstractTensor {
    if (FloatTensor.reflects(o)) return o.mul(this);
    return this.lifted(o)?.mul(o) ?? this.elementwise('mul', o);
  }
  override div(o: Operand): AbstractTensor { return this.lifted(o)?.div(o) ?? this.elementwise('div', o); }
  override pow(exponent: number) { return this.like(runKernel('Pow', { a: { values: this.#data, shape: [this.#data.length] }, b: exponent }).values); }

  /** Every unary op of the table runs the tfjs kernel the table names. */
  override unary(op: UnaryOp): FloatTensor {
    const name = unarySpec(op).tf;
    if (name === undefined) return this.unsupported(op, 'no float kernel is named for it in src/layer/ops.ts');
    return this.like(runKernel(name, { x: { values: this.#data, shape: [this.#data.length] } }).values);
  }

  /** On floats relu keeps its output: the gradient is one pass, where the output is positive. */
  override reluForward(): [FloatTensor, FloatTensor] {
    const out = this.unary('relu');
    return [out, out];
  }

  override reluBackward(saved: AbstractTensor): AbstractTensor {
    if (!(saved instanceof FloatTensor) || !sameShape(saved.#shape, this.#shape)) return this.mul(saved.gt(0));
    if (saved.#nhwc === this.#nhwc) return this.like(K.passWherePositive(this.#data, saved.#data));
    return new FloatTensor(this.#shape, K.passWherePositive(this.values, saved.values));
  }

  // A comparison with a number (relu's mask) is one pass here: tfjs would return booleans to convert.
  private compare(op: 'eq' | 'gt' | 'lt' | 'ge' | 'le', o: Operand): FloatTensor {
    const v = typeof o === 'bigint' ? Number(o) : o;
    if (typeof v === 'number') return this.like(K.compareScalarF32(this.#data, Math.fround(v), op));
    return this.elementwise(op, o);
  }

  override eq(o: Operand) { return this.compare('eq', o); }
  override gt(o: Operand) { return this.compare('gt', o); }
  override lt(o: Operand) { return this.compare('lt', o); }
  override ge(o: Operand) { return this.compare('ge', o); }
  override le(o: Operand) { return this.compare('le', o); }

  // ---- linear algebra -------------------------------------------------------------------------

  /** [m, k] @ [k, n] on plain row-major arrays. */
  private static mm(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
    if (m === 0 || n === 0) return new Float32Array(m * n);
    if (k === 0) return new Float32Array(m * n);
    return runKernel('BatchMatMul', { a: { values: a, shape: [1, m, k] }, b: { values: b, shape: [1, k, n] } }, { transposeA: false, transposeB: false }).values;
  }

  override matmul(o: AbstractTensor): AbstractTensor {
    if (FloatTensor.reflects(o)) return o.rmatmul(this);
    const lifted = this.lifted(o);
    if (lifted) return lifted.matmul(o);
    const other = this.tensorOperand(o, 'matmul');
    const outShape = matmulShape(this.#shape, other.shape);
    // Promote vectors to matrices as torch.matmul does; the added dims leave with outShape.
    const a = this.#shape.length === 1 ? [1, this.#shape[0]!] : this.#shape;
    const b = other.shape.length === 1 ? [other.shape[0]!, 1] : other.shape;
    const [m, k, n] = [a[a.length - 2]!, a[a.length - 1]!, b[b.length - 1]!];
    const aBatch = a.slice(0, -2);
    const bBatch = b.slice(0, -2);
    if (bBatch.every((d) => d === 1)) {
      // One right matrix: stack the left ones into a single tall product.
      return new FloatTensor(outShape, FloatTensor.mm(this.values, other.values, sizeOf(aBatch) * m, k, n));
    }
    const batch = broadcastShapes(aBatch, bBatch, 'matmul (batch dimensions)');
    const av = FloatTensor.expand(this.values, a, [...batch, m, k]);
    const bv = FloatTensor.expand(other.values, b, [...batch, k, n]);
    const out = runKernel('BatchMatMul', { a: { values: av, shape: [sizeOf(batch), m, k] }, b: { values: bv, shape: [sizeOf(batch), k, n] } }, {});
    return new FloatTensor(outShape, out.values);
  }

  // Values of `shape` broadcast to `to` (copied only when they differ).
  private static expand(v: Float32Array, shape: Shape, to: Shape): Float32Array {
    return sizeOf(shape) === sizeOf(to) ? v : K.stridedCopyF32(v, broadcastStrides(shape, to), to);
  }

  override linear(weight: AbstractTensor, bias: AbstractTensor | undefined): AbstractTensor {
    const lifted = this.lifted(weight, bias);
    if (lifted) return lifted.linear(weight, bias);
    const w = this.tensorOperand(weight, 'linear');
    const b = bias === undefined ? undefined : this.tensorOperand(bias, 'linear');
    opSpec('linear').shape(this.#shape, [w, b]);
    const [out, inF] = w.shape as [number, number];
    const m = sizeOf(this.#shape) / Math.max(inF, 1);
    const outShape = [...this.#shape.slice(0, -1), out];
    if (m === 0 || out === 0 || inF === 0) return b ? new FloatTensor([m, out], new Float32Array(m * out)).add(b).reshape(outShape) : FloatTensor.full(outShape, 0);
    return new FloatTensor(outShape, F.linearFloat(this.values, m, w.values, out, inF, b?.values));
  }

  // ---- reductions -------------------------------------------------------------------------

  /**
   * A reduction over `axis` (logical dims) run on the storage: channels-last storage is reduced
   * as it lies when the dims that remain keep their order there (a per-channel sum of a
   * convolution's gradient, for its bias), else turned to the logical order first.
   */
  private reduction(name: 'Sum' | 'Mean' | 'Max', axis: number[], keepDim: boolean): FloatTensor {
    const out = reduceShape(this.#shape, axis, keepDim);
    const attrs = (ax: number[]) => (name === 'Max' ? { reductionIndices: ax, keepDims: keepDim } : { axis: ax, keepDims: keepDim });
    if (this.#nhwc) {
      const at = [0, 3, 1, 2]; // where each logical dim of [N, C, H, W] lies in [N, H, W, C]
      const kept = [0, 1, 2, 3].filter((d) => !axis.includes(d)).map((d) => at[d]!);
      if (kept.every((p, i) => i === 0 || p > kept[i - 1]!)) {
        const [n, c, h, w] = this.dims4();
        const r = runKernel(name, { x: { values: this.#data, shape: [n, h, w, c] } }, attrs(axis.map((d) => at[d]!)));
        return new FloatTensor(out, r.values);
      }
    }
    return this.kernel(name, attrs(axis), undefined, out);
  }

  override sum(dims?: Dims, keepDim = false) {
    return this.reduction('Sum', reduceDims(this.#shape.length, dims), keepDim);
  }

  override mean(dims?: Dims, keepDim = false) {
    return this.reduction('Mean', reduceDims(this.#shape.length, dims), keepDim);
  }

  override max(dim?: number, keepDim = false) {
    return this.reduction('Max', reduceDims(this.#shape.length, dim), keepDim);
  }

  override argmax(dim?: number, keepDim = false) {
    if (dim === undefined) {
      const flat = this.reshape([-1]);
      return flat.kernel('ArgMax', { axis: 0 }, undefined, keepDim ? this.#shape.map(() => 1) : []);
    }
    const d = normDim(dim, this.#shape.length);
    return this.kernel('ArgMax', { axis: d }, undefined, reduceShape(this.#shape, [d], keepDim));
  }

  // ---- shape ------------------------------------------------------------------------------

  override reshape(shape: readonly number[]): FloatTensor {
    return new FloatTensor(resolveReshape(this.#shape, shape), this.values);
  }

  override transpose(perm?: readonly number[]) {
    const p = perm ?? this.#shape.map((_, i) => this.#shape.length - 1 - i);
    const out = transposeShape(this.#shape, p);
    const strides = stridesOf(this.#shape);
    return new FloatTensor(out, K.stridedCopyF32(this.values, p.map((d) => strides[normDim(d, this.#shape.length)]!), out));
  }

  override slice(start: number, end?: number, dim = 0) {
    const [d, s, e] = sliceBounds(this.#shape, start, end, dim);
    const out = this.#shape.map((n, i) => (i === d ? e - s : n));
    const inner = sizeOf(this.#shape.slice(d + 1));
    const outer = sizeOf(this.#shape.slice(0, d));
    const size = this.#shape[d]!;
    if (outer === 1) return new FloatTensor(out, this.values.slice(s * inner, e * inner));
    const v = new Float32Array(sizeOf(out));
    const run = (e - s) * inner;
    for (let o = 0; o < outer; o++) v.set(this.values.subarray((o * size + s) * inner, (o * size + s) * inner + run), o * run);
    return new FloatTensor(out, v);
  }

  /** Gathered in JavaScript: the cost is the selected slabs', not an upload of the whole tensor. */
  override indexSelect(dim: number, indices: Int32Array): FloatTensor {
    const out = indexSelectShape(this.#shape, dim, indices, Number.MAX_SAFE_INTEGER);
    const d = normDim(dim, this.#shape.length);
    const outer = sizeOf(this.#shape.slice(0, d));
    const inner = sizeOf(this.#shape.slice(d + 1));
    return new FloatTensor(out, gatherAlong(this.values, outer, this.#shape[d]!, inner, indices, new Float32Array(sizeOf(out))));
  }

  override broadcastTo(shape: readonly number[]) {
    const target = broadcastToShape(this.#shape, shape);
    return new FloatTensor(target, K.stridedCopyF32(this.values, broadcastStrides(this.#shape, target), target));
  }

  override pad(dim: number, before: number, after: number) {
    const out = padShape(this.#shape, dim, before, after);
    const d = normDim(dim, this.#shape.length);
    const inner = sizeOf(this.#shape.slice(d + 1));
    const outer = sizeOf(this.#shape.slice(0, d));
    const run = this.#shape[d]! * inner;
    const v = new Float32Array(sizeOf(out));
    for (let o = 0; o < outer; o++) v.set(this.values.subarray(o * run, (o + 1) * run), o * out[d]! * inner + before * inner);
    return new FloatTensor(out, v);
  }

  override oneHot(numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new ValueError(`oneHot needs a positive class count, got ${numClasses}`);
    const v = new Float32Array(this.values.length * numClasses);
    this.values.forEach((c, i) => {
      if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new ValueError(`oneHot: ${c} is not a class index in [0, ${numClasses})`);
      v[i * numClasses + c] = 1;
    });
    return new FloatTensor([...this.#shape, numClasses], v);
  }

  // ---- convolution and pooling ------------------------------------------------------------

  private dims4(): Dims4 {
    return this.#shape as unknown as Dims4;
  }

  override im2col(kernel: Pair, stride: Pair, padding: Pair): FloatTensor {
    const win = window2d(kernel, stride, padding);
    const out = im2colShape(this.#shape, win);
    const [oh, ow] = windowOut(this.#shape[2]!, this.#shape[3]!, win, 'im2col');
    return new FloatTensor(out, Wn.im2colF32(this.values, this.dims4(), win, oh, ow));
  }

  override col2im(size: Pair, kernel: Pair, stride: Pair, padding: Pair): FloatTensor {
    const win = window2d(kernel, stride, padding);
    const out = col2imShape(this.#shape, size, win);
    const [oh, ow] = windowOut(out[2]!, out[3]!, win, 'col2im');
    return new FloatTensor(out, Wn.col2imF32(this.values, out as unknown as Dims4, win, oh, ow));
  }

  /** The numbers as stored, for the convolution kernels (./float-conv.ts). */
  private stored(): F.Stored {
    return { data: this.#data, shape: this.#shape, nhwc: this.#nhwc };
  }

  private static fromStored(s: F.Stored): FloatTensor {
    return s.nhwc ? FloatTensor.channelsLast(s.shape, s.data) : new FloatTensor(s.shape, s.data);
  }

  /** conv2d by the backend's convolution kernel; the result stays channels last. */
  override conv2d(weight: AbstractTensor, bias: AbstractTensor | undefined, stride: Pair, padding: Pair): AbstractTensor {
    const lifted = this.lifted(weight, bias);
    if (lifted) return lifted.conv2d(weight, bias, stride, padding);
    const w = this.tensorOperand(weight, 'conv2d');
    const b = bias === undefined ? undefined : this.tensorOperand(bias, 'conv2d');
    const out = conv2dShape(this.#shape, w.shape, b?.shape, stride, padding);
    return FloatTensor.fromStored(F.conv2dFloat(this.stored(), w.values, w.shape as Dims4, b?.values, stride, padding, out));
  }

  /** conv2d's input gradient (this is the output gradient): one matmul, then col2im; the result is channels last. */
  override convTranspose2d(weight: AbstractTensor, bias: AbstractTensor | undefined, stride: Pair, padding: Pair, outputPadding: Pair): AbstractTensor {
    if (this.lifted(weight, bias)) return super.convTranspose2d(weight, bias, stride, padding, outputPadding);
    const w = this.tensorOperand(weight, 'convTranspose2d');
    const b = bias === undefined ? undefined : this.tensorOperand(bias, 'convTranspose2d');
    const out = convTranspose2dShape(this.#shape, w.shape, b?.shape, stride, padding, outputPadding) as Dims4;
    return FloatTensor.fromStored(F.convTranspose2dFloat(this.stored(), w.values, w.shape as Dims4, b?.values, stride, padding, out));
  }

  /** conv2d's weight gradient (this is the input, `grad` the output gradient). */
  override conv2dWeight(grad: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
    if (this.lifted(grad)) return super.conv2dWeight(grad, kernel, stride, padding);
    const g = this.tensorOperand(grad, 'conv2dWeight');
    const out = conv2dWeightShape(this.#shape, g.shape, kernel, stride, padding) as Dims4;
    return new FloatTensor(out, F.conv2dWeightFloat(this.stored(), g.stored(), kernel, stride, padding, out));
  }

  /** Max pooling by the backend's kernel (XNNPACK on wasm), channels last in and out. */
  override maxPool2d(kernel: Pair, stride: Pair, padding: Pair) {
    const win = window2d(kernel, stride, padding);
    return FloatTensor.fromStored(F.maxPool2dFloat(this.stored(), win, pool2dShape(this.#shape, win, 'maxPool2d')));
  }

  override avgPool2d(kernel: Pair, stride: Pair, padding: Pair) {
    const win = window2d(kernel, stride, padding);
    const out = pool2dShape(this.#shape, win, 'avgPool2d');
    return new FloatTensor(out, Wn.avgPool2dF32(this.values, this.dims4(), win, out[2]!, out[3]!));
  }

  override maxPool2dBackward(grad: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
    const g = this.tensorOperand(grad, 'maxPool2dBackward');
    const win = window2d(kernel, stride, padding);
    const out = pool2dShape(this.#shape, win, 'maxPool2dBackward');
    if (!sameShape(out, g.shape)) throw new ValueError(`maxPool2dBackward: gradient [${g.shape.join(', ')}] must be [${out.join(', ')}]`);
    return FloatTensor.fromStored(F.maxPool2dBackwardFloat(this.stored(), g.stored(), win, () => g.values));
  }

  // ---- classification ---------------------------------------------------------------------

  override logSoftmax(dim: number) {
    return new FloatTensor(this.#shape, K.softmaxF32(this.values, this.#shape, normDim(dim, this.#shape.length), true));
  }

  override softmax(dim: number) {
    return new FloatTensor(this.#shape, K.softmaxF32(this.values, this.#shape, normDim(dim, this.#shape.length), false));
  }

  override gather(dim: number, index: AbstractTensor) {
    const d = normDim(dim, this.#shape.length);
    return new FloatTensor(index.shape, K.gatherF32(this.values, this.#shape, d, index.shape, indexValues(index, 'gather')));
  }

  override scatterAdd(dim: number, index: AbstractTensor, src: AbstractTensor): AbstractTensor {
    const lifted = this.lifted(src);
    if (lifted) return lifted.scatterAdd(dim, index, src);
    const s = this.tensorOperand(src, 'scatterAdd');
    const d = normDim(dim, this.#shape.length);
    return new FloatTensor(this.#shape, K.scatterAddF32(this.values, this.#shape, d, index.shape, indexValues(index, 'scatterAdd'), s.values));
  }

  override dropoutMask(p: number, seed: number) {
    return new FloatTensor(this.#shape, K.dropoutMaskF32(this.values.length, p, seed));
  }

  // ---- making and copying -----------------------------------------------------------------

  override fullLike(value: number): FloatTensor {
    return FloatTensor.full(this.#shape, value);
  }

  override clone(): FloatTensor {
    return this.like(this.#data.slice());
  }

  override assign_(src: AbstractTensor): void {
    if (!(src instanceof FloatTensor)) {
      throw new UnsupportedOperationError(`cannot assign a ${src.layerName} into a local float tensor`);
    }
    this.#shape = src.#shape;
    this.#data = src.#data;
    this.#nhwc = src.#nhwc;
  }
}

/** The integers of a public index: int64 ring values, or floats that hold whole numbers. */
function indexValues(index: AbstractTensor, op: string): ArrayLike<number | bigint> {
  if (index instanceof RingTensor) return index.data;
  if (index instanceof FloatTensor) return index.values;
  throw new UnsupportedOperationError(`${op}: the index must be a public int64 (or float) tensor here, not a ${index.layerName}`);
}

export const floatCodec: Codec<FloatTensor> = {
  type: 'float',
  cls: FloatTensor,
  encode: (t) => ({ type: 'float', shape: [...t.shape], values: t.values }),
  decode(node) {
    expectFields(node, ['shape', 'values']);
    const shape = expectShape('float', node.shape);
    return new FloatTensor(shape, expectTyped('float', node.values, Float32Array, sizeOf(shape)));
  },
};
