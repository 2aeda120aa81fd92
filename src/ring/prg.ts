// A pseudo-random generator: the ChaCha20 keystream under a secret 16-byte seed, identical in Node
// (node:crypto's 'chacha20') and in browsers (a WebAssembly kernel, src/ring/chacha.ts).
//
// Why ChaCha20 and not AES-128-CTR (used before): in a page AES-CTR only exists as WebCrypto's
// async encrypt, a promise per draw, and the stream must be the same for Node and page parties;
// ChaCha20 runs synchronously in wasm SIMD without AES instructions, and node:crypto has it.
// Measured for 64x784 ring elements (401 KB), interleaved in one process:
//   - page, Chromium (bench/browser.bench.ts): this PRG 0.45 ms against 0.48-0.52 ms for the
//     AES-CTR Prg; raw WebCrypto encrypt alone is 0.31 ms, but the private matmul 64x784 by
//     784x128 went from 18.6-28.9 ms to 14.5-15.1 ms (page / Node 1.73-2.08 -> 1.42-1.65);
//   - Node (bench/prg.bench.ts): node:crypto chacha20 / aes-128-ctr = 1.46-1.52x at 401 KB
//     (0.11 vs 0.07 ms), 1.22-1.46x at 8 MB; about 0.03 ms per draw, within the 1.5x allowed
//     for one stream everywhere. The wasm kernel in Node is 0.32 ms, so Node keeps node:crypto.
import { LITTLE_ENDIAN, allocUninit } from './alloc.js';
import { WasmChaCha, chachaKernel, jsChaCha, type ChaChaKernel } from './chacha.js';
import { RingEngineError, RingValueError } from './errors.js';
import { nodeCrypto, loadNodeCrypto } from './node-crypto.js';
import { fillRandom } from './random.js';
import { RingTensor } from './ring-tensor.js';
import { checkShape, sizeOf } from '../shapes.js';

/**
 * Where the keystream is computed: node:crypto (Node's default), the WebAssembly kernel (the
 * browsers' default; SIMD when the runtime has it), or plain JavaScript (the fallback without
 * WebAssembly). All give the same bytes.
 */
export type PrgBackend = 'node' | 'wasm' | 'js';

const BACKENDS: readonly PrgBackend[] = ['node', 'wasm', 'js'];

// node:crypto's Cipher.update allocates its output; 256 KiB pieces keep those allocations in
// recycled memory and the copy in cache (measured faster than one 8 MB update).
const NODE_CHUNK = 256 * 1024;
const ZEROS = new Uint8Array(NODE_CHUNK);
const TWO32 = 2 ** 32;

/** node:crypto's 16-byte 'chacha20' IV for keystream block `index`: the 64-bit counter little-endian, then zeros (words 12-15 of the state). */
function nodeIv(index: number): Uint8Array {
  const iv = new Uint8Array(16);
  const view = new DataView(iv.buffer);
  view.setUint32(0, index % TWO32, true);
  view.setUint32(4, Math.floor(index / TWO32), true);
  return iv;
}

interface StreamCipher {
  update(data: Uint8Array): Uint8Array;
}

/**
 * Deterministic randomness shared through a seed: the ChaCha20 keystream (RFC 8439 block
 * function) with key = seed ‖ seed (the 16-byte key repeated, as ChaCha's 128-bit-key variant
 * does), a 64-bit block counter from zero and a zero nonce. Two parties holding the same seed draw
 * the same bytes, in Node (node:crypto) and in browsers (WebAssembly) alike, which is how
 * pseudo-random zero shares and dealer material are derived without sending them (as CrypTen
 * does). Successive calls continue the stream; ring elements are consecutive little-endian
 * 8-byte words.
 *
 * SECURITY: a seed must be secret and fresh. Never let two protocols (or two runs of one)
 * draw from Prgs with the same seed: equal streams make masks cancel and leak what they hide.
 * Use {@link Prg.randomSeed} for each new purpose. Fresh secrets never come from here: they come
 * from the OS CSPRNG ({@link randomRing}, crypto.getRandomValues).
 *
 * Every backend is synchronous; the async methods are kept for callers written against the
 * earlier WebCrypto backend and give the same bytes.
 *
 * @example
 * ```ts
 * const seed = Prg.randomSeed();            // share with the peer over a secure channel
 * const mine = new Prg(seed), theirs = new Prg(seed);
 * const r0 = await mine.ring([3]);          // same elements as...
 * const r1 = theirs.ringSync([3]);          // ...this
 * ```
 */
export class Prg {
  private readonly key: Uint8Array<ArrayBuffer>;
  /** The backend this Prg computes its keystream with. */
  readonly backend: PrgBackend;
  private position = 0;
  private cipher: StreamCipher | undefined;
  private cipherPosition = -1;
  private kernel: ChaChaKernel | undefined;

  /**
   * @param seed 16 secret bytes; copied.
   * @param opts.backend force 'wasm' or 'js' (e.g. to test the browser path in Node); default
   *   'node' where node:crypto is available, else 'wasm' (which itself falls back to plain
   *   JavaScript, with a console warning, when no wasm build runs).
   */
  constructor(seed: Uint8Array, opts: { backend?: PrgBackend } = {}) {
    if (!(seed instanceof Uint8Array) || seed.length !== 16) {
      throw new RingValueError(
        `Prg: the seed must be a Uint8Array of 16 bytes, got ` +
          `${seed instanceof Uint8Array ? `${seed.length} bytes` : typeof seed}; use Prg.randomSeed()`,
      );
    }
    if (opts.backend !== undefined && !BACKENDS.includes(opts.backend)) {
      throw new RingValueError(`Prg: unknown backend '${String(opts.backend)}'; use 'node', 'wasm' or 'js'`);
    }
    this.key = new Uint8Array(32);
    this.key.set(seed, 0);
    this.key.set(seed, 16);
    this.backend = opts.backend ?? (nodeCrypto() !== undefined ? 'node' : 'wasm');
  }

  /** 16 fresh bytes from the OS CSPRNG, to seed a new Prg. @example `new Prg(Prg.randomSeed())` */
  static randomSeed(): Uint8Array {
    const seed = new Uint8Array(16);
    fillRandom(seed);
    return seed;
  }

  /** Bytes of keystream consumed so far. */
  get offset(): number {
    return this.position;
  }

  /** The next `n` keystream bytes. @example `const mask = await prg.bytes(32)` */
  async bytes(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(checkCount('bytes', n));
    await this.fill(out);
    return out;
  }

  /** The next size(shape) ring elements (8 little-endian bytes each). @example `await prg.ring([64, 128])` */
  async ring(shape: readonly number[], into?: BigInt64Array): Promise<RingTensor> {
    const s = checkShape(shape, 'Prg.ring: shape');
    const data = intoOrNew(into, sizeOf(s));
    await this.fill(asBytes(data));
    return new RingTensor(s, fromLittleEndian(data));
  }

  /** Synchronous {@link bytes}. @example `prg.bytesSync(16)` */
  bytesSync(n: number): Uint8Array {
    const out = new Uint8Array(checkCount('bytesSync', n));
    this.fillSync(out);
    return out;
  }

  /**
   * Synchronous {@link ring}; `into` (of exactly size(shape) elements) is filled instead of a new
   * array. @example `const zeroShare = a.ringSync(s).sub(b.ringSync(s))`
   */
  ringSync(shape: readonly number[], into?: BigInt64Array): RingTensor {
    const s = checkShape(shape, 'Prg.ringSync: shape');
    const data = intoOrNew(into, sizeOf(s));
    this.fillSync(asBytes(data));
    return new RingTensor(s, fromLittleEndian(data));
  }

  private async fill(out: Uint8Array): Promise<void> {
    if (this.backend === 'node') await loadNodeCrypto();
    this.fillSync(out);
  }

  private fillSync(out: Uint8Array): void {
    if (this.backend === 'node') this.fillNode(out);
    else this.fillKernel(out);
    this.position += out.length;
  }

  private fillKernel(out: Uint8Array): void {
    this.kernel ??= this.backend === 'js' ? jsChaCha : chachaKernel();
    const start = this.position;
    let block = Math.floor(start / 64);
    let done = 0;
    const skip = start % 64;
    if (skip !== 0) {
      // The rest of a block begun by an earlier call.
      const first = new Uint8Array(64);
      this.kernel.fill(this.key, block++, first);
      done = Math.min(64 - skip, out.length);
      out.set(first.subarray(skip, skip + done));
    }
    if (done < out.length) this.kernel.fill(this.key, block, out.subarray(done));
  }

  private fillNode(out: Uint8Array): void {
    const node = nodeCrypto();
    if (node === undefined) {
      throw new RingEngineError(
        "Prg: the 'node' backend needs node:crypto; on Node < 20.16 call await initRing() once first, elsewhere use backend 'wasm'",
      );
    }
    const start = this.position;
    if (this.cipher === undefined || this.cipherPosition !== start) {
      // Start a keystream at the block holding `start`, then drop the bytes before it.
      this.cipher = node.createCipheriv('chacha20', this.key, nodeIv(Math.floor(start / 64)));
      this.cipher.update(ZEROS.subarray(0, start % 64));
    }
    for (let off = 0; off < out.length; off += NODE_CHUNK) {
      const len = Math.min(NODE_CHUNK, out.length - off);
      out.set(this.cipher.update(ZEROS.subarray(0, len)), off);
    }
    this.cipherPosition = start + out.length;
  }
}

/**
 * Gets the seeded PRG ready before its first draw where it runs on WebAssembly (browsers): picks
 * and self-checks the ChaCha20 kernel (the check runs the plain JavaScript reference over 256 KiB,
 * a few ms) and runs the wasm kernel a few times so that it is compiled by the optimizing tier.
 * Does nothing in Node, whose PRG is node:crypto. `sy.ready()` calls it; later calls are cheap.
 * @internal
 */
export function warmPrg(): void {
  if (nodeCrypto() !== undefined || warmed) return;
  warmed = true;
  const kernel = chachaKernel();
  if (kernel instanceof WasmChaCha) kernel.warm(WARM_CALLS);
}

// Four 256 KiB chunks, about 1 ms once tiered up: enough for V8's tier-up in the measurements
// made in headless Chromium 150 (a fresh instance's first 256 KiB call took 0.6 ms, later ones 0.2-0.3).
const WARM_CALLS = 4;
let warmed = false;

function checkCount(fn: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RingValueError(`Prg.${fn}: n must be a non-negative integer, got ${String(n)}`);
  return n;
}

function asBytes(a: BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

// Ring words are defined little-endian; on a big-endian host, reorder each word's bytes.
function fromLittleEndian(a: BigInt64Array): BigInt64Array {
  if (!LITTLE_ENDIAN) {
    const bytes = asBytes(a);
    for (let i = 0; i < bytes.length; i += 8) bytes.subarray(i, i + 8).reverse();
  }
  return a;
}

function intoOrNew(into: BigInt64Array | undefined, n: number): BigInt64Array {
  if (into === undefined) return allocUninit(n);
  if (into.length !== n) throw new RingValueError(`Prg: the array to fill holds ${into.length} elements, the shape ${n}`);
  return into;
}
