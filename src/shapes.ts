/**
 * Shape arithmetic for row-major tensors, in one place for the whole house: sizes and strides,
 * dimension indices, broadcasting, and the shape rule of every op. Ring kernels use it to walk
 * memory, layers to check arguments before any work is done, pointers to know the shape of a
 * remote result without asking, and workers to refuse a command before it allocates.
 *
 * Every failure is a {@link ShapeError} that says what would fit.
 */
import { ShapeError, ValueError } from './errors.js';

export type Shape = readonly number[];

/** Number of elements of a shape (1 for the scalar shape []). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

function describe(v: unknown): string {
  try {
    return (JSON.stringify(v) ?? String(v)).slice(0, 80);
  } catch {
    return String(v);
  }
}

/** Checks a shape (non-negative safe integers, a size an array can hold); returns a frozen copy. */
export function checkShape(shape: unknown, what = 'shape'): Shape {
  if (!Array.isArray(shape)) {
    throw new ShapeError(`${what} must be an array of non-negative integers, got ${describe(shape)}`);
  }
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || (d as number) < 0) {
      throw new ShapeError(
        `${what} ${describe(shape)} has the entry ${describe(d)}; every dimension must be a non-negative integer`,
      );
    }
  }
  if (!Number.isSafeInteger(sizeOf(shape as number[]))) {
    throw new ShapeError(`${what} ${formatShape(shape as number[])} has more elements than an array can hold`);
  }
  return Object.freeze([...(shape as number[])]);
}

/** Resolves a possibly negative dimension index against `rank` dimensions. */
export function normDim(dim: number, rank: number, what = 'dimension'): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    throw new ShapeError(
      `${what} ${describe(dim)} is out of range for a tensor of rank ${rank}; use an integer in [${-r}, ${r - 1}]`,
    );
  }
  return dim < 0 ? dim + rank : dim;
}

/** numpy/PyTorch broadcasting of two shapes: aligned from the right, each pair equal or one is 1. */
export function broadcastShapes(a: Shape, b: Shape, op?: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op ? `${op}: ` : ''}shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together ` +
          `(dimension ${i} is ${da} against ${db}); reshape one of them so that each dimension matches or is 1`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides to read a tensor of shape `from` as if it had the (broadcast) shape `to`: 0 along the
 * dimensions it is repeated in. `to` must be a valid broadcast target of `from`.
 */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const src = stridesOf(from);
  const out = new Array<number>(to.length).fill(0);
  const offset = to.length - from.length;
  for (let i = 0; i < from.length; i++) {
    out[offset + i] = from[i] === 1 && to[offset + i] !== 1 ? 0 : src[i]!;
  }
  return out;
}

/** Checks that `from` broadcasts to exactly `to` (not merely together with it). */
export function broadcastToShape(from: Shape, to: unknown): Shape {
  const target = checkShape(to, 'broadcastTo: shape');
  const out = broadcastShapes(from, target, 'broadcastTo');
  if (!sameShape(out, target)) {
    throw new ShapeError(`cannot broadcast a tensor of shape ${formatShape(from)} to ${formatShape(target)}`);
  }
  return target;
}

/**
 * Merges adjacent dimensions that every operand walks contiguously, so strided loops run over as
 * few, as long dimensions as possible. Size-1 dimensions are dropped. Returns the merged shape and
 * the merged strides for each operand (at least one dimension, possibly [1]).
 */
export function coalesce(shape: Shape, strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * shape[d]!);
    if (mergeable) {
      outShape[last]! *= shape[d]!;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
    } else {
      outShape.push(shape[d]!);
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    outStrides.forEach((s) => s.push(0));
  }
  return { shape: outShape, strides: outStrides };
}

// ---- shape rules of ops -------------------------------------------------------------------

/** The dims a reduction runs over: all when none are given. Sorted, unique, non-negative. */
export function reduceDims(rank: number, dims?: number | readonly number[]): number[] {
  if (dims === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof dims === 'number' ? [dims] : [...dims];
  return [...new Set(list.map((d) => normDim(d, rank)))].sort((x, y) => x - y);
}

export function reduceShape(shape: Shape, dims: readonly number[], keepDim: boolean): Shape {
  const set = new Set(dims);
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keepDim) out.push(1);
  });
  return out;
}

/** Resolves one -1 in a target shape and checks the element count. */
export function resolveReshape(from: Shape, to: readonly number[]): Shape {
  if (!Array.isArray(to)) throw new ShapeError(`reshape: expected an array of dimensions, got ${describe(to)}`);
  const total = sizeOf(from);
  const unknown = to.filter((d) => d === -1).length;
  if (unknown > 1) throw new ShapeError(`reshape to ${formatShape(to)}: only one dimension may be -1`);
  if (!to.every((d) => d === -1 || (Number.isSafeInteger(d) && d >= 0))) {
    throw new ShapeError(`reshape to ${formatShape(to)}: dimensions must be non-negative integers or -1`);
  }
  const known = to.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const out = to.map((d) => (d === -1 ? (known === 0 ? 0 : total / known) : d));
  if (sizeOf(out) !== total || out.some((d) => !Number.isInteger(d))) {
    throw new ShapeError(`cannot reshape a tensor of shape ${formatShape(from)} (${total} elements) to ${formatShape(to)}`);
  }
  return out;
}

export function defaultPerm(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => rank - 1 - i);
}

/** The permutation `perm` (default: reversed dims) as non-negative dims, checked. */
export function checkPerm(rank: number, perm?: readonly number[]): number[] {
  const p = perm ?? defaultPerm(rank);
  if (!Array.isArray(p) || p.length !== rank) {
    throw new ShapeError(`permutation ${describe(p)} does not fit a tensor of rank ${rank}`);
  }
  const norm = p.map((d) => normDim(d, rank, 'permutation entry'));
  if (new Set(norm).size !== rank) throw new ShapeError(`permutation ${formatShape(p)} repeats a dimension`);
  return norm;
}

export function transposeShape(shape: Shape, perm?: readonly number[]): Shape {
  return checkPerm(shape.length, perm).map((d) => shape[d]!);
}

/** PyTorch's x[start:end] along `dim`, with negative and out-of-range bounds clamped as Python does. */
export function sliceBounds(shape: Shape, start: number, end: number | undefined, dim: number): [number, number, number] {
  const d = normDim(dim, shape.length);
  if (shape.length === 0) throw new ShapeError('cannot slice a scalar (a tensor of rank 0)');
  const n = shape[d]!;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) {
    throw new ValueError(`slice bounds must be integers, got ${start}:${end}`);
  }
  const s = clamp(start);
  const e = Math.max(s, clamp(end ?? n));
  return [d, s, e];
}

export function sliceShape(shape: Shape, start: number, end: number | undefined, dim: number): Shape {
  const [d, s, e] = sliceBounds(shape, start, end, dim);
  const out = [...shape];
  out[d] = e - s;
  return out;
}

/** Zeros added along `dim`: both amounts non-negative integers. */
export function padShape(shape: Shape, dim: number, before: number, after: number): Shape {
  const d = normDim(dim, shape.length);
  if (!Number.isSafeInteger(before) || !Number.isSafeInteger(after) || before < 0 || after < 0) {
    throw new ShapeError(`pad needs non-negative integer amounts, got ${describe(before)} and ${describe(after)}`);
  }
  return shape.map((n, i) => (i === d ? n + before + after : n));
}

/** torch.matmul's shape rule: 1-D operands are promoted and the added dimension removed again. */
export function matmulShape(a: Shape, b: Shape): Shape {
  if (a.length === 0 || b.length === 0) throw new ShapeError('matmul needs tensors of rank 1 or more, not scalars');
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const k1 = a2[a2.length - 1]!;
  const k2 = b2[b2.length - 2]!;
  if (k1 !== k2) {
    throw new ShapeError(
      `matmul of ${formatShape(a)} by ${formatShape(b)}: inner dimensions ${k1} and ${k2} differ ` +
        `(transpose one operand with .t() if that is what you meant)`,
    );
  }
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2), 'matmul (batch dimensions)');
  const out = [...batch, a2[a2.length - 2]!, b2[b2.length - 1]!];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

/** The dims to sum a broadcast gradient over so that it matches `target` again. */
export function unbroadcastDims(from: Shape, target: Shape): { dims: number[]; needsReshape: boolean } {
  const lead = from.length - target.length;
  const dims: number[] = [];
  for (let i = 0; i < from.length; i++) {
    if (i < lead) dims.push(i);
    else if (target[i - lead] === 1 && from[i] !== 1) dims.push(i);
  }
  return { dims, needsReshape: lead > 0 || dims.length > 0 };
}

/**
 * The shape of `x.indexSelect(dim, indices)` (PyTorch's `index_select`): `dim` becomes
 * `indices.length` long. Every index must be an integer in [0, shape[dim]) and there may be at
 * most `maxCount` of them, so that a worker refuses a request before it allocates.
 */
export function indexSelectShape(shape: Shape, dim: number, indices: ArrayLike<number>, maxCount: number): Shape {
  if (shape.length === 0) throw new ShapeError('indexSelect needs a tensor of rank 1 or more, not a scalar');
  const d = normDim(dim, shape.length, 'indexSelect: dim');
  if (indices.length > maxCount) {
    throw new ShapeError(`indexSelect takes at most ${maxCount} indices, got ${indices.length}; select in smaller batches`);
  }
  const n = shape[d]!;
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      throw new ShapeError(`indexSelect: index ${describe(v)} is out of range for dimension ${d} of size ${n}; use integers in [0, ${n - 1}]`);
    }
  }
  const out = [...shape];
  out[d] = indices.length;
  return out;
}

/** Indices as an Int32Array, refusing anything that is not a non-negative integer below 2^31. */
export function toIndices(indices: readonly number[] | Int32Array, what = 'indices'): Int32Array {
  if (indices instanceof Int32Array) return indices;
  if (!Array.isArray(indices)) throw new ValueError(`${what} must be an array of integers or an Int32Array, got ${describe(indices)}`);
  const out = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const v: unknown = indices[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new ValueError(`${what}: element ${i} is ${describe(v)}; indices are non-negative integers`);
    }
    out[i] = v;
  }
  return out;
}
