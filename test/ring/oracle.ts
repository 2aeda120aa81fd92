// The test oracle: ring operations written the slowest, most obvious way, on plain arrays of
// bigints with explicit multi-indices, sharing no code with src/ring. Results are reduced with
// BigInt.asIntN(64, ...), i.e. mod 2^64 read as signed.
import { RingTensor } from '../../src/ring/index.js';

export interface Ref {
  shape: number[];
  values: bigint[];
}

export const wrap = (x: bigint): bigint => BigInt.asIntN(64, x);

export const EDGE = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n, -2n, 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n), 2n ** 31n];

export function toRef(t: RingTensor): Ref {
  return { shape: [...t.shape], values: Array.from(t.data) };
}

export function fromRef(r: Ref): RingTensor {
  return RingTensor.from(r.shape, r.values);
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d] + idx[d];
  return i;
}

/** A seeded generator (splitmix64) so failures reproduce; mixes in edge values. */
export class Rng {
  private state: bigint;
  constructor(seed: number) {
    this.state = BigInt(seed);
  }
  next(): bigint {
    this.state = BigInt.asUintN(64, this.state + 0x9e3779b97f4a7c15n);
    let z = this.state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return BigInt.asIntN(64, z ^ (z >> 31n));
  }
  int(n: number): number {
    return Number(BigInt.asUintN(64, this.next()) % BigInt(n));
  }
  /** Full-range values, about one in four an edge value. */
  values(n: number): bigint[] {
    return Array.from({ length: n }, () => (this.int(4) === 0 ? EDGE[this.int(EDGE.length)] : this.next()));
  }
  tensor(shape: number[]): RingTensor {
    return RingTensor.from(shape, this.values(size(shape)));
  }
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[i - (n - a.length)] ?? 1;
    const y = b[i - (n - b.length)] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`oracle: ${a} and ${b} do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Reads `r` at index `idx` of the broadcast shape (aligned from the right, size-1 dims repeat). */
function at(r: Ref, idx: readonly number[]): bigint {
  const own = idx.slice(idx.length - r.shape.length).map((v, d) => (r.shape[d] === 1 ? 0 : v));
  return r.values[ravel(own, r.shape)];
}

export type Op = 'add' | 'sub' | 'mul' | 'and' | 'or' | 'xor' | 'eq' | 'gt' | 'lt' | 'ge' | 'le';

export function scalarOp(op: Op, x: bigint, y: bigint): bigint {
  switch (op) {
    case 'add':
      return wrap(x + y);
    case 'sub':
      return wrap(x - y);
    case 'mul':
      return wrap(x * y);
    case 'and':
      return wrap(x & y);
    case 'or':
      return wrap(x | y);
    case 'xor':
      return wrap(x ^ y);
    case 'eq':
      return x === y ? 1n : 0n;
    case 'gt':
      return x > y ? 1n : 0n;
    case 'lt':
      return x < y ? 1n : 0n;
    case 'ge':
      return x >= y ? 1n : 0n;
    case 'le':
      return x <= y ? 1n : 0n;
  }
}

export function refBinary(op: Op, a: Ref, b: Ref): Ref {
  const shape = broadcastShape(a.shape, b.shape);
  const values = Array.from({ length: size(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    return scalarOp(op, at(a, idx), at(b, idx));
  });
  return { shape, values };
}

export function refMap(a: Ref, f: (x: bigint) => bigint): Ref {
  return { shape: [...a.shape], values: a.values.map((x) => wrap(f(x))) };
}

export function refFloorDiv(x: bigint, d: bigint): bigint {
  // Floor by definition: the q with q*d <= x < (q+1)*d.
  let q = x / d;
  if (q * d > x) q -= 1n;
  return q;
}

/** torch.matmul, spelled out. */
export function refMatmul(a: Ref, b: Ref): Ref {
  const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const m = as[as.length - 2];
  const k = as[as.length - 1];
  const n = bs[bs.length - 1];
  if (bs[bs.length - 2] !== k) throw new Error('oracle: inner dimensions differ');
  const batch = broadcastShape(as.slice(0, -2), bs.slice(0, -2));
  const A: Ref = { shape: as, values: a.values };
  const B: Ref = { shape: bs, values: b.values };
  const full = [...batch, m, n];
  const values = Array.from({ length: size(full) }, (_, i) => {
    const idx = unravel(i, full);
    const bi = idx.slice(0, -2);
    const [r, c] = idx.slice(-2);
    let s = 0n;
    for (let t = 0; t < k; t++) s += at(A, [...bi, r, t]) * at(B, [...bi, t, c]);
    return wrap(s);
  });
  let shape = full;
  if (a.shape.length === 1) shape = [...shape.slice(0, -2), shape[shape.length - 1]];
  if (b.shape.length === 1) shape = shape.slice(0, -1);
  return { shape, values };
}

export function refSum(a: Ref, dims: number[] | undefined, keepDim: boolean): Ref {
  const nd = a.shape.length;
  const reduce = new Set((dims === undefined || dims.length === 0 ? a.shape.map((_, i) => i) : dims).map((d) => (d < 0 ? d + nd : d)));
  const kept = a.shape.map((s, d) => (reduce.has(d) ? 1 : s));
  const acc = new Array<bigint>(size(kept)).fill(0n);
  a.values.forEach((v, i) => {
    const idx = unravel(i, a.shape).map((x, d) => (reduce.has(d) ? 0 : x));
    acc[ravel(idx, kept)] += v;
  });
  const shape = keepDim ? kept : a.shape.filter((_, d) => !reduce.has(d));
  return { shape, values: acc.map(wrap) };
}

export function refTranspose(a: Ref, perm: number[]): Ref {
  const shape = perm.map((p) => a.shape[p]);
  const values = Array.from({ length: size(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    const src = new Array<number>(perm.length);
    perm.forEach((p, d) => (src[p] = idx[d]));
    return a.values[ravel(src, a.shape)];
  });
  return { shape, values };
}

export function refIm2col(a: Ref, kh: number, kw: number, stride: number, padding: number): Ref {
  const [N, C, H, W] = a.shape;
  const oh = Math.floor((H + 2 * padding - kh) / stride) + 1;
  const ow = Math.floor((W + 2 * padding - kw) / stride) + 1;
  const shape = [N, C * kh * kw, oh * ow];
  const values = Array.from({ length: size(shape) }, (_, i) => {
    const [n, row, col] = unravel(i, shape);
    const [c, ki, kj] = unravel(row, [C, kh, kw]);
    const [y, x] = unravel(col, [oh, ow]);
    const ih = y * stride - padding + ki;
    const iw = x * stride - padding + kj;
    return ih >= 0 && ih < H && iw >= 0 && iw < W ? a.values[ravel([n, c, ih, iw], a.shape)] : 0n;
  });
  return { shape, values };
}

export function expectSame(got: RingTensor, want: Ref, what: string): void {
  const g = toRef(got);
  if (g.shape.join(',') !== want.shape.join(',')) {
    throw new Error(`${what}: shape [${g.shape}] but the oracle says [${want.shape}]`);
  }
  for (let i = 0; i < want.values.length; i++) {
    if (g.values[i] !== want.values[i]) {
      throw new Error(`${what}: element ${i} (index [${unravel(i, want.shape)}]) is ${g.values[i]}, oracle ${want.values[i]}`);
    }
  }
}
