/**
 * Paillier key pairs (simple variant, g = n + 1) and the scheme's operations on raw ciphertexts.
 *
 * Raw ciphertexts are bigints in Z*_{n²} and plaintexts are integers modulo n: this layer does
 * modular arithmetic and nothing else, so it wraps around silently. Use {@link EncryptedVector}
 * for encoded values with overflow checks.
 */
import { generateRandomKeys, PrivateKey as RefPrivateKey, PublicKey as RefPublicKey } from 'paillier-bigint';
import { ValueError, WireFormatError } from '../../errors.js';
import { KeyMismatchError } from '../errors.js';
import { bitLength, parseBigint, toHex } from './bigint.js';
import { crtDecrypt, crtParams, crtRandomNthResidue, randomNthResidue } from './crt.js';
import type { CrtParams } from './crt.js';
import { batchModInv, modInv } from './modular.js';
import { modPow } from './modpow.js';
import { isProbablePrime } from './primality.js';
import type { RnPool } from './rn-pool.js';
import { availableThreads, checkThreads, chunkSizes, runJobs } from './threads.js';
import type { ThreadOptions } from './threads.js';

/** Smallest modulus we accept. Anything below 2048 bits is for tests only. */
export const MIN_KEY_BITS = 128;

/** JSON form of a public key: the modulus as a hex (or decimal) string. */
export interface PaillierPublicKeyJSON {
  readonly kind: 'paillier-public-key';
  readonly n: string;
}

/** JSON form of a private key: the modulus and its two primes. Keep it secret. */
export interface PaillierPrivateKeyJSON {
  readonly kind: 'paillier-private-key';
  readonly n: string;
  readonly p: string;
  readonly q: string;
}

/** Options of raw encryption. */
export interface EncryptOptions {
  /** Take the r^n factor from this pool instead of computing it now. */
  readonly pool?: RnPool;
}

/**
 * A Paillier public key: encrypts, and computes on ciphertexts.
 *
 * @example
 * ```ts
 * const { publicKey, privateKey } = await keygen({ bits: 2048 });
 * const c = publicKey.add(publicKey.encrypt(20n), publicKey.encrypt(22n));
 * privateKey.decrypt(c); // 42n
 * ```
 */
export class PaillierPublicKey {
  /** The modulus n = p·q. */
  readonly n: bigint;
  /** n², the ciphertext modulus. */
  readonly n2: bigint;
  /** Bit length of n. */
  readonly bits: number;
  /** Bytes of n; a ciphertext takes 2·nBytes on the wire. */
  readonly nBytes: number;
  private ref: RefPublicKey | undefined;

  /** Wraps a modulus. Throws a ValueError unless n is an odd integer of at least 128 bits. */
  constructor(n: bigint) {
    if (typeof n !== 'bigint' || n <= 0n || (n & 1n) === 0n || bitLength(n) < MIN_KEY_BITS) {
      throw new ValueError(`a Paillier modulus must be an odd bigint of at least ${MIN_KEY_BITS} bits; generate keys with keygen()`);
    }
    this.n = n;
    this.n2 = n * n;
    this.bits = bitLength(n);
    this.nBytes = Math.ceil(this.bits / 8);
  }

  /** The generator g = n + 1. */
  get g(): bigint {
    return this.n + 1n;
  }

  /** Bytes of one ciphertext on the wire (2·nBytes). */
  get ciphertextBytes(): number {
    return 2 * this.nBytes;
  }

  /** The same key as a paillier-bigint object (the reference implementation, used in tests). */
  get reference(): RefPublicKey {
    this.ref ??= new RefPublicKey(this.n, this.g);
    return this.ref;
  }

  /** Wraps a paillier-bigint public key generated with the simple variant (g = n + 1). */
  static fromReference(key: RefPublicKey): PaillierPublicKey {
    if (key.g !== key.n + 1n) {
      throw new ValueError('syft-ts needs keys with g = n + 1: generate them with generateRandomKeys(bits, true)');
    }
    const out = new PaillierPublicKey(key.n);
    out.ref = key;
    return out;
  }

  /** True when both keys have the same modulus. */
  equals(other: PaillierPublicKey): boolean {
    return this.n === other.n;
  }

  /**
   * Encrypts an integer 0 ≤ m < n: c = (1 + m·n)·r^n mod n², with r^n from `options.pool` when
   * given (and not empty), otherwise computed now.
   */
  encrypt(m: bigint, options: EncryptOptions = {}): bigint {
    this.checkPlaintext(m);
    const rn = options.pool !== undefined ? this.poolFactor(options.pool) : randomNthResidue(this.n, this.n2);
    return this.encryptWithFactor(m, rn);
  }

  /**
   * Encrypts with a given r^n factor (which must be a fresh n-th residue, never reused).
   * (1 + m·n)·R ≡ R + n·(m·R mod n) (mod n²): two half-size products instead of a full one.
   * @internal
   */
  encryptWithFactor(m: bigint, rn: bigint): bigint {
    const c = rn + this.n * ((m * (rn % this.n)) % this.n);
    return c >= this.n2 ? c - this.n2 : c;
  }

  /** r^n from a pool, after checking the pool belongs to this key. @internal */
  poolFactor(pool: RnPool): bigint {
    if (!pool.publicKey.equals(this)) {
      throw new KeyMismatchError('this RnPool was made for a different public key; create one with new RnPool(publicKey)');
    }
    return pool.take();
  }

  /** Enc(a + b): the product of the ciphertexts. */
  add(a: bigint, b: bigint): bigint {
    this.checkCiphertext(a);
    this.checkCiphertext(b);
    return (a * b) % this.n2;
  }

  /** Enc(m₁ + … + m_k) for many ciphertexts at once. */
  sum(ciphertexts: readonly bigint[]): bigint {
    let acc = 1n;
    for (const c of ciphertexts) {
      this.checkCiphertext(c);
      acc = (acc * c) % this.n2;
    }
    return acc;
  }

  /** Enc(m + k) for a public integer k (any sign, taken mod n): c·(1 + k·n), no exponentiation. */
  addPlain(c: bigint, k: bigint): bigint {
    this.checkCiphertext(c);
    let kk = k % this.n;
    if (kk < 0n) kk += this.n;
    const out = c + this.n * ((kk * (c % this.n)) % this.n);
    return out >= this.n2 ? out - this.n2 : out;
  }

  /** Enc(k·m) for a public integer k: c^k mod n², a negative k through the inverse of c. */
  mulPlain(c: bigint, k: bigint): bigint {
    this.checkCiphertext(c);
    if (k < 0n) return modPow(modInv(c, this.n2), -k, this.n2);
    return modPow(c, k, this.n2);
  }

  /**
   * Enc(Σ kᵢ·mᵢ) for public integers kᵢ: one column of an encrypted-vector × plain-matrix
   * product. Negative weights share a single batched inversion.
   */
  dot(ciphertexts: readonly bigint[], weights: readonly bigint[]): bigint {
    if (ciphertexts.length !== weights.length) {
      throw new ValueError(`dot needs as many weights as ciphertexts (got ${weights.length} and ${ciphertexts.length})`);
    }
    for (const c of ciphertexts) this.checkCiphertext(c);
    const negatives = ciphertexts.filter((_, i) => weights[i]! < 0n);
    const inverses = batchModInv(negatives, this.n2);
    let acc = 1n;
    let next = 0;
    for (let i = 0; i < ciphertexts.length; i++) {
      const k = weights[i]!;
      if (k === 0n) continue;
      const base = k < 0n ? inverses[next++]! : ciphertexts[i]!;
      acc = (acc * modPow(base, k < 0n ? -k : k, this.n2)) % this.n2;
    }
    return acc;
  }

  /** A fresh-looking encryption of the same plaintext: c·r^n. */
  rerandomize(c: bigint, options: EncryptOptions = {}): bigint {
    this.checkCiphertext(c);
    const rn = options.pool !== undefined ? this.poolFactor(options.pool) : randomNthResidue(this.n, this.n2);
    return (c * rn) % this.n2;
  }

  /** Throws a ValueError unless c is a bigint in [1, n²). */
  checkCiphertext(c: bigint): void {
    if (typeof c !== 'bigint' || c <= 0n || c >= this.n2) {
      throw new ValueError('a ciphertext must be a bigint in [1, n²) for this key: was it encrypted under another key?');
    }
  }

  private checkPlaintext(m: bigint): void {
    if (typeof m !== 'bigint' || m < 0n || m >= this.n) {
      throw new ValueError(
        'raw Paillier plaintexts are integers in [0, n); encode signed or fractional values with ' +
          'FixedPointEncoding / EncryptedVector instead',
      );
    }
  }

  /** The JSON-able form `{ kind, n }` with n in hex. */
  toJSON(): PaillierPublicKeyJSON {
    return { kind: 'paillier-public-key', n: toHex(this.n) };
  }

  /** Reads {@link toJSON}'s form; throws a WireFormatError on anything else. */
  static fromJSON(json: unknown): PaillierPublicKey {
    const o = asRecord(json, 'paillier-public-key');
    const n = parseBigint(o['n']);
    if (n === undefined) throw new WireFormatError('public key JSON: "n" must be a decimal or 0x-hex string');
    try {
      return new PaillierPublicKey(n);
    } catch (e) {
      throw new WireFormatError(`public key JSON: ${(e as Error).message}`);
    }
  }
}

/**
 * A Paillier private key: decrypts with the CRT, and can make r^n factors about 3x faster than
 * the public key can (see {@link RnPool}).
 *
 * @example
 * ```ts
 * const { publicKey, privateKey } = await keygen({ bits: 512 }); // tests only: use 2048+
 * privateKey.decrypt(publicKey.encrypt(7n)); // 7n
 * ```
 */
export class PaillierPrivateKey {
  readonly publicKey: PaillierPublicKey;
  readonly p: bigint;
  readonly q: bigint;
  private readonly params: CrtParams;
  private ref: RefPrivateKey | undefined;

  /**
   * Builds a key from its primes. Throws a ValueError unless p ≠ q and gcd(pq, (p-1)(q-1)) = 1;
   * {@link fromJSON} additionally tests primality.
   */
  constructor(p: bigint, q: bigint) {
    if (typeof p !== 'bigint' || typeof q !== 'bigint' || p <= 2n || q <= 2n || p === q) {
      throw new ValueError('a Paillier private key needs two distinct odd primes p and q');
    }
    this.publicKey = new PaillierPublicKey(p * q);
    this.p = p;
    this.q = q;
    try {
      this.params = crtParams(p, q);
    } catch (e) {
      throw new ValueError(`not a usable Paillier key: ${(e as Error).message}`);
    }
  }

  /** The same key as a paillier-bigint object (the reference implementation, used in tests). */
  get reference(): RefPrivateKey {
    if (this.ref === undefined) {
      const lambda = (this.p - 1n) * (this.q - 1n);
      this.ref = new RefPrivateKey(lambda, modInv(lambda, this.publicKey.n), this.publicKey.reference, this.p, this.q);
    }
    return this.ref;
  }

  /** Wraps a paillier-bigint private key that still knows its primes. */
  static fromReference(key: RefPrivateKey): PaillierPrivateKey {
    const { _p: p, _q: q } = key as unknown as { _p?: bigint; _q?: bigint };
    if (p === undefined || q === undefined) {
      throw new ValueError('this paillier-bigint private key does not carry p and q; generate it with generateRandomKeys()');
    }
    if (key.publicKey.g !== key.publicKey.n + 1n) {
      throw new ValueError('syft-ts needs keys with g = n + 1: generate them with generateRandomKeys(bits, true)');
    }
    const out = new PaillierPrivateKey(p, q);
    out.ref = key;
    return out;
  }

  /** Decrypts to the integer m ∈ [0, n) (CRT: exponents p-1 mod p² and q-1 mod q²). */
  decrypt(c: bigint): bigint {
    this.publicKey.checkCiphertext(c);
    return crtDecrypt(this.params, c);
  }

  /** Decrypts many ciphertexts, spread over worker threads (see {@link ThreadOptions}). */
  async decryptMany(ciphertexts: readonly bigint[], options: ThreadOptions = {}): Promise<bigint[]> {
    checkThreads(options.threads);
    for (const c of ciphertexts) this.publicKey.checkCiphertext(c);
    if (ciphertexts.length === 0) return [];
    const threads = options.threads ?? (await availableThreads());
    const sizes = chunkSizes(ciphertexts.length, threads);
    const jobs = [];
    let at = 0;
    for (const size of sizes) {
      jobs.push({ kind: 'decrypt' as const, p: this.p, q: this.q, ciphertexts: ciphertexts.slice(at, at + size) });
      at += size;
    }
    return (await runJobs(jobs, options)).flat();
  }

  /** A fresh r^n mod n² computed with the CRT (for {@link RnPool}). @internal */
  nthResidue(): bigint {
    return crtRandomNthResidue(this.params);
  }

  /** The JSON-able form `{ kind, n, p, q }` in hex. Anyone holding it can decrypt. */
  toJSON(): PaillierPrivateKeyJSON {
    return { kind: 'paillier-private-key', n: toHex(this.publicKey.n), p: toHex(this.p), q: toHex(this.q) };
  }

  /**
   * Reads {@link toJSON}'s form, checking n = p·q and the primality of p and q (Miller–Rabin):
   * throws a WireFormatError on anything else.
   */
  static fromJSON(json: unknown): PaillierPrivateKey {
    const o = asRecord(json, 'paillier-private-key');
    const n = parseBigint(o['n']);
    const p = parseBigint(o['p']);
    const q = parseBigint(o['q']);
    if (n === undefined || p === undefined || q === undefined) {
      throw new WireFormatError('private key JSON: "n", "p" and "q" must be decimal or 0x-hex strings');
    }
    if (p * q !== n) throw new WireFormatError('private key JSON: n is not p·q; the key is corrupted');
    if (!isProbablePrime(p) || !isProbablePrime(q)) {
      throw new WireFormatError('private key JSON: p or q is not prime; the key is corrupted');
    }
    try {
      return new PaillierPrivateKey(p, q);
    } catch (e) {
      throw new WireFormatError(`private key JSON: ${(e as Error).message}`);
    }
  }
}

/** A Paillier key pair. */
export interface PaillierKeyPair {
  readonly publicKey: PaillierPublicKey;
  readonly privateKey: PaillierPrivateKey;
}

/** Options of {@link keygen}. */
export interface KeygenOptions {
  /** Bit length of n. Default 2048; below 2048 only for tests. */
  readonly bits?: number;
}

/**
 * Generates a key pair with paillier-bigint's `generateRandomKeys(bits, true)` (g = n + 1; its
 * primes come from the OS CSPRNG, found in worker threads).
 *
 * @example
 * ```ts
 * const { publicKey, privateKey } = await keygen({ bits: 2048 });
 * ```
 */
export async function keygen(options: KeygenOptions = {}): Promise<PaillierKeyPair> {
  const bits = options.bits ?? 2048;
  if (!Number.isInteger(bits) || bits < MIN_KEY_BITS || bits > 16_384) {
    throw new ValueError(`keygen: bits must be an integer in [${MIN_KEY_BITS}, 16384] (2048 or more for real use), got ${bits}`);
  }
  for (;;) {
    const pair = await generateRandomKeys(bits, true);
    try {
      const privateKey = PaillierPrivateKey.fromReference(pair.privateKey);
      return { publicKey: privateKey.publicKey, privateKey };
    } catch (e) {
      // gcd(n, φ(n)) ≠ 1 happens with negligible probability; draw again.
      if (!(e instanceof ValueError)) throw e;
    }
  }
}

function asRecord(json: unknown, kind: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WireFormatError(`expected a ${kind} JSON object, got ${json === null ? 'null' : typeof json}`);
  }
  const o = json as Record<string, unknown>;
  if (o['kind'] !== kind) {
    throw new WireFormatError(`expected "kind": "${kind}", got ${JSON.stringify(o['kind'])}`);
  }
  return o;
}
