/**
 * Identifiers from the OS CSPRNG. Object ids are 53-bit integers (safe in JSON and JS numbers);
 * session ids are 128-bit hex strings, unguessable by a peer that is not part of the session.
 */
import { ValueError } from '../errors.js';

// Ids are drawn from a 4 KiB buffer of CSPRNG output, refilled when used up: a training step
// makes hundreds of ids, and a getRandomValues call per id showed in its profile. Every byte is
// used once and dropped.
const pool = new Uint32Array(1024);
let next = pool.length;

function word(): number {
  if (next === pool.length) {
    crypto.getRandomValues(pool);
    next = 0;
  }
  const w = pool[next]!;
  pool[next++] = 0;
  return w;
}

/** A random safe integer in [1, 2^53). */
export function randomId(): number {
  const id = (word() & 0x1fffff) * 0x100000000 + word();
  return id === 0 ? randomId() : id;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A random 128-bit id as 32 hex characters. */
export function randomSessionId(): string {
  let s = '';
  for (let i = 0; i < 4; i++) {
    const w = word();
    s += HEX[w >>> 24]! + HEX[(w >>> 16) & 0xff]! + HEX[(w >>> 8) & 0xff]! + HEX[w & 0xff]!;
  }
  sessionObserver?.(s);
  return s;
}

let sessionObserver: ((session: string) => void) | undefined;

/**
 * Sees every session id drawn from now on (undefined stops it); returns the observer it
 * replaces. A plan's tracer uses it to know exactly which strings of a recorded step are
 * sessions, so that each run can give them fresh values (src/plans/trace.ts). It observes only:
 * the ids stay CSPRNG draws.
 */
export function observeSessionIds(observer: ((session: string) => void) | undefined): ((session: string) => void) | undefined {
  const before = sessionObserver;
  sessionObserver = observer;
  return before;
}

/** `n` bytes from the OS CSPRNG (chunked to the Web Crypto limit of 64 KiB per call). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}

/**
 * `bytes` bytes from the OS CSPRNG as lowercase hex: tokens, nonces, file names that must not be
 * guessed.
 *
 * @example
 * ```ts
 * writeFileSync('alice.token', `${sy.utils.randomHex(32)}\n`, { mode: 0o600 }); // a 256-bit token
 * ```
 */
export function randomHex(bytes = 16): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new ValueError(`randomHex: bytes must be a non-negative integer, got ${bytes}`);
  let s = '';
  for (const b of randomBytes(bytes)) s += HEX[b]!;
  return s;
}
