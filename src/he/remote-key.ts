/**
 * Paillier keys held by workers.
 *
 * In federated averaging with encrypted gradients the clients share one key pair and nobody else
 * may see its private half: not the server, not the orchestrator that drives the workers. So the
 * key pair is generated on a client's worker (`keygenOn`), and copied from worker to worker
 * (`RemoteKey.copyTo`); this side only holds a {@link RemoteKey} handle and the public key.
 *
 * A worker holding a private key also encrypts faster: the r^n factors of encryption come from a
 * pool per worker and key ({@link poolOn}), filled with the CRT when the key pair is at hand, in
 * worker threads, ahead of time if asked (`RemoteKey.fillPool`).
 *
 * Trust model: workers obey their orchestrator, as everywhere in syft-ts (PySyft's model). The
 * handles never fetch a private key, and the worker commands below never send one anywhere but
 * to the destination named by `copyTo`.
 */
import { ProtocolError, ValueError } from '../errors.js';
import { within } from '../workers/limits.js';
import { markStays } from '../workers/store.js';
import { argInt, argString, type CommandSpec } from '../workers/commands.js';
import { decodeObject, encodeObject } from '../workers/codec.js';
import { local } from '../workers/local.js';
import type { ObjectId } from '../workers/messages.js';
import type { RemoteWorker, Worker } from '../workers/worker.js';
import { randomId, randomSessionId } from '../util/random.js';
import { keygen, PaillierPrivateKey, PaillierPublicKey } from './paillier/keys.js';
import type { KeygenOptions } from './paillier/keys.js';
import { RnPool } from './paillier/rn-pool.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const remoteKeyCommands: Record<string, CommandSpec> = {};
const commands = remoteKeyCommands;

/** What a {@link RemoteKey} points to. */
export type RemoteKeyKind = 'public' | 'private';

/**
 * A Paillier key stored on a worker: where it is, and its public key (public, so known here).
 *
 * @example
 * ```ts
 * const { publicKey, privateKey } = await sy.paillier.keygenOn(alice, { bits: 2048 });
 * const bobsKey = privateKey.copyTo(bob);   // alice -> bob directly
 * await bobsKey.confirm();                  // bob holds it (the key itself never comes here)
 * ```
 */
export class RemoteKey {
  constructor(
    /** The worker holding the key. */
    readonly location: RemoteWorker,
    /** Its id in that worker's store. */
    readonly idAtLocation: ObjectId,
    readonly kind: RemoteKeyKind,
    /** The public key (of the pair, for a private key). */
    readonly publicKey: PaillierPublicKey,
    /** The worker that sends this handle's commands. */
    readonly owner: Worker = local,
  ) {}

  /**
   * Copies the key to `dest`, straight from the worker holding it (this side never sees it),
   * and returns a handle to the copy.
   */
  copyTo(dest: RemoteWorker): RemoteKey {
    if (dest.id === this.location.id) return this;
    const session = randomSessionId();
    const id = randomId();
    this.location.introduce(dest, this.owner);
    this.location.post({ kind: 'cmd', op: 'paillierKeySendTo', self: this.idAtLocation, args: [dest.id, session], ret: [] }, this.owner);
    dest.post({ kind: 'cmd', op: 'paillierKeyRecvFrom', args: [this.location.id, session], ret: [id] }, this.owner);
    return new RemoteKey(dest, id, this.kind, this.publicKey, this.owner);
  }

  /**
   * Resolves once the worker holds the key, checking that it is the key this handle expects;
   * rejects with the worker's error otherwise (a copy that failed, say). Only the public key is
   * fetched.
   */
  async confirm(): Promise<void> {
    const id = randomId();
    this.location.post({ kind: 'cmd', op: 'paillierPublicKeyOf', self: this.idAtLocation, args: [], ret: [id] }, this.owner);
    const node = await this.location.request({ kind: 'req', req: 0, op: 'get', args: [id, false] }, this.owner);
    const pk = decodeObject(node, { worker: this.owner });
    if (!(pk instanceof PaillierPublicKey) || !pk.equals(this.publicKey)) {
      throw new ProtocolError(`worker '${this.location.id}' holds a different key under id ${this.idAtLocation}`);
    }
  }

  /**
   * Asks the worker to make `count` r^n factors ahead of time (in its threads), so its next
   * encryptions under this key only multiply. Lazy, like every command: the worker runs it in
   * order with the others.
   */
  fillPool(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new ValueError(`fillPool: count must be a non-negative integer, got ${count}`);
    this.location.post({ kind: 'cmd', op: 'paillierFillPool', self: this.idAtLocation, args: [count], ret: [] }, this.owner);
  }

  /** Removes the key from its worker. */
  dispose(): void {
    this.location.post({ kind: 'del', ids: [this.idAtLocation] }, this.owner);
  }

  toString(): string {
    return `[RemoteKey ${this.kind} | ${this.publicKey.bits}-bit | ${this.owner.id} -> ${this.location.id}:${this.idAtLocation}]`;
  }
}

/**
 * Generates a key pair on `worker`: the private key stays there; the public key comes back.
 *
 * @example
 * ```ts
 * const { publicKey, privateKey } = await sy.paillier.keygenOn(clients[0], { bits: 2048 });
 * ```
 */
export async function keygenOn(
  worker: RemoteWorker,
  options: KeygenOptions & { readonly owner?: Worker } = {},
): Promise<{ publicKey: PaillierPublicKey; privateKey: RemoteKey }> {
  const owner = options.owner ?? local;
  const bits = options.bits ?? 2048;
  const skId = randomId();
  const pkId = randomId();
  worker.post({ kind: 'cmd', op: 'paillierKeygen', args: [bits], ret: [skId] }, owner);
  worker.post({ kind: 'cmd', op: 'paillierPublicKeyOf', self: skId, args: [], ret: [pkId] }, owner);
  const node = await worker.request({ kind: 'req', req: 0, op: 'get', args: [pkId, false] }, owner);
  const publicKey = decodeObject(node, { worker: owner });
  if (!(publicKey instanceof PaillierPublicKey)) throw new ProtocolError(`worker '${worker.id}' did not return a public key`);
  return { publicKey, privateKey: new RemoteKey(worker, skId, 'private', publicKey, owner) };
}

/**
 * Sends a key this side holds to a worker, on purpose (syft-ts never sends a private key
 * implicitly), and returns a handle to the worker's copy.
 */
export function sendKey(key: PaillierPublicKey | PaillierPrivateKey, worker: RemoteWorker, owner: Worker = local): RemoteKey {
  if (!(key instanceof PaillierPublicKey) && !(key instanceof PaillierPrivateKey)) {
    throw new ValueError('sendKey needs a PaillierPublicKey or a PaillierPrivateKey');
  }
  const id = randomId();
  worker.post({ kind: 'store', id, obj: encodeObject(key) }, owner);
  const isPrivate = key instanceof PaillierPrivateKey;
  return new RemoteKey(worker, id, isPrivate ? 'private' : 'public', isPrivate ? key.publicKey : key, owner);
}

// ---- worker side ---------------------------------------------------------------------------

/** The private key for modulus n in `worker`'s store, if it holds one. */
export function heldPrivateKey(worker: Worker, n: bigint): PaillierPrivateKey | undefined {
  for (const id of worker.objectIds()) {
    const o = worker.peek(id);
    if (o instanceof PaillierPrivateKey && o.publicKey.n === n) return o;
  }
  return undefined;
}

const pools = new WeakMap<Worker, Map<bigint, RnPool>>();

/**
 * The r^n pool `worker` encrypts with under `publicKey`: a CRT pool while the worker holds the
 * private key (about 3x faster), a public-key pool otherwise. A pool forgets the private key as
 * soon as the worker does.
 */
export function poolOn(worker: Worker, publicKey: PaillierPublicKey): RnPool {
  let byKey = pools.get(worker);
  if (byKey === undefined) pools.set(worker, (byKey = new Map()));
  const privateKey = heldPrivateKey(worker, publicKey.n);
  let pool = byKey.get(publicKey.n);
  if (pool === undefined || pool.usesCrt !== (privateKey !== undefined)) {
    pool = new RnPool(publicKey, privateKey === undefined ? {} : { privateKey });
    byKey.set(publicKey.n, pool);
  }
  return pool;
}

function publicKeyOf(key: unknown): PaillierPublicKey {
  if (key instanceof PaillierPublicKey) return key;
  if (key instanceof PaillierPrivateKey) return key.publicKey;
  throw new ValueError('the target object is not a Paillier key');
}

commands['paillierKeygen'] = {
  results: 1,
  needsSelf: false,
  run(ctx, _self, args) {
    const bits = argInt(args[0], 'bits');
    within(ctx.limits, 'maxKeyBits', bits, 'the key size asked for');
    // A key the worker made stays with workers: no orchestrator ever fetches it (only its public half).
    return keygen({ bits }).then((pair) => markStays(pair.privateKey));
  },
};

commands['paillierPublicKeyOf'] = {
  results: 1,
  needsSelf: true,
  run: (_ctx, self) => publicKeyOf(self),
};

commands['paillierKeySendTo'] = {
  results: 0,
  needsSelf: true,
  run(ctx, self, args) {
    // The one way a generated private key travels: worker to worker, for the clients that must
    // share it (never to an orchestrator: `get()` and `move()` refuse it).
    publicKeyOf(self);
    ctx.send(argString(args[0], 'destination', 64), argString(args[1], 'session', 32), 'paillier-key', encodeObject(self as object));
  },
};

commands['paillierKeyRecvFrom'] = {
  results: 1,
  needsSelf: false,
  async run(ctx, _self, args) {
    const node = await ctx.recv(argString(args[0], 'source', 64), argString(args[1], 'session', 32), 'paillier-key');
    const key = decodeObject(node, { worker: ctx.worker });
    publicKeyOf(key);
    return key;
  },
};

commands['paillierFillPool'] = {
  results: 0,
  needsSelf: true,
  run: (ctx, self, args) => poolOn(ctx.worker, publicKeyOf(self)).ensure(argInt(args[0], 'count')),
};
