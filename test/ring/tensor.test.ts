// Construction, shape operations, printing and errors of RingTensor.
import { describe, expect, it } from 'vitest';
import { ShapeError, SyftError, ValueError } from '../../src/errors.js';
import { RingShapeError, RingTensor, RingValueError } from '../../src/ring/index.js';
import { Rng, expectSame, refIm2col, refTranspose, size, toRef, unravel } from './oracle.js';

const rng = new Rng(42);
const vals = (t: RingTensor): bigint[] => Array.from(t.data);

describe('construction', () => {
  it('from() takes bigints, safe-integer numbers and BigInt64Arrays; wraps mod 2^64', () => {
    const t = RingTensor.from([2, 2], [1n, -2, 2n ** 64n - 1n, 2n ** 63n]);
    expect(t.shape).toEqual([2, 2]);
    expect(vals(t)).toEqual([1n, -2n, -1n, -(2n ** 63n)]);
    const raw = new BigInt64Array([5n, 6n]);
    expect(RingTensor.from([2], raw).data).toBe(raw);
    expect(RingTensor.from([], [7n]).size).toBe(1);
  });

  it('zeros, full, size, clone and equals', () => {
    expect(vals(RingTensor.zeros([2, 3]))).toEqual([0n, 0n, 0n, 0n, 0n, 0n]);
    const f = RingTensor.full([3], -5n);
    expect(vals(f)).toEqual([-5n, -5n, -5n]);
    expect(f.size).toBe(3);
    const c = f.clone();
    c.data[0] = 1n;
    expect(f.data[0]).toBe(-5n);
    expect(f.equals(c)).toBe(false);
    expect(f.equals(RingTensor.full([3], -5n))).toBe(true);
    expect(f.equals(RingTensor.full([3, 1], -5n))).toBe(false);
    expect(RingTensor.zeros([0, 4]).size).toBe(0);
  });

  it('rejects bad shapes, lengths and element types with typed errors', () => {
    expect(() => RingTensor.from([2, 2], [1n, 2n, 3n])).toThrow(RingShapeError);
    expect(() => RingTensor.from([2, 2], [1n, 2n, 3n])).toThrow(/3 values do not fill shape \[2, 2\], which holds 4/);
    expect(() => RingTensor.zeros([2, -1])).toThrow(/non-negative integer/);
    expect(() => RingTensor.zeros([1.5])).toThrow(RingShapeError);
    expect(() => RingTensor.from([1], [1.5])).toThrow(RingValueError);
    expect(() => RingTensor.from([1], [1.5])).toThrow(/encodeFixed/);
    expect(() => RingTensor.from([1], [2 ** 60])).toThrow(/safe integers/);
    expect(() => new RingTensor([1], [1n] as unknown as BigInt64Array)).toThrow(/BigInt64Array/);
    // Typed errors are also the library-wide kinds.
    expect(() => RingTensor.zeros([-1])).toThrow(ShapeError);
    expect(() => RingTensor.from([1], [0.5])).toThrow(ValueError);
    expect(() => RingTensor.from([1], [0.5])).toThrow(SyftError);
  });

  it('binary ops reject numbers with a hint to use bigints', () => {
    const t = RingTensor.from([2], [1n, 2n]);
    expect(() => t.add(1 as unknown as bigint)).toThrow(RingValueError);
    expect(() => t.add(1 as unknown as bigint)).toThrow(/write 1n/);
    expect(() => t.mul(0.5 as unknown as bigint)).toThrow(/encodeFixed/);
    expect(() => t.add(RingTensor.zeros([3]))).toThrow(RingShapeError);
    expect(() => t.add(RingTensor.zeros([3]))).toThrow(/\[2\] and \[3\] cannot be broadcast/);
  });
});

describe('in-place ops', () => {
  it('add_, sub_ and xor_ write the result into this tensor (short and long, the wasm path) and check shapes', () => {
    for (const n of [5, 5000]) {
      for (const op of ['add', 'sub', 'xor'] as const) {
        const a = rng.tensor([n]);
        const b = rng.tensor([n]);
        const bBefore = vals(b);
        const want = a[op](b);
        const target = a.clone();
        const result = target[`${op}_`](b);
        expect(result).toBe(target);
        expect(vals(target)).toEqual(vals(want));
        // The operand is only read.
        expect(vals(b)).toEqual(bBefore);
      }
    }
    expect(() => rng.tensor([2, 3]).add_(rng.tensor([3]))).toThrow(RingShapeError);
    expect(() => rng.tensor([2]).sub_(1n as unknown as RingTensor)).toThrow(RingValueError);
  });
});

describe('shape operations', () => {
  it('transpose matches the oracle for default and explicit permutations', () => {
    const cases: [number[], number[] | undefined][] = [
      [[3, 5], undefined],
      [[2, 3, 4], undefined],
      [[2, 3, 4], [0, 2, 1]],
      [[2, 3, 4], [1, 0, 2]],
      [[2, 3, 4, 5], [3, 1, 0, 2]],
      [[2, 3, 4], [-1, 0, 1]],
      [[7], undefined],
      [[1, 6, 1], [2, 1, 0]],
      // Big enough for the tiled path, with partial tiles and batch dimensions.
      [[70, 45], undefined],
      [[3, 70, 45], [0, 2, 1]],
      [[2, 33, 3, 40], [1, 0, 3, 2]],
      [[5, 37, 66], [2, 0, 1]],
      [[3, 2, 70], [1, 0, 2]],
    ];
    for (const [shape, perm] of cases) {
      const t = rng.tensor(shape);
      const p = perm === undefined ? shape.map((_, i) => shape.length - 1 - i) : perm.map((d) => (d < 0 ? d + shape.length : d));
      expectSame(t.transpose(perm), refTranspose(toRef(t), p), `transpose [${shape}] ${perm}`);
    }
    expect(() => rng.tensor([2, 3]).transpose([0, 0])).toThrow(/not a permutation/);
    expect(() => rng.tensor([2, 3]).transpose([0])).toThrow(RingShapeError);
  });

  it('reshape infers one -1, shares data, and checks sizes', () => {
    const t = rng.tensor([2, 6]);
    const r = t.reshape([3, -1]);
    expect(r.shape).toEqual([3, 4]);
    expect(r.data).toBe(t.data);
    expect(t.reshape([12]).shape).toEqual([12]);
    expect(RingTensor.from([], [3n]).reshape([1, 1]).shape).toEqual([1, 1]);
    expect(() => t.reshape([5, -1])).toThrow(/cannot infer/);
    expect(() => t.reshape([-1, -1])).toThrow(/more than one -1/);
    expect(() => t.reshape([3, 5])).toThrow(/holds 15 elements/);
  });

  it('slice follows Python slicing along any dim', () => {
    const t = rng.tensor([4, 5, 3]);
    const ref = toRef(t);
    const pick = (start: number, end: number | undefined, dim: number): bigint[] => {
      const n = t.shape[dim];
      const norm = (i: number): number => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
      const s = norm(start);
      const e = Math.max(s, end === undefined ? n : norm(end));
      return ref.values.filter((_, i) => {
        const x = unravel(i, t.shape)[dim];
        return x >= s && x < e;
      });
    };
    for (const dim of [0, 1, 2, -1]) {
      const d = dim < 0 ? dim + 3 : dim;
      for (const [s, e] of [[0, 2], [1, undefined], [-2, undefined], [-100, 100], [3, 1], [2, -1], [5, 9]] as [number, number | undefined][]) {
        const got = t.slice(s, e, dim);
        expect(vals(got), `slice(${s}, ${e}, ${dim})`).toEqual(pick(s, e, d));
        expect(size(got.shape)).toBe(got.size);
      }
    }
    expect(() => RingTensor.from([], [1n]).slice(0)).toThrow(RingShapeError);
    expect(() => t.slice(0, 1, 3)).toThrow(/out of range/);
    expect(() => t.slice(0.5)).toThrow(RingValueError);
  });

  it('concat joins along any dim and checks the other dims', () => {
    const a = rng.tensor([2, 3]);
    const b = rng.tensor([1, 3]);
    const c = RingTensor.concat([a, b]);
    expect(c.shape).toEqual([3, 3]);
    expect(vals(c)).toEqual([...vals(a), ...vals(b)]);
    const x = rng.tensor([2, 2]);
    const y = rng.tensor([2, 1]);
    const z = RingTensor.concat([x, y], -1);
    expect(z.shape).toEqual([2, 3]);
    expect(vals(z)).toEqual([x.data[0], x.data[1], y.data[0], x.data[2], x.data[3], y.data[1]]);
    expect(() => RingTensor.concat([a, rng.tensor([2, 2])])).toThrow(/differ outside dimension 0/);
    expect(() => RingTensor.concat([])).toThrow(RingValueError);
  });

  it('broadcastTo repeats along size-1 and new leading dims', () => {
    const t = RingTensor.from([3, 1], [1n, 2n, 3n]);
    const b = t.broadcastTo([2, 3, 2]);
    expect(b.shape).toEqual([2, 3, 2]);
    expect(vals(b)).toEqual([1n, 1n, 2n, 2n, 3n, 3n, 1n, 1n, 2n, 2n, 3n, 3n]);
    expect(vals(RingTensor.from([], [4n]).broadcastTo([3]))).toEqual([4n, 4n, 4n]);
    const row = rng.tensor([100]);
    expect(vals(row.broadcastTo([2, 100]))).toEqual([...vals(row), ...vals(row)]);
    expect(() => t.broadcastTo([3, 2].slice(1))).toThrow(RingShapeError);
    expect(() => t.broadcastTo([2, 2])).toThrow(/cannot be broadcast/);
  });

  it('im2col matches the oracle with stride and padding', () => {
    const cases: [number[], number, number, number, number][] = [
      [[1, 1, 4, 4], 2, 2, 1, 0],
      [[2, 3, 5, 6], 3, 3, 1, 1],
      [[1, 2, 7, 5], 3, 2, 2, 0],
      [[2, 1, 6, 6], 5, 5, 1, 2],
      [[1, 2, 3, 3], 1, 1, 2, 1],
      [[1, 1, 3, 4], 2, 3, 3, 3],
      [[2, 2, 5, 2], 4, 1, 1, 2],
    ];
    for (const [shape, kh, kw, stride, padding] of cases) {
      const t = rng.tensor(shape);
      expectSame(t.im2col(kh, kw, { stride, padding }), refIm2col(toRef(t), kh, kw, stride, padding), `im2col [${shape}] ${kh}x${kw} s${stride} p${padding}`);
    }
    expect(rng.tensor([1, 3, 28, 28]).im2col(5, 5, { padding: 2 }).shape).toEqual([1, 75, 784]);
    expect(() => rng.tensor([3, 4, 4]).im2col(2, 2)).toThrow(/\[N, C, H, W\]/);
    expect(() => rng.tensor([1, 1, 2, 2]).im2col(3, 3)).toThrow(/does not fit/);
    expect(() => rng.tensor([1, 1, 4, 4]).im2col(2, 2, { stride: 0 })).toThrow(/stride must be an integer >= 1/);
  });

  it('argument errors: shifts, divisors, dims', () => {
    const t = rng.tensor([2, 2]);
    expect(() => t.shiftRight(64)).toThrow(/0\.\.63/);
    expect(() => t.shiftLeft(-1)).toThrow(RingValueError);
    expect(() => t.divScalar(0n)).toThrow(/1 \.\. 2\^63-1/);
    expect(() => t.divScalar(10 as unknown as bigint)).toThrow(/write 10n/);
    expect(() => t.sum(2)).toThrow(/out of range/);
    expect(() => t.sum([0, -2])).toThrow(/appears twice/);
    expect(() => t.matmul(rng.tensor([3, 2]))).toThrow(/inner dimensions differ \(2 vs 3\)/);
    expect(() => t.matmul(RingTensor.from([], [1n]))).toThrow(/at least 1 dimension/);
    expect(() => rng.tensor([2, 2, 3]).matmul(rng.tensor([3, 3, 2]))).toThrow(/batch dimensions/);
  });
});

describe('toString', () => {
  it('prints like PyTorch', () => {
    expect(RingTensor.from([], [-3n]).toString()).toBe('tensor(-3)');
    expect(RingTensor.from([3], [1n, -22n, 3n]).toString()).toBe('tensor([  1, -22,   3])');
    expect(RingTensor.from([2, 2], [1n, 2n, 30n, 4n]).toString()).toBe('tensor([[ 1,  2],\n        [30,  4]])');
    expect(RingTensor.from([2, 1, 2], [1n, 2n, 3n, 4n]).toString()).toBe('tensor([[[1, 2]],\n\n        [[3, 4]]])');
    expect(RingTensor.zeros([0]).toString()).toBe('tensor([])');
    expect(RingTensor.zeros([0, 3]).toString()).toBe('tensor([], size=(0, 3))');
    expect(RingTensor.zeros([2000]).toString()).toBe('tensor([0, 0, 0, ..., 0, 0, 0])');
    expect(`${RingTensor.from([1], [2n ** 63n - 1n])}`).toBe('tensor([9223372036854775807])');
  });
});
