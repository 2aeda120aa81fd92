/**
 * FedAvg with Paillier-encrypted updates, as AIJack's `PaillierGradientClientManager`: the
 * clients share one key pair, encrypt what they upload, the server adds ciphertexts without any
 * key, and every client decrypts the sum on its own worker.
 *
 * AIJack attaches the ability to a client class (`manager.attach(FedAVGClient)`); here a manager
 * attaches it to client objects, keeping their type:
 *
 * ```ts
 * const keys = await sy.federated.SharedKeyPair.generate(clientWorkers, { bits: 2048 });
 * const manager = new sy.federated.PaillierGradientManager(keys);
 * const clients = clientWorkers.map((worker, i) =>
 *   manager.attach(new sy.federated.FedAvgClient({ worker, model, batches: splits[i] })));
 * const server = new sy.federated.FedAvgServer({ worker: serverWorker, clients });
 * await server.round();
 * ```
 *
 * Where the key pair lives: it is generated on the first client's worker and copied from worker
 * to worker to the others. The orchestrator only holds handles and the public key; the server
 * never receives a key.
 */
import { ValueError } from '../errors.js';
import { FixedPointEncoding } from '../he/encoding.js';
import type { FixedPointOptions } from '../he/encoding.js';
import type { PackOptions } from '../he/packing.js';
import type { PaillierPublicKey } from '../he/paillier/keys.js';
import { keygenOn } from '../he/remote-key.js';
import type { RemoteKey } from '../he/remote-key.js';
import { EncryptedVector } from '../he/vector.js';
import { Tensor } from '../tensor.js';
import { decryptLayer, encryptLayer } from '../tensors/paillier.js';
import type { RemoteWorker } from '../workers/worker.js';
import type { FedAvgClient, UpdateProtection } from './fedavg.js';

/**
 * One Paillier key pair held by several workers (the clients), never by this side.
 *
 * @example
 * ```ts
 * const keys = await SharedKeyPair.generate([alice, bob, carol], { bits: 2048 });
 * keys.publicKey;             // here
 * keys.privateKeyOn(bob);     // a handle: the key is on bob
 * ```
 */
export class SharedKeyPair {
  private constructor(
    readonly publicKey: PaillierPublicKey,
    private readonly keys: ReadonlyMap<string, RemoteKey>,
  ) {}

  /**
   * Generates a key pair on `holders[0]` and copies the private key worker to worker to every
   * other holder. Resolves once every holder has it.
   */
  static async generate(holders: readonly RemoteWorker[], options: { readonly bits?: number } = {}): Promise<SharedKeyPair> {
    if (!Array.isArray(holders) || holders.length === 0) throw new ValueError('SharedKeyPair.generate needs at least one worker');
    if (new Set(holders.map((h) => h.id)).size !== holders.length) throw new ValueError('SharedKeyPair.generate: a worker is listed twice');
    const { publicKey, privateKey } = await keygenOn(holders[0]!, options);
    const keys = new Map<string, RemoteKey>([[holders[0]!.id, privateKey]]);
    for (const h of holders.slice(1)) keys.set(h.id, privateKey.copyTo(h));
    await Promise.all([...keys.values()].map((k) => k.confirm()));
    return new SharedKeyPair(publicKey, keys);
  }

  /** Ids of the workers holding the private key. */
  get holders(): string[] {
    return [...this.keys.keys()];
  }

  /** The handle to the private key on `worker`; throws if that worker does not hold it. */
  privateKeyOn(worker: RemoteWorker | string): RemoteKey {
    const id = typeof worker === 'string' ? worker : worker.id;
    const key = this.keys.get(id);
    if (key === undefined) {
      throw new ValueError(`worker '${id}' does not hold the private key (holders: ${this.holders.join(', ')}); list it in SharedKeyPair.generate`);
    }
    return key;
  }

  /** Removes the private key from every holder. */
  dispose(): void {
    for (const k of this.keys.values()) k.dispose();
  }
}

/** Options of a {@link PaillierGradientManager}. */
export interface PaillierGradientOptions {
  /**
   * The protocol's fixed-point encoding. Default 20 fractional bits in 32 value bits: updates in
   * ±2048, to within 5·10⁻⁷.
   */
  readonly encoding?: FixedPointEncoding | FixedPointOptions;
  /**
   * Packing (many values per ciphertext). Default `{ additions: <number of key holders> }`:
   * room for the server to add every client's upload. `false` encrypts one value per ciphertext.
   */
  readonly pack?: PackOptions | false;
}

/**
 * Makes clients encrypt their uploads with a {@link SharedKeyPair} and decrypt the aggregate.
 *
 * @example
 * ```ts
 * const manager = new PaillierGradientManager(keys);
 * const client = manager.attach(new FedAvgClient({ worker: alice, model, batches }));
 * ```
 */
export class PaillierGradientManager implements UpdateProtection {
  readonly name = 'paillier';
  readonly encoding: FixedPointEncoding;
  readonly pack: PackOptions | false;

  constructor(
    readonly keys: SharedKeyPair,
    options: PaillierGradientOptions = {},
  ) {
    if (!(keys instanceof SharedKeyPair)) throw new ValueError('PaillierGradientManager needs a SharedKeyPair');
    const e = options.encoding;
    this.encoding = e instanceof FixedPointEncoding ? e : new FixedPointEncoding(e ?? { fractionalBits: 20, valueBits: 32 });
    this.pack = options.pack === undefined ? { additions: keys.holders.length } : options.pack;
  }

  /** Makes `client` encrypt its uploads; its worker must hold the private key. Returns the client. */
  attach<C extends FedAvgClient>(client: C): C {
    this.keys.privateKeyOn(client.worker);
    client.protection = this;
    return client;
  }

  /** Encrypts the update on the client's worker (with its r^n pool). */
  protect(update: readonly Tensor[], client: FedAvgClient): Tensor[] {
    const publicKey = this.keys.privateKeyOn(client.worker);
    return update.map((u) => new Tensor(encryptLayer(u.child, { protocol: 'paillier', publicKey, encoding: this.encoding, pack: this.pack })));
  }

  /** Decrypts the aggregate on the client's worker, with the key it holds. */
  reveal(aggregate: readonly Tensor[], client: FedAvgClient): Tensor[] {
    const key = this.keys.privateKeyOn(client.worker);
    return aggregate.map((a) => new Tensor(decryptLayer(a.child, key)));
  }

  /**
   * Asks the client's worker to make the r^n factors of its next upload now, in its threads, so
   * that encrypting the update then only multiplies.
   */
  prefill(client: FedAvgClient): void {
    const key = this.keys.privateKeyOn(client.worker);
    const options = { encoding: this.encoding, pack: this.pack };
    const count = client.model
      .parameters()
      .reduce((n, p) => n + EncryptedVector.ciphertextsNeeded(p.numel(), this.keys.publicKey, options), 0);
    key.fillPool(count);
  }
}
