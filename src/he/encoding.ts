/**
 * Fixed-point encoding of floats as integers for Paillier, with ONE scale for the whole protocol.
 *
 * A float x becomes the integer e = round(x · scale), scale = 2^fractionalBits (or
 * base^precisionFractional, PySyft's form). A fresh value must satisfy
 * -2^(valueBits-1) ≤ e < 2^(valueBits-1): the range is declared up front, never taken from the
 * data, so a ciphertext's metadata reveals nothing about the values inside.
 *
 * Signed values are stored in one of two ways (`signed`):
 * - `'twos-complement'`: e itself, modulo n; a negative e is the plaintext n - |e|.
 * - `'offset'`: e + 2^(valueBits-1), never negative. Every offset added is tracked, and
 *   subtracted when decoding (after summing k vectors, k offsets).
 * Packed vectors always use offset encoding in their slots, whatever this option says.
 *
 * Multiplying by a fractional public scalar s multiplies by round(s · scale), so the result is at
 * scale² (then scale³, ...): EncryptedVector tracks the exponent and its bit budget grows by
 * log2(scale) bits each time.
 */
import { ValueError, WireFormatError } from '../errors.js';
import { EncodingRangeError } from './errors.js';
import { ratioToNumber } from './paillier/bigint.js';

/** How negative values are stored: see the module documentation. */
export type SignedEncoding = 'twos-complement' | 'offset';

/** Options of {@link FixedPointEncoding}: give `fractionalBits`, or `base` with `precisionFractional`. */
export interface FixedPointOptions {
  /** scale = 2^fractionalBits. Default 16 (when no base is given). */
  readonly fractionalBits?: number;
  /** PySyft-style scale = base^precisionFractional, e.g. base 10 and 3 digits. */
  readonly base?: number;
  /** Digits after the point in `base` (PySyft's `precision_fractional`). */
  readonly precisionFractional?: number;
  /** Bits of a fresh encoded value, sign included. Default 32. */
  readonly valueBits?: number;
  /** Storage of negative values. Default `'twos-complement'`. */
  readonly signed?: SignedEncoding;
}

/** The JSON form of an encoding. */
export interface FixedPointJSON {
  readonly base: number;
  readonly precision: number;
  readonly valueBits: number;
  readonly signed: SignedEncoding;
}

/** A public scalar encoded for multiplication: the integer, and whether it carries one scale. */
export interface EncodedScalar {
  readonly value: bigint;
  readonly scaled: boolean;
}

/**
 * The protocol's fixed-point encoding.
 *
 * @example
 * ```ts
 * const enc = new FixedPointEncoding({ fractionalBits: 16, valueBits: 32 });
 * enc.encode(-1.5);            // -98304n
 * enc.decode(-98304n);         // -1.5
 * enc.maxValue;                // 32767.99998474121
 * ```
 */
export class FixedPointEncoding {
  readonly base: number;
  readonly precision: number;
  readonly valueBits: number;
  readonly signed: SignedEncoding;
  /** base^precision. */
  readonly scale: bigint;
  /** Smallest fresh encoded integer, -2^(valueBits-1). */
  readonly minEncoded: bigint;
  /** Largest fresh encoded integer, 2^(valueBits-1) - 1. */
  readonly maxEncoded: bigint;
  private readonly scaleNumber: number;

  constructor(options: FixedPointOptions = {}) {
    if (options.fractionalBits !== undefined && (options.base !== undefined || options.precisionFractional !== undefined)) {
      throw new ValueError('FixedPointEncoding: give either fractionalBits or base with precisionFractional, not both');
    }
    this.base = options.base ?? 2;
    this.precision = options.fractionalBits ?? options.precisionFractional ?? (options.base === undefined ? 16 : 3);
    this.valueBits = options.valueBits ?? 32;
    this.signed = options.signed ?? 'twos-complement';
    if (!Number.isInteger(this.base) || this.base < 2 || this.base > 1_000_000) {
      throw new ValueError(`FixedPointEncoding: base must be an integer ≥ 2, got ${this.base}`);
    }
    if (!Number.isInteger(this.precision) || this.precision < 0 || this.precision > 256) {
      throw new ValueError(`FixedPointEncoding: the number of fractional digits must be an integer in [0, 256], got ${this.precision}`);
    }
    if (!Number.isInteger(this.valueBits) || this.valueBits < 2 || this.valueBits > 4096) {
      throw new ValueError(`FixedPointEncoding: valueBits must be an integer in [2, 4096], got ${this.valueBits}`);
    }
    if (this.signed !== 'twos-complement' && this.signed !== 'offset') {
      throw new ValueError(`FixedPointEncoding: signed must be 'twos-complement' or 'offset', got ${String(this.signed)}`);
    }
    this.scale = BigInt(this.base) ** BigInt(this.precision);
    if (this.scale >= 1n << BigInt(this.valueBits - 1)) {
      throw new ValueError(
        `FixedPointEncoding: a scale of ${this.base}^${this.precision} leaves no integer part in ${this.valueBits} value bits; ` +
          'use more valueBits or fewer fractional digits',
      );
    }
    this.scaleNumber = Number(this.scale);
    if (this.scale > 1n << 1000n) throw new ValueError('FixedPointEncoding: the scale must stay below 2^1000');
    this.maxEncoded = (1n << BigInt(this.valueBits - 1)) - 1n;
    this.minEncoded = -(1n << BigInt(this.valueBits - 1));
  }

  /** log2(scale): the bits each fractional scalar multiplication adds. */
  get scaleBits(): number {
    return this.precision * Math.log2(this.base);
  }

  /** Added to fresh values in offset encoding (2^(valueBits-1)); 0 in two's complement. */
  get offset(): bigint {
    return this.signed === 'offset' ? -this.minEncoded : 0n;
  }

  /** Largest float a fresh value may hold. */
  get maxValue(): number {
    return ratioToNumber(this.maxEncoded, this.scale);
  }

  /** Most negative float a fresh value may hold. */
  get minValue(): number {
    return ratioToNumber(this.minEncoded, this.scale);
  }

  /**
   * round(x · scale). Throws an EncodingRangeError for NaN, ±Infinity, or values outside
   * [minValue, maxValue] — or clamps those to the range when `clip` is true (NaN still throws).
   */
  encode(x: number, clip = false): bigint {
    if (typeof x !== 'number' || Number.isNaN(x)) throw new EncodingRangeError(`cannot encode ${String(x)}: not a number`);
    const scaled = Math.round(x * this.scaleNumber);
    let e: bigint;
    if (Number.isFinite(scaled)) e = BigInt(scaled);
    else if (clip) e = scaled > 0 ? this.maxEncoded : this.minEncoded;
    else throw this.rangeError(x);
    if (e > this.maxEncoded || e < this.minEncoded) {
      if (!clip) throw this.rangeError(x);
      e = e > this.maxEncoded ? this.maxEncoded : this.minEncoded;
    }
    return e;
  }

  /** {@link encode} for every value; the error names the first bad index. */
  encodeAll(values: ArrayLike<number>, clip = false): bigint[] {
    const out = new Array<bigint>(values.length);
    for (let i = 0; i < values.length; i++) {
      try {
        out[i] = this.encode(values[i]!, clip);
      } catch (e) {
        if (e instanceof EncodingRangeError) throw new EncodingRangeError(`index ${i}: ${e.message}`);
        throw e;
      }
    }
    return out;
  }

  /**
   * Encodes a public multiplier. Integers (a bigint, or an integral number) stay as they are and
   * keep the scale; any other number becomes round(s · scale) and adds one scale to the product.
   */
  encodeScalar(s: number | bigint): EncodedScalar {
    if (typeof s === 'bigint') return { value: s, scaled: false };
    if (typeof s !== 'number' || !Number.isFinite(s)) throw new ValueError(`a scalar must be a finite number or a bigint, got ${String(s)}`);
    if (Number.isInteger(s)) return { value: BigInt(s), scaled: false };
    return { value: BigInt(Math.round(s * this.scaleNumber)), scaled: true };
  }

  /**
   * Encodes many public multipliers at one common scale: all integers keep the scale, otherwise
   * every entry is scaled.
   */
  encodeScalars(values: ArrayLike<number | bigint>): { values: bigint[]; scaled: boolean } {
    const scaled = Array.from(values).some((v) => typeof v === 'number' && !Number.isInteger(v));
    const out = new Array<bigint>(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (typeof v === 'bigint') out[i] = scaled ? v * this.scale : v;
      else if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`scalar ${i} is not a finite number: ${String(v)}`);
      else out[i] = scaled ? BigInt(Math.round(v * this.scaleNumber)) : BigInt(v);
    }
    return { values: out, scaled };
  }

  /** e / scale^exponent as the nearest double. */
  decode(e: bigint, exponent = 1): number {
    const denominator = this.scale ** BigInt(exponent);
    // Fast exact path: both sides are exact doubles and one division rounds once.
    if (e < 1n << 53n && e > -(1n << 53n) && denominator <= 1n << 1000n) return Number(e) / Number(denominator);
    return ratioToNumber(e, denominator);
  }

  /** True when both encodings agree on every parameter. */
  equals(other: FixedPointEncoding): boolean {
    return this.base === other.base && this.precision === other.precision && this.valueBits === other.valueBits && this.signed === other.signed;
  }

  toJSON(): FixedPointJSON {
    return { base: this.base, precision: this.precision, valueBits: this.valueBits, signed: this.signed };
  }

  /** Reads {@link toJSON}'s form; throws a WireFormatError on anything else. */
  static fromJSON(json: unknown): FixedPointEncoding {
    if (typeof json !== 'object' || json === null) throw new WireFormatError('encoding: expected an object');
    const o = json as Record<string, unknown>;
    const { base, precision, valueBits, signed } = o;
    if (typeof base !== 'number' || typeof precision !== 'number' || typeof valueBits !== 'number' || typeof signed !== 'string') {
      throw new WireFormatError('encoding: expected numbers base, precision, valueBits and a string signed');
    }
    try {
      return new FixedPointEncoding({ base, precisionFractional: precision, valueBits, signed: signed as SignedEncoding });
    } catch (e) {
      throw new WireFormatError(`encoding: ${(e as Error).message}`);
    }
  }

  private rangeError(x: number): EncodingRangeError {
    return new EncodingRangeError(
      `${x} is outside the encoding's range [${this.minValue}, ${this.maxValue}] ` +
        `(valueBits ${this.valueBits}, scale ${this.base}^${this.precision}): clip the values (e.g. gradient clipping, ` +
        'or encrypt with { clip: true }), or use more valueBits or fewer fractional digits',
    );
  }
}
