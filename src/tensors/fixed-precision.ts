/**
 * FixedPrecisionTensor: real numbers as integers, v -> round(v * base^precisionFractional),
 * so that they can live in the ring and be secret-shared. The child holds the integers: a
 * RingTensor locally, an AdditiveSharingTensor when shared.
 *
 * Products carry the sum of the operands' precisions and are truncated back (a division by a
 * public integer, which on shared values is a protocol). A 0/1 mask from a comparison has
 * precision 0, so multiplying by it needs no truncation at all.
 */
import { UnsupportedOperationError, ValueError } from '../errors.js';
import { RingTensor, decodeFixed, encodeFixed } from '../ring/index.js';
import { argInt, selfLayer, type CommandSpec } from '../workers/commands.js';
import { type Codec, bad, expectFields, expectInt } from '../workers/codec.js';
import { AbstractTensor, type Dims, type Operand } from '../layer/abstract.js';
import type { UnaryOp } from '../layer/ops.js';
import { config } from '../config.js';
import { checkBoundedProduct, checkLocalProduct, checkSecurely, maxAbs, pendingOverflow, productBound } from './overflow.js';
import type { Pair } from '../layer/window.js';
import { fixedDivide, fixedExp, fixedSoftmax, fixedSqrt } from './approximations.js';
import { AutogradTensor } from './autograd.js';
import { FloatTensor } from './float.js';
import { forwardToPointee } from './chains.js';
import { reduceDims } from '../shapes.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const fixedPrecisionCommands: Record<string, CommandSpec> = {};
const commands = fixedPrecisionCommands;

/** PySyft's defaults: base 10, 3 fractional digits. */
export const DEFAULT_BASE = 10;
export const DEFAULT_PRECISION = 3;

export interface PrecisionOptions {
  /** Integer base (default 10). */
  base?: number;
  /** Digits after the point, in `base` (default 3). */
  precisionFractional?: number;
}

/** A value of the other operand, with the precision it carries and its magnitude bound if known. */
interface Encoded {
  value: AbstractTensor | bigint;
  precision: number;
  /** Largest |value| as a real number (undefined: not known). */
  bound: number | undefined;
}

const sumOf = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a + b);

function floatMax(values: Float32Array): number {
  let m = 0;
  for (const v of values) if (Math.abs(v) > m) m = Math.abs(v);
  return m;
}

/** A layer holding its numbers here: no layers below it (shares count), and not a pointer. */
function isLocalLeaf(t: AbstractTensor): boolean {
  return t.children().length === 0 && t.layerName !== 'PointerTensor';
}

export class FixedPrecisionTensor extends AbstractTensor {
  #child: AbstractTensor;
  readonly base: number;
  readonly precisionFractional: number;
  /**
   * The largest |value| this tensor can hold, as a real number, where it is known: exact for
   * encoded data, declared with `share(..., { bound })`, and carried through sums, products and
   * reshapes of bounded tensors (src/tensors/overflow.ts). Undefined where it is not known (for
   * values a training step wrote).
   */
  bound: number | undefined;

  constructor(child: AbstractTensor, base = DEFAULT_BASE, precisionFractional = DEFAULT_PRECISION, bound?: number) {
    super();
    if (child instanceof FixedPrecisionTensor || child instanceof AutogradTensor) {
      throw new ValueError(`a FixedPrecisionTensor cannot hold a ${child.layerName}`);
    }
    this.#child = child;
    this.base = base;
    this.precisionFractional = precisionFractional;
    this.bound = bound;
  }

  /** Encodes a float tensor. Throws a clear error for values that do not fit the ring. */
  static encode(t: FloatTensor, opts: PrecisionOptions = {}): FixedPrecisionTensor {
    const base = opts.base ?? DEFAULT_BASE;
    const precisionFractional = opts.precisionFractional ?? DEFAULT_PRECISION;
    const ring = encodeFixed(t.values, t.shape, { base, precisionFractional });
    return new FixedPrecisionTensor(ring, base, precisionFractional, floatMax(t.values));
  }

  get layerName(): string {
    return 'FixedPrecisionTensor';
  }

  override get child(): AbstractTensor {
    return this.#child;
  }

  get shape() {
    return this.#child.shape;
  }

  /** base^precisionFractional. */
  get scale(): bigint {
    return BigInt(this.base) ** BigInt(this.precisionFractional);
  }

  chainString(): string {
    return `FixedPrecisionTensor>${this.#child.chainString()}`;
  }

  private wrap(child: AbstractTensor, precision = this.precisionFractional, bound?: number): FixedPrecisionTensor {
    return new FixedPrecisionTensor(child, this.base, precision, bound);
  }

  /** A result of the same magnitude (a reshape, a copy, a negation). */
  private same(child: AbstractTensor): FixedPrecisionTensor {
    return this.wrap(child, this.precisionFractional, this.bound);
  }

  /** Decodes to floats (the numbers must be here: get() shared or remote values first). */
  decode(): FloatTensor {
    if (!(this.#child instanceof RingTensor)) {
      throw new UnsupportedOperationError(
        `floatPrecision() needs the integers here, but they are in a ${this.#child.layerName}: get() first`,
      );
    }
    const v = decodeFixed(this.#child, { base: this.base, precisionFractional: this.precisionFractional });
    return new FloatTensor(this.#child.shape, Float32Array.from(v));
  }

  private encodeScalar(v: number, precision = this.precisionFractional): bigint {
    return encodeFixed([v], [], { base: this.base, precisionFractional: precision }).data[0]!;
  }

  private operand(o: Operand, op: string): Encoded {
    if (o instanceof FixedPrecisionTensor) {
      if (o.base !== this.base) {
        throw new ValueError(`cannot ${op} fixed-precision tensors of bases ${this.base} and ${o.base}: use one base`);
      }
      return { value: o.child, precision: o.precisionFractional, bound: o.bound };
    }
    if (typeof o === 'number') {
      // Integers are exact at precision 0; other numbers take this tensor's precision.
      return Number.isSafeInteger(o) && (op === 'mul' || op === 'matmul')
        ? { value: BigInt(o), precision: 0, bound: Math.abs(o) }
        : { value: this.encodeScalar(o), precision: this.precisionFractional, bound: Math.abs(o) };
    }
    if (typeof o === 'bigint') return { value: o, precision: 0, bound: Math.abs(Number(o)) };
    if (o instanceof FloatTensor) {
      const ring = encodeFixed(o.values, o.shape, { base: this.base, precisionFractional: this.precisionFractional });
      return { value: ring, precision: this.precisionFractional, bound: floatMax(o.values) };
    }
    if (o instanceof RingTensor) return { value: o, precision: 0, bound: maxAbs(o) };
    throw new UnsupportedOperationError(
      `cannot ${op} a FixedPrecisionTensor and a ${o.layerName}: call fixPrecision() on the other operand`,
    );
  }

  // Brings two values to the same precision by multiplying the coarser one (exact).
  private aligned(o: Operand, op: string): [AbstractTensor, AbstractTensor | bigint, number, number | undefined] {
    const e = this.operand(o, op);
    const p = Math.max(this.precisionFractional, e.precision);
    const up = (v: AbstractTensor | bigint, from: number): AbstractTensor | bigint => {
      if (from === p) return v;
      const k = BigInt(this.base) ** BigInt(p - from);
      return typeof v === 'bigint' ? v * k : v.mul(k);
    };
    return [up(this.#child, this.precisionFractional) as AbstractTensor, up(e.value, e.precision), p, e.bound];
  }

  // A public tensor on the left of a shared one hands the op to the shared side.
  private static combine(a: AbstractTensor, b: AbstractTensor | bigint, op: 'add' | 'sub' | 'mul' | 'matmul'): AbstractTensor {
    if (typeof b !== 'bigint' && isLocalLeaf(a) && !isLocalLeaf(b)) {
      if (op === 'add') return b.add(a);
      if (op === 'mul') return b.mul(a);
      if (op === 'sub') return b.neg().add(a);
      return b.rmatmul(a);
    }
    if (op === 'matmul') {
      if (typeof b === 'bigint') throw new ValueError('matmul needs a tensor operand');
      return a.matmul(b);
    }
    return a[op](b);
  }

  override add(o: Operand) {
    const [a, b, p, bound] = this.aligned(o, 'add');
    return this.wrap(FixedPrecisionTensor.combine(a, b, 'add'), p, sumOf(this.bound, bound));
  }

  override sub(o: Operand) {
    const [a, b, p, bound] = this.aligned(o, 'sub');
    return this.wrap(FixedPrecisionTensor.combine(a, b, 'sub'), p, sumOf(this.bound, bound));
  }

  // A product must fit the ring before truncation: checked exactly on local integers, from the
  // bounds on shared ones, and (opt in) with secure comparisons where no bound is known.
  private checkProduct(op: 'mul' | 'matmul', e: Encoded): number | undefined {
    const a = this.#child;
    const info = { op, base: this.base, pa: this.precisionFractional, pb: e.precision, sharedTruncation: !(a instanceof RingTensor) && Math.min(this.precisionFractional, e.precision) > 0 };
    const k = op === 'matmul' && typeof e.value !== 'bigint' ? (a.shape[a.shape.length - 1] ?? 1) : 1;
    const bound = this.bound !== undefined && e.bound !== undefined ? productBound(op, this.bound, e.bound, k) : undefined;
    if (a instanceof RingTensor && (typeof e.value === 'bigint' || e.value instanceof RingTensor)) {
      checkLocalProduct(info, a, e.value);
    } else if (this.bound !== undefined && e.bound !== undefined) {
      checkBoundedProduct(info, this.bound, e.bound, k);
    } else if (config().checkOverflow) {
      const scaled = (b: number | undefined, p: number) => (b === undefined ? undefined : b * this.base ** p);
      checkSecurely(info, k, this.bound === undefined ? a : undefined, e.bound === undefined ? e.value : undefined, scaled(this.bound, info.pa), scaled(e.bound, info.pb));
    }
    return bound;
  }

  private product(o: Operand, op: 'mul' | 'matmul'): FixedPrecisionTensor {
    const e = this.operand(o, op);
    const bound = this.checkProduct(op, e);
    const raw = FixedPrecisionTensor.combine(this.#child, e.value, op);
    const low = Math.min(this.precisionFractional, e.precision);
    const high = Math.max(this.precisionFractional, e.precision);
    // The product carries both precisions; dividing by base^low leaves the finer one.
    const out = low === 0 ? raw : truncate(raw, BigInt(this.base) ** BigInt(low));
    return this.wrap(out, high, bound);
  }

  override mul(o: Operand) { return this.product(o, 'mul'); }
  override matmul(o: AbstractTensor) { return this.product(o, 'matmul'); }

  override div(o: Operand): FixedPrecisionTensor {
    // By a positive fixed-precision tensor in [0.01, 100]: by approximation (./approximations.ts).
    if (o instanceof FixedPrecisionTensor) {
      if (o.base !== this.base) throw new ValueError(`cannot divide fixed-precision tensors of bases ${this.base} and ${o.base}: use one base`);
      return fixedDivide(this, o) as FixedPrecisionTensor;
    }
    if (typeof o !== 'number' || !Number.isFinite(o) || o === 0) {
      throw new UnsupportedOperationError(
        'a fixed-precision tensor can be divided by a public non-zero number or a positive fixed-precision tensor in [0.01, 100], nothing else',
      );
    }
    const sign = o < 0 ? -1 : 1;
    const v = Math.abs(o);
    let out: AbstractTensor;
    if (Number.isSafeInteger(v)) {
      out = truncate(this.#child, BigInt(v));
    } else {
      // x / v = (x · S) / round(v · S): exact but for the rounding of v · S.
      const s = this.scale;
      const d = BigInt(Math.round(v * Number(s)));
      if (d === 0n) throw new ValueError(`dividing by ${o} needs more precision than ${this.precisionFractional} digits`);
      out = truncate(this.#child.mul(s), d);
    }
    return this.wrap(sign < 0 ? out.neg() : out, this.precisionFractional, this.bound === undefined ? undefined : this.bound / v);
  }

  override unary(op: UnaryOp): AbstractTensor {
    if (op === 'neg') return this.same(this.#child.neg());
    if (op === 'relu') {
      const [out, mask] = this.reluForward();
      mask.dispose();
      return out;
    }
    // sign is an integer at precision 0; abs is x · sign(x). Other ops need approximations.
    if (op === 'sign') return this.wrap(this.#child.gt(0n).sub(this.#child.lt(0n)), 0, 1);
    // exp by products only (./approximations.ts states its range and error).
    if (op === 'exp') return fixedExp(this);
    if (op === 'sqrt') return fixedSqrt(this);
    return super.unary(op);
  }

  override pow(exponent: number): FixedPrecisionTensor {
    if (!Number.isInteger(exponent) || exponent < 1) {
      throw new UnsupportedOperationError(`fixed-precision pow needs a positive integer exponent, got ${exponent}`);
    }
    // Square and multiply.
    let result: FixedPrecisionTensor | undefined;
    let base: FixedPrecisionTensor = this;
    for (let e = exponent; e > 0; e >>= 1) {
      if (e & 1) result = result ? result.mul(base) : base;
      if (e > 1) base = base.mul(base);
    }
    return result === this ? this.clone() : result!;
  }

  // ---- comparisons: 0/1 at precision 0 ------------------------------------------------------

  private compare(o: Operand, op: 'eq' | 'gt' | 'lt' | 'ge' | 'le'): FixedPrecisionTensor {
    const [a, b] = this.aligned(o, op);
    return this.wrap(a[op](b), 0, 1);
  }

  /**
   * relu(x) = x · (x > 0) and its 0/1 mask. The mask has precision 0, so the product needs no
   * truncation. A layer below with a relu of its own computes both (on shares, one protocol:
   * src/mpc/relu.ts); otherwise they are this layer's comparison and product.
   */
  override reluForward(): [FixedPrecisionTensor, FixedPrecisionTensor] {
    if (this.#child.reluForward === AbstractTensor.prototype.reluForward) return super.reluForward() as [FixedPrecisionTensor, FixedPrecisionTensor];
    const [out, mask] = this.#child.reluForward();
    return [this.same(out), this.wrap(mask, 0, 1)];
  }

  override eq(o: Operand) { return this.compare(o, 'eq'); }
  override gt(o: Operand) { return this.compare(o, 'gt'); }
  override lt(o: Operand) { return this.compare(o, 'lt'); }
  override ge(o: Operand) { return this.compare(o, 'ge'); }
  override le(o: Operand) { return this.compare(o, 'le'); }

  override max(dim?: number, keepDim = false) { return this.same(this.#child.max(dim, keepDim)); }
  override argmax(dim?: number, keepDim = false) { return this.wrap(this.#child.argmax(dim, keepDim), 0, Math.max(...this.shape, 1)); }

  // ---- reductions and shape ---------------------------------------------------------------

  override sum(dims?: Dims, keepDim = false) {
    const count = reduceDims(this.shape.length, dims).reduce((n, i) => n * this.shape[i]!, 1);
    return this.wrap(this.#child.sum(dims, keepDim), this.precisionFractional, this.bound === undefined ? undefined : this.bound * count);
  }

  override mean(dims?: Dims, keepDim = false) {
    const d = reduceDims(this.shape.length, dims);
    const count = d.reduce((n, i) => n * this.shape[i]!, 1);
    return this.sum(dims, keepDim).div(count);
  }

  override reshape(shape: readonly number[]) { return this.same(this.#child.reshape(shape)); }
  override transpose(perm?: readonly number[]) { return this.same(this.#child.transpose(perm)); }
  override slice(start: number, end?: number, dim = 0) { return this.same(this.#child.slice(start, end, dim)); }
  override broadcastTo(shape: readonly number[]) { return this.same(this.#child.broadcastTo(shape)); }
  override pad(dim: number, before: number, after: number) { return this.same(this.#child.pad(dim, before, after)); }

  // Linear maps of the integers: each runs on whatever holds them (the ring, or every share).
  override im2col(kernel: Pair, stride: Pair, padding: Pair) { return this.same(this.#child.im2col(kernel, stride, padding)); }
  override col2im(size: Pair, kernel: Pair, stride: Pair, padding: Pair) { return this.wrap(this.#child.col2im(size, kernel, stride, padding)); }

  // Max pooling keeps the scale: the integers below pool (and, on shares, keep what the backward reuses).
  override maxPool2d(kernel: Pair, stride: Pair, padding: Pair) { return this.same(this.#child.maxPool2d(kernel, stride, padding)); }
  override maxPool2dBackward(grad: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair) {
    const [g, p] = grad instanceof FixedPrecisionTensor ? [grad.child, grad.precisionFractional] : [this.operand(grad, 'maxPool2dBackward').value, this.precisionFractional];
    if (typeof g === 'bigint') throw new ValueError('maxPool2dBackward needs a tensor gradient');
    return this.wrap(this.#child.maxPool2dBackward(g, kernel, stride, padding), p);
  }

  override gather(dim: number, index: AbstractTensor) {
    return this.same(this.#child.gather(dim, publicIndex(index, 'gather')));
  }

  override scatterAdd(dim: number, index: AbstractTensor, src: AbstractTensor) {
    const [a, b, p] = this.aligned(src, 'scatterAdd');
    if (typeof b === 'bigint') throw new ValueError('scatterAdd needs a tensor source');
    return this.wrap(a.scatterAdd(dim, publicIndex(index, 'scatterAdd'), b), p);
  }

  override fullLike(value: number) {
    const v = this.encodeScalar(value);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ValueError(`${value} is too large to fill a tensor at precision ${this.precisionFractional}`);
    }
    return this.wrap(this.#child.fullLike(Number(v)), this.precisionFractional, Math.abs(value));
  }

  /** The same values at `precision` digits: exact upward, a truncation (on shares, a protocol) downward. */
  rescaled(precision: number): FixedPrecisionTensor {
    if (precision === this.precisionFractional) return this;
    const k = BigInt(this.base) ** BigInt(Math.abs(precision - this.precisionFractional));
    return this.wrap(precision > this.precisionFractional ? this.#child.mul(k) : truncate(this.#child, k), precision, this.bound);
  }

  // Max-shifted, with exp, reciprocal and log by approximations (./approximations.ts).
  override softmax(dim: number) { return fixedSoftmax(this, dim, false); }
  override logSoftmax(dim: number) { return fixedSoftmax(this, dim, true); }

  override clone() { return this.same(this.#child.clone()); }
  override refresh() { return this.same(this.#child.refresh()); }

  override assign_(src: AbstractTensor): void {
    if (!(src instanceof FixedPrecisionTensor) || src.base !== this.base || src.precisionFractional !== this.precisionFractional) {
      throw new ValueError('assign a fixed-precision tensor of the same base and precision');
    }
    // Local integers are immutable values: take the new one. Shared or remote ones update in place.
    if (isLocalLeaf(this.#child)) this.#child = src.child;
    else this.#child.assign_(src.child);
    // What a training step writes has no bound worth keeping: it would only grow step by step.
    this.bound = isLocalLeaf(this.#child) ? src.bound : undefined;
  }

  override async get(): Promise<AbstractTensor> {
    const value = await this.#child.get();
    // A secure overflow check that failed surfaces here, where the caller waits.
    await pendingOverflow();
    return this.same(value);
  }
}

/** An index for gather/scatter: public integers (int64), never fixed-precision or shared values. */
function publicIndex(index: AbstractTensor, op: string): AbstractTensor {
  if (index instanceof RingTensor || index instanceof FloatTensor) return index;
  throw new UnsupportedOperationError(
    `${op} on fixed-precision values needs a public int64 index (sy.tensor(labels, { dtype: 'int64' })), not a ${index.layerName}`,
  );
}

/** Division by a public positive integer, on whatever holds the integers. */
function truncate(t: AbstractTensor, d: bigint): AbstractTensor {
  const div = (t as AbstractTensor & { divScalar?: (d: bigint) => AbstractTensor }).divScalar;
  if (!div) throw new UnsupportedOperationError(`${t.layerName} cannot divide by a public integer`);
  return div.call(t, d);
}

export const fptCodec: Codec<FixedPrecisionTensor> = {
  type: 'fpt',
  cls: FixedPrecisionTensor,
  encode: (t, child) => ({ type: 'fpt', base: t.base, precision: t.precisionFractional, child: child(t.child) }),
  decode(node, child) {
    expectFields(node, ['base', 'precision', 'child']);
    const base = expectInt('fpt', node.base, 2, 2 ** 16);
    const precision = expectInt('fpt', node.precision, 0, 62);
    const value = child(node.child!);
    if (!(value instanceof AbstractTensor) || value instanceof FixedPrecisionTensor || value instanceof AutogradTensor) {
      bad('fpt', 'child must be integers or shares');
    }
    return new FixedPrecisionTensor(value, base, precision);
  },
};

/** The value to encode, whatever autograd sits on it. */
function plainValue(t: AbstractTensor): AbstractTensor {
  return t instanceof AutogradTensor ? t.child : t;
}

/** fixPrecision on a layer: floats become a FixedPrecisionTensor over ring integers. */
export function fixPrecisionLayer(t: AbstractTensor, opts: PrecisionOptions = {}): FixedPrecisionTensor {
  const v = plainValue(t);
  if (v instanceof FloatTensor) return FixedPrecisionTensor.encode(v, opts);
  if (v instanceof FixedPrecisionTensor) throw new ValueError('this tensor is already fixed precision');
  throw new UnsupportedOperationError(`fixPrecision() needs float numbers, not a ${v.layerName}`);
}

/** floatPrecision on a layer: decodes a FixedPrecisionTensor over ring integers. */
export function floatPrecisionLayer(t: AbstractTensor): FloatTensor {
  const v = plainValue(t);
  if (v instanceof FixedPrecisionTensor) return v.decode();
  throw new UnsupportedOperationError(`floatPrecision() needs a fixed-precision tensor, not a ${v.layerName}`);
}

commands['fixPrecision'] = {
  results: 1,
  needsSelf: true,
  run: (_ctx, self, args) => {
    const opts = { base: argInt(args[0], 'base'), precisionFractional: argInt(args[1], 'precisionFractional') };
    // A pointer chain: the worker the data is on encodes it.
    return forwardToPointee(self, 'fixPrecision', [opts.base, opts.precisionFractional], 1) ?? fixPrecisionLayer(selfLayer(self), opts);
  },
};

commands['floatPrecision'] = {
  results: 1,
  needsSelf: true,
  run: (_ctx, self) => forwardToPointee(self, 'floatPrecision', [], 1) ?? floatPrecisionLayer(selfLayer(self)),
};
