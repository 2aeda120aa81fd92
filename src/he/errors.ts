/**
 * Errors of the homomorphic-encryption layer. They extend the library's {@link SyftError} family so
 * `catch (e) { if (e instanceof SyftError) ... }` sees them, and each message says what to do.
 */
import { SyftError, UnsupportedOperationError } from '../errors.js';

/**
 * An operation whose result could wrap modulo n (or spill out of a packed slot). Thrown before
 * anything is computed, so the operands stay valid.
 *
 * @example
 * ```ts
 * try { total = EncryptedVector.addMany(updates); }
 * catch (e) { if (e instanceof PaillierOverflowError) console.log(e.neededBits, e.availableBits); }
 * ```
 */
export class PaillierOverflowError extends SyftError {
  override name = 'PaillierOverflowError';
  constructor(
    /** The operation that was refused, e.g. `add` or `mulScalar`. */
    readonly op: string,
    /** Bits the result could need. */
    readonly neededBits: number,
    /** Bits the plaintext (or slot) can hold. */
    readonly availableBits: number,
    message: string,
  ) {
    super(message);
  }
}

/** Ciphertexts produced under different public keys were combined, or a key does not fit a value. */
export class KeyMismatchError extends SyftError {
  override name = 'KeyMismatchError';
}

/**
 * An operation a packed vector cannot perform: each ciphertext holds many values in slots, and
 * Paillier can only scale all slots of a ciphertext by the same public number.
 */
export class PackingUnsupportedError extends UnsupportedOperationError {
  override name = 'PackingUnsupportedError';
}

/**
 * A decrypted value outside the range its metadata promises. The ciphertext or its metadata was
 * altered (or produced by a peer that lied about its bit budget): the value is not returned.
 */
export class PaillierRangeError extends SyftError {
  override name = 'PaillierRangeError';
}

/** A float that cannot be encoded: NaN, infinite, or outside the encoding's declared range. */
export class EncodingRangeError extends SyftError {
  override name = 'EncodingRangeError';
}
