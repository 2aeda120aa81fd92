/**
 * Deterministic freeing of remote objects, in the style of tfjs's `tf.tidy`.
 *
 * Every op on a pointer leaves a new object on a worker. JavaScript has no reference counting,
 * and FinalizationRegistry callbacks arrive only after major GCs, so a training loop would pile
 * up thousands of remote intermediates before any came back. `sy.tidy(fn)` records every
 * pointer created while `fn` runs and, when it returns, frees those that are not part of its
 * result (or kept with `sy.keep`). The API is lazy, so a whole training step — forward,
 * backward, optimizer step — is synchronous and fits in one tidy; await `get()` outside it.
 */
import { ValueError } from '../errors.js';
import { SCOPE_WALK } from '../layer/abstract.js';

export { SCOPE_WALK };

/** Something a scope can free: a pointer owning a remote object. */
export interface Releasable {
  /** True once freed or handed over; a scope then leaves it alone. */
  readonly released: boolean;
  /** Kept objects outlive every enclosing scope. */
  kept: boolean;
  dispose(): void;
}

export interface ScopeWalkable {
  [SCOPE_WALK](): Iterable<unknown>;
}

const scopes: Set<Releasable>[] = [];

/** Called by owners of remote objects when they are created. */
export function trackInScope(r: Releasable): void {
  scopes[scopes.length - 1]?.add(r);
}

/** Everything releasable reachable from `value` (tensors, arrays, plain objects, maps, modules). */
export function collectReleasables(value: unknown, out = new Set<Releasable>()): Set<Releasable> {
  const seen = new Set<unknown>();
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (isReleasable(v)) out.add(v);
    if (SCOPE_WALK in v) {
      for (const c of (v as ScopeWalkable)[SCOPE_WALK]()) stack.push(c);
    } else if (Array.isArray(v)) {
      stack.push(...v);
    } else if (v instanceof Map) {
      stack.push(...v.values());
    } else if (v instanceof Set) {
      stack.push(...v);
    } else if (Object.getPrototypeOf(v) === Object.prototype) {
      stack.push(...Object.values(v));
    }
  }
  return out;
}

function isReleasable(v: object): v is Releasable {
  return 'released' in v && 'kept' in v && typeof (v as Releasable).dispose === 'function';
}

/**
 * Runs `fn` and frees every remote object created meanwhile that its result does not reference.
 * `fn` must be synchronous (ops are lazy: build the step inside, `await x.get()` outside).
 *
 * @example
 * ```ts
 * const loss = sy.tidy(() => {
 *   optimizer.zeroGrad();
 *   const loss = model.forward(data).sub(target).pow(2).sum().div(batchSize);
 *   loss.backward();
 *   optimizer.step();
 *   return loss;          // kept; every intermediate on the workers is freed
 * });
 * console.log((await loss.get()).floatPrecision().item());
 * ```
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Releasable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) {
    throw new ValueError(
      'sy.tidy needs a synchronous function: ops are lazy, so build the step inside tidy and await get() outside it',
    );
  }
  const live = collectReleasables(result);
  const parent = scopes[scopes.length - 1];
  for (const r of scope) {
    if (r.released || r.kept) continue;
    if (live.has(r)) parent?.add(r);
    else r.dispose();
  }
  return result;
}

/** Keeps `value`'s remote objects alive past every enclosing `tidy`. Returns `value`. */
export function keep<T>(value: T): T {
  for (const r of collectReleasables(value)) r.kept = true;
  return value;
}
