/**
 * Uniform random bigints from the OS CSPRNG (`crypto.getRandomValues`, present in Node ≥ 19 and
 * every browser as `globalThis.crypto`).
 */
import { bitLength, bytesToBigint } from './bigint.js';
import { gcd } from './modular.js';

/** getRandomValues refuses more than 64 KiB per call. */
const MAX_CHUNK = 65_536;

/** Fills `bytes` from the OS CSPRNG. */
export function randomBytes(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  for (let offset = 0; offset < bytes.length; offset += MAX_CHUNK) {
    globalThis.crypto.getRandomValues(bytes.subarray(offset, Math.min(bytes.length, offset + MAX_CHUNK)));
  }
  return bytes;
}

/**
 * A uniform integer in [0, bound), by rejection: draw bitLength(bound) random bits until the
 * value falls below the bound (fewer than 2 draws on average).
 */
export function randomBelow(bound: bigint): bigint {
  if (bound <= 0n) throw new RangeError('randomBelow: the bound must be positive');
  const bits = bitLength(bound - 1n);
  if (bits === 0) return 0n;
  const bytes = new Uint8Array(Math.ceil(bits / 8));
  const topMask = 0xff >> (bytes.length * 8 - bits);
  for (;;) {
    randomBytes(bytes);
    bytes[0] = bytes[0]! & topMask;
    const x = bytesToBigint(bytes);
    if (x < bound) return x;
  }
}

/** A uniform unit of Z*_m: an integer in [1, m) coprime to m. */
export function randomUnit(m: bigint): bigint {
  for (;;) {
    const r = randomBelow(m);
    if (r !== 0n && gcd(r, m) === 1n) return r;
  }
}
