// RingTensor: an n-dimensional array of elements of Z_2^64, the ring secret shares live in.
import { AbstractTensor } from '../layer/abstract.js';
import type { UnaryOp } from '../layer/ops.js';
import { allocUninit } from './alloc.js';
import { kernels } from './engine.js';
import { ShapeError } from '../errors.js';
import { RingValueError } from './errors.js';
import { formatTensor } from './format.js';
import { binaryBroadcast, binaryFlat, binaryRow, neg, not, type BinaryOp } from './kernels/elementwise.js';
import { col2im, copyRun, gather, gatherOffsets, im2col, sumMiddle } from './kernels/movement.js';
import { type Pair, type Window2d, col2imShape, im2colShape, pair, window2d, windowOut } from '../layer/window.js';
import {
  broadcastShapes,
  broadcastStrides,
  checkShape,
  indexSelectShape,
  normDim,
  sameShape,
  sizeOf,
  stridesOf,
} from '../shapes.js';
import { gatherAlong } from '../util/gather.js';

/** The other operand of a binary op: a tensor (broadcast as in numpy) or a bigint scalar. */
export type RingOperand = RingTensor | bigint;

/** Options of {@link RingTensor.im2col}. */
export interface Im2colOptions {
  /** Step between windows, in both directions (default 1). */
  stride?: number;
  /** Zero rows/columns added on every side (default 0). */
  padding?: number;
}

/**
 * A row-major tensor over the ring Z_2^64. Elements are stored as signed 64-bit integers in a
 * `BigInt64Array`, so every store wraps mod 2^64 and arithmetic is ring arithmetic for free.
 * Values read back as signed two's complement (-2^63 .. 2^63-1).
 *
 * In the tensor chain it is the leaf that holds integers: `x.fixPrecision().child.child`, and
 * every share of an AdditiveSharingTensor on its worker.
 *
 * Operations return new tensors and never modify their inputs. `reshape` shares the data array
 * (like a PyTorch view); everything else copies. Binary operations broadcast like numpy/PyTorch
 * and accept a bigint scalar, taken mod 2^64.
 *
 * @example
 * ```ts
 * const a = RingTensor.from([2, 2], [1n, 2n, 3n, 4n]);
 * const b = a.matmul(a).add(10n);          // tensor([[17, 20], [25, 32]])
 * RingTensor.from([1], [2n ** 63n - 1n]).add(1n).data[0]; // -(2n ** 63n): wraps mod 2^64
 * ```
 */
export class RingTensor extends AbstractTensor {
  /** Dimensions, outermost first. [] is a scalar (one element). */
  readonly shape: readonly number[];
  /** The elements in row-major order; length = product(shape). */
  readonly data: BigInt64Array;

  /**
   * Wraps `data` (not copied: the tensor takes it over) as a tensor of the given shape.
   * Prefer {@link RingTensor.from} for arrays of numbers or bigints.
   */
  constructor(shape: readonly number[], data: BigInt64Array) {
    super();
    this.shape = checkShape(shape);
    if (!(data instanceof BigInt64Array)) {
      throw new RingValueError(
        `RingTensor data must be a BigInt64Array, got ${describe(data)}; use RingTensor.from(shape, values) to convert`,
      );
    }
    const n = sizeOf(this.shape);
    if (data.length !== n) {
      throw new ShapeError(
        `RingTensor: ${data.length} values do not fill shape [${this.shape.join(', ')}], which holds ${n}`,
      );
    }
    this.data = data;
  }

  /**
   * A tensor from a BigInt64Array (used as is, not copied) or a list of bigints and integer
   * numbers. Bigints are taken mod 2^64, so 2n ** 64n - 1n and -1n are the same ring element.
   *
   * @example
   * ```ts
   * RingTensor.from([3], [1n, -2n, 3]); // tensor([ 1, -2,  3])
   * ```
   */
  static from(shape: readonly number[], data: BigInt64Array | readonly (bigint | number)[]): RingTensor {
    if (data instanceof BigInt64Array) return new RingTensor(shape, data);
    if (!Array.isArray(data as unknown)) {
      throw new RingValueError(`RingTensor.from: expected a BigInt64Array or an array of bigints, got ${describe(data)}`);
    }
    const out = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v: unknown = data[i];
      if (typeof v === 'bigint') {
        out[i] = v;
      } else if (typeof v === 'number' && Number.isSafeInteger(v)) {
        out[i] = BigInt(v);
      } else {
        throw new RingValueError(
          `RingTensor.from: element ${i} is ${describe(v)}; ring elements are integers (bigints, or numbers that ` +
            `are safe integers). Encode real numbers with encodeFixed().`,
        );
      }
    }
    return new RingTensor(shape, out);
  }

  /**
   * A tensor of zeros.
   *
   * @example
   * ```ts
   * RingTensor.zeros([2, 3]).size; // 6
   * ```
   */
  static zeros(shape: readonly number[]): RingTensor {
    const s = checkShape(shape);
    return new RingTensor(s, new BigInt64Array(sizeOf(s)));
  }

  /**
   * A tensor with every element equal to `value` (mod 2^64).
   *
   * @example
   * ```ts
   * RingTensor.full([2], -1n); // tensor([-1, -1])
   * ```
   */
  static full(shape: readonly number[], value: bigint): RingTensor {
    const s = checkShape(shape);
    const v = scalarArray('full', value);
    const data = allocUninit(sizeOf(s));
    data.fill(v[0]);
    return new RingTensor(s, data);
  }

  override ownBytes(): number {
    return this.data.byteLength;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Elementwise sum mod 2^64, broadcasting. @example `a.add(b); a.add(1n)` */
  override add(o: RingOperand): RingTensor {
    return this.binary('add', o);
  }

  /** Elementwise difference mod 2^64, broadcasting. @example `a.sub(b)` */
  override sub(o: RingOperand): RingTensor {
    return this.binary('sub', o);
  }

  /**
   * In-place {@link add} (PyTorch's `add_`): this tensor's data becomes this + o, and this is
   * returned. `o` must have this shape. Only for a tensor whose data nothing else reads (a fresh
   * result, a received copy): views and clones made with reshape or slice share it.
   * @example `const total = received.add_(mine)`
   */
  add_(o: RingTensor): this {
    return this.inPlace('add', o);
  }

  /** In-place {@link sub} (PyTorch's `sub_`); see {@link add_}. @example `fresh.sub_(mask)` */
  sub_(o: RingTensor): this {
    return this.inPlace('sub', o);
  }

  /** In-place {@link xor} (PyTorch's `bitwise_xor_`); see {@link add_}. @example `fresh.xor_(mask)` */
  xor_(o: RingTensor): this {
    return this.inPlace('xor', o);
  }

  /** Elementwise (Hadamard) product mod 2^64, broadcasting. For the matrix product see {@link matmul}. @example `a.mul(3n)` */
  override mul(o: RingOperand): RingTensor {
    return this.binary('mul', o);
  }

  /** Additive inverse mod 2^64. @example `a.neg().add(a)` is all zeros */
  override neg(): RingTensor {
    const out = allocUninit(this.size);
    neg(this.data, out);
    return new RingTensor(this.shape, out);
  }

  /**
   * Unary ops of the table (src/layer/ops.ts) that integers have: `neg`, `abs`, `sign` and `relu`
   * as signed 64-bit values (|-2^63| wraps to -2^63, as in two's complement). Real-valued ops (exp, log, ...) are refused: encode reals with encodeFixed().
   */
  override unary(op: UnaryOp): RingTensor {
    if (op === 'neg') return this.neg();
    if (op === 'abs' || op === 'sign') {
      const out = allocUninit(this.size);
      const d = this.data;
      if (op === 'abs') for (let i = 0; i < d.length; i++) out[i] = d[i]! < 0n ? -d[i]! : d[i]!;
      else for (let i = 0; i < d.length; i++) out[i] = d[i]! > 0n ? 1n : d[i]! < 0n ? -1n : 0n;
      return new RingTensor(this.shape, out);
    }
    if (op === 'relu') return this.mul(this.gt(0n));
    return this.unsupported(op, 'ring tensors hold integers: encode real numbers with encodeFixed() or fixPrecision()');
  }

  /**
   * Matrix product mod 2^64 with torch.matmul semantics: [m,k] x [k,n] -> [m,n]; batched
   * [...b,m,k] x [...b,k,n] with broadcast batch dimensions; a 1-D left operand is a row vector
   * and a 1-D right operand a column vector, and those dimensions are removed from the result.
   *
   * @example
   * ```ts
   * const w = RingTensor.from([2, 3], [1n, 2n, 3n, 4n, 5n, 6n]);
   * w.matmul(RingTensor.from([3], [1n, 0n, -1n])); // tensor([-2, -2])
   * ```
   */
  override matmul(o: RingTensor): RingTensor {
    const plan = this.matmulPlan(o);
    plan.run();
    return plan.result;
  }

  /**
   * {@link matmul} that may run on the ring's helper threads while this thread goes on: the
   * product starts at once, and the promise resolves when it is done. Where no helper threads
   * run (browsers, one thread, small or batched products) it computes at once and resolves.
   * The operands are copied before it returns, so they may be changed right after the call.
   *
   * @example
   * ```ts
   * const [p, q] = await Promise.all([a.matmulAsync(b), c.matmulAsync(d)]);
   * ```
   */
  async matmulAsync(o: RingTensor): Promise<RingTensor> {
    const plan = this.matmulPlan(o);
    const k = kernels();
    if (plan.single !== undefined && k.matmulAsync !== undefined) {
      const { m, k: inner, n } = plan.single;
      await k.matmulAsync(this.data, o.data, plan.result.data, m, inner, n);
    } else {
      plan.run();
    }
    return plan.result;
  }

  /** Checks a product's operands and lays it out: its result tensor and how to compute it. */
  private matmulPlan(o: RingTensor): { result: RingTensor; single?: { m: number; k: number; n: number }; run(): void } {
    if (!(o instanceof RingTensor)) throw operandError('matmul', o, 'a RingTensor');
    if (this.shape.length === 0 || o.shape.length === 0) {
      throw new ShapeError(
        `matmul: both operands need at least 1 dimension, got [${this.shape.join(', ')}] and [${o.shape.join(', ')}]; ` +
          `use mul() to multiply by a scalar`,
      );
    }
    const aShape = this.shape.length === 1 ? [1, this.shape[0]] : [...this.shape];
    const bShape = o.shape.length === 1 ? [o.shape[0], 1] : [...o.shape];
    const m = aShape[aShape.length - 2];
    const k = aShape[aShape.length - 1];
    const n = bShape[bShape.length - 1];
    if (bShape[bShape.length - 2] !== k) {
      throw new ShapeError(
        `matmul: [${this.shape.join(', ')}] x [${o.shape.join(', ')}]: the inner dimensions differ ` +
          `(${k} vs ${bShape[bShape.length - 2]}); the last dimension of the left operand must equal the ` +
          `second-to-last of the right one`,
      );
    }
    const aBatch = aShape.slice(0, -2);
    const bBatch = bShape.slice(0, -2);
    const batch = broadcastShapes(aBatch, bBatch, 'matmul (batch dimensions)');
    let outShape = [...batch, m, n];
    if (this.shape.length === 1) outShape.splice(outShape.length - 2, 1);
    if (o.shape.length === 1) outShape = outShape.slice(0, -1);

    const count = sizeOf(batch);
    const out = allocUninit(count * m * n);
    const result = new RingTensor(outShape, out);
    if (out.length === 0) return { result, run: () => {} };
    if (k === 0) return { result, run: () => out.fill(0n) };
    if (sizeOf(bBatch) === 1 && sameShape(aBatch, batch)) {
      // One right matrix for the whole batch: stack the left matrices into one tall product.
      const single = { m: count * m, k, n };
      return { result, single, run: () => kernels().matmul(this.data, o.data, out, count * m, k, n, [0], [0]) };
    }
    const aStrides = broadcastStrides(aBatch, batch);
    const bStrides = broadcastStrides(bBatch, batch);
    const aOffsets: number[] = [];
    const bOffsets: number[] = [];
    const idx = new Array<number>(batch.length).fill(0);
    for (let p = 0; p < count; p++) {
      let ao = 0;
      let bo = 0;
      for (let d = 0; d < batch.length; d++) {
        ao += idx[d] * aStrides[d];
        bo += idx[d] * bStrides[d];
      }
      aOffsets.push(ao * m * k);
      bOffsets.push(bo * k * n);
      for (let d = batch.length - 1; d >= 0 && ++idx[d] === batch[d]; d--) idx[d] = 0;
    }
    return { result, run: () => kernels().matmul(this.data, o.data, out, m, k, n, aOffsets, bOffsets) };
  }

  /**
   * Sum mod 2^64 over `dims` (all dimensions when omitted or []), negative dims counting from the
   * end. Reduced dimensions are removed, or kept with size 1 when `keepDim` is true.
   *
   * @example
   * ```ts
   * const t = RingTensor.from([2, 3], [1n, 2n, 3n, 4n, 5n, 6n]);
   * t.sum();      // tensor(21)
   * t.sum(0);     // tensor([5, 7, 9])
   * t.sum(-1, true); // tensor([[ 6], [15]])
   * ```
   */
  override sum(dims?: number | readonly number[], keepDim = false): RingTensor {
    const ndim = this.shape.length;
    const list = dims === undefined ? [] : typeof dims === 'number' ? [dims] : [...dims];
    const reduce = new Set<number>();
    for (const d of list) {
      const nd = normDim(d, ndim, 'sum: dim');
      if (reduce.has(nd)) throw new ShapeError(`sum: dimension ${nd} appears twice in [${list.join(', ')}]`);
      reduce.add(nd);
    }
    if (list.length === 0) for (let d = 0; d < ndim; d++) reduce.add(d);
    const kept = this.shape.map((s, d) => (reduce.has(d) ? 1 : s));
    const outShape = keepDim ? kept : this.shape.filter((_, d) => !reduce.has(d));

    if (reduce.size === ndim) {
      return new RingTensor(outShape, BigInt64Array.of(kernels().sum(this.data)));
    }
    // Reduce runs of adjacent dimensions at once, innermost run first.
    let data = this.data;
    const shape = [...this.shape];
    for (let d = ndim - 1; d >= 0; d--) {
      if (!reduce.has(d)) continue;
      let start = d;
      while (start > 0 && reduce.has(start - 1)) start--;
      const outer = sizeOf(shape.slice(0, start));
      const len = sizeOf(shape.slice(start, d + 1));
      const inner = sizeOf(shape.slice(d + 1));
      const out = new BigInt64Array(outer * inner);
      sumMiddle(data, outer, len, inner, out);
      data = out;
      for (let r = start; r <= d; r++) shape[r] = 1;
      d = start;
    }
    return new RingTensor(outShape, data);
  }

  /**
   * Permutes the dimensions (default: reverses them, so a 2-D tensor is transposed). Copies.
   *
   * @example
   * ```ts
   * RingTensor.from([2, 3], [1n, 2n, 3n, 4n, 5n, 6n]).transpose().shape; // [3, 2]
   * x.transpose([0, 2, 1]); // swap the last two dimensions of a 3-D tensor
   * ```
   */
  override transpose(perm?: readonly number[]): RingTensor {
    const ndim = this.shape.length;
    const p = perm === undefined ? this.shape.map((_, i) => ndim - 1 - i) : perm.map((d) => normDim(d, ndim, 'transpose: dim'));
    if (p.length !== ndim || new Set(p).size !== ndim) {
      throw new ShapeError(
        `transpose: [${perm?.join(', ')}] is not a permutation of the ${ndim} dimensions of a tensor of shape ` +
          `[${this.shape.join(', ')}]; list each dimension exactly once`,
      );
    }
    const strides = stridesOf(this.shape);
    const outShape = p.map((d) => this.shape[d]);
    const out = allocUninit(this.size);
    gather(this.data, p.map((d) => strides[d]), outShape, out);
    return new RingTensor(outShape, out);
  }

  /**
   * The same elements under a new shape; one dimension may be -1 (inferred). Shares the data
   * array with this tensor, like a PyTorch view: clone() first if you will write into either.
   *
   * @example
   * ```ts
   * RingTensor.zeros([2, 6]).reshape([3, -1]).shape; // [3, 4]
   * ```
   */
  override reshape(shape: readonly number[]): RingTensor {
    if (!Array.isArray(shape as unknown)) throw new ShapeError(`reshape: expected an array of dimensions, got ${describe(shape)}`);
    const holes = shape.filter((d) => d === -1).length;
    if (holes > 1) throw new ShapeError(`reshape: [${shape.join(', ')}] has more than one -1; only one dimension can be inferred`);
    const known = sizeOf(checkShape(shape.map((d) => (d === -1 ? 1 : d)), 'reshape: shape'));
    let target = [...shape];
    if (holes === 1) {
      if (known === 0 || this.size % known !== 0) {
        throw new ShapeError(
          `reshape: cannot infer the -1 in [${shape.join(', ')}] for ${this.size} elements (shape [${this.shape.join(', ')}])`,
        );
      }
      target = shape.map((d) => (d === -1 ? this.size / known : d));
    }
    if (sizeOf(target) !== this.size) {
      throw new ShapeError(
        `reshape: shape [${shape.join(', ')}] holds ${sizeOf(target)} elements but the tensor (shape ` +
          `[${this.shape.join(', ')}]) has ${this.size}`,
      );
    }
    return new RingTensor(target, this.data);
  }

  /**
   * PyTorch `x[start:end]` along `dim` (default 0): negative indices count from the end and both
   * bounds are clamped to the dimension, so out-of-range bounds give a shorter or empty slice.
   *
   * @example
   * ```ts
   * const t = RingTensor.from([4], [0n, 1n, 2n, 3n]);
   * t.slice(1, 3); // tensor([1, 2])
   * t.slice(-2);   // tensor([2, 3])
   * ```
   */
  override slice(start: number, end?: number, dim = 0): RingTensor {
    if (this.shape.length === 0) throw new ShapeError('slice: a scalar (shape []) has no dimension to slice');
    const d = normDim(dim, this.shape.length, 'slice: dim');
    const size = this.shape[d];
    const clamp = (i: number, what: string): number => {
      if (!Number.isInteger(i)) throw new RingValueError(`slice: ${what} must be an integer, got ${describe(i)}`);
      return Math.min(Math.max(i < 0 ? i + size : i, 0), size);
    };
    const s = clamp(start, 'start');
    const e = Math.max(s, end === undefined ? size : clamp(end, 'end'));
    const len = e - s;
    const outShape = [...this.shape];
    outShape[d] = len;
    const outer = sizeOf(this.shape.slice(0, d));
    const inner = sizeOf(this.shape.slice(d + 1));
    if (outer === 1) return new RingTensor(outShape, this.data.slice(s * inner, e * inner));
    const out = allocUninit(outer * len * inner);
    for (let o = 0; o < outer; o++) {
      copyRun(this.data, (o * size + s) * inner, len * inner, out, o * len * inner);
    }
    return new RingTensor(outShape, out);
  }

  /**
   * PyTorch's `index_select`: the slabs at `indices` along `dim` (default 0), in that order.
   *
   * @example
   * ```ts
   * RingTensor.from([3], [5n, 6n, 7n]).indexSelect(0, Int32Array.of(2, 0)); // tensor([7, 5])
   * ```
   */
  override indexSelect(dim: number, indices: Int32Array): RingTensor {
    const outShape = indexSelectShape(this.shape, dim, indices, Number.MAX_SAFE_INTEGER);
    const d = normDim(dim, this.shape.length, 'indexSelect: dim');
    const outer = sizeOf(this.shape.slice(0, d));
    const inner = sizeOf(this.shape.slice(d + 1));
    return new RingTensor(outShape, gatherAlong(this.data, outer, this.shape[d], inner, indices, allocUninit(sizeOf(outShape))));
  }

  /**
   * Joins tensors along `dim` (default 0); all other dimensions must match.
   *
   * @example
   * ```ts
   * RingTensor.concat([RingTensor.zeros([1, 2]), RingTensor.full([3, 2], 1n)]).shape; // [4, 2]
   * ```
   */
  static concat(ts: readonly RingTensor[], dim = 0): RingTensor {
    if (!Array.isArray(ts as unknown) || ts.length === 0) throw new RingValueError('concat: give a non-empty array of RingTensors');
    ts.forEach((t, i) => {
      if (!(t instanceof RingTensor)) throw new RingValueError(`concat: element ${i} is ${describe(t)}, not a RingTensor`);
    });
    const first = ts[0].shape;
    if (first.length === 0) throw new ShapeError('concat: scalars (shape []) cannot be concatenated; reshape them to [1]');
    const d = normDim(dim, first.length, 'concat: dim');
    for (const t of ts) {
      const ok = t.shape.length === first.length && t.shape.every((s, i) => i === d || s === first[i]);
      if (!ok) {
        throw new ShapeError(
          `concat: shapes [${first.join(', ')}] and [${t.shape.join(', ')}] differ outside dimension ${d}; ` +
            `all tensors need the same shape except along the concatenated dimension`,
        );
      }
    }
    const outShape = [...first];
    outShape[d] = ts.reduce((acc, t) => acc + t.shape[d], 0);
    const outer = sizeOf(first.slice(0, d));
    const inner = sizeOf(first.slice(d + 1));
    const out = allocUninit(sizeOf(outShape));
    let o = 0;
    for (let r = 0; r < outer; r++) {
      for (const t of ts) {
        const block = t.shape[d] * inner;
        copyRun(t.data, r * block, block, out, o);
        o += block;
      }
    }
    return new RingTensor(outShape, out);
  }

  /**
   * Repeats the tensor to `shape` under numpy broadcasting rules. Copies.
   *
   * @example
   * ```ts
   * RingTensor.from([3], [1n, 2n, 3n]).broadcastTo([2, 3]); // tensor([[1, 2, 3], [1, 2, 3]])
   * ```
   */
  override broadcastTo(shape: readonly number[]): RingTensor {
    const target = checkShape(shape, 'broadcastTo: shape');
    const fits =
      target.length >= this.shape.length &&
      this.shape.every((s, i) => s === 1 || s === target[target.length - this.shape.length + i]);
    if (!fits) {
      throw new ShapeError(
        `broadcastTo: shape [${this.shape.join(', ')}] cannot be broadcast to [${target.join(', ')}]; aligned from ` +
          `the right, each dimension must be 1 or equal to the target's`,
      );
    }
    const out = allocUninit(sizeOf(target));
    gather(this.data, broadcastStrides(this.shape, target), target, out);
    return new RingTensor(target, out);
  }

  /**
   * Arithmetic (sign-preserving) right shift, i.e. floor(x / 2^bits) of the signed value: the
   * truncation step of base-2 fixed point. `bits` in 0..63.
   *
   * @example
   * ```ts
   * RingTensor.from([2], [7n, -7n]).shiftRight(1); // tensor([ 3, -4])
   * ```
   */
  shiftRight(bits: number): RingTensor {
    checkBits('shiftRight', bits);
    const out = allocUninit(this.size);
    kernels().shiftRight(this.data, out, bits);
    return new RingTensor(this.shape, out);
  }

  /**
   * Signed floor division by a public positive integer d < 2^63: floor(x / d) of each signed value
   * (so -7 / 2 = -4). The truncation step of base-10 fixed point, where d = 10^k.
   *
   * @example
   * ```ts
   * RingTensor.from([2], [1999n, -1999n]).divScalar(1000n); // tensor([ 1, -2])
   * ```
   */
  divScalar(d: bigint): RingTensor {
    if (typeof d !== 'bigint') throw operandError('divScalar', d, 'a positive bigint');
    if (d < 1n || d >= 2n ** 63n) {
      throw new RingValueError(`divScalar: the divisor must be in 1 .. 2^63-1, got ${d}`);
    }
    if ((d & (d - 1n)) === 0n) return this.shiftRight(d.toString(2).length - 1);
    const out = allocUninit(this.size);
    kernels().divFloor(this.data, out, d);
    return new RingTensor(this.shape, out);
  }

  /** Bitwise AND, broadcasting (binary sharing). @example `a.and(1n)` keeps the lowest bit */
  and(o: RingOperand): RingTensor {
    return this.binary('and', o);
  }

  /** Bitwise XOR, broadcasting: addition in Z_2 for each bit. @example `a.xor(b)` */
  xor(o: RingOperand): RingTensor {
    return this.binary('xor', o);
  }

  /** Bitwise OR, broadcasting. @example `a.or(b)` */
  or(o: RingOperand): RingTensor {
    return this.binary('or', o);
  }

  /** Bitwise NOT. @example `a.not()` equals `a.neg().sub(1n)` */
  not(): RingTensor {
    const out = allocUninit(this.size);
    not(this.data, out);
    return new RingTensor(this.shape, out);
  }

  /** Left shift mod 2^64 (multiplication by 2^bits), `bits` in 0..63. @example `a.shiftLeft(3)` */
  shiftLeft(bits: number): RingTensor {
    checkBits('shiftLeft', bits);
    const out = allocUninit(this.size);
    kernels().shiftLeft(this.data, out, bits);
    return new RingTensor(this.shape, out);
  }

  /** Logical right shift of the 64-bit pattern (zeros shifted in), `bits` in 0..63. @example `a.shiftRightLogical(63)` is the sign bit */
  shiftRightLogical(bits: number): RingTensor {
    checkBits('shiftRightLogical', bits);
    const out = allocUninit(this.size);
    kernels().shiftRightLogical(this.data, out, bits);
    return new RingTensor(this.shape, out);
  }

  /** 1 where equal, else 0 (broadcasting). @example `a.eq(0n)` */
  override eq(o: RingOperand): RingTensor {
    return this.binary('eq', o);
  }

  /** 1 where this > o as signed integers, else 0. @example `a.gt(0n)` marks positive values */
  override gt(o: RingOperand): RingTensor {
    return this.binary('gt', o);
  }

  /** 1 where this < o as signed integers, else 0. @example `a.lt(b)` */
  override lt(o: RingOperand): RingTensor {
    return this.binary('lt', o);
  }

  /** 1 where this >= o as signed integers, else 0. @example `a.ge(0n)` */
  override ge(o: RingOperand): RingTensor {
    return this.binary('ge', o);
  }

  /** 1 where this <= o as signed integers, else 0. @example `a.le(b)` */
  override le(o: RingOperand): RingTensor {
    return this.binary('le', o);
  }

  /**
   * Unfolds sliding kh x kw windows of an [N, C, H, W] input into columns
   * [N, C*kh*kw, outH*outW] (as torch.nn.functional.unfold), so a convolution becomes a matmul
   * with the [outC, C*kh*kw] weight matrix. outH = floor((H + 2*padding - kh) / stride) + 1.
   * Takes the layer op's (kernel, stride, padding) pairs, or `(kh, kw, { stride, padding })`.
   *
   * @example
   * ```ts
   * const x = RingTensor.zeros([1, 3, 28, 28]);
   * x.im2col(5, 5, { stride: 1, padding: 2 }).shape; // [1, 75, 784]
   * x.im2col([5, 5], [1, 1], [2, 2]).shape;          // the same
   * ```
   */
  override im2col(kernel: Pair | number, stride: Pair | number, padding?: Pair | Im2colOptions): RingTensor {
    const win = ringWindow('im2col', kernel, stride, padding);
    const [N, C] = this.shape;
    const s = im2colShape(this.shape, win);
    const [oh, ow] = windowOut(this.shape[2]!, this.shape[3]!, win, 'im2col');
    const out = new BigInt64Array(sizeOf(s));
    im2col(this.data, this.shape, [...win.kernel, ...win.stride, ...win.padding], oh, ow, out);
    return new RingTensor([N!, C! * win.kernel[0] * win.kernel[1], oh * ow], out);
  }

  /**
   * Folds columns [N, C*kh*kw, L] back into [N, C, H, W] of `size` [H, W], adding up the entries
   * of overlapping windows (mod 2^64): the adjoint of {@link im2col}, torch.nn.functional.fold.
   *
   * @example
   * ```ts
   * const cols = RingTensor.zeros([1, 3, 28, 28]).im2col([5, 5], [1, 1], [2, 2]);
   * cols.col2im([28, 28], [5, 5], [1, 1], [2, 2]).shape; // [1, 3, 28, 28]
   * ```
   */
  override col2im(size: Pair, kernel: Pair, stride: Pair, padding: Pair): RingTensor {
    const win = window2d(kernel, stride, padding);
    const s = col2imShape(this.shape, pair(size, 'output size', 1), win);
    const [oh, ow] = windowOut(s[2]!, s[3]!, win, 'col2im');
    const out = new BigInt64Array(sizeOf(s));
    col2im(this.data, s, [...win.kernel, ...win.stride, ...win.padding], oh, ow, out);
    return new RingTensor(s, out);
  }

  /**
   * Largest element (as a signed integer) along `dim`, or of everything when `dim` is omitted.
   * @example `RingTensor.from([2, 2], [1n, -5n, 7n, 2n]).max(1); // tensor([1, 7])`
   */
  override max(dim?: number, keepDim = false): RingTensor {
    return this.reduceArg(dim, keepDim, false);
  }

  /**
   * Index of the largest element along `dim` (the first one where several tie, as PyTorch), or of
   * the flattened tensor when `dim` is omitted.
   * @example `RingTensor.from([2, 2], [1n, -5n, 7n, 2n]).argmax(1); // tensor([0, 0])`
   */
  override argmax(dim?: number, keepDim = false): RingTensor {
    return this.reduceArg(dim, keepDim, true);
  }

  private reduceArg(dim: number | undefined, keepDim: boolean, index: boolean): RingTensor {
    const op = index ? 'argmax' : 'max';
    if (this.size === 0) throw new ShapeError(`${op} of an empty tensor`);
    const d = dim === undefined ? undefined : normDim(dim, this.shape.length, `${op}: dim`);
    const len = d === undefined ? this.size : this.shape[d]!;
    const outer = d === undefined ? 1 : sizeOf(this.shape.slice(0, d));
    const inner = d === undefined ? 1 : sizeOf(this.shape.slice(d + 1));
    const out = new BigInt64Array(outer * inner);
    const src = this.data;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * len * inner + j;
        let best = src[base]!;
        let at = 0;
        for (let t = 1; t < len; t++) {
          const v = src[base + t * inner]!;
          if (v > best) {
            best = v;
            at = t;
          }
        }
        out[o * inner + j] = index ? BigInt(at) : best;
      }
    }
    const shape =
      d === undefined ? (keepDim ? this.shape.map(() => 1) : []) : this.shape.flatMap((n, i) => (i !== d ? [n] : keepDim ? [1] : []));
    return new RingTensor(shape, out);
  }

  /**
   * PyTorch's gather with a public index: out[..., i, ...] = this[..., index[..., i, ...], ...]
   * along `dim`. The index holds integers (a RingTensor, or a float tensor of whole numbers).
   * @example `RingTensor.from([2, 3], [1n, 2n, 3n, 4n, 5n, 6n]).gather(1, RingTensor.from([2, 1], [2n, 0n])); // [[3], [4]]`
   */
  override gather(dim: number, index: AbstractTensor): RingTensor {
    const d = normDim(dim, this.shape.length, 'gather: dim');
    const offsets = gatherOffsets(this.shape, d, index.shape, indexValues(index, 'gather'));
    const out = allocUninit(offsets.length);
    for (let i = 0; i < offsets.length; i++) out[i] = this.data[offsets[i]!]!;
    return new RingTensor(index.shape, out);
  }

  /**
   * A copy with `src` added (mod 2^64) at a public `index` along `dim`: the adjoint of
   * {@link gather}, PyTorch's out-of-place scatter_add.
   * @example `RingTensor.zeros([2, 3]).scatterAdd(1, RingTensor.from([2, 1], [2n, 0n]), RingTensor.from([2, 1], [5n, 7n]))`
   */
  override scatterAdd(dim: number, index: AbstractTensor, src: AbstractTensor): RingTensor {
    if (!(src instanceof RingTensor)) throw operandError('scatterAdd', src, 'a RingTensor source');
    const d = normDim(dim, this.shape.length, 'scatterAdd: dim');
    if (!sameShape(index.shape, src.shape)) throw new ShapeError(`scatterAdd: source [${src.shape.join(', ')}] must have the index's shape [${index.shape.join(', ')}]`);
    const offsets = gatherOffsets(this.shape, d, index.shape, indexValues(index, 'scatterAdd'));
    const out = this.data.slice();
    for (let i = 0; i < offsets.length; i++) out[offsets[i]!] += src.data[i]!;
    return new RingTensor(this.shape, out);
  }

  /** A deep copy. @example `const c = a.clone(); c.data[0] = 5n; // a is unchanged` */
  override clone(): RingTensor {
    return new RingTensor(this.shape, this.data.slice());
  }

  /** True when the shapes and all elements are equal. @example `a.add(0n).equals(a) // true` */
  equals(o: RingTensor): boolean {
    if (!(o instanceof RingTensor) || !sameShape(this.shape, o.shape)) return false;
    const a = this.data;
    const b = o.data;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** PyTorch-style text, e.g. `tensor([[1, 2],\n        [3, 4]])`. */
  override toString(): string {
    return formatTensor(this.shape, this.data);
  }

  // ---- as a layer of the tensor chain -------------------------------------------------------

  get layerName(): string {
    return 'RingTensor';
  }

  chainString(): string {
    return this.toString();
  }

  /** A tensor of this shape with every element `value` (an integer). */
  override fullLike(value: number): RingTensor {
    if (!Number.isSafeInteger(value)) throw operandError('fullLike', value, 'an integer');
    return RingTensor.full(this.shape, BigInt(value));
  }

  /** Zeros added before and after along `dim`. */
  override pad(dim: number, before: number, after: number): RingTensor {
    const d = normDim(dim, this.shape.length, 'pad');
    const part = (n: number) => RingTensor.zeros(this.shape.map((s, i) => (i === d ? n : s)));
    const parts = [...(before > 0 ? [part(before)] : []), this, ...(after > 0 ? [part(after)] : [])];
    return parts.length === 1 ? this.clone() : RingTensor.concat(parts, d);
  }

  /** The elements as nested arrays of bigints (a bigint for a scalar). */
  toNested(): unknown {
    const s = this.shape;
    if (s.length === 0) return this.data[0];
    let k = 0;
    const build = (d: number): unknown[] => Array.from({ length: s[d]! }, () => (d === s.length - 1 ? this.data[k++] : build(d + 1)));
    return build(0);
  }

  private inPlace(op: 'add' | 'sub' | 'xor', o: RingTensor): this {
    if (!(o instanceof RingTensor)) throw operandError(`${op}_`, o, 'a RingTensor');
    if (!sameShape(this.shape, o.shape)) {
      throw new ShapeError(`${op}_: in-place ops need equal shapes, got [${this.shape.join(', ')}] and [${o.shape.join(', ')}]; use ${op}() to broadcast`);
    }
    // The kernels read each element (or chunk) of both operands before writing it.
    if (op === 'xor') binaryFlat(op, this.data, o.data, this.data);
    else kernels().binary(op, this.data, o.data, this.data);
    return this;
  }

  private binary(op: BinaryOp, o: RingOperand): RingTensor {
    if (typeof o === 'bigint') {
      const out = allocUninit(this.size);
      binaryRow(op, this.data, 0, 1, scalarArray(op, o), 0, 0, out, 0, this.size);
      return new RingTensor(this.shape, out);
    }
    if (!(o instanceof RingTensor)) throw operandError(op, o, 'a RingTensor or a bigint');
    if (sameShape(this.shape, o.shape)) {
      const out = allocUninit(this.size);
      if (op === 'add' || op === 'sub' || op === 'mul') kernels().binary(op, this.data, o.data, out);
      else binaryFlat(op, this.data, o.data, out);
      return new RingTensor(this.shape, out);
    }
    const outShape = broadcastShapes(this.shape, o.shape, op);
    const out = allocUninit(sizeOf(outShape));
    binaryBroadcast(op, this.data, this.shape, o.data, o.shape, out, outShape);
    return new RingTensor(outShape, out);
  }
}

/** The window of an im2col call: the layer op's pairs, or the older (kh, kw, { stride, padding }). */
function ringWindow(op: string, a: Pair | number, b: Pair | number, c: Pair | Im2colOptions | undefined): Window2d {
  if (typeof a === 'number' && typeof b === 'number' && (c === undefined || (typeof c === 'object' && !Array.isArray(c)))) {
    const opts = (c ?? {}) as Im2colOptions;
    for (const [name, v, min] of [['kh', a, 1], ['kw', b, 1], ['stride', opts.stride ?? 1, 1], ['padding', opts.padding ?? 0, 0]] as const) {
      if (!Number.isInteger(v) || v < min) throw new RingValueError(`${op}: ${name} must be an integer >= ${min}, got ${describe(v)}`);
    }
    return window2d([a, b], opts.stride ?? 1, opts.padding ?? 0);
  }
  return window2d(a, b, c ?? 0);
}

/** The integers of a public index tensor (ring elements, or float values). */
function indexValues(index: AbstractTensor, op: string): ArrayLike<number | bigint> {
  const v = (index as unknown as { data?: BigInt64Array; values?: Float32Array });
  if (index instanceof RingTensor) return index.data;
  if (index.layerName === 'FloatTensor' && v.values) return v.values;
  throw new RingValueError(`${op}: the index must be a public integer tensor (int64), not a ${index.layerName}`);
}

function scalarArray(op: string, v: bigint): BigInt64Array {
  if (typeof v !== 'bigint') throw operandError(op, v, 'a bigint');
  return BigInt64Array.of(v);
}

function checkBits(op: string, bits: number): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > 63) {
    throw new RingValueError(`${op}: the shift must be an integer in 0..63, got ${describe(bits)}`);
  }
}

function operandError(op: string, o: unknown, expected: string): RingValueError {
  if (typeof o === 'number') {
    return new RingValueError(
      `${op}: got the number ${o}, expected ${expected}. Ring scalars are bigints: write ${Number.isInteger(o) ? `${o}n` : 'BigInt(x)'}` +
        `${Number.isInteger(o) ? '' : ' for integers'}, and encode real numbers with encodeFixed()`,
    );
  }
  return new RingValueError(`${op}: expected ${expected}, got ${describe(o)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `the string '${v}'`;
  if (typeof v === 'object') return `a ${(v as object).constructor?.name ?? 'object'}`;
  return typeof v;
}
