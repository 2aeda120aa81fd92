/**
 * Making tensors: `sy.tensor(data)`, `sy.zeros`, `sy.ones`, `sy.randn`, `sy.rand`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from './errors.js';
import { RingTensor } from './ring/index.js';
import { Tensor } from './tensor.js';
import type { AbstractTensor } from './layer/abstract.js';
import { AutogradTensor } from './tensors/autograd.js';
import { FloatTensor } from './tensors/float.js';
import { checkShape, sizeOf } from './shapes.js';
import { checkNumber, checkOptions } from './util/options.js';
import { globalRandom } from './util/seeded.js';

export type DType = 'float32' | 'int64';

/** Nested arrays of numbers (or bigints for int64), as PyTorch's `tensor()` takes. */
export type NestedData = number | bigint | readonly NestedData[];

export interface TensorOptions {
  /** Record operations for autograd. Float tensors only. */
  requiresGrad?: boolean;
  /** `float32` (default; a tfjs float) or `int64` (a ring tensor that can be shared directly). */
  dtype?: DType;
  /** The shape, when `data` is a flat typed array. */
  shape?: readonly number[];
}

function flatten(data: NestedData): { shape: number[]; values: (number | bigint)[] } {
  const shape: number[] = [];
  let probe: NestedData = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = (probe as readonly NestedData[])[0] as NestedData;
    if (probe === undefined) break;
  }
  const values: (number | bigint)[] = [];
  const walk = (v: NestedData, d: number): void => {
    if (d === shape.length) {
      if (typeof v !== 'number' && typeof v !== 'bigint') {
        throw new ValueError(`tensor data must be numbers in nested arrays of equal lengths; found ${JSON.stringify(v)}`);
      }
      values.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[d]) {
      throw new ValueError(`tensor data is ragged: expected ${shape[d]} elements at depth ${d}`);
    }
    for (const x of v as readonly NestedData[]) walk(x, d + 1);
  };
  walk(data, 0);
  return { shape, values };
}

const TENSOR_OPTIONS = ['requiresGrad', 'dtype', 'shape'] as const;

// Options as plain JavaScript may pass them: unknown keys and wrong values are refused.
function tensorOptions(opts: unknown, where: string, extra: readonly string[] = []): TensorOptions {
  const o = checkOptions<TensorOptions>(opts, [...TENSOR_OPTIONS, ...extra], where);
  if (o.dtype !== undefined && o.dtype !== 'float32' && o.dtype !== 'int64') {
    throw new ValueError(`${where}: dtype must be 'float32' or 'int64', got ${JSON.stringify(o.dtype)}`);
  }
  if (o.requiresGrad !== undefined && typeof o.requiresGrad !== 'boolean') throw new ValueError(`${where}: requiresGrad must be true or false`);
  if (o.shape !== undefined) checkShape(o.shape, `${where}: shape`);
  return o;
}

function leafFrom(data: NestedData | ArrayLike<number> | tf.Tensor, opts: TensorOptions): AbstractTensor {
  const dtype = opts.dtype ?? 'float32';
  if (data instanceof tf.Tensor) {
    const f = FloatTensor.fromTf(data);
    return dtype === 'int64' ? RingTensor.from(f.shape, Array.from(f.values, checkedInt)) : FloatTensor.fromTf(data.clone());
  }
  if (ArrayBuffer.isView(data)) {
    const arr = data as unknown as ArrayLike<number | bigint>;
    const shape = opts.shape ?? [arr.length];
    if (sizeOf(shape) !== arr.length) throw new ValueError(`shape [${shape.join(', ')}] does not hold ${arr.length} values`);
    if (dtype === 'int64') return RingTensor.from(shape, Array.from(arr, (v) => (typeof v === 'bigint' ? v : checkedInt(v))));
    return new FloatTensor(shape, Float32Array.from(arr as ArrayLike<number>));
  }
  const { shape, values } = flatten(data as NestedData);
  const target = opts.shape ?? shape;
  if (sizeOf(target) !== values.length) throw new ValueError(`shape [${target.join(', ')}] does not hold ${values.length} values`);
  if (dtype === 'int64') return RingTensor.from(target, values.map((v) => (typeof v === 'bigint' ? v : checkedInt(v))));
  if (values.some((v) => typeof v === 'bigint')) {
    throw new ValueError("bigint data makes an integer tensor: pass { dtype: 'int64' }");
  }
  return new FloatTensor(target, Float32Array.from(values as number[]));
}

function checkedInt(v: number): bigint {
  if (!Number.isSafeInteger(v)) throw new ValueError(`an int64 tensor needs integers, got ${v}`);
  return BigInt(v);
}

function finish(leaf: AbstractTensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) {
    if (!(leaf instanceof FloatTensor)) throw new ValueError('only float tensors can require gradients');
    return new Tensor(new AutogradTensor(leaf, { requiresGrad: true }));
  }
  return new Tensor(leaf);
}

/**
 * Makes a tensor from nested arrays, a typed array (with `shape`), or a tf.Tensor (copied).
 *
 * @example
 * ```ts
 * const x = sy.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], { requiresGrad: true });
 * const ints = sy.tensor([1, 2, 3, 4, 5], { dtype: 'int64' });   // shareable as is
 * ```
 */
export function tensor(data: NestedData | ArrayLike<number> | tf.Tensor, opts: TensorOptions = {}): Tensor {
  const o = tensorOptions(opts, 'sy.tensor()');
  if (data === null || data === undefined || typeof data === 'string' || typeof data === 'boolean') {
    throw new ValueError(`sy.tensor() takes numbers, nested arrays of numbers, a typed array or a tf.Tensor, got ${String(data)}`);
  }
  return finish(leafFrom(data, o), o);
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  return filled('sy.full()', shape, value, opts);
}

function filled(where: string, shape: readonly number[], value: number, opts: unknown): Tensor {
  const o = tensorOptions(opts, where);
  const s = checkShape(shape, `${where}: shape`);
  if (typeof value !== 'number') throw new ValueError(`${where}: the fill value must be a number, got ${typeof value}`);
  const leaf = o.dtype === 'int64' ? RingTensor.full(s, checkedInt(value)) : FloatTensor.full(s, value);
  return finish(leaf, o);
}

/** A tensor of zeros. @example `sy.zeros([2, 3])` */
export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled('sy.zeros()', shape, 0, opts);
}

/** A tensor of ones. @example `sy.ones([3], { dtype: 'int64' })` */
export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled('sy.ones()', shape, 1, opts);
}

/** Standard normal samples from the seeded generator (`sy.manualSeed`). */
export function randn(shape: readonly number[], opts: Omit<TensorOptions, 'dtype'> = {}): Tensor {
  const o = tensorOptions(opts, 'sy.randn()');
  shape = checkShape(shape, 'sy.randn(): shape');
  opts = o;
  const r = globalRandom();
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = r.normal();
  return finish(new FloatTensor(shape, v), opts);
}

/** Uniform samples in [low, high) from the seeded generator (`sy.manualSeed`). */
export function rand(shape: readonly number[], opts: Omit<TensorOptions, 'dtype'> & { low?: number; high?: number } = {}): Tensor {
  const o = tensorOptions(opts, 'sy.rand()', ['low', 'high']) as typeof opts;
  shape = checkShape(shape, 'sy.rand(): shape');
  const low = checkNumber(o.low ?? 0, 'sy.rand(): low');
  const high = checkNumber(o.high ?? 1, 'sy.rand(): high');
  if (!(high > low)) throw new ValueError(`sy.rand(): high (${high}) must be above low (${low})`);
  opts = o;
  const r = globalRandom();
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = r.uniform(low, high);
  return finish(new FloatTensor(shape, v), opts);
}
