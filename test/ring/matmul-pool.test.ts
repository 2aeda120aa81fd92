// The matmul thread pool: split products equal the single-threaded ones and the oracle, for row
// and column splits and loop tails; asynchronous products queue, overlap this thread's work and
// finish in order; a dead helper falls back to one thread; options are checked; a process with a
// pool exits on its own.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RingTensor, RingValueError, initRing, ringEngine } from '../../src/ring/index.js';
import { kernels } from '../../src/ring/engine.js';
import { POOL_MIN_WORK, type MatmulPool } from '../../src/ring/kernels/matmul-pool.js';
import { WasmKernels } from '../../src/ring/kernels/wasm-kernels.js';
import { Rng, expectSame, refMatmul, toRef } from './oracle.js';

function pool(): MatmulPool {
  const k = kernels();
  if (!(k instanceof WasmKernels) || k.pool === undefined) throw new Error('no pool is running');
  return k.pool;
}

/** The same product on this thread alone (the pool detached for one call). */
function single(a: RingTensor, b: RingTensor): RingTensor {
  const k = kernels() as WasmKernels;
  const p = k.pool;
  k.pool = undefined;
  try {
    return a.matmul(b);
  } finally {
    k.pool = p;
  }
}

/**
 * The message of the next process warning. Node's own printing of warnings is off meanwhile: the
 * test asserts the warning it provokes, so it need not also appear in the suite's output.
 */
function nextWarning(): Promise<string> {
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  return new Promise<string>((resolve) =>
    process.once('warning', (w) => {
      for (const l of printers) process.on('warning', l);
      resolve(w.message);
    }),
  );
}

describe('matmul pool', () => {
  afterAll(async () => {
    await initRing({ engine: 'simd', threads: 1 });
  });

  it('starts on request and reports its threads', async () => {
    const info = await initRing({ engine: 'simd', threads: 2 });
    expect(info.threads).toBe(2);
    expect(ringEngine().threads).toBe(2);
    expect(pool().alive).toBe(true);
    expect((await initRing({ threads: 1 })).threads).toBe(1);
    expect((kernels() as WasmKernels).pool).toBeUndefined();
    expect((await initRing({ threads: 3 })).threads).toBe(3);
  });

  it('splits large products by columns and by rows, with the single-thread results', async () => {
    await initRing({ engine: 'simd', threads: 3 });
    const rng = new Rng(11);
    // [m, k, n]: columns (n >= m) with a partial panel, rows (n < m), and both with odd tails.
    for (const [m, k, n] of [[64, 784, 128], [63, 500, 127], [784, 64, 128], [1001, 70, 31]] as const) {
      expect(m * k * n).toBeGreaterThanOrEqual(POOL_MIN_WORK);
      const a = rng.tensor([m, k]);
      const b = rng.tensor([k, n]);
      expectSame(a.matmul(b), toRef(single(a, b)), `pool matmul ${m}x${k} by ${k}x${n}`);
    }
    // Batched and broadcast operands go product by product.
    const a = rng.tensor([2, 70, 300]);
    const b = rng.tensor([300, 110]);
    expectSame(a.matmul(b), toRef(single(a, b)), 'batched pool matmul');
  });

  it('matches the BigInt oracle on small odd shapes when forced to split them', async () => {
    await initRing({ engine: 'simd', threads: 2 });
    const p = pool();
    p.minWork = 0;
    try {
      const rng = new Rng(12);
      for (const [m, k, n] of [[2, 1, 1], [3, 5, 7], [9, 13, 25], [5, 3, 13], [17, 9, 40]] as const) {
        const a = rng.tensor([m, k]);
        const b = rng.tensor([k, n]);
        expectSame(a.matmul(b), refMatmul(toRef(a), toRef(b)), `split ${m}x${k} by ${k}x${n}`);
      }
      const e = RingTensor.from([4, 4], [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 32n, -(2n ** 32n), 3n, 5n, 7n, -9n, 11n, 13n, 2n ** 62n, 1n, 0n]);
      expectSame(e.matmul(e), refMatmul(toRef(e), toRef(e)), 'split matmul of edge values');
    } finally {
      p.minWork = POOL_MIN_WORK;
    }
  });

  it('wakes the caller when the helpers finish, instead of leaving it to sleep out its slice', async () => {
    await initRing({ engine: 'simd', threads: 2 });
    const p = pool();
    // The caller sleeps at once instead of polling, in slices of a second: every sleep must end
    // by a helper's wake-up (no block of these products takes anywhere near a second).
    p.spinMs = 0;
    p.sliceMs = 1000;
    const before = { ...p.stats };
    try {
      const rng = new Rng(14);
      const pairs = [[rng.tensor([64, 784]), rng.tensor([784, 128])], [rng.tensor([784, 64]), rng.tensor([64, 128])]] as const;
      for (let i = 0; i < 20; i++) {
        const [a, b] = pairs[i % 2]!;
        expectSame(a.matmul(b), toRef(single(a, b)), `product ${i}`);
      }
      expect(p.alive).toBe(true);
      expect(p.stats.timedOut - before.timedOut).toBe(0);
    } finally {
      p.spinMs = 2;
      p.sliceMs = 1;
    }
  });

  it('runs asynchronous products on the helpers while this thread goes on', async () => {
    await initRing({ engine: 'simd', threads: 2 });
    const p = pool();
    const rng = new Rng(15);
    const a = rng.tensor([64, 784]);
    const b = rng.tensor([784, 128]);
    const want = toRef(single(a, b));
    const pending = a.matmulAsync(b);
    // Queued, not finished: this thread returned at once and the helper has the blocks.
    expect(p.pending).toBe(1);
    // Operands are copied when the product starts, so changing them now changes nothing.
    const aBefore = a.data.slice();
    a.data.fill(7n);
    b.data.fill(-3n);
    expectSame(await pending, want, 'async product');
    expect(p.pending).toBe(0);
    a.data.set(aBefore);
  });

  it('finishes many queued products in order, with sync products among them', async () => {
    await initRing({ engine: 'simd', threads: 2 });
    const p = pool();
    const rng = new Rng(16);
    // More products than the queue has slots (32), so slots are reused while helpers run late.
    const shapes = [[64, 784, 128], [784, 64, 128], [63, 500, 127], [100, 300, 90]] as const;
    const pairs = Array.from({ length: 40 }, (_, i) => {
      const [m, k, n] = shapes[i % shapes.length]!;
      return [rng.tensor([m, k]), rng.tensor([k, n])] as const;
    });
    const wants = pairs.map(([a, b]) => toRef(single(a, b)));
    const results: Promise<RingTensor>[] = [];
    for (let i = 0; i < pairs.length; i++) {
      const [a, b] = pairs[i]!;
      results.push(a.matmulAsync(b));
      // A synchronous product meanwhile finishes what is queued before it, then itself.
      if (i === 35 || i === 38) expectSame(a.matmul(b), wants[i]!, `sync product ${i} among async ones`);
    }
    const got = await Promise.all(results);
    got.forEach((t, i) => expectSame(t, wants[i]!, `async product ${i}`));
    expect(p.pending).toBe(0);
    expect(p.alive).toBe(true);
  });

  it('makes room by finishing queued products when the shared memory is full', async () => {
    await initRing({ engine: 'simd', threads: 2 });
    const p = pool();
    // Each product copies a 32 MiB left operand into the 128 MiB shared memory: the fourth
    // cannot fit beside three queued ones.
    const rng = new Rng(17);
    const a = RingTensor.from([2048, 2048], new BigInt64Array(2048 * 2048).map((_, i) => BigInt(i % 1001) - 500n));
    const bs = Array.from({ length: 5 }, () => rng.tensor([2048, 2]));
    const results = bs.map((b) => a.matmulAsync(b));
    expect(p.pending).toBeLessThan(5);
    const got = await Promise.all(results);
    bs.forEach((b, i) => expectSame(got[i]!, toRef(single(a, b)), `large async product ${i}`));
    expect(p.alive).toBe(true);
  });

  it('computes the products queued when the pool fails on this thread, from its copies', async () => {
    await initRing({ engine: 'simd', threads: 2 });
    const p = pool();
    const rng = new Rng(18);
    const pairs = Array.from({ length: 3 }, () => [rng.tensor([64, 784]), rng.tensor([784, 128])] as const);
    const wants = pairs.map(([a, b]) => toRef(single(a, b)));
    const warned = nextWarning();
    const results = pairs.map(([a, b]) => a.matmulAsync(b));
    // The callers reuse their operands at once; then the pool fails (as on a helper's trap)
    // before this thread joins in, so every queued product must come from the pool's copies.
    for (const [a, b] of pairs) {
      a.data.fill(0n);
      b.data.fill(0n);
    }
    (p as unknown as { fail(why: string): false }).fail('a test stopped it');
    expect(p.alive).toBe(false);
    const got = await Promise.all(results);
    got.forEach((t, i) => expectSame(t, wants[i]!, `product ${i} queued when the pool failed`));
    expect(await warned).toMatch(/pool retired \(a test stopped it\)/);
    expect(p.pending).toBe(0);
    await initRing({ threads: 2 });
  });

  it('falls back to one thread when a helper dies, and keeps computing correctly', async () => {
    await initRing({ engine: 'simd', threads: 2 });
    const p = pool();
    const rng = new Rng(13);
    const a = rng.tensor([64, 400]);
    const b = rng.tensor([400, 100]);
    const want = toRef(single(a, b));
    const warned = nextWarning();
    // A helper that goes away (here: terminated from outside) retires the pool.
    await (p as unknown as { helpers: { terminate(): Promise<number> }[] }).helpers[0]!.terminate();
    await new Promise((r) => setTimeout(r, 50));
    expect(p.alive).toBe(false);
    expect(await warned).toMatch(/pool retired .*exited/);
    expectSame(a.matmul(b), want, 'after the helper died');
    // initRing starts a fresh pool when asked again.
    expect((await initRing({ threads: 2 })).threads).toBe(2);
    expect(pool().alive).toBe(true);
    expectSame(a.matmul(b), want, 'with a fresh pool');
  });

  it('rejects bad thread counts with a typed error', async () => {
    for (const bad of [0, -1, 1.5, 65, Number.NaN]) {
      await expect(initRing({ threads: bad })).rejects.toThrow(RingValueError);
    }
    await expect(initRing({ threads: 0 })).rejects.toThrow(/threads must be an integer from 1 to 64/);
  });

  it('runs no pool in the scalar and js engines', async () => {
    expect((await initRing({ engine: 'scalar', threads: 2 })).threads).toBe(1);
    expect((await initRing({ engine: 'js', threads: 2 })).threads).toBe(1);
    expect((await initRing({ engine: 'simd', threads: 2 })).threads).toBe(2);
  });

  it('lets a process with a pool exit by itself, and reads SYFT_RING_THREADS', () => {
    const script = [
      "import { initRing, randomRing } from './src/ring/index.ts';",
      'const info = await initRing();',
      'randomRing([64, 784]).matmul(randomRing([784, 128]));',
      'console.log(info.threads);',
    ].join('\n');
    const run = (env: Record<string, string>) =>
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: join(import.meta.dirname, '..', '..'),
        encoding: 'utf8',
        timeout: 60_000,
        // the child's stderr goes into the error thrown (its message), not to the suite's output
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      }).trim();
    expect(run({ SYFT_RING_THREADS: '2' })).toBe('2');
    expect(run({ SYFT_RING_THREADS: '1' })).toBe('1');
    expect(() => run({ SYFT_RING_THREADS: 'many' })).toThrow(/SYFT_RING_THREADS must be an integer/);
  });
});
