// Engine selection: automatic choice, forcing each engine, idempotence, and the wasm builds.
import { describe, expect, it, vi } from 'vitest';
import { StateError } from '../../src/errors.js';
import { RingEngineError, RingTensor, RingValueError, initRing, ringEngine, type RingEngineName } from '../../src/ring/index.js';
import { wasmBase64 as scalarBase64 } from '../../src/ring/generated/ring-scalar.js';
import { wasmBase64 as simdBase64 } from '../../src/ring/generated/ring-simd.js';
import { kernels } from '../../src/ring/engine.js';
import { WasmKernels, decodeBase64 } from '../../src/ring/kernels/wasm-kernels.js';
import { Rng, expectSame, refMatmul, toRef } from './oracle.js';

describe('engine selection', () => {
  it('runs on the js engine before initRing, then picks SIMD on Node 20', async () => {
    // test/setup.ts already ran sy.ready(); a fresh copy of the module shows the state before it.
    vi.resetModules();
    const fresh = await import('../../src/ring/index.js');
    const before = fresh.ringEngine();
    expect(before.engine).toBe('js');
    expect(before.reason).toMatch(/has not run yet/);
    // Works synchronously before any initialisation.
    const product = fresh.RingTensor.from([1, 2], [2n, 3n]).matmul(fresh.RingTensor.from([2, 1], [4n, 5n]));
    expect(Array.from(product.data)).toEqual([23n]);
    const info = await fresh.initRing();
    expect(info.engine).toBe('simd');
    expect(info.simdSupported).toBe(true);
    expect(info.reason).toMatch(/fastest/);
    expect(fresh.ringEngine()).toBe(info);
    expect((await initRing()).engine).toBe('simd');
  });

  it('is idempotent, also under concurrent calls', async () => {
    const first = await initRing();
    const all = await Promise.all([initRing(), initRing(), initRing()]);
    for (const info of all) expect(info).toBe(first);
  });

  it('forces each engine, keeps it for later calls without options, and computes the same results', async () => {
    const rng = new Rng(5);
    const a = rng.tensor([9, 31]);
    const b = rng.tensor([31, 13]);
    const want = refMatmul(toRef(a), toRef(b));
    for (const engine of ['scalar', 'js', 'simd', 'simd'] as RingEngineName[]) {
      const info = await initRing({ engine });
      expect(info.engine).toBe(engine);
      expect(info.reason).toMatch(/forced|fastest/);
      expect((await initRing()).engine).toBe(engine);
      expectSame(a.matmul(b), want, `matmul on ${engine}`);
    }
  });

  it('rejects unknown engines with a typed error', async () => {
    await expect(initRing({ engine: 'gpu' as RingEngineName })).rejects.toThrow(RingValueError);
    await expect(initRing({ engine: 'gpu' as RingEngineName })).rejects.toThrow(/simd, scalar, js/);
    expect(RingEngineError.prototype).toBeInstanceOf(StateError);
    // A failed call leaves the engine as it was.
    expect(ringEngine().engine).toBe('simd');
  });

  it('ships both wasm builds: valid, import-free, SIMD only in the SIMD build', async () => {
    const simd = decodeBase64(simdBase64);
    const scalar = decodeBase64(scalarBase64);
    expect(WebAssembly.validate(simd)).toBe(true);
    expect(WebAssembly.validate(scalar)).toBe(true);
    for (const bytes of [simd, scalar]) {
      const module = await WebAssembly.compile(bytes);
      expect(WebAssembly.Module.imports(module)).toEqual([]);
      expect(WebAssembly.Module.exports(module).map((e) => e.name)).toEqual(
        expect.arrayContaining(['memory', 'matmul', 'matmulScratchBytes', 'shiftRight', 'divFloor', 'sum']),
      );
    }
    // Two different binaries (same exports, different matmul kernels).
    expect(simd.length).not.toBe(scalar.length);
  });

  it('gives wasm memory back after an unusually large product', async () => {
    await initRing({ engine: 'simd' });
    const k = kernels();
    expect(k).toBeInstanceOf(WasmKernels);
    const rows = 5_000_000; // A and C are 40 MB each: more than the 64 MB the engine keeps
    const a = new RingTensor([rows, 1], new BigInt64Array(rows).fill(3n));
    a.data[rows - 1] = -5n;
    const c = a.matmul(RingTensor.from([1, 1], [7n]));
    expect(c.shape).toEqual([rows, 1]);
    expect([c.data[0], c.data[rows - 2], c.data[rows - 1]]).toEqual([21n, 21n, -35n]);
    expect((k as WasmKernels).memoryBytes).toBeLessThanOrEqual(64 * 1024 ** 2);
    // The fresh instance still computes correctly.
    const rng = new Rng(9);
    const x = rng.tensor([5, 7]);
    const y = rng.tensor([7, 3]);
    expectSame(x.matmul(y), refMatmul(toRef(x), toRef(y)), 'matmul after release');
  });

  it('falls back to scalar wasm, then to js, when a faster build is rejected', async () => {
    const broken = { wasmBase64: btoa('not a wasm module') };
    try {
      vi.resetModules();
      vi.doMock('../../src/ring/generated/ring-simd.js', () => broken);
      const noSimd = await import('../../src/ring/index.js');
      const info = await noSimd.initRing();
      expect(info.engine).toBe('scalar');
      expect(info.simdSupported).toBe(false);
      expect(info.reason).toMatch(/simd: WebAssembly.validate rejects the simd build/);
      await expect(noSimd.initRing({ engine: 'simd' })).rejects.toThrow(/the simd engine cannot run here/);
      expect(noSimd.ringEngine().engine).toBe('scalar');

      vi.resetModules();
      vi.doMock('../../src/ring/generated/ring-scalar.js', () => broken);
      const noWasm = await import('../../src/ring/index.js');
      const fallback = await noWasm.initRing();
      expect(fallback.engine).toBe('js');
      expect(fallback.reason).toMatch(/simd: .*; scalar: /);
      const t = noWasm.RingTensor.from([2, 2], [1n, 2n, 3n, 4n]);
      expect(Array.from(t.matmul(t).data)).toEqual([7n, 10n, 15n, 22n]);
    } finally {
      vi.doUnmock('../../src/ring/generated/ring-simd.js');
      vi.doUnmock('../../src/ring/generated/ring-scalar.js');
      vi.resetModules();
    }
  });
});
