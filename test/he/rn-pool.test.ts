import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueError } from '../../src/errors.js';
import type { PaillierKeyPair } from '../../src/he/paillier/keys.js';
import { modPow } from '../../src/he/paillier/modpow.js';
import { RnPool } from '../../src/he/paillier/rn-pool.js';
import { EventEmitter } from 'node:events';
import { executeJob } from '../../src/he/paillier/jobs.js';
import type { Job } from '../../src/he/paillier/jobs.js';
import { availableThreads, chunkSizes, runJobs, shutdownThreads, threadStats, ThreadPool } from '../../src/he/paillier/threads.js';
import { keyPair } from './helpers.js';

describe('RnPool', () => {
  let pair: PaillierKeyPair;
  let phi: bigint;
  beforeAll(async () => {
    pair = await keyPair(512);
    phi = (pair.privateKey.p - 1n) * (pair.privateKey.q - 1n);
  });
  afterAll(() => shutdownThreads());

  /** r^n mod n² is an n-th residue iff raising it to φ(n) gives 1 (its order divides λ). */
  const isNthResidue = (x: bigint): boolean => modPow(x, phi, pair.publicKey.n2) === 1n;

  it.each([
    ['public key', false],
    ['CRT with the private key', true],
  ])('fills on worker threads (%s) with distinct n-th residues that encrypt correctly', async (_, crt) => {
    const { publicKey: pk, privateKey: sk } = pair;
    const pool = new RnPool(pk, crt ? { privateKey: sk, threads: 2 } : { threads: 2 });
    expect(pool.usesCrt).toBe(crt);
    const before = threadStats.inWorkers;
    await pool.fill(24);
    expect(threadStats.inWorkers).toBeGreaterThan(before); // really ran in workers
    expect(pool.size).toBe(24);
    const values: bigint[] = [];
    while (pool.size > 0) values.push(pool.take());
    expect(new Set(values).size).toBe(24);
    for (const v of values) {
      expect(v > 0n && v < pk.n2).toBe(true);
      expect(isNthResidue(v)).toBe(true);
    }
    // Encrypting with pool factors decrypts correctly (ours and the reference).
    await pool.fill(5);
    for (let m = 0n; m < 5n; m++) {
      const c = pk.encrypt(m * 1_000_003n, { pool });
      expect(sk.decrypt(c)).toBe(m * 1_000_003n);
      expect(sk.reference.decrypt(c)).toBe(m * 1_000_003n);
    }
    expect(pool.computedOnDemand).toBe(0);
  });

  it('falls back to computing on the spot when empty, for both kinds of pool', () => {
    const { publicKey: pk, privateKey: sk } = pair;
    for (const pool of [new RnPool(pk), new RnPool(pk, { privateKey: sk })]) {
      expect(pool.size).toBe(0);
      const a = pool.take();
      const b = pool.take();
      expect(pool.computedOnDemand).toBe(2);
      expect(a).not.toBe(b);
      expect(isNthResidue(a) && isNthResidue(b)).toBe(true);
      expect(sk.decrypt(pk.encrypt(77n, { pool }))).toBe(77n);
      expect(pool.computedOnDemand).toBe(3);
    }
  });

  it('fills on the calling thread with threads: 0, and ensure() tops up', async () => {
    const { publicKey: pk, privateKey: sk } = pair;
    const pool = new RnPool(pk, { privateKey: sk, threads: 0 });
    const before = threadStats.onCallingThread;
    await pool.fill(6);
    expect(threadStats.onCallingThread).toBeGreaterThan(before);
    await pool.ensure(10);
    expect(pool.size).toBe(10);
    await pool.ensure(3);
    expect(pool.size).toBe(10);
    pool.clear();
    expect(pool.size).toBe(0);
    await expect(pool.fill(-1)).rejects.toThrow(ValueError);
    expect(() => new RnPool(pk, { threads: -1 })).toThrow(ValueError);
    expect(() => new RnPool(pk, { threads: NaN })).toThrow(ValueError);
    await expect(sk.decryptMany([pk.encrypt(1n)], { threads: 1.5 })).rejects.toThrow(ValueError);
    await expect(pool.fill(1.5)).rejects.toThrow(ValueError);
  });

  it('the thread pool returns results in job order and survives being shut down', async () => {
    const { privateKey: sk, publicKey: pk } = pair;
    const cs = [5n, 6n, 7n, 8n].map((m) => pk.encrypt(m));
    const jobs = cs.map((c) => ({ kind: 'decrypt' as const, p: sk.p, q: sk.q, ciphertexts: [c] }));
    expect((await runJobs(jobs, { threads: 2 })).flat()).toEqual([5n, 6n, 7n, 8n]);
    await shutdownThreads();
    expect((await runJobs(jobs, { threads: 2 })).flat()).toEqual([5n, 6n, 7n, 8n]);
    expect(await availableThreads()).toBeGreaterThanOrEqual(1);
  });

  it('finishes the work on the calling thread when workers cannot start or die midway', async () => {
    const { privateKey: sk, publicKey: pk } = pair;
    const cs = [11n, 12n, 13n].map((m) => pk.encrypt(m));
    const jobs: Job[] = cs.map((c) => ({ kind: 'decrypt', p: sk.p, q: sk.q, ciphertexts: [c] }));
    /** A stand-in worker: answers `answers` jobs (by running them), then fails. */
    const fakeWorker = (answers: number) => () => {
      const events = new EventEmitter();
      let left = answers;
      return Object.assign(events, {
        postMessage(message: { id: number; job: Job }): void {
          setTimeout(() => {
            if (left-- > 0) events.emit('message', { id: message.id, values: executeJob(message.job) });
            else events.emit('error', new Error('worker died'));
          }, 1);
        },
        ref(): void {},
        unref(): void {},
        terminate: async (): Promise<number> => 0,
      });
    };
    const neverStarts = new ThreadPool(2, fakeWorker(0));
    expect((await Promise.all(jobs.map((j) => neverStarts.run(j)))).flat()).toEqual([11n, 12n, 13n]);
    expect(neverStarts.failedToStart).toBe(true);
    const diesLater = new ThreadPool(1, fakeWorker(1));
    expect((await Promise.all(jobs.map((j) => diesLater.run(j)))).flat()).toEqual([11n, 12n, 13n]);
    expect(diesLater.broken).toBe(true);
    expect(diesLater.failedToStart).toBe(false);
    const cannotSpawn = new ThreadPool(1, () => {
      throw new Error('no workers here');
    });
    expect(await cannotSpawn.run(jobs[0]!)).toEqual([11n]);
    expect(cannotSpawn.failedToStart).toBe(true);
  });

  it('chunkSizes splits work evenly', () => {
    expect(chunkSizes(10, 2)).toEqual([1, 1, 1, 2, 1, 1, 1, 2]);
    expect(chunkSizes(1954, 2).reduce((a, b) => a + b)).toBe(1954);
    expect(chunkSizes(3, 4)).toEqual([1, 1, 1]);
  });
});
