/**
 * HMAC-SHA256 for the handshake, the same bytes in Node and in pages: node:crypto where it is
 * (synchronous, so Node's handshake costs no extra turns), WebCrypto's `crypto.subtle` elsewhere
 * (asynchronous only). Callers use the async {@link hmac}; {@link hmacSync} is for the one place
 * that must not wait where it can avoid it (minting a ticket inside `introduce`).
 */
import type * as NodeCrypto from 'node:crypto';
import { StateError } from '../../errors.js';
import { nodeBuiltin } from '../../util/node.js';

/** A key: bytes, or a string taken as its UTF-8 bytes (as node:crypto takes a string key). */
export type HmacKey = Uint8Array | string;

let forceWebCrypto = false;

/** Tests only: use WebCrypto even where node:crypto is available (to check both give the same bytes). */
export function useWebCryptoForHmac(on: boolean): void {
  forceWebCrypto = on;
}

function node(): typeof NodeCrypto | undefined {
  return forceWebCrypto ? undefined : nodeBuiltin<typeof NodeCrypto>('node:crypto');
}

const encoder = new TextEncoder();
const bytesOf = (v: HmacKey): Uint8Array<ArrayBuffer> => (typeof v === 'string' ? encoder.encode(v) : (v.slice() as Uint8Array<ArrayBuffer>));

/** HMAC-SHA256 of `message` under `key`, synchronously; undefined where only WebCrypto exists. */
export function hmacSync(key: HmacKey, message: string): Uint8Array | undefined {
  const n = node();
  if (n === undefined) return undefined;
  return new Uint8Array(n.createHmac('sha256', key).update(message).digest());
}

/** HMAC-SHA256 of `message` under `key`. @example `await hmac(token, 'label\nfield')` */
export async function hmac(key: HmacKey, message: string): Promise<Uint8Array> {
  const sync = hmacSync(key, message);
  if (sync !== undefined) return sync;
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) {
    throw new StateError('WebCrypto (crypto.subtle) is unavailable: browsers expose it only to secure contexts (https:// pages, or http://localhost)');
  }
  let raw = bytesOf(key);
  // HMAC pads a short key with zeros to the 64-byte block; WebCrypto refuses an empty key, so the
  // empty key (a worker without a token) is given as the block of zeros it stands for.
  if (raw.length === 0) raw = new Uint8Array(64);
  const k = await subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await subtle.sign('HMAC', k, encoder.encode(message)));
}

/** Compares two byte strings of equal length in time that does not depend on where they differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const n = node();
  if (n !== undefined) return n.timingSafeEqual(a, b);
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
