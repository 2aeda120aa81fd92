/**
 * Why `ptr.fixPrecision().share(bob, alice, { cryptoProvider }).get()` is refused.
 *
 * PySyft's "Part 10 - Federated Learning with Secure Aggregation" shares each worker's model
 * parameters there, worker side: `param` is a pointer, so `param.fix_precision().share(...)`
 * leaves a *pointer to a shared tensor* on the orchestrator, and the `.get()` that follows fetches
 * that shared tensor (its share pointers), not the value. Only the sum of the workers' shared
 * parameters is reconstructed later, so nobody sees one worker's parameters.
 *
 * In syft-ts, `share()` of a pointer already returns the shared tensor itself: the worker splits
 * its value and sends the shares straight to the parties. The `.get()` a port of Part 10 keeps
 * would therefore reconstruct that one worker's parameters in the clear — exactly what secure
 * aggregation exists to prevent. So the shared tensor that `share()` of a pointer returns refuses
 * `get()` with a {@link PrivacyError} that says to drop the `.get()` and reconstruct only the
 * aggregate. (Results computed from it — a sum with another worker's shares — are ordinary shared
 * tensors, and `get()` reconstructs them. This guards a porting trap; it is not a permission
 * system: whoever holds the pointer may still `get()` the pointer itself before sharing.)
 */
import { PrivacyError } from '../errors.js';
import type { AbstractTensor } from '../layer/abstract.js';

// Shared tensors made by share() of a remote tensor, and the worker whose value they hold.
const guarded = new WeakMap<AbstractTensor, string>();

/** Marks `shared` (made by `share()` of a tensor on `holder`) as refusing `get()`. */
export function guardReveal(shared: AbstractTensor, holder: string): void {
  guarded.set(shared, holder);
}

/** Throws the PrivacyError when `shared` is guarded (called by the shared tensor's `get()`). */
export function checkReveal(shared: AbstractTensor): void {
  const holder = guarded.get(shared);
  if (holder === undefined) return;
  throw new PrivacyError(
    `get() here would reconstruct, in the clear, the value worker '${holder}' just secret-shared. In syft-ts, share() of a ` +
      `remote tensor already returns the shared tensor (what PySyft's '.share(...).get()' gives): drop the .get() and keep ` +
      `the shared value (const s = ptr.fixPrecision().share(bob, alice, { cryptoProvider })), combine it with the other ` +
      `workers' (s.add(t)), and get() only the aggregate, e.g. (await s.add(t).get()).floatPrecision(). To fetch ` +
      `'${holder}''s value on purpose, get() the pointer itself, before sharing.`,
  );
}
