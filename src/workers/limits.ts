/**
 * What one sender may cost a worker: every cost a message can cause has a limit, with a default
 * that serves the library's own workloads many times over (an encrypted CNN step, an MNIST
 * dataset, 4096-bit Paillier keys) and refuses what only an attacker would send. A refusal is a
 * {@link QuotaError} naming the option that sets the limit; the worker's state is unchanged.
 *
 * Set them per worker (`new VirtualWorker({ id, limits: { maxObjectsPerSession: 1e6 } })`), or on
 * the command line (`syft-ts worker --max-bytes-per-session 2GiB`).
 */
import { QuotaError, ValueError } from '../errors.js';

export interface WorkerLimits {
  /** Objects one sender (a session's identity) may hold on the worker. */
  maxObjectsPerSession: number;
  /** Bytes of tensor data one sender may hold. */
  maxBytesPerSession: number;
  /** Bytes of tensor data the whole worker may hold (all senders together). */
  maxBytes: number;
  /** Elements one op may allocate for its result. */
  maxElementsPerOp: number;
  /** Multiply-adds one matrix product (or convolution) may cost. */
  maxMacsPerOp: number;
  /** Elements of correlated randomness one deal may ask the crypto provider for. */
  maxDealElements: number;
  /** Messages waiting in one sender's queue. */
  maxQueuedPerSession: number;
  /** Protocol values waiting undelivered in the mailbox from one sender. */
  maxMailboxPerSender: number;
  /** Largest Paillier key a worker generates on request, in bits. */
  maxKeyBits: number;
  /** Pointers a command may be forwarded through (pointer chains); more means a cycle. */
  maxHops: number;
}

const GiB = 2 ** 30;

export const DEFAULT_LIMITS: Readonly<WorkerLimits> = Object.freeze({
  maxObjectsPerSession: 1_000_000,
  maxBytesPerSession: 4 * GiB,
  maxBytes: 8 * GiB,
  maxElementsPerOp: 2 ** 26,
  maxMacsPerOp: 2 ** 31,
  maxDealElements: 2 ** 26,
  maxQueuedPerSession: 1_000_000,
  maxMailboxPerSender: 200_000,
  maxKeyBits: 4096,
  maxHops: 8,
});

/** The limits from user options over the defaults, checked. */
export function resolveLimits(opts: Partial<WorkerLimits> | undefined): WorkerLimits {
  const out: WorkerLimits = { ...DEFAULT_LIMITS };
  if (opts === undefined) return out;
  if (opts === null || typeof opts !== 'object') throw new ValueError('limits must be an object of numbers, like { maxBytesPerSession: 2 ** 30 }');
  for (const [k, v] of Object.entries(opts)) {
    if (!(k in DEFAULT_LIMITS)) throw new ValueError(`unknown limit '${k}'; the limits are ${Object.keys(DEFAULT_LIMITS).join(', ')}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ValueError(`limit '${k}' must be a non-negative number, got ${String(v)}`);
    (out as unknown as Record<string, number>)[k] = v;
  }
  return out;
}

/** Throws a QuotaError unless `amount` is within `limits[name]`. */
export function within(limits: WorkerLimits, name: keyof WorkerLimits, amount: number, what: string): void {
  const max = limits[name];
  if (amount <= max) return;
  throw new QuotaError(
    `${what} (${format(amount)}) is over this worker's limit ${name} = ${format(max)}; ` +
      `ask its owner to raise it (option limits.${name}), or split the work into smaller pieces`,
    name,
    max,
  );
}

function format(n: number): string {
  if (n >= GiB && n % 1 === 0 && n >= 4 * GiB) return `${(n / GiB).toFixed(1)} Gi`;
  return n >= 1e6 ? n.toExponential(2) : String(n);
}
