/**
 * `sy.mpc`: the offline phase as users call it. `await sy.mpc.preprocess(plan, { runs })` has the
 * crypto provider deal the next runs of an encrypted plan ahead of time (preprocess.ts says how).
 */
import { ValueError } from '../errors.js';
import { Plan } from './plan.js';
import { PointerPlan, type PreprocessReport } from './pointer-plan.js';

export type { PreprocessReport };

/** Options of {@link preprocess}. */
export interface PreprocessOptions {
  /** Runs to deal ahead (default 4). */
  runs?: number;
  /** Whether each run that takes a dealt run has the provider deal one more in the background. */
  refill?: boolean;
}

/**
 * Deals the correlated randomness (Beaver triples, truncation pairs, comparison material) of the
 * next runs of a plan built over shared values, so that those runs never wait on the crypto
 * provider. Resolves once the provider has sent every party its seeds and corrections (they may
 * still be on their way: a run that needs them waits for them as it would online).
 *
 * @example
 * ```ts
 * const step = sy.func2plan(trainStep);
 * step.build(batch.data, batch.target);
 * const pool = await sy.mpc.preprocess(step, { runs: 8, refill: true });
 * pool.dealsPerRun;  // { beaver: ..., trunc: ..., ... }: what one run needs, from the trace
 * ```
 */
export function preprocess(plan: Plan | PointerPlan, opts: PreprocessOptions = {}): Promise<PreprocessReport> {
  const p = plan instanceof Plan ? plan.send() : plan;
  if (!(p instanceof PointerPlan)) throw new ValueError('preprocess() takes a plan built over shared values');
  return p.preprocess(opts.runs ?? 4, opts.refill === undefined ? {} : { refill: opts.refill });
}
