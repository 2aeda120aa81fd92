/**
 * Sealing a relayed peer link end to end. A party that cannot listen (a page, a host behind NAT)
 * is reached through its coordinator, which splices the dialler's socket to one the party opened
 * (coordinator.ts). Protocol values must not be readable there: the dealer's material for two
 * parties, seen together, unmasks what they open. So the two ends agree on keys the relay cannot
 * compute — an ephemeral ECDH (P-256) exchange whose public keys both handshake proofs cover —
 * and every binary frame travels as AES-256-GCM under a per-direction key and a frame counter.
 *
 * Against the trust model's honest-but-curious coordinator this hides every value; a coordinator
 * that forged handshakes could sit in the middle, as it could impersonate any party anyway (it
 * holds the tokens that tickets come from). Text frames (acks, bye) are not secret and pass as
 * they are, in order with the binary frames.
 *
 * Keys are agreed with WebCrypto everywhere (Node has it too). Frames are sealed by node:crypto in
 * Node (synchronously, no added latency) and by WebCrypto in pages, where an in-order queue keeps
 * asynchronous sealing from reordering anything.
 */
import type * as NodeCrypto from 'node:crypto';
import { ProtocolError, StateError } from '../../errors.js';
import { fromHex, toHex } from '../../util/hex.js';
import { nodeBuiltin } from '../../util/node.js';
import { CLOSE } from './protocol.js';
import type { FrameSocket } from './socket.js';

const TAG_BYTES = 16;
/** Bytes a sealed frame has beyond its message. */
export const SEAL_OVERHEAD = TAG_BYTES;

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new StateError('WebCrypto (crypto.subtle) is unavailable: pages have it only in secure contexts (https://, or http://localhost)');
  return s;
}

/** One side's ephemeral key pair. */
export interface SealKeyPair {
  publicHex: string;
  privateKey: CryptoKey;
}

/** A fresh ECDH P-256 key pair (its public key goes in the challenge or hello as `seal`). */
export async function sealKeyPair(): Promise<SealKeyPair> {
  const pair = (await subtle().generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])) as CryptoKeyPair;
  return { publicHex: toHex(new Uint8Array(await subtle().exportKey('raw', pair.publicKey))), privateKey: pair.privateKey };
}

/** The two directions' keys, from our private key, their public key and both nonces. */
export async function sealKeys(
  mine: SealKeyPair,
  theirsHex: string,
  nonces: { server: string; client: string },
  side: 'server' | 'client',
): Promise<{ send: Uint8Array<ArrayBuffer>; receive: Uint8Array<ArrayBuffer> }> {
  const s = subtle();
  const theirs = await s.importKey('raw', fromHex(theirsHex), { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const shared = await s.deriveBits({ name: 'ECDH', public: theirs }, mine.privateKey, 256);
  const ikm = await s.importKey('raw', shared, 'HKDF', false, ['deriveBits']);
  const salt = fromHex(nonces.server + nonces.client);
  const derive = async (info: string) =>
    new Uint8Array(await s.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: new TextEncoder().encode(info) }, ikm, 256));
  const [toClient, toServer] = await Promise.all([derive('syft-ts/2 seal worker->dialler'), derive('syft-ts/2 seal dialler->worker')]);
  return side === 'server' ? { send: toClient, receive: toServer } : { send: toServer, receive: toClient };
}

// The 96-bit GCM nonce of frame `n` of one direction (each direction has its own key).
function iv(n: number): Uint8Array<ArrayBuffer> {
  const v = new Uint8Array(12);
  new DataView(v.buffer).setBigUint64(4, BigInt(n));
  return v;
}

type Sealer = (frame: Uint8Array, n: number) => Uint8Array | Promise<Uint8Array>;

function sealer(key: Uint8Array<ArrayBuffer>, open: boolean): Sealer {
  const node = nodeBuiltin<typeof NodeCrypto>('node:crypto');
  if (node !== undefined) {
    return (frame, n) => {
      if (!open) {
        const c = node.createCipheriv('aes-256-gcm', key, iv(n));
        const head = c.update(frame);
        const tail = c.final();
        const out = new Uint8Array(head.length + tail.length + TAG_BYTES);
        out.set(head, 0);
        out.set(tail, head.length);
        out.set(c.getAuthTag(), head.length + tail.length);
        return out;
      }
      if (frame.length < TAG_BYTES) throw new ProtocolError('a sealed frame is shorter than its tag');
      const d = node.createDecipheriv('aes-256-gcm', key, iv(n));
      d.setAuthTag(frame.subarray(frame.length - TAG_BYTES));
      const head = d.update(frame.subarray(0, frame.length - TAG_BYTES));
      const tail = d.final(); // throws when the frame was changed
      if (tail.length === 0) return new Uint8Array(head.buffer, head.byteOffset, head.length);
      const out = new Uint8Array(head.length + tail.length);
      out.set(head, 0);
      out.set(tail, head.length);
      return out;
    };
  }
  const k = subtle().importKey('raw', key, 'AES-GCM', false, [open ? 'decrypt' : 'encrypt']);
  return async (frame, n) => {
    const params = { name: 'AES-GCM', iv: iv(n) };
    const data = frame as Uint8Array<ArrayBuffer>;
    return new Uint8Array(open ? await subtle().decrypt(params, await k, data) : await subtle().encrypt(params, await k, data));
  };
}

/** Runs steps strictly in order; a step that needs no waiting runs at once when nothing waits before it. */
class InOrder {
  #tail: Promise<void> | undefined;
  #waiting = 0;

  run<T>(value: () => T | Promise<T>, then: (v: T) => void, fail: (e: unknown) => void): void {
    if (this.#waiting === 0) {
      let v: T | Promise<T>;
      try {
        v = value();
      } catch (e) {
        return fail(e);
      }
      if (!(v instanceof Promise)) return then(v);
      this.track(v.then(then, fail));
      return;
    }
    this.track((this.#tail ?? Promise.resolve()).then(async () => {
      try {
        then(await value());
      } catch (e) {
        fail(e);
      }
    }));
  }

  private track(p: Promise<void>): void {
    this.#waiting++;
    this.#tail = p.finally(() => this.#waiting--);
  }
}

/**
 * A {@link FrameSocket} whose binary frames are sealed on the way out and opened on the way in;
 * what arrives (frames, text, the close) reaches its handlers in the order it came.
 */
export class SealedSocket implements FrameSocket {
  onBinary: ((frame: Uint8Array) => void) | undefined;
  onText: ((text: string, bytes: number) => void) | undefined;
  onClose: ((code: number, reason: string) => void) | undefined;
  onError: ((e: Error) => void) | undefined;
  readonly #seal: Sealer;
  readonly #open: Sealer;
  readonly #out = new InOrder();
  readonly #in = new InOrder();
  #sent = 0;
  #received = 0;
  #broken = false;

  constructor(
    private readonly inner: FrameSocket,
    keys: { send: Uint8Array<ArrayBuffer>; receive: Uint8Array<ArrayBuffer> },
  ) {
    this.#seal = sealer(keys.send, false);
    this.#open = sealer(keys.receive, true);
    const bad = (e: unknown) => {
      if (this.#broken) return;
      this.#broken = true;
      this.onError?.(new ProtocolError(`a relayed frame failed to open (${(e as Error).message}): the link was tampered with`));
      inner.close(CLOSE.protocol, 'sealed frame failed to open');
    };
    inner.onBinary = (frame) => {
      const n = this.#received++;
      this.#in.run(() => this.#open(frame, n), (m) => !this.#broken && this.onBinary?.(m), bad);
    };
    inner.onText = (text, bytes) => this.#in.run(() => undefined, () => this.onText?.(text, bytes), bad);
    inner.onClose = (code, reason) => this.#in.run(() => undefined, () => this.onClose?.(code, reason), () => this.onClose?.(code, reason));
    inner.onError = (e) => this.onError?.(e);
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  send(frame: Uint8Array | string): void {
    const fail = (e: unknown) => this.onError?.(e as Error);
    if (typeof frame === 'string') return this.#out.run(() => undefined, () => this.inner.isOpen && this.inner.send(frame), fail);
    const n = this.#sent++;
    this.#out.run(() => this.#seal(frame, n), (sealed) => this.inner.isOpen && this.inner.send(sealed), fail);
  }

  close(code: number, reason: string): void {
    this.#out.run(() => undefined, () => this.inner.close(code, reason), () => this.inner.close(code, reason));
  }

  terminate(): void {
    this.inner.terminate();
  }
}
