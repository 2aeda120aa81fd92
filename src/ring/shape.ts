// Shape arithmetic for row-major tensors: sizes, strides, dimension indices and broadcasting.
import { RingShapeError } from './errors.js';

/** Number of elements of a shape (1 for the scalar shape []). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Checks that `shape` is a list of non-negative safe integers and returns a frozen copy. */
export function checkShape(shape: readonly number[], what = 'shape'): readonly number[] {
  if (!Array.isArray(shape)) {
    throw new RingShapeError(`${what} must be an array of non-negative integers, got ${String(shape)}`);
  }
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RingShapeError(
        `${what} [${shape.join(', ')}] has the entry ${String(d)}; every dimension must be a non-negative integer`,
      );
    }
  }
  if (!Number.isSafeInteger(sizeOf(shape))) {
    throw new RingShapeError(`${what} [${shape.join(', ')}] has more elements than an array can hold`);
  }
  return Object.freeze([...shape]);
}

/** Resolves a possibly negative dimension index against `ndim` dimensions. */
export function normalizeDim(dim: number, ndim: number, what = 'dim'): number {
  if (!Number.isInteger(dim) || dim < -Math.max(ndim, 1) || dim >= Math.max(ndim, 1)) {
    throw new RingShapeError(
      `${what} ${String(dim)} is out of range for a tensor with ${ndim} dimension(s); use an integer in ` +
        `[${-Math.max(ndim, 1)}, ${Math.max(ndim, 1) - 1}]`,
    );
  }
  return dim < 0 ? dim + ndim : dim;
}

/** The numpy/PyTorch broadcast of two shapes: align from the right; each pair equal or one is 1. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RingShapeError(
        `${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast (dimension ${i - n} is ` +
          `${da} vs ${db}); each aligned dimension must be equal or 1`,
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
export function broadcastStrides(from: readonly number[], to: readonly number[]): number[] {
  const src = stridesOf(from);
  const out = new Array<number>(to.length).fill(0);
  const offset = to.length - from.length;
  for (let i = 0; i < from.length; i++) {
    out[offset + i] = from[i] === 1 && to[offset + i] !== 1 ? 0 : src[i];
  }
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Merges adjacent dimensions that every operand walks contiguously, so strided loops run over as
 * few, as long dimensions as possible. Size-1 dimensions are dropped. Returns the merged shape and
 * the merged strides for each operand (at least one dimension, possibly [1]).
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): {
  shape: number[];
  strides: number[][];
} {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    const mergeable =
      last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d]);
    if (mergeable) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    outStrides.forEach((s) => s.push(0));
  }
  return { shape: outShape, strides: outStrides };
}
