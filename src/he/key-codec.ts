/**
 * How Paillier keys travel between workers: wire nodes whose numbers are big-endian byte strings
 * (raw binary frames in a message, see src/workers/serde.ts), checked on arrival like any other
 * untrusted input.
 *
 *     { type: 'paillier-public-key',  n: Uint8Array }
 *     { type: 'paillier-private-key', p: Uint8Array, q: Uint8Array }   // p and q of one width
 *
 * A private key is only ever encoded when a caller asks for it to go somewhere on purpose
 * (`sendKey`, `RemoteKey.copyTo`): nothing in syft-ts sends one implicitly.
 */
import { WireFormatError } from '../errors.js';
import { type Codec, bad, expectFields } from '../workers/codec.js';
import type { WireValue } from '../workers/messages.js';
import { bigintToBytes, byteLength, bytesToBigint } from './paillier/bigint.js';
import { PaillierPrivateKey, PaillierPublicKey } from './paillier/keys.js';

/** The largest key syft-ts reads from the wire: 16,384 bits (keygen's upper limit). */
const MAX_KEY_BYTES = 2048;

/** A big-endian byte string field, refused when empty, oversized or not a Uint8Array. */
function expectBytes(type: string, v: WireValue | undefined, what: string, maxBytes: number): Uint8Array {
  if (!(v instanceof Uint8Array)) bad(type, `${what} must be raw bytes (a Uint8Array)`);
  if (v.length === 0 || v.length > maxBytes) bad(type, `${what} must be 1 to ${maxBytes} bytes, got ${v.length}`);
  return v;
}

export const publicKeyCodec: Codec<PaillierPublicKey> = {
  type: 'paillier-public-key',
  cls: PaillierPublicKey,
  encode: (k) => ({ type: 'paillier-public-key', n: bigintToBytes(k.n, k.nBytes) }),
  decode(node) {
    expectFields(node, ['n']);
    const n = bytesToBigint(expectBytes(node.type, node.n, 'n', MAX_KEY_BYTES));
    try {
      return new PaillierPublicKey(n);
    } catch (e) {
      throw new WireFormatError(`bad 'paillier-public-key' object: ${(e as Error).message}`);
    }
  },
};

export const privateKeyCodec: Codec<PaillierPrivateKey> = {
  type: 'paillier-private-key',
  cls: PaillierPrivateKey,
  encode(k) {
    const width = Math.max(byteLength(k.p), byteLength(k.q));
    return { type: 'paillier-private-key', p: bigintToBytes(k.p, width), q: bigintToBytes(k.q, width) };
  },
  decode(node) {
    expectFields(node, ['p', 'q']);
    const p = expectBytes(node.type, node.p, 'p', MAX_KEY_BYTES / 2);
    const q = expectBytes(node.type, node.q, 'q', MAX_KEY_BYTES / 2);
    if (p.length !== q.length) bad(node.type, 'p and q must have the same width');
    const pp = bytesToBigint(p);
    const qq = bytesToBigint(q);
    // fromJSON checks n = p·q and the primality of p and q (a composite would decrypt wrongly).
    return PaillierPrivateKey.fromJSON({ kind: 'paillier-private-key', n: (pp * qq).toString(), p: pp.toString(), q: qq.toString() });
  },
};
