/**
 * The compact binary form of encrypted vectors: ciphertexts as fixed-width big-endian bytes
 * (2·nBytes each, concatenated) beside a small JSON-able metadata object. `encodeWire` /
 * `decodeWire` frame both into one byte string for transports that want a single buffer:
 *
 *     "SYHE" | u32 BE metadata length | metadata as UTF-8 JSON | ciphertext bytes
 */
import { WireFormatError } from '../errors.js';
import type { BitBudgetJSON } from './budget.js';
import type { FixedPointJSON } from './encoding.js';
import type { PackingLayoutJSON } from './packing.js';
import { bytesToBigint, writeBigintBE } from './paillier/bigint.js';

/** Metadata of an encrypted vector on the wire. Everything in it is public. */
export interface EncryptedVectorMeta {
  readonly format: 'syft-ts/paillier-vector';
  readonly version: 1;
  /** The public modulus n, hex. */
  readonly n: string;
  /** Number of values. */
  readonly length: number;
  readonly encoding: FixedPointJSON;
  /** Values are (integer - offset) / scale^scaleExponent. */
  readonly scaleExponent: number;
  /** Offset included in every stored integer, hex. */
  readonly offset: string;
  /** Bounds of every stored integer (per value, or per slot when packed). */
  readonly budget: BitBudgetJSON;
  /** Slots when packed, null when each ciphertext holds one value. */
  readonly layout: PackingLayoutJSON | null;
}

/** An encrypted vector on the wire: metadata plus ciphertext bytes. */
export interface EncryptedVectorWire {
  readonly meta: EncryptedVectorMeta;
  readonly data: Uint8Array;
}

const MAGIC = [0x53, 0x59, 0x48, 0x45]; // "SYHE"
const MAX_META_BYTES = 1 << 20;

/** Concatenates ciphertexts as `width`-byte big-endian integers. */
export function ciphertextsToBytes(ciphertexts: readonly bigint[], width: number): Uint8Array {
  const out = new Uint8Array(ciphertexts.length * width);
  for (let i = 0; i < ciphertexts.length; i++) writeBigintBE(ciphertexts[i]!, out, i * width, width);
  return out;
}

/**
 * Reads `count` ciphertexts of `width` bytes each, checking the length and that every value is a
 * possible ciphertext (0 < c < n², c not a multiple of n). Throws a WireFormatError otherwise.
 */
export function bytesToCiphertexts(data: Uint8Array, count: number, width: number, n: bigint): bigint[] {
  if (!(data instanceof Uint8Array)) throw new WireFormatError('ciphertext data must be a Uint8Array');
  if (data.length !== count * width) {
    throw new WireFormatError(
      `ciphertext data has ${data.length} bytes; ${count} ciphertexts of ${width} bytes need ${count * width}`,
    );
  }
  const n2 = n * n;
  const out = new Array<bigint>(count);
  for (let i = 0; i < count; i++) {
    const c = bytesToBigint(data, i * width, (i + 1) * width);
    if (c === 0n || c >= n2 || c % n === 0n) {
      throw new WireFormatError(`ciphertext ${i} is not in Z*_{n²} for this key (zero, ≥ n², or a multiple of n)`);
    }
    out[i] = c;
  }
  return out;
}

/** Frames a wire object as one byte string. */
export function encodeWire(wire: EncryptedVectorWire): Uint8Array {
  const meta = new TextEncoder().encode(JSON.stringify(wire.meta));
  const out = new Uint8Array(8 + meta.length + wire.data.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, meta.length, false);
  out.set(meta, 8);
  out.set(wire.data, 8 + meta.length);
  return out;
}

/** Splits {@link encodeWire}'s byte string; the metadata is parsed but validated by its reader. */
export function decodeWire(bytes: Uint8Array): { readonly meta: unknown; readonly data: Uint8Array } {
  if (!(bytes instanceof Uint8Array) || bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new WireFormatError('not an encrypted vector: the bytes do not start with the "SYHE" header');
  }
  const metaLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, false);
  if (metaLength > MAX_META_BYTES || 8 + metaLength > bytes.length) {
    throw new WireFormatError(`metadata length ${metaLength} does not fit in ${bytes.length} bytes`);
  }
  let meta: unknown;
  try {
    meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + metaLength)));
  } catch {
    throw new WireFormatError('the metadata is not valid UTF-8 JSON');
  }
  return { meta, data: bytes.subarray(8 + metaLength) };
}
