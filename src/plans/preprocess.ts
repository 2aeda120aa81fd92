/**
 * The offline phase: the crypto provider deals the correlated randomness of a plan's next runs
 * ahead of time, so that an online run never waits on it.
 *
 * A plan traced over shared values has one part per worker; the crypto provider's part holds only
 * deals (`mpc.deal`), whose one effect is to send each party a seed and the last party its
 * corrections, under the run's sessions (the recorded ones XOR the run's salt). So the offline
 * phase is that part run early: the orchestrator draws the salts of the next runs now, has the
 * provider run its part with each, and keeps the salts in the plan's pool. The seeds and
 * corrections wait in each party's mailbox (bounded per sender by the party's limits) under the
 * very sessions the online run will use; an online run takes the next salt from the pool and
 * sends the provider nothing. Every salt is still used once: a party refuses a replayed run.
 *
 * The trace says how big a run's randomness is (see {@link dealsOf}); the pool's size is capped
 * so that a full pool stays well within a party's mailbox limit.
 */
import type { RingTensor } from '../ring/index.js';
import { DEFAULT_LIMITS } from '../workers/limits.js';
import type { RemoteWorker } from '../workers/worker.js';
import type { Worker } from '../workers/worker.js';
import type { CheckedProgram } from './program.js';
import { PlanError } from './errors.js';
import { randomId } from '../util/random.js';
import { decodeObject } from '../workers/codec.js';

/** Most runs one plan keeps dealt ahead. */
export const MAX_POOLED_RUNS = 256;

/** Whether a worker's part of a plan only deals (the crypto provider's part). */
export function isDealerPart(p: CheckedProgram): boolean {
  return p.inputs === 0 && p.outputs.length === 0 && p.actions.length > 0 && p.actions.every((a) => a.op === 'mpc.deal');
}

/** The deals of one run of a dealer part, by kind (what the trace says the run needs). */
export function dealsOf(p: CheckedProgram): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of p.actions) {
    const kind = typeof a.args[0] === 'string' ? a.args[0] : '?';
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** How many runs may be dealt ahead: each deal leaves up to two values in a party's mailbox. */
export function poolCapacity(dealsPerRun: number): number {
  if (dealsPerRun === 0) return 0;
  return Math.max(1, Math.min(MAX_POOLED_RUNS, Math.floor(DEFAULT_LIMITS.maxMailboxPerSender / 4 / (2 * dealsPerRun))));
}

/**
 * Resolves once `dealer` has sent every party the seeds and corrections of every deal it took
 * so far (the `mpc.dealt` barrier). Returns the number of deals it has finished.
 */
export async function dealt(dealer: RemoteWorker, owner: Worker): Promise<number> {
  const id = randomId();
  dealer.post({ kind: 'cmd', op: 'mpc.dealt', args: [], ret: [id] }, owner);
  const node = await dealer.request({ kind: 'req', req: 0, op: 'get', args: [id, false] }, owner);
  const t = decodeObject(node, { worker: owner }) as RingTensor;
  if (!t || !(t.data instanceof BigInt64Array) || t.data.length !== 1) throw new PlanError(`'${dealer.id}' answered mpc.dealt with something else`);
  return Number(t.data[0]);
}
