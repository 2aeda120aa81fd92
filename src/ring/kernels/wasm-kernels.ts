// The WebAssembly engines (SIMD and scalar builds of src/ring/assembly).
//
// Tensors never live in wasm memory: nothing would free them. Each call copies its operands into
// the module's memory (scratch, grown on demand), runs, and copies the result into an ordinary
// BigInt64Array the caller owns. Elementwise kernels work in chunks that fit in the
// L2 cache, so the copy in, the work and the copy out all hit cache.
import { binaryFlat } from './elementwise.js';
import { jsKernels } from './js-kernels.js';
import type { MatmulPool } from './matmul-pool.js';
import type { ArithOp, RingEngineName, RingKernels } from './types.js';

/** What the generated modules export (see src/ring/assembly/simd.ts and scalar.ts). */
interface KernelExports {
  memory: WebAssembly.Memory;
  scratchBase(): number;
  add(a: number, b: number, out: number, n: number): void;
  sub(a: number, b: number, out: number, n: number): void;
  mul(a: number, b: number, out: number, n: number): void;
  shiftRight(a: number, out: number, n: number, bits: number): void;
  shiftRightLogical(a: number, out: number, n: number, bits: number): void;
  shiftLeft(a: number, out: number, n: number, bits: number): void;
  divFloor(a: number, out: number, n: number, d: bigint): void;
  sum(a: number, n: number): bigint;
  bitPlanes(src: number, n: number, out: number, m: number): void;
  matmul(a: number, b: number, c: number, m: number, k: number, n: number, scratch: number): void;
  matmulScratchBytes(m: number, k: number, n: number): number;
}

const EXPECTED_EXPORTS: readonly (keyof KernelExports)[] = [
  'memory', 'scratchBase', 'add', 'sub', 'mul', 'shiftRight', 'shiftRightLogical', 'shiftLeft',
  'divFloor', 'sum', 'bitPlanes', 'matmul', 'matmulScratchBytes',
];

// 32K elements = 256 KiB per operand: in, out and work stay inside a 1 MiB+ L2.
const CHUNK = 32 * 1024;
// Add/sub/mul stream three arrays at once; 4K elements (32 KiB each) measured as fast as any
// size from 2K to 16K, and the smaller chunk leaves L2 to the caller's own data.
const EW_CHUNK = 4096;
// Shorter arrays take the JS loop (see binary()).
const EW_MIN = 1024;
const PAGE = 65536;
// wasm32 addresses 4 GiB; keep a margin below it.
const MAX_MEMORY = 4 * 1024 ** 3 - 16 * PAGE;
// Enough for every operation of a typical model (e.g. 64x784 by 784x128 needs ~2 MB), so the
// instance is only replaced after rare, very large products.
const KEEP_MEMORY = 64 * 1024 ** 2;

export function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Kernels backed by one instantiated wasm module. */
export class WasmKernels implements RingKernels {
  private x!: KernelExports;
  private base = 0;
  private view!: BigInt64Array;
  /** Threads that take large products over (set by initRing; SIMD engine in Node only). */
  pool: MatmulPool | undefined;

  private constructor(
    readonly engine: RingEngineName,
    private readonly module: WebAssembly.Module,
    instance: WebAssembly.Instance,
  ) {
    this.adopt(instance);
  }

  static async instantiate(engine: RingEngineName, bytes: Uint8Array<ArrayBuffer>): Promise<WasmKernels> {
    const module = await WebAssembly.compile(bytes);
    return new WasmKernels(engine, module, await WebAssembly.instantiate(module, {}));
  }

  /** Bytes of wasm memory held now (grows with the largest operation, see releaseIfLarge). */
  get memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  private adopt(instance: WebAssembly.Instance): void {
    const exports = instance.exports as Record<string, unknown>;
    for (const name of EXPECTED_EXPORTS) {
      if (!(name in exports)) throw new Error(`wasm module lacks the export '${name}'; rebuild with npm run build:wasm`);
    }
    this.x = exports as unknown as KernelExports;
    this.base = this.x.scratchBase();
    this.view = new BigInt64Array(this.x.memory.buffer);
  }

  /**
   * Makes `bytes` of scratch available from `base` and returns the i64 view, or undefined when
   * wasm memory cannot grow that far (the caller then runs the JavaScript kernel).
   */
  private reserve(bytes: number): BigInt64Array | undefined {
    const need = this.base + bytes;
    const have = this.x.memory.buffer.byteLength;
    if (need > MAX_MEMORY) return undefined;
    if (need > have) {
      try {
        this.x.memory.grow(Math.ceil((need - have) / PAGE));
      } catch {
        return undefined;
      }
    }
    // Growing detaches the old ArrayBuffer, so views are refreshed lazily here.
    if (this.view.buffer !== this.x.memory.buffer) this.view = new BigInt64Array(this.x.memory.buffer);
    return this.view;
  }

  /** Scratch for one elementwise chunk (at most 512 KiB, so only a full heap can refuse it). */
  private chunkScratch(bytes: number): BigInt64Array {
    const mem = this.reserve(bytes);
    if (mem === undefined) throw new RangeError(`cannot grow WebAssembly memory by ${bytes} bytes: out of memory`);
    return mem;
  }

  /**
   * Wasm memory never shrinks, so after an unusually large operation this swaps in a fresh
   * instance (V8 shares the compiled code) and lets the old memory be collected. Synchronous
   * instantiation is fine for a module this small; where a runtime refuses it, keep the memory.
   */
  private releaseIfLarge(): void {
    if (this.x.memory.buffer.byteLength <= KEEP_MEMORY) return;
    try {
      this.adopt(new WebAssembly.Instance(this.module, {}));
    } catch {
      // Keep the current instance: correct, just larger than we would like.
    }
  }

  matmul(
    a: BigInt64Array,
    b: BigInt64Array,
    out: BigInt64Array,
    m: number,
    k: number,
    n: number,
    aOffsets: readonly number[],
    bOffsets: readonly number[],
  ): void {
    if (this.pool?.matmul(a, b, out, m, k, n, aOffsets, bOffsets)) return;
    // Layout: [A (all batches)] [B (all batches)] [C (one product)] [kernel scratch]
    const pa = this.base;
    const pb = pa + a.length * 8;
    const pc = pb + b.length * 8;
    const ps = pc + m * n * 8;
    const scratchBytes = this.x.matmulScratchBytes(m, k, n);
    const mem = this.reserve(ps - this.base + scratchBytes);
    if (mem === undefined) {
      jsKernels.matmul(a, b, out, m, k, n, aOffsets, bOffsets);
      return;
    }
    mem.set(a, pa / 8);
    mem.set(b, pb / 8);
    const size = m * n;
    for (let p = 0; p < aOffsets.length; p++) {
      this.x.matmul(pa + aOffsets[p] * 8, pb + bOffsets[p] * 8, pc, m, k, n, ps);
      out.set(mem.subarray(pc / 8, pc / 8 + size), p * size);
    }
    this.releaseIfLarge();
  }

  matmulAsync(a: BigInt64Array, b: BigInt64Array, out: BigInt64Array, m: number, k: number, n: number): Promise<void> {
    // Should a helper fail, the product is recomputed here from the pool's copies of A and B.
    const started = this.pool?.matmulAsync(a, b, out, m, k, n, (ca, cb) => this.matmul(ca, cb, out, m, k, n, [0], [0]));
    if (started !== undefined) return started;
    this.matmul(a, b, out, m, k, n, [0], [0]);
    return Promise.resolve();
  }

  /** Runs an in-place elementwise kernel over `a` chunk by chunk, writing `out`. */
  private unary(a: BigInt64Array, out: BigInt64Array, run: (ptr: number, n: number) => void): void {
    const mem = this.chunkScratch(Math.min(a.length, CHUNK) * 8);
    const at = this.base / 8;
    for (let off = 0; off < a.length; off += CHUNK) {
      const len = Math.min(CHUNK, a.length - off);
      mem.set(a.subarray(off, off + len), at);
      run(this.base, len);
      out.set(mem.subarray(at, at + len), off);
    }
  }

  shiftRight(a: BigInt64Array, out: BigInt64Array, bits: number): void {
    this.unary(a, out, (p, n) => this.x.shiftRight(p, p, n, bits));
  }

  shiftRightLogical(a: BigInt64Array, out: BigInt64Array, bits: number): void {
    this.unary(a, out, (p, n) => this.x.shiftRightLogical(p, p, n, bits));
  }

  shiftLeft(a: BigInt64Array, out: BigInt64Array, bits: number): void {
    this.unary(a, out, (p, n) => this.x.shiftLeft(p, p, n, bits));
  }

  divFloor(a: BigInt64Array, out: BigInt64Array, d: bigint): void {
    this.unary(a, out, (p, n) => this.x.divFloor(p, p, n, d));
  }

  sum(a: BigInt64Array): bigint {
    const mem = this.chunkScratch(Math.min(a.length, CHUNK) * 8);
    const at = this.base / 8;
    let s = 0n;
    for (let off = 0; off < a.length; off += CHUNK) {
      const len = Math.min(CHUNK, a.length - off);
      mem.set(a.subarray(off, off + len), at);
      s += this.x.sum(this.base, len);
    }
    return BigInt.asIntN(64, s);
  }

  bitPlanes(words: BigInt64Array, out: Uint32Array): void {
    // Layout: [words (transposed in place, 64-word blocks)] [planes]
    const n = words.length;
    const blockBytes = Math.ceil(n / 64) * 512;
    const mem = this.reserve(blockBytes + out.length * 4);
    if (mem === undefined) return jsKernels.bitPlanes(words, out);
    const src = this.base;
    const dst = src + blockBytes;
    mem.set(words, src / 8);
    this.x.bitPlanes(src, n, dst, out.length / 64);
    out.set(new Uint32Array(this.x.memory.buffer, dst, out.length));
    this.releaseIfLarge();
  }

  /**
   * out = a op b through wasm, in chunks of EW_CHUNK so the copies in and out stay in L1/L2.
   * Short arrays take the JS loop: below EW_MIN the copies' fixed costs outweigh the gain.
   */
  binary(op: ArithOp, a: BigInt64Array, b: BigInt64Array, out: BigInt64Array): void {
    if (a.length < EW_MIN) return binaryFlat(op, a, b, out);
    const chunk = Math.min(a.length, EW_CHUNK);
    const mem = this.chunkScratch(chunk * 16);
    const pa = this.base;
    const pb = pa + chunk * 8;
    const ia = pa / 8;
    const ib = pb / 8;
    const kernel = this.x[op];
    for (let off = 0; off < a.length; off += chunk) {
      const len = Math.min(chunk, a.length - off);
      mem.set(a.subarray(off, off + len), ia);
      mem.set(b.subarray(off, off + len), ib);
      kernel(pa, pb, pa, len);
      out.set(mem.subarray(ia, ia + len), off);
    }
  }
}
