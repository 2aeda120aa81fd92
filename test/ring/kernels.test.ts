// Every kernel, on every engine, against the BigInt oracle: random full-range values, edge values
// and odd shapes that exercise loop tails (SIMD width 2, panels of 4 and 6 columns, row pairs).
import { afterAll, describe, expect, it } from 'vitest';
import { RingTensor, bitPlanes, initRing, planeWords, ringEngine, type RingEngineName } from '../../src/ring/index.js';
import {
  EDGE,
  Rng,
  expectSame,
  fromRef,
  refBinary,
  refFloorDiv,
  refMap,
  refMatmul,
  refSum,
  toRef,
  type Op,
} from './oracle.js';

const ENGINES: RingEngineName[] = ['simd', 'scalar', 'js'];
const OPS: Op[] = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'eq', 'gt', 'lt', 'ge', 'le'];

afterAll(async () => {
  await initRing();
});

describe.each(ENGINES)('%s engine', (engine) => {
  const rng = new Rng(engine.length * 1000 + 7);
  const setEngine = async (): Promise<void> => {
    await initRing({ engine });
    expect(ringEngine().engine).toBe(engine);
  };

  it('elementwise ops match the oracle on equal shapes, edge values and scalars', async () => {
    await setEngine();
    // Every pair of edge values, plus random values, in one flat tensor of odd length.
    const xs: bigint[] = [];
    const ys: bigint[] = [];
    for (const x of EDGE) for (const y of EDGE) (xs.push(x), ys.push(y));
    xs.push(...rng.values(37));
    ys.push(...rng.values(37));
    const a = RingTensor.from([xs.length], xs);
    const b = RingTensor.from([ys.length], ys);
    for (const op of OPS) {
      expectSame(a[op](b), refBinary(op, toRef(a), toRef(b)), `${op} flat`);
      for (const s of [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), rng.next()]) {
        expectSame(a[op](s), refBinary(op, toRef(a), { shape: [], values: [s] }), `${op} scalar ${s}`);
      }
    }
    expectSame(a.neg(), refMap(toRef(a), (x) => -x), 'neg');
    expectSame(a.not(), refMap(toRef(a), (x) => ~x), 'not');
  });

  it('add, sub and mul on long arrays (the wasm engines chunk these) match the oracle', async () => {
    await setEngine();
    // Around the JS/wasm threshold (1024), one chunk (4096), and several chunks with a tail.
    for (const n of [1023, 1024, 4096, 4097, 3 * 4096 + 5]) {
      const xs = rng.values(n);
      const ys = rng.values(n);
      // Every pair of edge values at the end, where the last (short) chunk is.
      EDGE.forEach((x, i) => EDGE.forEach((y, j) => {
        const at = n - 1 - i * EDGE.length - j;
        if (at >= 0) (xs[at] = x, ys[at] = y);
      }));
      const a = RingTensor.from([n], xs);
      const b = RingTensor.from([n], ys);
      for (const op of ['add', 'sub', 'mul'] as const) {
        expectSame(a[op](b), refBinary(op, toRef(a), toRef(b)), `${op} of ${n}`);
      }
    }
  });

  it('bit planes hold bit k of element i at plane k, bit i, with zeros past the end', async () => {
    await setEngine();
    for (const n of [1, 31, 32, 63, 64, 65, 127, 200]) {
      const t = RingTensor.from([n], [...EDGE, ...rng.values(n)].slice(0, n));
      const m = planeWords(n);
      const planes = bitPlanes(t.data);
      expect(planes.length).toBe(64 * m);
      for (let k = 0; k < 64; k++) {
        for (let i = 0; i < 32 * m; i++) {
          const want = i < n ? Number((BigInt.asUintN(64, t.data[i]!) >> BigInt(k)) & 1n) : 0;
          const got = (planes[k * m + (i >>> 5)]! >>> (i & 31)) & 1;
          if (got !== want) expect.fail(`n=${n}: plane ${k}, element ${i}: ${got} != ${want}`);
        }
      }
    }
  });

  it('elementwise ops broadcast like numpy', async () => {
    await setEngine();
    const cases: [number[], number[]][] = [
      [[3, 5], [5]],
      [[3, 5], [3, 1]],
      [[1, 5], [3, 1]],
      [[2, 3, 4], [3, 1]],
      [[2, 1, 4], [1, 3, 1]],
      [[4], [2, 3, 1]],
      [[1], [7, 3]],
      [[], [2, 3]],
      [[2, 3, 1, 5], [3, 7, 1]],
      [[0, 3], [3]],
    ];
    for (const [sa, sb] of cases) {
      const a = rng.tensor(sa);
      const b = rng.tensor(sb);
      for (const op of OPS) {
        expectSame(a[op](b), refBinary(op, toRef(a), toRef(b)), `${op} [${sa}] with [${sb}]`);
        expectSame(b[op](a), refBinary(op, toRef(b), toRef(a)), `${op} [${sb}] with [${sa}]`);
      }
    }
  });

  it('matmul matches the oracle on odd 2-D shapes', async () => {
    await setEngine();
    const shapes: [number, number, number][] = [
      [1, 1, 1], [1, 1, 7], [3, 5, 2], [7, 13, 9], [2, 3, 6], [5, 4, 12], [4, 17, 13], [6, 1, 5],
      [9, 8, 4], [1, 31, 1], [8, 64, 24], [13, 7, 25], [3, 2, 128],
    ];
    for (const [m, k, n] of shapes) {
      const a = rng.tensor([m, k]);
      const b = rng.tensor([k, n]);
      expectSame(a.matmul(b), refMatmul(toRef(a), toRef(b)), `matmul ${m}x${k} by ${k}x${n}`);
    }
    // All-edge-value operands: the largest magnitudes and every carry pattern of the split halves.
    const e = RingTensor.from([EDGE.length, EDGE.length], EDGE.flatMap((x) => EDGE.map((y) => x * 3n + y)));
    expectSame(e.matmul(e), refMatmul(toRef(e), toRef(e)), 'matmul of edge values');
    const top = RingTensor.full([5, 9], -(2n ** 63n));
    expectSame(top.matmul(top.transpose()), refMatmul(toRef(top), toRef(top.transpose())), 'matmul of -2^63');
  });

  it('matmul follows torch.matmul for 1-D operands and batches', async () => {
    await setEngine();
    const cases: [number[], number[]][] = [
      [[5], [5]],
      [[5], [5, 3]],
      [[4, 5], [5]],
      [[3], [2, 3, 7]],
      [[2, 4, 3], [3]],
      [[2, 4, 3], [3, 5]],
      [[4, 3], [2, 3, 5]],
      [[2, 4, 3], [2, 3, 5]],
      [[2, 1, 3, 4], [5, 4, 7]],
      [[1, 3, 2], [4, 1, 2, 3]],
      [[3, 0, 4], [4, 2]],
      [[2, 3, 0], [0, 5]],
    ];
    for (const [sa, sb] of cases) {
      const a = rng.tensor(sa);
      const b = rng.tensor(sb);
      expectSame(a.matmul(b), refMatmul(toRef(a), toRef(b)), `matmul [${sa}] x [${sb}]`);
    }
  });

  it('sum matches the oracle over all, single, negative and several dims', async () => {
    await setEngine();
    const a = rng.tensor([3, 4, 5, 2]);
    const dimsList: (number[] | undefined)[] = [undefined, [], [0], [1], [3], [-1], [-2], [0, 2], [1, 2], [0, 1, 3], [0, 1, 2, 3], [3, 0]];
    for (const dims of dimsList) {
      for (const keep of [false, true]) {
        expectSame(a.sum(dims, keep), refSum(toRef(a), dims, keep), `sum ${JSON.stringify(dims)} keepDim=${keep}`);
      }
    }
    expectSame(a.sum(2), refSum(toRef(a), [2], false), 'sum(number)');
    // Long enough to cross the wasm chunk size (32K elements) and every SIMD tail.
    const big = rng.tensor([70001]);
    expectSame(big.sum(), refSum(toRef(big), undefined, false), 'sum of 70001 elements');
    expectSame(RingTensor.full([4], 2n ** 62n).sum(), { shape: [], values: [0n] }, 'sum wraps mod 2^64');
    expectSame(RingTensor.full([5], 2n ** 62n).sum(), { shape: [], values: [2n ** 62n] }, 'sum wraps mod 2^64');
  });

  it('shifts match BigInt for every amount, both signs', async () => {
    await setEngine();
    const a = RingTensor.from([EDGE.length + 41], [...EDGE, ...rng.values(41)]);
    for (let bits = 0; bits < 64; bits++) {
      const b = BigInt(bits);
      expectSame(a.shiftRight(bits), refMap(toRef(a), (x) => x >> b), `shiftRight ${bits}`);
      expectSame(a.shiftLeft(bits), refMap(toRef(a), (x) => x << b), `shiftLeft ${bits}`);
      expectSame(
        a.shiftRightLogical(bits),
        refMap(toRef(a), (x) => BigInt.asUintN(64, x) >> b),
        `shiftRightLogical ${bits}`,
      );
    }
  });

  it('divScalar is signed floor division', async () => {
    await setEngine();
    const a = RingTensor.from([EDGE.length + 43], [...EDGE, -7n, 7n, -1999n, 1999n, -2000n, ...rng.values(38)]);
    for (const d of [1n, 2n, 3n, 7n, 10n, 1000n, 1024n, 10n ** 6n, 2n ** 62n, 2n ** 62n + 1n, 2n ** 63n - 1n]) {
      expectSame(a.divScalar(d), refMap(toRef(a), (x) => refFloorDiv(x, d)), `divScalar ${d}`);
    }
    expect(Array.from(RingTensor.from([4], [-7n, 7n, -6n, 6n]).divScalar(2n).data)).toEqual([-4n, 3n, -3n, 3n]);
    expect(Array.from(RingTensor.from([4], [-7n, 7n, -6n, 6n]).divScalar(3n).data)).toEqual([-3n, 2n, -2n, 2n]);
  });

  it('kernels handle arrays larger than the wasm scratch chunk', async () => {
    await setEngine();
    const a = rng.tensor([100003]);
    expectSame(a.shiftRight(13), refMap(toRef(a), (x) => x >> 13n), 'shiftRight big');
    expectSame(a.divScalar(1000n), refMap(toRef(a), (x) => refFloorDiv(x, 1000n)), 'divScalar big');
    const m = rng.tensor([300, 301]);
    const v = rng.tensor([301, 3]);
    expectSame(m.matmul(v), refMatmul(toRef(m), toRef(v)), 'matmul 300x301 by 301x3');
    expect(fromRef(toRef(a)).equals(a)).toBe(true);
  });
});
