/**
 * Shape rules for every op, in one place. Layers use them to check arguments before any work is
 * done, and pointers use them to know the shape of a remote result without asking the worker.
 */
import { ShapeError, ValueError } from '../errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Checks a user-given shape: non-negative integers. */
export function checkShape(shape: unknown, what = 'shape'): Shape {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ShapeError(`${what} must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return shape as Shape;
}

/** numpy/PyTorch broadcasting of two shapes. */
export function broadcastShapes(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together ` +
          `(dimension ${i} is ${da} against ${db}); reshape one of them so that each dimension matches or is 1`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalises a possibly negative dimension index. */
export function normDim(dim: number, rank: number): number {
  if (!Number.isInteger(dim) || dim < -Math.max(rank, 1) || dim >= Math.max(rank, 1)) {
    throw new ShapeError(`dimension ${dim} is out of range for a tensor of rank ${rank}`);
  }
  return dim < 0 ? dim + rank : dim;
}

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

export function transposeShape(shape: Shape, perm?: readonly number[]): Shape {
  const p = perm ?? defaultPerm(shape.length);
  if (p.length !== shape.length || new Set(p.map((d) => normDim(d, shape.length))).size !== shape.length) {
    throw new ShapeError(`permutation ${formatShape(p)} does not fit a tensor of rank ${shape.length}`);
  }
  return p.map((d) => shape[normDim(d, shape.length)]!);
}

/** PyTorch's x[start:end] along `dim`, with negative and out-of-range bounds clamped as Python does. */
export function sliceBounds(shape: Shape, start: number, end: number | undefined, dim: number): [number, number, number] {
  const d = normDim(dim, shape.length);
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
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
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
