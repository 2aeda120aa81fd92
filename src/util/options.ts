/**
 * Checks of the arguments plain JavaScript callers pass to the public API, where TypeScript
 * cannot help: an options object with a misspelt key (`{ precision: 5 }`, `{ crypto_provider }`)
 * would otherwise be silently ignored. Each check throws a ValueError that names what was given
 * and what is expected.
 */
import { ValueError } from '../errors.js';

function plain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** The allowed key a misspelling most likely meant, if any is close. */
export function closest(key: string, allowed: readonly string[]): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const exact = allowed.find((a) => squash(a) === squash(key));
  if (exact) return exact;
  const prefix = key.length >= 3 ? allowed.find((a) => squash(a).startsWith(squash(key)) || squash(key).startsWith(squash(a))) : undefined;
  if (prefix) return prefix;
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const dist = distance(squash(key), squash(a));
    if (dist < bestD) [best, bestD] = [a, dist];
  }
  return bestD <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

/**
 * Checks an options argument: undefined (no options) or a plain object whose keys are all in
 * `allowed`. Returns it typed (an empty object for undefined).
 *
 * @example
 * ```ts
 * const o = checkOptions<{ base?: number }>(opts, ['base', 'precisionFractional'], 'fixPrecision()');
 * ```
 */
export function checkOptions<T extends object>(opts: unknown, allowed: readonly string[], where: string): T {
  if (opts === undefined) return {} as T;
  if (!plain(opts)) {
    throw new ValueError(`${where} takes an options object { ${allowed.join(', ')} }, got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (allowed.includes(key)) continue;
    const guess = closest(key, allowed);
    throw new ValueError(
      `${where} has no option '${key}'${guess ? ` (did you mean '${guess}'?)` : ''}; its options are ${allowed.map((a) => `'${a}'`).join(', ')}`,
    );
  }
  return opts as T;
}

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (typeof v === 'bigint') return `bigint ${v}n`;
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  const name = (v as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/** A non-negative integer (a size, a count). */
export function checkCount(v: unknown, what: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new ValueError(`${what} must be an integer of at least ${min}, got ${describe(v)}`);
  }
  return v;
}

/** A finite number, optionally positive. */
export function checkNumber(v: unknown, what: string, opts: { positive?: boolean; min?: number } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (opts.positive && v <= 0) || (opts.min !== undefined && v < opts.min)) {
    const want = opts.positive ? 'a positive number' : opts.min !== undefined ? `a number of at least ${opts.min}` : 'a finite number';
    throw new ValueError(`${what} must be ${want}, got ${describe(v)}`);
  }
  return v;
}
