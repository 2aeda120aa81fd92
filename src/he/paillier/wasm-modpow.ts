/**
 * The WebAssembly modular-exponentiation kernel (src/he/paillier/assembly): loading, a self-check
 * against the BigInt reference, and moving numbers in and out of its memory.
 *
 * The kernel bytes are embedded (src/he/paillier/generated, base64), so loading is synchronous
 * and needs no file path: `new WebAssembly.Module` on first use, the SIMD build when the runtime
 * validates it, else the scalar build, else none (then {@link modPow} stays on BigInt). Each
 * thread loads its own instance.
 *
 * Numbers cross the boundary as little-endian 64-bit words through a BigUint64Array view, cut with
 * BigInt shifts (measured faster than hex strings both ways: bench/paillier.bench.ts).
 */
import { wasmBase64 as scalarBase64 } from './generated/modpow-scalar.js';
import { wasmBase64 as simdBase64 } from './generated/modpow-simd.js';
import { ValueError } from '../../errors.js';
import { modPowBigint } from './modpow-bigint.js';

/** Which arithmetic {@link modPow} uses: a wasm build, or BigInt when no build can run. */
export type ModPowEngine = 'simd' | 'scalar' | 'bigint';

/** What {@link modPowEngine} reports. */
export interface ModPowEngineInfo {
  readonly engine: ModPowEngine;
  /** Why this engine was chosen (or why the wasm builds were not). */
  readonly reason: string;
  /** Largest modulus the kernel takes, in bits (0 for BigInt). */
  readonly maxModulusBits: number;
}

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  readonly IN_N: WebAssembly.Global;
  readonly IN_R2: WebAssembly.Global;
  readonly IN_BASE: WebAssembly.Global;
  readonly IN_EXP: WebAssembly.Global;
  readonly OUT: WebAssembly.Global;
  readonly MAX_EXP_WORDS: WebAssembly.Global;
  readonly MEMORY_BYTES: WebAssembly.Global;
  modpow(nWords: number, eWords: number): number;
  montgomeryBits(bits: number): number;
  maxModulusBits(): number;
}

const MASK64 = (1n << 64n) - 1n;

/** Per-modulus constants: the modulus and R² mod N as 64-bit words, ready to copy in. */
export interface MontgomeryConstants {
  readonly modulus: bigint;
  /** 64-bit words of the modulus (and of every operand and result). */
  readonly words: number;
  readonly n: BigUint64Array;
  readonly r2: BigUint64Array;
}

/** One instantiated build of the kernel. @internal (exported for tests) */
export class ModPowKernel {
  private readonly x: KernelExports;
  private readonly u64: BigUint64Array;
  private readonly inN: number;
  private readonly inR2: number;
  private readonly inBase: number;
  private readonly inExp: number;
  private readonly out: number;
  /** Largest modulus, in bits. */
  readonly maxModulusBits: number;
  /** Largest exponent, in bits. */
  readonly maxExponentBits: number;

  private constructor(
    readonly engine: 'simd' | 'scalar',
    instance: WebAssembly.Instance,
  ) {
    this.x = instance.exports as unknown as KernelExports;
    const buffer = this.x.memory.buffer;
    if (buffer.byteLength < Number(this.x.MEMORY_BYTES.value)) throw new Error('the kernel memory is smaller than its layout');
    this.u64 = new BigUint64Array(buffer);
    const word = (g: WebAssembly.Global): number => Number(g.value) / 8;
    this.inN = word(this.x.IN_N);
    this.inR2 = word(this.x.IN_R2);
    this.inBase = word(this.x.IN_BASE);
    this.inExp = word(this.x.IN_EXP);
    this.out = word(this.x.OUT);
    this.maxModulusBits = this.x.maxModulusBits();
    this.maxExponentBits = Number(this.x.MAX_EXP_WORDS.value) * 32;
  }

  /** Compiles and instantiates a build synchronously; throws when the runtime refuses it. */
  static instantiate(engine: 'simd' | 'scalar', bytes: Uint8Array<ArrayBuffer>): ModPowKernel {
    if (bytes.length === 0) throw new Error(`the ${engine} kernel was not built (run npm run build:wasm)`);
    if (!WebAssembly.validate(bytes)) {
      throw new Error(`WebAssembly.validate rejects the ${engine} kernel${engine === 'simd' ? ' (no wasm SIMD support)' : ''}`);
    }
    return new ModPowKernel(engine, new WebAssembly.Instance(new WebAssembly.Module(bytes), {}));
  }

  /** Montgomery constants for an odd modulus within {@link maxModulusBits}. */
  constants(modulus: bigint): MontgomeryConstants {
    const bits = bitLength64(modulus);
    const words = Math.ceil(bits / 64);
    const rBits = BigInt(this.x.montgomeryBits(bits));
    return {
      modulus,
      words,
      n: toWords(modulus, words),
      r2: toWords((1n << (2n * rBits)) % modulus, words),
    };
  }

  /**
   * base^exp mod N for 0 ≤ base < N and 0 < exp < 2^maxExponentBits, N odd. The caller checks the
   * ranges (FixedModulus.pow does); a RangeError says which one the kernel refused.
   */
  pow(k: MontgomeryConstants, base: bigint, exp: bigint): bigint {
    const u64 = this.u64;
    u64.set(k.n, this.inN);
    u64.set(k.r2, this.inR2);
    writeWords(u64, this.inBase, base, k.words);
    const eWords = writeWords(u64, this.inExp, exp, -1);
    const status = this.x.modpow(2 * k.words, 2 * eWords);
    if (status !== 0) {
      throw new RangeError(
        status === -1
          ? 'the modpow kernel needs an odd modulus (Montgomery); use modPow, which takes even moduli on BigInt'
          : `the modpow kernel takes moduli of 2 to ${this.maxModulusBits} bits and exponents of 1 to ${this.maxExponentBits} bits; use modPow for others`,
      );
    }
    let r = 0n;
    for (let i = this.out + k.words - 1; i >= this.out; i--) r = (r << 64n) | u64[i]!;
    return r;
  }
}

/** Bit length of x > 0. */
function bitLength64(x: bigint): number {
  let bits = 0;
  while (x >> 64n > 0n) {
    x >>= 64n;
    bits += 64;
  }
  return bits + x.toString(2).length;
}

/** x as exactly `words` little-endian 64-bit words. */
function toWords(x: bigint, words: number): BigUint64Array {
  const out = new BigUint64Array(words);
  writeWords(out, 0, x, words);
  return out;
}

/**
 * Writes x ≥ 0 into u64[at..] as 64-bit words: exactly `words` of them (zero-padded), or as many as
 * x needs when words < 0. Returns the count written.
 */
function writeWords(u64: BigUint64Array, at: number, x: bigint, words: number): number {
  let i = 0;
  while (words < 0 ? x > 0n : i < words) {
    u64[at + i] = x & MASK64;
    x >>= 64n;
    i++;
  }
  return i;
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Instantiates a build without the self-check. @internal (tests use it to check a build directly) */
export function loadModPowKernel(engine: 'simd' | 'scalar'): ModPowKernel {
  return ModPowKernel.instantiate(engine, decodeBase64(engine === 'simd' ? simdBase64 : scalarBase64));
}

/**
 * Fixed cases a kernel must match the BigInt reference on before it is used (several sizes, N - 1,
 * short and windowed exponents). Returns a description of the first mismatch, or undefined.
 * @internal (exported for tests)
 */
export function selfCheck(kernel: ModPowKernel): string | undefined {
  const cases: Array<[bigint, bigint, bigint]> = [];
  let seed = 0x9e3779b97f4a7c15n;
  const next = (bits: number): bigint => {
    // A fixed 64-bit xorshift stream: test vectors only, never secrets.
    let x = 0n;
    for (let b = 0; b < bits; b += 64) {
      seed ^= (seed << 13n) & MASK64;
      seed ^= seed >> 7n;
      seed ^= (seed << 17n) & MASK64;
      x = (x << 64n) | seed;
    }
    return x & ((1n << BigInt(bits)) - 1n);
  };
  // Short exponents keep the BigInt side cheap (a few ms per thread); 160 bits still fills a
  // 16-entry window table, and 3072 bits crosses several carry-save passes.
  for (const bits of [64, 521, 1024, 2048, 3072]) {
    if (bits > kernel.maxModulusBits) continue;
    const mod = next(bits) | (1n << BigInt(bits - 1)) | 1n;
    cases.push([next(bits) % mod, next(160) | 1n, mod]);
    cases.push([mod - 1n, next(40), mod]);
  }
  // All-ones limbs make the column sums as large as they get: a carry-save pass too few would
  // overflow here first (random operands rarely come close).
  const ones = (1n << 2048n) - 1n;
  cases.push([ones - 2n, next(40), ones]);
  for (const [base, exp, mod] of cases) {
    const want = modPowBigint(base, exp, mod);
    const got = kernel.pow(kernel.constants(mod), base, exp);
    if (got !== want) return `${bitLength64(mod)}-bit modulus: ${got.toString(16).slice(0, 16)}… ≠ ${want.toString(16).slice(0, 16)}…`;
  }
  return undefined;
}

interface Selected {
  readonly info: ModPowEngineInfo;
  readonly kernel: ModPowKernel | undefined;
}

let selected: Selected | undefined;

function forcedEngine(): 'simd' | 'scalar' | 'bigint' | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.['SYFT_PAILLIER_MODPOW'];
  if (value === undefined || value === '') return undefined;
  if (value === 'simd' || value === 'scalar' || value === 'bigint') return value;
  throw new ValueError(`SYFT_PAILLIER_MODPOW must be simd, scalar or bigint (or unset to choose automatically), got '${value}'`);
}

function select(): Selected {
  const forced = forcedEngine();
  if (forced === 'bigint') return { kernel: undefined, info: { engine: 'bigint', reason: 'forced by SYFT_PAILLIER_MODPOW=bigint', maxModulusBits: 0 } };
  if (typeof WebAssembly === 'undefined') return { kernel: undefined, info: { engine: 'bigint', reason: 'this runtime has no WebAssembly', maxModulusBits: 0 } };
  const failures: string[] = [];
  const order: Array<'simd' | 'scalar'> = forced === undefined ? ['simd', 'scalar'] : [forced];
  for (const engine of order) {
    let kernel: ModPowKernel;
    try {
      kernel = loadModPowKernel(engine);
    } catch (e) {
      failures.push(`${engine}: ${(e as Error).message}`);
      continue;
    }
    const mismatch = selfCheck(kernel);
    if (mismatch !== undefined) {
      failures.push(`${engine}: self-check failed (${mismatch})`);
      (globalThis as { process?: { emitWarning?(m: string): void } }).process?.emitWarning?.(
        `Paillier modpow kernel (${engine}) not used: its self-check against BigInt failed (${mismatch})`,
      );
      continue;
    }
    const reason = failures.length === 0 ? (forced === undefined ? 'fastest engine available' : `forced by SYFT_PAILLIER_MODPOW=${forced}`) : `fallback: ${failures.join('; ')}`;
    return { kernel, info: { engine, reason, maxModulusBits: kernel.maxModulusBits } };
  }
  return { kernel: undefined, info: { engine: 'bigint', reason: `fallback: ${failures.join('; ')}`, maxModulusBits: 0 } };
}

/**
 * Forgets the choice so the next call chooses again (reading SYFT_PAILLIER_MODPOW anew).
 * FixedModulus objects made before keep the kernel they were made with. @internal (for tests)
 */
export function reselectModPowEngine(): ModPowEngineInfo {
  selected = select();
  return selected.info;
}

/** The kernel this thread uses, or undefined when it runs on BigInt. Loads it on first call. */
export function activeKernel(): ModPowKernel | undefined {
  selected ??= select();
  return selected.kernel;
}

/**
 * Which arithmetic Paillier's exponentiations use on this thread, and why. `SYFT_PAILLIER_MODPOW`
 * (`simd`, `scalar` or `bigint`) forces a choice, for comparisons; a forced build that cannot run
 * falls back to BigInt, and any other value throws a ValueError.
 *
 * @example
 * ```ts
 * modPowEngine(); // { engine: 'simd', reason: 'fastest engine available', maxModulusBits: 8192 }
 * ```
 */
export function modPowEngine(): ModPowEngineInfo {
  selected ??= select();
  return selected.info;
}
