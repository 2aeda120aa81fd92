/**
 * A pool of precomputed r^n mod n² factors. They are almost all of the cost of a Paillier
 * encryption and do not depend on the message, so a client can make them ahead of time (while it
 * trains, say), in parallel; encrypting is then one multiplication per ciphertext.
 */
import { ValueError } from '../../errors.js';
import { KeyMismatchError } from '../errors.js';
import type { PaillierPrivateKey, PaillierPublicKey } from './keys.js';
import { randomNthResidue } from './crt.js';
import type { Job } from './jobs.js';
import { availableThreads, checkThreads, chunkSizes, runJobs } from './threads.js';
import type { ThreadOptions } from './threads.js';

/** Options of an {@link RnPool}. */
export interface RnPoolOptions extends ThreadOptions {
  /**
   * The matching private key: fills with the CRT (exponents of half size, moduli p² and q²),
   * about 3x faster. Only for a party that holds the key pair anyway (the clients in federated
   * averaging), never for a server.
   */
  readonly privateKey?: PaillierPrivateKey;
}

/**
 * Precomputed r^n factors for one public key, each used once.
 *
 * @example
 * ```ts
 * const pool = new RnPool(publicKey, { privateKey }); // the client owns the key pair
 * await pool.fill(2000);                             // worker threads, ahead of time
 * const enc = EncryptedVector.encrypt(gradient, publicKey, { pool, pack: { additions: 10 } });
 * ```
 */
export class RnPool {
  private readonly values: bigint[] = [];
  private readonly privateKey: PaillierPrivateKey | undefined;
  private readonly threads: number | undefined;
  private onDemand = 0;

  constructor(
    readonly publicKey: PaillierPublicKey,
    options: RnPoolOptions = {},
  ) {
    if (options.privateKey !== undefined && !options.privateKey.publicKey.equals(publicKey)) {
      throw new KeyMismatchError('RnPool: the private key does not belong to this public key');
    }
    checkThreads(options.threads);
    this.privateKey = options.privateKey;
    this.threads = options.threads;
  }

  /** Factors ready to use. */
  get size(): number {
    return this.values.length;
  }

  /** How many factors {@link take} had to compute on the spot because the pool was empty. */
  get computedOnDemand(): number {
    return this.onDemand;
  }

  /** True when the pool fills with the CRT (it was given the private key). */
  get usesCrt(): boolean {
    return this.privateKey !== undefined;
  }

  /**
   * Computes `count` more factors, spread over worker threads (or on this thread where workers
   * are unavailable, or with `threads: 0`), and adds them to the pool.
   */
  async fill(count: number): Promise<void> {
    if (!Number.isInteger(count) || count < 0) throw new ValueError(`RnPool.fill: count must be a non-negative integer, got ${count}`);
    if (count === 0) return;
    const threads = this.threads ?? (await availableThreads());
    const jobs: Job[] = chunkSizes(count, threads).map((size) =>
      this.privateKey !== undefined
        ? { kind: 'rn-crt', p: this.privateKey.p, q: this.privateKey.q, count: size }
        : { kind: 'rn', n: this.publicKey.n, count: size },
    );
    for (const batch of await runJobs(jobs, { threads })) this.values.push(...batch);
  }

  /** Fills until at least `count` factors are ready. */
  async ensure(count: number): Promise<void> {
    await this.fill(Math.max(0, count - this.values.length));
  }

  /**
   * Removes and returns one factor; computes one on this thread when the pool is empty (with the
   * CRT if the pool has the private key).
   */
  take(): bigint {
    const value = this.values.pop();
    if (value !== undefined) return value;
    this.onDemand++;
    return this.privateKey !== undefined ? this.privateKey.nthResidue() : randomNthResidue(this.publicKey.n, this.publicKey.n2);
  }

  /** Drops every precomputed factor. */
  clear(): void {
    this.values.length = 0;
  }
}
