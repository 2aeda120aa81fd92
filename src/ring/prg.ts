// A pseudo-random generator: the AES-128-CTR keystream under a secret 16-byte seed.
import { LITTLE_ENDIAN, allocUninit } from './alloc.js';
import { RingEngineError, RingValueError } from './errors.js';
import { nodeCrypto, loadNodeCrypto } from './node-crypto.js';
import { fillRandom } from './random.js';
import { RingTensor } from './ring-tensor.js';
import { checkShape, sizeOf } from '../shapes.js';

/** Where the keystream is computed: node:crypto (sync and async) or WebCrypto (async only). */
export type PrgBackend = 'node' | 'webcrypto';

// node:crypto's Cipher.update allocates its output; 256 KiB pieces keep those allocations in
// recycled memory and the copy in cache (measured faster than one 8 MB update).
const NODE_CHUNK = 256 * 1024;
const ZEROS = new Uint8Array(NODE_CHUNK);

/** The 16-byte AES-CTR counter block for keystream block `index` (big-endian, as OpenSSL and WebCrypto count). */
function counterBlock(index: number): Uint8Array<ArrayBuffer> {
  const block = new Uint8Array(16);
  const view = new DataView(block.buffer);
  view.setUint32(8, Math.floor(index / 2 ** 32));
  view.setUint32(12, index >>> 0);
  return block;
}

interface StreamCipher {
  update(data: Uint8Array): Uint8Array;
}

/**
 * Deterministic randomness shared through a seed: the AES-128-CTR keystream with key = seed and
 * the counter block starting at zero. Two parties holding the same seed draw the same bytes, in
 * Node (node:crypto) and in browsers (WebCrypto) alike, which is how pseudo-random zero shares
 * and dealer material are derived without sending them (as CrypTen does). Successive calls
 * continue the stream; ring elements are consecutive little-endian 8-byte words.
 *
 * SECURITY: a seed must be secret and fresh. Never let two protocols (or two runs of one)
 * draw from Prgs with the same seed: equal streams make masks cancel and leak what they hide.
 * Use {@link Prg.randomSeed} for each new purpose.
 *
 * The portable methods are async (WebCrypto only has an async API); in Node, `ringSync` and
 * `bytesSync` serve hot protocol loops.
 *
 * @example
 * ```ts
 * const seed = Prg.randomSeed();            // share with the peer over a secure channel
 * const mine = new Prg(seed), theirs = new Prg(seed);
 * const r0 = await mine.ring([3]);          // same elements as...
 * const r1 = theirs.ringSync([3]);          // ...this, in Node
 * ```
 */
export class Prg {
  private readonly key: Uint8Array<ArrayBuffer>;
  private readonly backend: PrgBackend;
  private position = 0;
  private cipher: StreamCipher | undefined;
  private cipherPosition = -1;
  private subtleKey: Promise<CryptoKey> | undefined;

  /**
   * @param seed 16 secret bytes (the AES-128 key); copied.
   * @param opts.backend force 'webcrypto' (e.g. to test the browser path in Node); default
   *   'node' where node:crypto is available, else 'webcrypto'.
   */
  constructor(seed: Uint8Array, opts: { backend?: PrgBackend } = {}) {
    if (!(seed instanceof Uint8Array) || seed.length !== 16) {
      throw new RingValueError(
        `Prg: the seed must be a Uint8Array of 16 bytes (an AES-128 key), got ` +
          `${seed instanceof Uint8Array ? `${seed.length} bytes` : typeof seed}; use Prg.randomSeed()`,
      );
    }
    if (opts.backend !== undefined && opts.backend !== 'node' && opts.backend !== 'webcrypto') {
      throw new RingValueError(`Prg: unknown backend '${String(opts.backend)}'; use 'node' or 'webcrypto'`);
    }
    this.key = seed.slice();
    this.backend = opts.backend ?? (nodeCrypto() !== undefined ? 'node' : 'webcrypto');
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
  async ring(shape: readonly number[]): Promise<RingTensor> {
    const s = checkShape(shape, 'Prg.ring: shape');
    const data = allocUninit(sizeOf(s));
    await this.fill(asBytes(data));
    return new RingTensor(s, fromLittleEndian(data));
  }

  /** Synchronous {@link bytes}; Node only. @example `prg.bytesSync(16)` */
  bytesSync(n: number): Uint8Array {
    const out = new Uint8Array(checkCount('bytesSync', n));
    this.fillSync(out);
    return out;
  }

  /** Synchronous {@link ring}; Node only. @example `const zeroShare = a.ringSync(s).sub(b.ringSync(s))` */
  ringSync(shape: readonly number[]): RingTensor {
    const s = checkShape(shape, 'Prg.ringSync: shape');
    const data = allocUninit(sizeOf(s));
    this.fillSync(asBytes(data));
    return new RingTensor(s, fromLittleEndian(data));
  }

  private async fill(out: Uint8Array): Promise<void> {
    if (this.backend === 'node') {
      await loadNodeCrypto();
      this.fillSync(out);
      return;
    }
    // Reserve the stream range now, so concurrent calls get consecutive ranges in call order.
    const start = this.position;
    this.position += out.length;
    if (out.length === 0) return;
    const subtle = globalThis.crypto?.subtle;
    if (subtle === undefined) {
      throw new RingEngineError('Prg: WebCrypto (crypto.subtle) is unavailable; browsers expose it only in secure contexts (https)');
    }
    this.subtleKey ??= subtle.importKey('raw', this.key, 'AES-CTR', false, ['encrypt']);
    const skip = start % 16;
    const keystream = await subtle.encrypt(
      { name: 'AES-CTR', counter: counterBlock(Math.floor(start / 16)), length: 128 },
      await this.subtleKey,
      new Uint8Array(skip + out.length),
    );
    out.set(new Uint8Array(keystream, skip));
  }

  private fillSync(out: Uint8Array): void {
    const node = nodeCrypto();
    if (this.backend !== 'node' || node === undefined) {
      throw new RingEngineError(
        this.backend === 'node'
          ? 'Prg: the synchronous methods need node:crypto; on Node < 20.16 call await initRing() once first'
          : 'Prg: the synchronous methods need node:crypto; in browsers use await prg.ring() / prg.bytes()',
      );
    }
    const start = this.position;
    if (this.cipher === undefined || this.cipherPosition !== start) {
      // Start a keystream at the block holding `start`, then drop the bytes before it.
      this.cipher = node.createCipheriv('aes-128-ctr', this.key, counterBlock(Math.floor(start / 16)));
      this.cipher.update(ZEROS.subarray(0, start % 16));
    }
    for (let off = 0; off < out.length; off += NODE_CHUNK) {
      const len = Math.min(NODE_CHUNK, out.length - off);
      out.set(this.cipher.update(ZEROS.subarray(0, len)), off);
    }
    this.position = start + out.length;
    this.cipherPosition = this.position;
  }
}

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
