/**
 * Small BigInt helpers: sizes, fixed-width big-endian bytes, and strict parsing of the decimal or
 * hex strings that keys and wire metadata carry.
 */

/** Number of bits of |x| (0 for 0). */
export function bitLength(x: bigint): number {
  if (x < 0n) x = -x;
  if (x === 0n) return 0;
  const hex = x.toString(16);
  // Every hex digit is 4 bits except the leading one, which may use fewer.
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0]!, 16)));
}

/** Number of bytes needed to hold values below 2^bits. */
export function byteLength(x: bigint): number {
  return Math.ceil(bitLength(x) / 8);
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Big-endian bytes to a non-negative bigint. */
export function bytesToBigint(bytes: Uint8Array, start = 0, end = bytes.length): bigint {
  if (end <= start) return 0n;
  let hex = '';
  for (let i = start; i < end; i++) hex += HEX[bytes[i]!];
  return BigInt('0x' + hex);
}

/**
 * Writes a non-negative bigint into `out[offset, offset + width)` big-endian, zero-padded. The
 * caller guarantees it fits (x < 2^(8·width)).
 */
export function writeBigintBE(x: bigint, out: Uint8Array, offset: number, width: number): void {
  let hex = x.toString(16);
  if (hex.length > 2 * width) throw new RangeError(`value needs ${hex.length / 2} bytes, slot has ${width}`);
  hex = hex.padStart(2 * width, '0');
  for (let i = 0; i < width; i++) {
    out[offset + i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
  }
}

/** Value of one lower-case hex digit given its char code. */
function nibble(code: number): number {
  return code <= 57 ? code - 48 : code - 87;
}

/** A non-negative bigint as fixed-width big-endian bytes. */
export function bigintToBytes(x: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  writeBigintBE(x, out, 0, width);
  return out;
}

const DECIMAL = /^-?[0-9]+$/;
const HEXADECIMAL = /^-?0x[0-9a-fA-F]+$/;

/**
 * Parses a bigint written as a decimal string or a `0x`-prefixed hex string; returns undefined for
 * anything else (numbers, empty strings, stray characters), so callers can raise their own error.
 */
export function parseBigint(s: unknown): bigint | undefined {
  if (typeof s !== 'string' || s.length === 0 || s.length > 100_000) return undefined;
  if (DECIMAL.test(s)) return BigInt(s);
  if (HEXADECIMAL.test(s)) return s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
  return undefined;
}

/** A bigint as a `0x`-prefixed hex string (sign first), the form keys and metadata use. */
export function toHex(x: bigint): string {
  return x < 0n ? '-0x' + (-x).toString(16) : '0x' + x.toString(16);
}

/** Ceil(log2(k)) for k ≥ 1: the bits a sum of k values adds. */
export function ceilLog2(k: number | bigint): number {
  const v = BigInt(k);
  if (v <= 1n) return 0;
  return bitLength(v - 1n);
}

/**
 * num / den as the nearest double (within one ulp), for bigints of any size. Plain
 * `Number(num) / Number(den)` overflows to Infinity or NaN once either side passes 2^1024.
 */
export function ratioToNumber(num: bigint, den: bigint): number {
  if (den === 0n) throw new RangeError('division by zero');
  if (num === 0n) return 0;
  const negative = num < 0n !== den < 0n;
  if (num < 0n) num = -num;
  if (den < 0n) den = -den;
  // Shift so the integer quotient keeps about 64 significant bits, then scale back.
  const shift = bitLength(num) - bitLength(den) - 64;
  const q = shift >= 0 ? num / (den << BigInt(shift)) : (num << BigInt(-shift)) / den;
  let out = Number(q);
  // Apply 2^shift in steps so no intermediate power overflows.
  let s = shift;
  while (s > 1000) { out *= 2 ** 1000; s -= 1000; }
  while (s < -1000) { out *= 2 ** -1000; s += 1000; }
  out *= 2 ** s;
  return negative ? -out : out;
}
