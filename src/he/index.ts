/**
 * Paillier homomorphic encryption for syft-ts: keys, fast encryption and decryption, fixed-point
 * encoding with a static bit budget, packing, and encrypted vectors with a compact wire form.
 *
 * @example
 * ```ts
 * import { keygen, RnPool, EncryptedVector, FixedPointEncoding } from './he/index.js';
 * const { publicKey, privateKey } = await keygen({ bits: 2048 });
 * const encoding = new FixedPointEncoding({ fractionalBits: 16, valueBits: 32 });
 * const pool = new RnPool(publicKey, { privateKey });
 * await pool.fill(EncryptedVector.ciphertextsNeeded(gradient.length, publicKey, { encoding, pack: { additions: 10 } }));
 * const mine = EncryptedVector.encrypt(gradient, publicKey, { encoding, pack: { additions: 10 }, pool });
 * // server: const total = EncryptedVector.addMany(updates);
 * const average = (await total.decryptAsync(privateKey)).map((v) => v / 10);
 * ```
 *
 * Keys on workers (federated learning: nobody but the clients may hold the private key):
 * ```ts
 * const { publicKey, privateKey } = await sy.paillier.keygenOn(alice, { bits: 2048 });
 * const bobs = privateKey.copyTo(bob); // worker to worker
 * ```
 */
export { BitBudget } from './budget.js';
export type { BitBudgetJSON, BudgetLimit } from './budget.js';
export { FixedPointEncoding } from './encoding.js';
export type { EncodedScalar, FixedPointJSON, FixedPointOptions, SignedEncoding } from './encoding.js';
export { EncodingRangeError, KeyMismatchError, PackingUnsupportedError, PaillierOverflowError, PaillierRangeError } from './errors.js';
export { PackingLayout } from './packing.js';
export type { PackingLayoutJSON, PackOptions } from './packing.js';
export { keygen, MIN_KEY_BITS, PaillierPrivateKey, PaillierPublicKey } from './paillier/keys.js';
export type { EncryptOptions, KeygenOptions, PaillierKeyPair, PaillierPrivateKeyJSON, PaillierPublicKeyJSON } from './paillier/keys.js';
export { modInv } from './paillier/modular.js';
export { FixedModulus, modPow, modPowEngine } from './paillier/modpow.js';
export type { ModPowEngine, ModPowEngineInfo } from './paillier/modpow.js';
export { RnPool } from './paillier/rn-pool.js';
export { keygenOn, poolOn, RemoteKey, sendKey } from './remote-key.js';
export type { RemoteKeyKind } from './remote-key.js';
export type { RnPoolOptions } from './paillier/rn-pool.js';
export { availableThreads, shutdownThreads } from './paillier/threads.js';
export type { ThreadOptions } from './paillier/threads.js';
export { EncryptedVector } from './vector.js';
export type { EncryptVectorOptions, ExactValues } from './vector.js';
export { decodeWire, encodeWire } from './wire.js';
export type { EncryptedVectorMeta, EncryptedVectorWire } from './wire.js';
