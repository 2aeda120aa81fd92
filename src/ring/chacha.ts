// The ChaCha20 keystream (RFC 8439 block function, 64-bit block counter) for the seeded PRG where
// node:crypto is missing: a WebAssembly kernel (src/ring/assembly/chacha-*.ts, SIMD or scalar)
// checked against a plain JavaScript one before use, and that JavaScript one as the fallback.
import { wasmBase64 as scalarBase64 } from './generated/ring-chacha-scalar.js';
import { wasmBase64 as simdBase64 } from './generated/ring-chacha-simd.js';

/** Which code computes the keystream outside Node. */
export type ChaChaEngine = 'simd' | 'scalar' | 'js';

/** Writes keystream blocks `block`, `block + 1`, ... of a 32-byte key into `out` (any length). */
export interface ChaChaKernel {
  readonly engine: ChaChaEngine;
  fill(key: Uint8Array, block: number, out: Uint8Array): void;
}

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] as const;
const TWO32 = 2 ** 32;

function quarter(x: Uint32Array, a: number, b: number, c: number, d: number): void {
  let t: number;
  x[a] = (x[a]! + x[b]!) | 0;
  t = x[d]! ^ x[a]!;
  x[d] = (t << 16) | (t >>> 16);
  x[c] = (x[c]! + x[d]!) | 0;
  t = x[b]! ^ x[c]!;
  x[b] = (t << 12) | (t >>> 20);
  x[a] = (x[a]! + x[b]!) | 0;
  t = x[d]! ^ x[a]!;
  x[d] = (t << 8) | (t >>> 24);
  x[c] = (x[c]! + x[d]!) | 0;
  t = x[b]! ^ x[c]!;
  x[b] = (t << 7) | (t >>> 25);
}

/** The plain JavaScript kernel: the fallback without WebAssembly, and the reference the wasm builds are checked against. */
export const jsChaCha: ChaChaKernel = {
  engine: 'js',
  fill(key, block, out) {
    const kv = new DataView(key.buffer, key.byteOffset, 32);
    const input = new Uint32Array(16);
    input.set(SIGMA);
    for (let i = 0; i < 8; i++) input[4 + i] = kv.getUint32(4 * i, true);
    const x = new Uint32Array(16);
    const ov = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const word = new Uint8Array(4);
    const wv = new DataView(word.buffer);
    for (let off = 0, b = block; off < out.length; off += 64, b++) {
      input[12] = b % TWO32;
      input[13] = Math.floor(b / TWO32);
      x.set(input);
      for (let r = 0; r < 10; r++) {
        quarter(x, 0, 4, 8, 12);
        quarter(x, 1, 5, 9, 13);
        quarter(x, 2, 6, 10, 14);
        quarter(x, 3, 7, 11, 15);
        quarter(x, 0, 5, 10, 15);
        quarter(x, 1, 6, 11, 12);
        quarter(x, 2, 7, 8, 13);
        quarter(x, 3, 4, 9, 14);
      }
      for (let i = 0; i < 16; i++) {
        const v = (x[i]! + input[i]!) >>> 0;
        const at = off + 4 * i;
        if (at + 4 <= out.length) {
          ov.setUint32(at, v, true);
        } else if (at < out.length) {
          wv.setUint32(0, v, true);
          out.set(word.subarray(0, out.length - at), at);
        }
      }
    }
  },
};

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  readonly KEY: WebAssembly.Global;
  readonly OUT: WebAssembly.Global;
  readonly MAX_BLOCKS: WebAssembly.Global;
  readonly MEMORY_BYTES: WebAssembly.Global;
  keystream(lo: number, hi: number, blocks: number): void;
}

/** One instantiated wasm build. @internal (exported for tests) */
export class WasmChaCha implements ChaChaKernel {
  private readonly x: KernelExports;
  private readonly mem: Uint8Array;
  private readonly keyAt: number;
  private readonly outAt: number;
  private readonly chunk: number;

  constructor(
    readonly engine: 'simd' | 'scalar',
    bytes: Uint8Array<ArrayBuffer>,
  ) {
    if (bytes.length === 0) throw new Error(`the ${engine} ChaCha20 kernel was not built (run npm run build:wasm)`);
    if (!WebAssembly.validate(bytes)) {
      throw new Error(`WebAssembly.validate rejects the ${engine} ChaCha20 kernel${engine === 'simd' ? ' (no wasm SIMD support)' : ''}`);
    }
    // Small module (a few KB): synchronous compilation is allowed on a browser's main thread.
    this.x = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as KernelExports;
    if (this.x.memory.buffer.byteLength < Number(this.x.MEMORY_BYTES.value)) throw new Error('the ChaCha20 kernel memory is smaller than its layout');
    this.mem = new Uint8Array(this.x.memory.buffer);
    this.keyAt = Number(this.x.KEY.value);
    this.outAt = Number(this.x.OUT.value);
    this.chunk = Number(this.x.MAX_BLOCKS.value) * 64;
  }

  /**
   * Runs the kernel on `calls` full chunks whose output is thrown away, so that the engine has
   * compiled it with its optimizing tier before the first real draw (V8 starts wasm on its
   * baseline compiler and tiers a function up once it has run enough). Leaves no state behind:
   * every fill writes its key and overwrites what it copies.
   */
  warm(calls: number): void {
    const blocks = this.chunk / 64;
    for (let i = 0; i < calls; i++) this.x.keystream(i * blocks, 0, blocks);
  }

  fill(key: Uint8Array, block: number, out: Uint8Array): void {
    this.mem.set(key.subarray(0, 32), this.keyAt);
    for (let off = 0, b = block; off < out.length; off += this.chunk) {
      const len = Math.min(this.chunk, out.length - off);
      const blocks = Math.ceil(len / 64);
      this.x.keystream(b % TWO32, Math.floor(b / TWO32), blocks);
      out.set(this.mem.subarray(this.outAt, this.outAt + len), off);
      b += blocks;
    }
  }
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Instantiates a wasm build without the self-check. @internal (exported for tests) */
export function loadChaChaKernel(engine: 'simd' | 'scalar'): WasmChaCha {
  return new WasmChaCha(engine, decodeBase64(engine === 'simd' ? simdBase64 : scalarBase64));
}

/**
 * Compares a kernel with {@link jsChaCha} on fixed keys: lengths that leave SIMD tails and
 * partial blocks, a span over one wasm call's chunk, and a block counter whose low word wraps.
 * Returns the first mismatch, or undefined. @internal (exported for tests)
 */
export function selfCheck(kernel: ChaChaKernel): string | undefined {
  const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 73 + 5) & 0xff);
  const cases: Array<[number, number]> = [[0, 64], [7, 200], [TWO32 - 3, 8 * 64 + 9], [5 * TWO32 + 1, 64 * 4097 + 3]];
  for (const [block, n] of cases) {
    const want = new Uint8Array(n);
    const got = new Uint8Array(n);
    jsChaCha.fill(key, block, want);
    kernel.fill(key, block, got);
    const at = want.findIndex((v, i) => v !== got[i]);
    if (at >= 0) return `block ${block}, ${n} bytes: byte ${at} differs`;
  }
  return undefined;
}

let best: ChaChaKernel | undefined;
let why = '';

/** The fastest kernel that runs here and passes {@link selfCheck} (SIMD wasm, scalar wasm, else JavaScript); cached. */
export function chachaKernel(): ChaChaKernel {
  if (best !== undefined) return best;
  const failures: string[] = [];
  if (typeof WebAssembly !== 'undefined') {
    for (const engine of ['simd', 'scalar'] as const) {
      try {
        const k = loadChaChaKernel(engine);
        const mismatch = selfCheck(k);
        if (mismatch === undefined) {
          best = k;
          break;
        }
        failures.push(`${engine}: self-check failed (${mismatch})`);
      } catch (e) {
        failures.push(`${engine}: ${(e as Error).message}`);
      }
    }
  } else {
    failures.push('no WebAssembly');
  }
  best ??= jsChaCha;
  why = failures.join('; ');
  if (best === jsChaCha) {
    (globalThis as { console?: { warn?(m: string): void } }).console?.warn?.(
      `syft-ts: the seeded PRG runs on plain JavaScript ChaCha20 (slower): ${why}`,
    );
  }
  return best;
}

/** Why {@link chachaKernel} passed over faster kernels ('' when it took the first). */
export function chachaKernelReason(): string {
  chachaKernel();
  return why;
}
