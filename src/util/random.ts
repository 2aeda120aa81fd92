/**
 * Identifiers from the OS CSPRNG. Object ids are 53-bit integers (safe in JSON and JS numbers);
 * session ids are 128-bit hex strings, unguessable by a peer that is not part of the session.
 */
const buf = new Uint32Array(2);

/** A random safe integer in [1, 2^53). */
export function randomId(): number {
  crypto.getRandomValues(buf);
  const id = (buf[0]! & 0x1fffff) * 0x100000000 + buf[1]!;
  return id === 0 ? randomId() : id;
}

/** A random 128-bit id as 32 hex characters. */
export function randomSessionId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** `n` bytes from the OS CSPRNG (chunked to the Web Crypto limit of 64 KiB per call). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}
