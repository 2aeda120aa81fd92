/**
 * No silently wrong number from a fixed-precision product. A product of fixed-precision integers
 * carries both operands' scales (base^(p_a + p_b)) until it is truncated, and in Z_2^64 a product
 * whose magnitude reaches 2^63 wraps around and decodes to garbage: 4e6 · 4e6 at 3 digits is
 * 1.6e19 before truncation, and would come back as -2.4e12.
 *
 * - Local values (the integers are here): the check is exact. A cheap bound (largest magnitudes,
 *   times the inner dimension of a matrix product) clears almost every product; only when it
 *   does not are the entries computed again in float64 with their rounding error bounded, and
 *   the few within that error of 2^63 exactly in BigInt. The error names the op, the magnitudes
 *   and the precision that would fit.
 * - Shared values (no party may look): a magnitude bound travels with each fixed-precision
 *   tensor where it can be known — encoded data, `share(..., { bound })`, and sums, products,
 *   means and reshapes of bounded tensors — and a product whose bound cannot fit raises before
 *   it runs. Values a training step writes (`assign_`, optimizer updates) have no known bound.
 * - Where no bound is known, `sy.config({ checkOverflow: true })` checks each operand of a
 *   shared product with secure comparisons against the largest magnitude that fits, reveals only
 *   how many entries fail, and raises at the next `get()` (see {@link pendingOverflow}).
 */
import type { AbstractTensor } from '../layer/abstract.js';
import { FixedPointOverflowError, RingTensor } from '../ring/index.js';
import { sizeOf } from '../shapes.js';

const LIMIT = 2 ** 63;
// Products whose bound is below this cannot wrap, whatever float rounding did to the bound.
const SAFE = LIMIT * (1 - 2 ** -40);
// A shared product is truncated by a protocol that is wrong with probability about |x| / 2^64
// (src/mpc/truncation.ts), so shared products that are truncated must stay 2^20 below the ring's
// edge: below 2^43, each entry's truncation fails with probability under 2^-21.
const SHARED_SAFE = 2 ** 43;

/** Largest |x| of a ring tensor, as a double (rounded up by at most one ulp). */
export function maxAbs(t: RingTensor): number {
  const d = t.data;
  const halves = new Int32Array(d.buffer, d.byteOffset, 2 * d.length);
  let m = 0;
  for (let i = 0; i < d.length; i++) {
    const v = Math.abs(halves[2 * i + 1]! * 4294967296 + (halves[2 * i]! >>> 0));
    if (v > m) m = v;
  }
  return m;
}

export interface ProductInfo {
  op: 'mul' | 'matmul';
  /** A product of shared values that the truncation protocol then divides (see SHARED_SAFE). */
  sharedTruncation?: boolean;
  base: number;
  /** The operands' precisions. */
  pa: number;
  pb: number;
}

/** The largest common precision p <= max(pa, pb) at which a product of real magnitude `real` fits. */
function precisionThatFits(real: number, info: ProductInfo): number {
  for (let p = Math.max(info.pa, info.pb); p >= 0; p--) if (real * info.base ** (2 * p) < limitOf(info)) return p;
  return -1;
}

function limitOf(info: ProductInfo): number {
  return info.sharedTruncation ? SHARED_SAFE : SAFE;
}

function overflow(info: ProductInfo, aMax: number, bMax: number, product: number): never {
  const real = product / info.base ** (info.pa + info.pb);
  const ra = aMax / info.base ** info.pa;
  const rb = bMax / info.base ** info.pb;
  const fit = precisionThatFits(real, info);
  throw new FixedPointOverflowError(
    `fixed-precision ${info.op} overflows the ring: operands of magnitude up to ${ra.toExponential(3)} and ` +
      `${rb.toExponential(3)} make a product of about ${real.toExponential(3)}, which at base ${info.base} and ` +
      `precisions ${info.pa}+${info.pb} needs more than ` +
      (info.sharedTruncation ? `the 43 bits a shared product may use (the rest keeps its truncation exact); ` : `the ring's 63 bits; `) +
      (fit >= 0 ? `precisionFractional <= ${fit} would hold it, or scale the values down` : 'scale the values down'),
    real,
    fit,
  );
}

/** The real magnitudes' product bound of an op on bounded values (inner dimension `k` for matmul). */
export function productBound(op: 'mul' | 'matmul', a: number, b: number, k: number): number {
  return op === 'mul' ? a * b : a * b * k;
}

/** Throws when an op on shared values with known bounds could leave the ring. */
export function checkBoundedProduct(info: ProductInfo, aBound: number, bBound: number, k: number): void {
  const real = productBound(info.op, aBound, bBound, k);
  const integer = real * info.base ** (info.pa + info.pb);
  if (!(integer < limitOf(info))) overflow(info, aBound * info.base ** info.pa, bBound * info.base ** info.pb, integer);
}

/**
 * Checks a product of local fixed-precision integers exactly: throws a FixedPointOverflowError
 * when any entry of a ⊙ b (or a @ b) reaches 2^63 in magnitude before truncation.
 */
export function checkLocalProduct(info: ProductInfo, a: RingTensor, b: RingTensor | bigint): void {
  const aMax = maxAbs(a);
  const bMax = typeof b === 'bigint' ? Math.abs(Number(b)) : maxAbs(b);
  const k = info.op === 'matmul' && typeof b !== 'bigint' ? (a.shape[a.shape.length - 1] ?? 1) : 1;
  if (aMax * bMax * k < SAFE) return;
  if (info.op === 'mul' || typeof b === 'bigint') exactElementwise(info, a, b, aMax, bMax);
  else exactMatmul(info, a, b, aMax, bMax);
}

const big = (d: BigInt64Array, i: number) => d[i]!;

function exactElementwise(info: ProductInfo, a: RingTensor, b: RingTensor | bigint, aMax: number, bMax: number): void {
  const out = typeof b === 'bigint' ? a.shape : broadcastShape(a.shape, b.shape);
  const x = a.broadcastTo(out).clone().data;
  const y = typeof b === 'bigint' ? undefined : b.broadcastTo(out).clone().data;
  const lim = 2n ** 63n;
  for (let i = 0; i < x.length; i++) {
    const p = big(x, i) * (y ? big(y, i) : (b as bigint));
    if (p >= lim || p < -lim) overflow(info, aMax, bMax, Math.abs(Number(p)));
  }
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    return da === 1 ? db : da;
  });
}

// Matrix products, entry by entry: in float64 with a rounding-error bound, and exactly in BigInt
// for the entries that float64 cannot decide.
function exactMatmul(info: ProductInfo, a: RingTensor, b: RingTensor, aMax: number, bMax: number): void {
  const A = a.shape.length === 1 ? a.reshape([1, a.shape[0]!]) : a;
  const B = b.shape.length === 1 ? b.reshape([b.shape[0]!, 1]) : b;
  const [m, k] = A.shape.slice(-2) as [number, number];
  const n = B.shape[B.shape.length - 1]!;
  const batches = Math.max(sizeOf(A.shape.slice(0, -2)), sizeOf(B.shape.slice(0, -2)));
  const aBatch = sizeOf(A.shape.slice(0, -2));
  const bBatch = sizeOf(B.shape.slice(0, -2));
  const toDouble = (t: RingTensor) => Float64Array.from(t.data, Number);
  const ad = toDouble(A);
  const bd = toDouble(B);
  const u = 2 ** -53;
  for (let t = 0; t < batches; t++) {
    const ao = (aBatch === 1 ? 0 : t) * m * k;
    const bo = (bBatch === 1 ? 0 : t) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let abs = 0;
        for (let q = 0; q < k; q++) {
          const p = ad[ao + i * k + q]! * bd[bo + q * n + j]!;
          s += p;
          abs += Math.abs(p);
        }
        // Each double is within one ulp of its integer, and the sum's rounding within k·u of |sum|.
        const err = abs * (3 + k) * u;
        if (abs < SAFE - err) continue;
        if (Math.abs(s) - err >= LIMIT) overflow(info, aMax, bMax, Math.abs(s));
        let exact = 0n;
        for (let q = 0; q < k; q++) exact += A.data[ao + i * k + q]! * B.data[bo + q * n + j]!;
        if (exact >= 2n ** 63n || exact < -(2n ** 63n)) overflow(info, aMax, bMax, Math.abs(Number(exact)));
      }
    }
  }
}

// ---- the opt-in secure check of shared products --------------------------------------------

const pending = new Set<Promise<void>>();
let firstFailure: Error | undefined;

/** Registers a secure check's outcome; a failure is raised at the next {@link pendingOverflow}. */
export function watchOverflow(check: Promise<void>): void {
  const p = check.then(
    () => void pending.delete(p),
    (e: unknown) => {
      pending.delete(p);
      firstFailure ??= e instanceof Error ? e : new Error(String(e));
    },
  );
  pending.add(p);
}

/**
 * Waits for the secure overflow checks started so far and throws the first that failed. Shared
 * values' `get()` calls it, so an overflow surfaces where the caller waits.
 */
export async function pendingOverflow(): Promise<void> {
  while (pending.size > 0) await Promise.all([...pending]);
  const e = firstFailure;
  firstFailure = undefined;
  if (e) throw e;
}

/** Shares of how many entries of the shared integers `x` lie outside (-t, t): two secure comparisons each. */
function outside(x: AbstractTensor, t: bigint): AbstractTensor {
  return x.gt(t - 1n).add(x.lt(1n - t)).sum();
}

/**
 * The opt-in secure check: for each operand of a shared product whose magnitude is not known,
 * counts (securely, revealing only the count) the entries too large for the product to fit, and
 * raises at the next `get()` when any is. `knownA`/`knownB` are the other operands' bounds in
 * integer units, when known; with neither known the room is split evenly.
 */
export function checkSecurely(
  info: ProductInfo,
  k: number,
  a: AbstractTensor | undefined,
  b: AbstractTensor | bigint | undefined,
  knownA?: number,
  knownB?: number,
): void {
  const room = limitOf(info) / k;
  const even = Math.floor(Math.sqrt(room));
  const limitFor = (other: number | undefined) => BigInt(Math.max(1, Math.floor(other === undefined ? even : room / Math.max(other, 1))));
  const jobs: [string, AbstractTensor, bigint, number][] = [];
  if (a && a.layerName === 'AdditiveSharingTensor') jobs.push(['left', a, limitFor(knownB), info.pa]);
  if (b && typeof b !== 'bigint' && b.layerName === 'AdditiveSharingTensor') jobs.push(['right', b, limitFor(knownA), info.pb]);
  for (const [side, x, t, p] of jobs) {
    let count: AbstractTensor;
    try {
      count = outside(x, t);
    } catch (e) {
      watchOverflow(Promise.reject(new FixedPointOverflowError(`checkOverflow could not check a shared ${info.op}: ${(e as Error).message}`, Number.NaN, -1)));
      continue;
    }
    watchOverflow(
      count.get().then((c) => {
        const n = Number((c as RingTensor).data[0]);
        if (n === 0) return;
        const real = Number(t) / info.base ** p;
        throw new FixedPointOverflowError(
          `fixed-precision ${info.op} on shared values may overflow the ring: ${n} entr${n === 1 ? 'y' : 'ies'} of its ${side} ` +
            `operand reach ±${real.toExponential(3)}, beyond what the product can hold at base ${info.base} and precisions ` +
            `${info.pa}+${info.pb}; scale the values down or use a smaller precisionFractional`,
          real,
          -1,
        );
      }),
    );
  }
}
