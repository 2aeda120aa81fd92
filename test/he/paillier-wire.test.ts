// Keys and encrypted tensors through the real wire format (encodeMessage / decodeMessage): numbers
// travel as fixed-width binary frames, and anything altered is refused with a WireFormatError.
import { beforeAll, describe, expect, it } from 'vitest';
import * as sy from '../../src/index.js';
import { PaillierPrivateKey, PaillierPublicKey } from '../../src/he/paillier/keys.js';
import type { PaillierKeyPair } from '../../src/he/paillier/keys.js';
import { keygenOn, RemoteKey } from '../../src/he/remote-key.js';
import '../../src/he/key-codec.js';
import { encryptLayer, PaillierTensor } from '../../src/tensors/paillier.js';
import { decodeObject, encodeObject } from '../../src/workers/codec.js';
import type { WireNode } from '../../src/workers/messages.js';
import { keyPair } from './helpers.js';

/** An object through a `store` message encoded to bytes and back, as a worker would receive it. */
function overTheWire(node: WireNode): { frame: Uint8Array; node: WireNode } {
  const frame = sy.encodeMessage({ kind: 'store', id: 1, obj: node });
  const msg = sy.decodeMessage(frame);
  if (msg.kind !== 'store') throw new Error('expected a store message');
  return { frame, node: msg.obj };
}

const ctx = { worker: sy.local };

describe('Paillier objects on the wire', () => {
  let pair: PaillierKeyPair;
  beforeAll(async () => {
    pair = await keyPair(512);
  });

  it.each([false, true])('an encrypted tensor travels as fixed-width ciphertext bytes (packed: %s)', (packed) => {
    const values = [[0.5, -1.25, 3], [100, -7.5, 0]];
    const pack = packed ? { additions: 3, extraBits: 16 } : false;
    const e = (encryptLayer(sy.tensor(values).child, { protocol: 'paillier', publicKey: pair.publicKey, pack }) as PaillierTensor).mul(-0.5).add(1);
    const { frame, node } = overTheWire(encodeObject(e));
    const width = pair.publicKey.ciphertextBytes; // 2 · 64 bytes
    const data = node.data as Uint8Array;
    expect(data).toBeInstanceOf(Uint8Array);
    expect(data.length).toBe(e.vector.ciphertextCount * width);
    expect(node.n).toBeInstanceOf(Uint8Array);
    expect((node.n as Uint8Array).length).toBe(64);
    // The ciphertexts are the frame's binary part; the JSON header stays small.
    const headerLength = new DataView(frame.buffer, frame.byteOffset).getUint32(4, true);
    expect(headerLength).toBeLessThan(700);
    expect(frame.length).toBeLessThan(headerLength + data.length + 64 + 200);
    const back = decodeObject(node, ctx) as PaillierTensor;
    expect(back).toBeInstanceOf(PaillierTensor);
    expect(back.shape).toEqual([2, 3]);
    expect(back.vector.ciphertexts).toEqual(e.vector.ciphertexts);
    expect(back.vector.scaleExponent).toBe(2);
    expect(Array.from(back.decrypt(pair.privateKey).values)).toEqual(values.flat().map((v) => Math.fround(-0.5 * v + 1)));
  });

  it('altered ciphertexts, lengths or metadata are refused', () => {
    const e = encryptLayer(sy.tensor([1, 2, 3]).child, { protocol: 'paillier', publicKey: pair.publicKey });
    const good = overTheWire(encodeObject(e)).node;
    const width = pair.publicKey.ciphertextBytes;
    const zeroed = new Uint8Array(good.data as Uint8Array);
    zeroed.fill(0, width, 2 * width);
    const tooBig = new Uint8Array(good.data as Uint8Array);
    tooBig.fill(0xff, 0, width);
    const bad: Array<[string, WireNode]> = [
      ['a zero ciphertext', { ...good, data: zeroed }],
      ['a value ≥ n²', { ...good, data: tooBig }],
      ['missing bytes', { ...good, data: (good.data as Uint8Array).slice(1) }],
      ['the wrong shape', { ...good, shape: [4] }],
      ['a budget wider than the key', { ...good, budget: { lo: '0x0', hi: '0x' + 'f'.repeat(200) } }],
      ['an unknown field', { ...good, extra: 1 }],
      ['n as a string', { ...good, n: '0x1234' }],
      ['data as numbers', { ...good, data: [1, 2, 3] }],
    ];
    for (const [, node] of bad) {
      expect(() => decodeObject(overTheWire(node).node, ctx)).toThrow(sy.WireFormatError);
    }
  });

  it('keys travel as big-endian bytes; a private key is checked on arrival', () => {
    const pk = decodeObject(overTheWire(encodeObject(pair.publicKey)).node, ctx);
    expect(pk).toBeInstanceOf(PaillierPublicKey);
    expect((pk as PaillierPublicKey).equals(pair.publicKey)).toBe(true);
    const skNode = overTheWire(encodeObject(pair.privateKey)).node;
    expect(skNode.p).toBeInstanceOf(Uint8Array);
    expect((skNode.p as Uint8Array).length).toBe((skNode.q as Uint8Array).length);
    const sk = decodeObject(skNode, ctx) as PaillierPrivateKey;
    expect(sk).toBeInstanceOf(PaillierPrivateKey);
    expect(sk.p * sk.q).toBe(pair.publicKey.n);
    expect(sk.decrypt(pair.publicKey.encrypt(42n))).toBe(42n);

    // An even "prime" (the last byte + 1): refused.
    const p2 = new Uint8Array(skNode.p as Uint8Array);
    p2[p2.length - 1] = (p2[p2.length - 1]! + 1) & 0xff;
    expect(() => decodeObject({ ...skNode, p: p2 }, ctx)).toThrow(sy.WireFormatError);
    expect(() => decodeObject({ ...skNode, q: (skNode.q as Uint8Array).slice(1) }, ctx)).toThrow(sy.WireFormatError);
    expect(() => decodeObject({ type: 'paillier-public-key', n: new Uint8Array([0x10, 0x00]) }, ctx)).toThrow(sy.WireFormatError);
    expect(() => decodeObject({ type: 'paillier-public-key', n: new Uint8Array(4096).fill(1) }, ctx)).toThrow(sy.WireFormatError);
  });

  it('a key pair made on a worker reaches another worker directly, and only the public key comes here', async () => {
    const alice = new sy.VirtualWorker({ id: 'wire-alice', serialize: true });
    const bob = new sy.VirtualWorker({ id: 'wire-bob', serialize: true });
    const received: Array<{ from: string; raw: unknown }> = [];
    const receive = bob.receive.bind(bob);
    bob.receive = (raw, from, reply) => {
      received.push({ from, raw });
      receive(raw, from, reply);
    };
    const { publicKey, privateKey } = await keygenOn(alice, { bits: 256 });
    expect(publicKey).toBeInstanceOf(PaillierPublicKey);
    expect(privateKey.toString()).toMatch(/^\[RemoteKey private \| 256-bit \| me -> wire-alice:\d+\]$/);
    const bobs = privateKey.copyTo(bob);
    await bobs.confirm();
    const held = (w: sy.VirtualWorker) => w.objectIds().map((id) => w.peek(id)).filter((o) => o instanceof PaillierPrivateKey);
    expect(held(alice)).toHaveLength(1);
    expect(held(bob)).toHaveLength(1);
    expect((held(bob)[0] as PaillierPrivateKey).publicKey.equals(publicKey)).toBe(true);
    expect(held(sy.local)).toHaveLength(0);
    // The key came in a peer message from alice; nothing from this side carried one.
    const carriesKey = (v: unknown): boolean =>
      v !== null && typeof v === 'object' && ((v as { type?: unknown }).type === 'paillier-private-key' || Object.values(v).some(carriesKey));
    expect(received.filter((r) => carriesKey(r.raw)).map((r) => r.from)).toEqual(['wire-alice']);
    // A copy that cannot arrive is reported by confirm().
    const carol = new sy.VirtualWorker({ id: 'wire-carol', timeoutMs: 100 });
    const ghost = new RemoteKey(alice, 12345, 'private', publicKey);
    await expect(ghost.copyTo(carol).confirm()).rejects.toThrow(/ProtocolError/);
  });
});
