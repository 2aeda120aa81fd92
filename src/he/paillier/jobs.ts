/**
 * The units of work the thread pool runs: batches of r^n factors and batches of decryptions.
 * {@link executeJob} is the one implementation, called inside worker threads and, where workers
 * are unavailable, on the calling thread.
 */
import { crtDecrypt, crtParams, crtRandomNthResidue, randomNthResidue } from './crt.js';
import type { CrtParams } from './crt.js';

/** A batch of work. Primes travel only between threads of one process. */
export type Job =
  | { readonly kind: 'rn'; readonly n: bigint; readonly count: number }
  | { readonly kind: 'rn-crt'; readonly p: bigint; readonly q: bigint; readonly count: number }
  | { readonly kind: 'decrypt'; readonly p: bigint; readonly q: bigint; readonly ciphertexts: readonly bigint[] };

// Each thread keeps the CRT constants of the keys it saw last (deriving them costs a few ms).
const cache = new Map<string, CrtParams>();

function paramsFor(p: bigint, q: bigint): CrtParams {
  const id = `${p.toString(36)}:${q.toString(36)}`;
  let params = cache.get(id);
  if (params === undefined) {
    params = crtParams(p, q);
    if (cache.size >= 4) cache.delete(cache.keys().next().value!);
    cache.set(id, params);
  }
  return params;
}

/** Runs one job to completion on the current thread. */
export function executeJob(job: Job): bigint[] {
  switch (job.kind) {
    case 'rn': {
      const n2 = job.n * job.n;
      return Array.from({ length: job.count }, () => randomNthResidue(job.n, n2));
    }
    case 'rn-crt': {
      const params = paramsFor(job.p, job.q);
      return Array.from({ length: job.count }, () => crtRandomNthResidue(params));
    }
    case 'decrypt': {
      const params = paramsFor(job.p, job.q);
      return job.ciphertexts.map((c) => crtDecrypt(params, c));
    }
  }
}
