// Fixed-point encoding of real numbers as ring elements: v -> round(v * base^p) mod 2^64.
import { LITTLE_ENDIAN } from './alloc.js';
import { ShapeError } from '../errors.js';
import { FixedPointOverflowError, RingValueError } from './errors.js';
import { RingTensor } from './ring-tensor.js';
import { checkShape, sizeOf } from '../shapes.js';

/** The fixed-point format: a value v is stored as round(v * base^precisionFractional). */
export interface FixedPointOptions {
  /** Integer base >= 2 (PySyft's default is 10). */
  base: number;
  /** Digits after the point, in `base` (PySyft's default is 3). */
  precisionFractional: number;
}

// Encoded magnitudes stay below 2^62, so the sum of two encodings still fits the signed range.
const LIMIT = 2 ** 62;
const TWO32 = 2 ** 32;

function scaleOf(fn: string, opts: FixedPointOptions): number {
  const { base, precisionFractional: p } = opts ?? ({} as FixedPointOptions);
  if (!Number.isInteger(base) || base < 2) {
    throw new RingValueError(`${fn}: base must be an integer >= 2 (PySyft uses 10), got ${String(base)}`);
  }
  if (!Number.isInteger(p) || p < 0) {
    throw new RingValueError(`${fn}: precisionFractional must be an integer >= 0, got ${String(p)}`);
  }
  const scale = base ** p;
  if (scale >= LIMIT) {
    const max = Math.floor(Math.log(LIMIT) / Math.log(base) - 1e-9);
    throw new RingValueError(
      `${fn}: base ${base} with precisionFractional ${p} scales by ${base}^${p} >= 2^62, which leaves no room ` +
        `for the value; use precisionFractional <= ${max}`,
    );
  }
  return scale;
}

// Rounds half away from zero, so encode(-v) = -encode(v).
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** The largest precision p' <= p with |round(v * base^p')| < 2^62, or -1 if none. */
function maxPrecisionFor(v: number, base: number, p: number): number {
  for (let q = p; q >= 0; q--) if (Math.abs(roundHalfAway(v * base ** q)) < LIMIT) return q;
  return -1;
}

/**
 * Encodes real numbers as a ring tensor: each value v becomes round(v * base^precisionFractional)
 * (half away from zero), as a signed 64-bit ring element. Throws {@link FixedPointOverflowError}
 * when |round(v * base^p)| >= 2^62 (one addition of headroom), naming the value and the largest
 * precision that would fit, and a RingValueError for NaN or Infinity.
 *
 * @example
 * ```ts
 * const t = encodeFixed([1.5, -0.25], [2], { base: 10, precisionFractional: 3 }); // tensor([1500, -250])
 * decodeFixed(t, { base: 10, precisionFractional: 3 }); // Float64Array [1.5, -0.25]
 * ```
 */
export function encodeFixed(values: ArrayLike<number>, shape: readonly number[], opts: FixedPointOptions): RingTensor {
  const scale = scaleOf('encodeFixed', opts);
  const s = checkShape(shape, 'encodeFixed: shape');
  const n = sizeOf(s);
  if (values == null || typeof values.length !== 'number' || values.length !== n) {
    throw new ShapeError(
      `encodeFixed: ${values?.length ?? 0} values do not fill shape [${s.join(', ')}], which holds ${n}`,
    );
  }
  const out = new BigInt64Array(n);
  const halves = new Int32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new RingValueError(
        `encodeFixed: value ${i} is ${String(v)}; only finite numbers can be encoded (check for NaN or ` +
          `Infinity from a division by zero or a diverging model)`,
      );
    }
    const r = roundHalfAway(v * scale);
    if (!(Math.abs(r) < LIMIT)) {
      const fit = maxPrecisionFor(v, opts.base, opts.precisionFractional);
      throw new FixedPointOverflowError(
        `encodeFixed: value ${v} (index ${i}) encodes to about ${r.toExponential(3)} at base ${opts.base}, ` +
          `precisionFractional ${opts.precisionFractional}, beyond the ring's limit of 2^62; ` +
          (fit >= 0
            ? `precisionFractional <= ${fit} would fit it, or scale your data down`
            : `it is too large for any precision; scale your data down`),
        v,
        fit,
      );
    }
    if (LITTLE_ENDIAN) {
      // Split the integer-valued double into 32-bit halves: exact, and no BigInt allocation.
      const hi = Math.floor(r / TWO32);
      halves[2 * i] = (r - hi * TWO32) | 0;
      halves[2 * i + 1] = hi;
    } else {
      out[i] = BigInt(r);
    }
  }
  return new RingTensor(s, out);
}

/**
 * Decodes a fixed-point ring tensor: each element, read as a signed 64-bit integer, divided by
 * base^precisionFractional.
 *
 * @example
 * ```ts
 * decodeFixed(RingTensor.from([1], [-1234n]), { base: 10, precisionFractional: 3 }); // [-1.234]
 * ```
 */
export function decodeFixed(t: RingTensor, opts: FixedPointOptions): Float64Array {
  const scale = scaleOf('decodeFixed', opts);
  if (!(t instanceof RingTensor)) throw new RingValueError('decodeFixed: expected a RingTensor');
  const n = t.size;
  const out = new Float64Array(n);
  if (LITTLE_ENDIAN) {
    const halves = new Int32Array(t.data.buffer, t.data.byteOffset, 2 * n);
    for (let i = 0; i < n; i++) out[i] = (halves[2 * i + 1] * TWO32 + (halves[2 * i] >>> 0)) / scale;
  } else {
    for (let i = 0; i < n; i++) out[i] = Number(t.data[i]) / scale;
  }
  return out;
}
