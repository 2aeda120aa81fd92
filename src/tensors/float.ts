/**
 * The float leaf of the chain: float32 numbers in ordinary (garbage-collected) memory, computed
 * on by tfjs.
 *
 * Why not keep a tf.Tensor here: tfjs tensors live outside the JS heap and must be disposed by
 * hand, and a PyTorch-style API gives no moment to do it (nobody calls dispose() on `a.add(b)`).
 * JS FinalizationRegistry callbacks only run after major GCs, so leaning on them lets thousands
 * of tensors pile up. Instead every op uploads its inputs, runs the tfjs kernel inside
 * `tf.tidy`, and reads the result back: tfjs holds nothing between ops, so
 * `tf.memory().numTensors` stays flat however long a run is. On the cpu backend the upload and
 * read-back share memory; on wasm they cost a copy, small next to the kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertReady } from '../backend.js';
import { UnsupportedOperationError, ValueError } from '../errors.js';
import { AbstractTensor, type Dims, type Operand } from '../layer/abstract.js';
import { type UnaryOp, unarySpec } from '../layer/ops.js';
import { AutogradTensor } from './autograd.js';
import { formatFloat } from './format.js';
import { gatherAlong } from '../util/gather.js';
import { type Codec, expectFields, expectShape, expectTyped } from '../workers/codec.js';
import {
  type Shape,
  broadcastShapes,
  checkShape,
  indexSelectShape,
  matmulShape,
  normDim,
  reduceDims,
  resolveReshape,
  sizeOf,
  sliceBounds,
  transposeShape,
} from '../shapes.js';

export class FloatTensor extends AbstractTensor {
  #shape: Shape;
  #values: Float32Array;

  /** `values` is taken as is (not copied): do not change it afterwards. */
  constructor(shape: Shape, values: Float32Array) {
    super();
    if (values.length !== sizeOf(shape)) {
      throw new ValueError(`FloatTensor: ${values.length} values do not fill shape [${shape.join(', ')}]`);
    }
    this.#shape = shape;
    this.#values = values;
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
    return this.#values.byteLength;
  }

  /** The numbers, row-major. Treat as read-only. */
  get values(): Float32Array {
    return this.#values;
  }

  /** A new tf.Tensor with these values; the caller owns (and disposes) it. */
  toTf(): tf.Tensor {
    assertReady();
    return tf.tensor(this.#values, [...this.#shape], 'float32');
  }

  chainString(): string {
    return formatFloat(this.#shape, this.#values);
  }

  /** The tensor as nested arrays (a number for a scalar). */
  toNested(): unknown {
    const v = this.#values;
    const s = this.#shape;
    if (s.length === 0) return v[0];
    let k = 0;
    const build = (d: number): unknown[] =>
      Array.from({ length: s[d]! }, () => (d === s.length - 1 ? v[k++] : build(d + 1)));
    return build(0);
  }

  // Runs a tfjs kernel on this tensor (and others) and brings the result back.
  private run(f: (x: tf.Tensor, ...rest: tf.Tensor[]) => tf.Tensor, ...others: (FloatTensor | number)[]): FloatTensor {
    assertReady();
    const out = tf.tidy(() => {
      const ins = others.map((o) => (typeof o === 'number' ? tf.scalar(o, 'float32') : o.toTf()));
      const r = f(this.toTf(), ...ins);
      return r.dtype === 'float32' ? r : tf.cast(r, 'float32');
    });
    try {
      return FloatTensor.fromTf(out);
    } finally {
      out.dispose();
    }
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

  // Elementwise: checks broadcasting first, for a message that says what to do.
  private elementwise(f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, o: Operand, op: string): FloatTensor {
    const other = this.operand(o, op);
    if (other instanceof FloatTensor) broadcastShapes(this.#shape, other.shape);
    return this.run((a, b) => f(a, b!), other);
  }

  // A constant meeting a tensor that records gradients joins the graph (x.matmul(W), W a
  // parameter), as in PyTorch.
  private lifted(o: Operand): AutogradTensor | undefined {
    return o instanceof AutogradTensor ? new AutogradTensor(this) : undefined;
  }

  // A public value meeting an encrypted one (plain + enc): the encrypted side knows how to
  // combine with a public operand, so the op is handed over (commuted where it must be).
  private static reflects(o: Operand): o is AbstractTensor {
    return o instanceof AbstractTensor && o.layerName === 'PaillierTensor';
  }

  override add(o: Operand): AbstractTensor {
    if (FloatTensor.reflects(o)) return o.add(this);
    return this.lifted(o)?.add(o) ?? this.elementwise(tf.add, o, 'add');
  }
  override sub(o: Operand): AbstractTensor {
    if (FloatTensor.reflects(o)) return o.neg().add(this);
    return this.lifted(o)?.sub(o) ?? this.elementwise(tf.sub, o, 'sub');
  }
  override mul(o: Operand): AbstractTensor {
    if (FloatTensor.reflects(o)) return o.mul(this);
    return this.lifted(o)?.mul(o) ?? this.elementwise(tf.mul, o, 'mul');
  }
  override div(o: Operand): AbstractTensor { return this.lifted(o)?.div(o) ?? this.elementwise(tf.div, o, 'div'); }
  override pow(exponent: number) { return this.run((x, e) => tf.pow(x, e!), exponent); }

  /** Every unary op of the table runs the tfjs kernel the table names. */
  override unary(op: UnaryOp): FloatTensor {
    const name = unarySpec(op).tf;
    const kernel = name === undefined ? undefined : (tf as unknown as Record<string, (x: tf.Tensor) => tf.Tensor>)[name];
    if (typeof kernel !== 'function') return this.unsupported(op, 'no float kernel is named for it in src/layer/ops.ts');
    return this.run(kernel);
  }

  override eq(o: Operand) { return this.elementwise(tf.equal, o, 'eq'); }
  override gt(o: Operand) { return this.elementwise(tf.greater, o, 'gt'); }
  override lt(o: Operand) { return this.elementwise(tf.less, o, 'lt'); }
  override ge(o: Operand) { return this.elementwise(tf.greaterEqual, o, 'ge'); }
  override le(o: Operand) { return this.elementwise(tf.lessEqual, o, 'le'); }

  override matmul(o: AbstractTensor): AbstractTensor {
    if (FloatTensor.reflects(o)) return o.rmatmul(this);
    const lifted = this.lifted(o);
    if (lifted) return lifted.matmul(o);
    const other = this.operand(o, 'matmul');
    if (typeof other === 'number') throw new ValueError('matmul needs a tensor operand, not a number');
    const outShape = matmulShape(this.#shape, other.shape);
    // tfjs wants rank >= 2: promote vectors as torch.matmul does, then drop the added dims.
    const a = this.#shape.length === 1 ? [1, this.#shape[0]!] : this.#shape;
    const b = other.shape.length === 1 ? [other.shape[0]!, 1] : other.shape;
    return this.run(
      (x, y) => tf.reshape(tf.matMul(tf.reshape(x, [...a]), tf.reshape(y!, [...b])), [...outShape]),
      other,
    );
  }

  override sum(dims?: Dims, keepDim = false) {
    const axes = reduceDims(this.#shape.length, dims);
    return this.run((x) => tf.sum(x, axes, keepDim));
  }

  override mean(dims?: Dims, keepDim = false) {
    const axes = reduceDims(this.#shape.length, dims);
    return this.run((x) => tf.mean(x, axes, keepDim));
  }

  override max(dim?: number, keepDim = false) {
    const axes = dim === undefined ? undefined : normDim(dim, this.#shape.length);
    return this.run((x) => tf.max(x, axes, keepDim));
  }

  override argmax(dim?: number, keepDim = false) {
    if (dim === undefined) {
      return this.run((x) => tf.argMax(tf.reshape(x, [-1]), 0));
    }
    const d = normDim(dim, this.#shape.length);
    return this.run((x) => {
      const r = tf.argMax(x, d);
      return keepDim ? tf.expandDims(r, d) : r;
    });
  }

  override reshape(shape: readonly number[]): FloatTensor {
    return new FloatTensor(resolveReshape(this.#shape, shape), this.#values);
  }

  override transpose(perm?: readonly number[]) {
    transposeShape(this.#shape, perm);
    return this.run((x) => tf.transpose(x, perm ? [...perm] : undefined));
  }

  override slice(start: number, end?: number, dim = 0) {
    const [d, s, e] = sliceBounds(this.#shape, start, end, dim);
    const begin = this.#shape.map((_, i) => (i === d ? s : 0));
    const size = this.#shape.map((n, i) => (i === d ? e - s : n));
    return this.run((x) => tf.slice(x, begin, size));
  }

  /** Gathered in JavaScript: the cost is the selected slabs', not an upload of the whole tensor. */
  override indexSelect(dim: number, indices: Int32Array): FloatTensor {
    const out = indexSelectShape(this.#shape, dim, indices, Number.MAX_SAFE_INTEGER);
    const d = normDim(dim, this.#shape.length);
    const outer = sizeOf(this.#shape.slice(0, d));
    const inner = sizeOf(this.#shape.slice(d + 1));
    return new FloatTensor(out, gatherAlong(this.#values, outer, this.#shape[d]!, inner, indices, new Float32Array(sizeOf(out))));
  }

  override broadcastTo(shape: readonly number[]) {
    checkShape(shape);
    broadcastShapes(this.#shape, shape);
    return this.run((x) => tf.broadcastTo(x, [...shape]));
  }

  override pad(dim: number, before: number, after: number) {
    const d = normDim(dim, this.#shape.length);
    const paddings = this.#shape.map((_, i): [number, number] => (i === d ? [before, after] : [0, 0]));
    return this.run((x) => tf.pad(x, paddings));
  }

  override oneHot(numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new ValueError(`oneHot needs a positive class count, got ${numClasses}`);
    for (const v of this.#values) {
      if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
        throw new ValueError(`oneHot: ${v} is not a class index in [0, ${numClasses})`);
      }
    }
    return this.run((x) => tf.oneHot(tf.cast(x, 'int32'), numClasses));
  }

  override fullLike(value: number): FloatTensor {
    return FloatTensor.full(this.#shape, value);
  }

  override clone(): FloatTensor {
    return new FloatTensor(this.#shape, this.#values.slice());
  }

  override assign_(src: AbstractTensor): void {
    if (!(src instanceof FloatTensor)) {
      throw new UnsupportedOperationError(`cannot assign a ${src.layerName} into a local float tensor`);
    }
    this.#shape = src.#shape;
    this.#values = src.#values;
  }
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
