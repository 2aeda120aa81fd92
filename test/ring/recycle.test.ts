// Recycled ring buffers (src/ring/recycle.ts): what is given back is handed out again, views and
// small or shared arrays are not kept, the pool is capped, and private products that draw into
// recycled buffers stay correct when they run back to back.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { RingTensor } from '../../src/ring/index.js';
import { recycle, recycledBytes, takeRing } from '../../src/ring/recycle.js';

describe('recycled ring buffers', () => {
  test('a recycled buffer is taken again; views, small and shared arrays are not kept', () => {
    const t = RingTensor.from([8192], new BigInt64Array(8192));
    const before = recycledBytes();
    recycle(t, t); // twice: kept once
    expect(recycledBytes()).toBe(before + 8192 * 8);
    expect(takeRing(8192)).toBe(t.data);
    expect(recycledBytes()).toBe(before);
    const big = new BigInt64Array(16384);
    recycle(RingTensor.from([8192], big.subarray(0, 8192)), RingTensor.from([8], new BigInt64Array(8)));
    recycle(RingTensor.from([8192], new BigInt64Array(new SharedArrayBuffer(8192 * 8))));
    expect(recycledBytes()).toBe(before);
    expect(takeRing(8192)).not.toBe(big.subarray(0, 8192));
  });

  test('at most four buffers of one length are kept', () => {
    const before = recycledBytes();
    const ts = Array.from({ length: 6 }, () => RingTensor.from([5000], new BigInt64Array(5000)));
    recycle(...ts);
    expect(recycledBytes() - before).toBe(4 * 5000 * 8);
    for (let i = 0; i < 4; i++) takeRing(5000);
    expect(recycledBytes()).toBe(before);
  });

  test('private matmuls back to back, with the dealer and the parties reusing buffers, stay correct', async () => {
    const [p0, p1, dealer] = ['rc-p0', 'rc-p1', 'rc-dealer'].map((id) => new sy.VirtualWorker({ id }));
    const a = sy.randn([64, 100]);
    const b = sy.randn([100, 90]).mul(0.1);
    const want = a.matmul(b).arraySync() as number[][];
    const share = (t: sy.Tensor) => t.fixPrecision().share(p0!, p1!, { cryptoProvider: dealer! });
    const A = share(a);
    const B = share(b);
    for (let i = 0; i < 4; i++) {
      const got = (await A.matmul(B).get()).floatPrecision().arraySync() as number[][];
      got.forEach((row, r) => row.forEach((v, c) => expect(Math.abs(v - want[r]![c]!)).toBeLessThan(0.02)));
      if (i === 0) expect(recycledBytes()).toBeGreaterThan(0);
    }
  });
});
