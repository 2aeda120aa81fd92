/**
 * Errors of the ring engine. Each extends the matching library-wide class in src/errors.ts.
 */
import { ShapeError, StateError, ValueError } from '../errors.js';

/**
 * The ring's shape errors are the library's {@link ShapeError} (one shape module serves the whole
 * house); this name stays for code written against earlier versions.
 *
 * @deprecated catch {@link ShapeError} instead.
 */
export const RingShapeError = ShapeError;
/** @deprecated use {@link ShapeError}. */
export type RingShapeError = ShapeError;

/** A bad argument: a number where a bigint is needed, a shift out of 0..63, a zero divisor. */
export class RingValueError extends ValueError {
  override name = 'RingValueError';
}

/**
 * A float that does not fit the ring at the requested fixed precision. `value` is the offending
 * input and `maxPrecisionFractional` the largest precision that would fit it (-1 when none does).
 */
export class FixedPointOverflowError extends RingValueError {
  override name = 'FixedPointOverflowError';
  constructor(
    message: string,
    readonly value: number,
    readonly maxPrecisionFractional: number,
  ) {
    super(message);
  }
}

/** A ring engine that was asked for but cannot run here (no SIMD, failed self-check, no node:crypto). */
export class RingEngineError extends StateError {
  override name = 'RingEngineError';
}
