/**
 * PaillierTensor: a tensor of values encrypted under a Paillier public key, one ciphertext per
 * value in row-major order (or many values per ciphertext when packed). It is the leaf of
 * `Tensor > PaillierTensor`, as `x.encrypt({ protocol: 'paillier', publicKey })` makes it.
 *
 * Paillier is additively homomorphic, so this layer does what needs only additions and public
 * multipliers: enc + enc, enc + plain, enc × public number, enc × plain tensor (elementwise),
 * enc @ plain matrix, sums and means, and the shape ops that only rearrange ciphertexts. Every
 * operation is exact or refused before it runs (the bit budget of src/he/budget.ts); anything
 * Paillier cannot do (enc × enc, comparisons, relu, ...) throws a typed error saying what to do.
 *
 * On a pointer, `encryptLayer` and `decryptLayer` send a command: the worker holding the values
 * encrypts them (or, holding the private key, decrypts them) and the result stays there. Ops on
 * a pointer to a PaillierTensor run on the worker through the ordinary tensor commands, and the
 * tensor travels as fixed-width ciphertext bytes.
 */
import { ShapeError, StateError, UnsupportedOperationError, ValueError, WireFormatError } from '../errors.js';
import { FixedPointEncoding } from '../he/encoding.js';
import type { FixedPointOptions } from '../he/encoding.js';
import { broadcastIndices, reduceGroups, sliceIndices, transposeIndices } from '../he/index-maps.js';
import type { PackOptions } from '../he/packing.js';
import { bigintToBytes, bytesToBigint, toHex } from '../he/paillier/bigint.js';
import { PaillierPrivateKey, PaillierPublicKey } from '../he/paillier/keys.js';
import type { RnPool } from '../he/paillier/rn-pool.js';
import type { ThreadOptions } from '../he/paillier/threads.js';
import { poolOn, RemoteKey } from '../he/remote-key.js';
import { EncryptedVector } from '../he/vector.js';
import { type Codec, bad, encodeObject, expectFields, expectShape } from '../workers/codec.js';
import { argBool, selfLayer, type CommandSpec } from '../workers/commands.js';
import type { WireNode, WireValue } from '../workers/messages.js';
import { AbstractTensor, type Dims, type Operand } from '../layer/abstract.js';
import type { UnaryOp } from '../layer/ops.js';
import { AutogradTensor } from './autograd.js';
import { FloatTensor } from './float.js';
import { PointerTensor } from './pointer.js';
import {
  type Shape,
  broadcastShapes,
  checkShape,
  formatShape,
  matmulShape,
  reduceDims,
  reduceShape,
  resolveReshape,
  sameShape,
  sizeOf,
  sliceBounds,
  transposeShape,
  defaultPerm,
  normDim,
} from '../shapes.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const paillierCommands: Record<string, CommandSpec> = {};
const commands = paillierCommands;

/** Options of `x.encrypt({ protocol: 'paillier', ... })`. */
export interface PaillierEncryptOptions {
  readonly protocol: 'paillier';
  /** The key to encrypt under: a public key, or a handle to a key a worker holds. */
  readonly publicKey: PaillierPublicKey | RemoteKey;
  /**
   * The protocol's fixed-point encoding (one for everybody who adds these ciphertexts).
   * Default: 16 fractional bits, 32 value bits.
   */
  readonly encoding?: FixedPointEncoding | FixedPointOptions;
  /**
   * Pack many values per ciphertext, with headroom for `additions` (e.g. the number of clients
   * of an aggregate). Packed tensors add, and multiply by public numbers; they do not support
   * elementwise products, matmul, sums or rearranging. Default: not packed.
   */
  readonly pack?: PackOptions | false;
  /** Clamp values outside the encoding's range instead of throwing. Default false. */
  readonly clip?: boolean;
  /**
   * Local tensors only: precomputed r^n factors (fill one with `await pool.fill(n)` to keep
   * encryption off the critical path). A worker uses its own pool for its keys.
   */
  readonly pool?: RnPool;
}

/** What Paillier can do, for the errors of everything else. */
const ADDITIVE_ONLY =
  'Paillier ciphertexts can only be added together and multiplied by public numbers or plain tensors: ' +
  'decrypt() first, or use secret sharing (fixPrecision().share(...)) to compute on private values';

/** Plain numbers from a tensor operand (an autograd wrapper around floats is read through). */
function plainFloats(o: AbstractTensor): FloatTensor | undefined {
  const v = o instanceof AutogradTensor ? o.dataLayer() : o;
  return v instanceof FloatTensor ? v : undefined;
}

function toEncoding(e: FixedPointEncoding | FixedPointOptions | undefined): FixedPointEncoding {
  return e instanceof FixedPointEncoding ? e : new FixedPointEncoding(e ?? {});
}

function publicKeyOf(k: PaillierPublicKey | RemoteKey | undefined): PaillierPublicKey {
  if (k instanceof PaillierPublicKey) return k;
  if (k instanceof RemoteKey) return k.publicKey;
  throw new ValueError('encrypt() needs { protocol: \'paillier\', publicKey }: a PaillierPublicKey (sy.paillier.keygen()) or a RemoteKey');
}

/**
 * A tensor encrypted with Paillier.
 *
 * @example
 * ```ts
 * const { publicKey, privateKey } = await sy.paillier.keygen({ bits: 2048 });
 * const x = sy.tensor([[1, 2], [3, 4]]).encrypt({ protocol: 'paillier', publicKey });
 * const y = x.add(x).mul(0.5).matmul(sy.tensor([[1], [-1]])).sum();
 * y.decrypt(privateKey).item(); // -2
 * ```
 */
export class PaillierTensor extends AbstractTensor {
  #vector: EncryptedVector;
  #shape: Shape;

  /** Wraps encrypted values with a shape (as many values as the shape holds). */
  constructor(vector: EncryptedVector, shape: Shape) {
    super();
    if (!(vector instanceof EncryptedVector)) throw new ValueError('a PaillierTensor holds an EncryptedVector');
    checkShape(shape);
    if (sizeOf(shape) !== vector.length) {
      throw new ShapeError(`${vector.length} encrypted values do not fill shape ${formatShape(shape)}`);
    }
    this.#vector = vector;
    this.#shape = [...shape];
  }

  /** Encrypts float values laid out row-major in `shape`. */
  static encrypt(values: ArrayLike<number>, shape: Shape, options: Omit<PaillierEncryptOptions, 'protocol'>): PaillierTensor {
    const publicKey = publicKeyOf(options.publicKey);
    const vector = EncryptedVector.encrypt(values, publicKey, {
      encoding: toEncoding(options.encoding),
      pack: options.pack ?? false,
      clip: options.clip ?? false,
      ...(options.pool === undefined ? {} : { pool: options.pool }),
    });
    return new PaillierTensor(vector, shape);
  }

  get layerName(): string {
    return 'PaillierTensor';
  }

  get shape(): Shape {
    return this.#shape;
  }

  /** The encrypted values, row-major. */
  override ownBytes(): number {
    // Each ciphertext is an element of Z_{n^2}: twice the key's bits.
    return this.#vector.ciphertexts.length * Math.ceil((2 * this.#vector.publicKey.bits) / 8);
  }

  get vector(): EncryptedVector {
    return this.#vector;
  }

  get publicKey(): PaillierPublicKey {
    return this.#vector.publicKey;
  }

  /** Compact: the shape, the ciphertexts and the key size (ciphertexts are not worth printing). */
  chainString(): string {
    const v = this.#vector;
    const packing = v.layout === undefined ? '' : `, ${v.layout.slots} values each`;
    return `PaillierTensor>[${formatShape(this.#shape)} | ${v.ciphertextCount} ciphertexts${packing} | ${v.publicKey.bits}-bit key]`;
  }

  /** Decrypts here, on this thread. */
  decrypt(privateKey: PaillierPrivateKey): FloatTensor {
    return new FloatTensor(this.#shape, Float32Array.from(this.#vector.decrypt(privateKey)));
  }

  /** Decrypts with the work spread over worker threads (large tensors). */
  async decryptAsync(privateKey: PaillierPrivateKey, options: ThreadOptions = {}): Promise<FloatTensor> {
    return new FloatTensor(this.#shape, Float32Array.from(await this.#vector.decryptAsync(privateKey, options)));
  }

  /** Values cannot be read without the private key. */
  toNested(): never {
    throw new StateError('this tensor is encrypted: decrypt(privateKey) it first to read its values');
  }

  private wrap(vector: EncryptedVector, shape: Shape = this.#shape): PaillierTensor {
    return new PaillierTensor(vector, shape);
  }

  /** This tensor's values broadcast to `shape` (the same vector when nothing changes). */
  private expanded(shape: Shape): EncryptedVector {
    return sameShape(this.#shape, shape) ? this.#vector : this.#vector.gather(broadcastIndices(this.#shape, shape));
  }

  // ---- additions ------------------------------------------------------------------------------

  private additive(o: Operand, op: 'add' | 'sub'): PaillierTensor {
    if (typeof o === 'number' || typeof o === 'bigint') {
      const v = Number(o);
      return this.wrap(this.#vector.addPlain(new Array<number>(this.#vector.length).fill(op === 'add' ? v : -v)));
    }
    if (o instanceof PaillierTensor) {
      const shape = broadcastShapes(this.#shape, o.shape);
      const a = this.expanded(shape);
      const b = o.expanded(shape);
      return this.wrap(op === 'add' ? a.add(b) : a.sub(b), shape);
    }
    const plain = plainFloats(o);
    if (plain === undefined) return this.foreign(o, op);
    const shape = broadcastShapes(this.#shape, plain.shape);
    const values = broadcastValues(plain, shape);
    return this.wrap(this.expanded(shape).addPlain(op === 'add' ? values : values.map((x) => -x)), shape);
  }

  override add(o: Operand): PaillierTensor {
    return this.additive(o, 'add');
  }

  override sub(o: Operand): PaillierTensor {
    return this.additive(o, 'sub');
  }

  override neg(): PaillierTensor {
    return this.wrap(this.#vector.neg());
  }

  // ---- products with public numbers -----------------------------------------------------------

  /**
   * enc × public number (an integer keeps the scale, any other number adds one), or enc × plain
   * tensor elementwise (unpacked). enc × enc throws: Paillier cannot multiply ciphertexts.
   */
  override mul(o: Operand): PaillierTensor {
    if (typeof o === 'number' || typeof o === 'bigint') return this.wrap(this.#vector.mulScalar(o));
    if (o instanceof PaillierTensor) return this.unsupported('mul of two encrypted tensors', ADDITIVE_ONLY);
    const plain = plainFloats(o);
    if (plain === undefined) return this.foreign(o, 'mul');
    const shape = broadcastShapes(this.#shape, plain.shape);
    return this.wrap(this.expanded(shape).mul(broadcastValues(plain, shape)), shape);
  }

  /** Division by a public non-zero number: multiplication by its fixed-point reciprocal. */
  override div(o: Operand): PaillierTensor {
    if (typeof o === 'bigint') o = Number(o);
    if (typeof o !== 'number') return this.unsupported('div by a tensor', ADDITIVE_ONLY);
    if (!Number.isFinite(o) || o === 0) throw new ValueError(`cannot divide an encrypted tensor by ${o}`);
    return this.mul(1 / o);
  }

  /** enc @ plain: this `[k]` or `[m, k]` times a plain `[k]` or `[k, n]` (unpacked). */
  override matmul(o: AbstractTensor): PaillierTensor {
    if (o instanceof PaillierTensor) return this.unsupported('matmul of two encrypted tensors', ADDITIVE_ONLY);
    const plain = plainFloats(o);
    if (plain === undefined) return this.foreign(o, 'matmul');
    const out = matmulShape(this.#shape, plain.shape);
    if (this.#shape.length > 2 || plain.shape.length > 2) {
      throw new ShapeError('an encrypted matmul takes operands of rank 1 or 2: reshape batched operands first');
    }
    const rows = this.#shape.length === 1 ? 1 : this.#shape[0]!;
    const columns = plain.shape.length === 1 ? 1 : plain.shape[1]!;
    return this.wrap(this.#vector.matmul(rows, plain.values, columns), out);
  }

  /** plain @ enc: `(this^T @ plain^T)^T`, every transpose being a rearrangement of ciphertexts. */
  override rmatmul(o: AbstractTensor): PaillierTensor {
    const plain = plainFloats(o);
    if (plain === undefined) return this.foreign(o, 'matmul');
    const out = matmulShape(plain.shape, this.#shape);
    if (this.#shape.length > 2 || plain.shape.length > 2) {
      throw new ShapeError('an encrypted matmul takes operands of rank 1 or 2: reshape batched operands first');
    }
    // As matrices: A [m, k] @ E [k, n].
    const a = plain.shape.length === 1 ? new FloatTensor([1, plain.shape[0]!], plain.values) : plain;
    const e = this.#shape.length === 1 ? this.reshape([this.#shape[0]!, 1]) : this;
    const product = e.transpose().matmul(transposeFloats(a)).transpose();
    return product.reshape(out);
  }

  // ---- reductions -----------------------------------------------------------------------------

  override sum(dims?: Dims, keepDim = false): PaillierTensor {
    const d = reduceDims(this.#shape.length, dims);
    const shape = reduceShape(this.#shape, d, keepDim);
    if (d.length === this.#shape.length) return this.wrap(this.#vector.sum(), shape);
    return this.wrap(this.#vector.sumGroups(reduceGroups(this.#shape, d)), shape);
  }

  /** The sum times the fixed-point reciprocal of the count (one more scale). */
  override mean(dims?: Dims, keepDim = false): PaillierTensor {
    const d = reduceDims(this.#shape.length, dims);
    const count = d.reduce((n, i) => n * this.#shape[i]!, 1);
    const total = this.sum(dims, keepDim);
    return count === 1 ? total : total.div(count);
  }

  // ---- shape: only rearranges ciphertexts -------------------------------------------------------

  override reshape(shape: readonly number[]): PaillierTensor {
    return this.wrap(this.#vector, resolveReshape(this.#shape, shape));
  }

  override transpose(perm?: readonly number[]): PaillierTensor {
    const shape = transposeShape(this.#shape, perm);
    const p = (perm ?? defaultPerm(this.#shape.length)).map((d) => normDim(d, this.#shape.length));
    if (p.every((d, i) => d === i)) return this.clone();
    return this.wrap(this.#vector.gather(transposeIndices(this.#shape, p)), shape);
  }

  override slice(start: number, end?: number, dim = 0): PaillierTensor {
    const [d, s, e] = sliceBounds(this.#shape, start, end, dim);
    const shape = this.#shape.map((n, i) => (i === d ? e - s : n));
    return this.wrap(this.#vector.gather(sliceIndices(this.#shape, d, s, e)), shape);
  }

  override broadcastTo(shape: readonly number[]): PaillierTensor {
    checkShape(shape);
    const out = broadcastShapes(this.#shape, shape);
    if (!sameShape(out, shape)) throw new ShapeError(`cannot broadcast ${formatShape(this.#shape)} to ${formatShape(shape)}`);
    return this.wrap(this.expanded(shape), shape);
  }

  // ---- copies ---------------------------------------------------------------------------------

  /** A copy (ciphertexts are immutable values, so they are shared). */
  override clone(): PaillierTensor {
    return this.wrap(this.#vector);
  }

  override assign_(src: AbstractTensor): void {
    if (!(src instanceof PaillierTensor)) {
      throw new UnsupportedOperationError(`cannot assign a ${src.layerName} into an encrypted tensor: encrypt it first`);
    }
    this.#vector = src.#vector;
    this.#shape = src.#shape;
  }

  // ---- what Paillier cannot do ------------------------------------------------------------------

  private foreign(o: AbstractTensor, op: string): never {
    if (o instanceof PointerTensor) {
      throw new ValueError(
        `cannot ${op} a local encrypted tensor and a tensor on '${o.location.id}': send() one of them to the other's place first`,
      );
    }
    return this.unsupported(`${op} with a ${o.layerName}`, 'the other operand must be an encrypted tensor under the same key, a plain float tensor or a number');
  }

  override pow(_e: number): never { return this.unsupported('pow', ADDITIVE_ONLY); }
  /** Of the unary ops only `neg` is linear; every other one needs the plaintext. */
  override unary(op: UnaryOp): PaillierTensor {
    return op === 'neg' ? this.neg() : this.unsupported(op, ADDITIVE_ONLY);
  }
  override eq(_o: Operand): never { return this.unsupported('eq', ADDITIVE_ONLY); }
  override gt(_o: Operand): never { return this.unsupported('gt', ADDITIVE_ONLY); }
  override lt(_o: Operand): never { return this.unsupported('lt', ADDITIVE_ONLY); }
  override ge(_o: Operand): never { return this.unsupported('ge', ADDITIVE_ONLY); }
  override le(_o: Operand): never { return this.unsupported('le', ADDITIVE_ONLY); }
  override max(_d?: number, _k?: boolean): never { return this.unsupported('max', ADDITIVE_ONLY); }
  override argmax(_d?: number, _k?: boolean): never { return this.unsupported('argmax', ADDITIVE_ONLY); }
  override fullLike(_v: number): never {
    return this.unsupported('fullLike', 'encrypt a plain tensor of that value instead');
  }
}

/** A plain tensor's values broadcast to `shape`, as numbers. */
function broadcastValues(t: FloatTensor, shape: Shape): number[] {
  const values = t.values;
  if (sameShape(t.shape, shape)) return Array.from(values);
  return Array.from(broadcastIndices(t.shape, shape), (i) => values[i]!);
}

/** The transpose of a plain matrix, without a round trip through tfjs. */
function transposeFloats(t: FloatTensor): FloatTensor {
  const idx = transposeIndices(t.shape, [1, 0]);
  return new FloatTensor([t.shape[1]!, t.shape[0]!], Float32Array.from(idx, (i) => t.values[i]!));
}

// ---- encrypt / decrypt on any chain ---------------------------------------------------------------

/** The encoding and packing a worker needs, as wire values. */
function protocolArgs(options: Omit<PaillierEncryptOptions, 'protocol' | 'publicKey' | 'pool'>): WireValue[] {
  const pack = options.pack;
  const packArg: WireValue =
    pack === undefined || pack === false
      ? false
      : { additions: pack.additions ?? 1, extraBits: pack.extraBits ?? 0 };
  return [{ ...toEncoding(options.encoding).toJSON() }, packArg, options.clip ?? false];
}

/**
 * `x.encrypt({ protocol: 'paillier', publicKey })` on a layer: floats become a PaillierTensor;
 * a pointer gets a pointer to a PaillierTensor that the worker holding the values made.
 *
 * @example
 * ```ts
 * const e = new sy.Tensor(encryptLayer(sy.tensor([1.5, -2]).child, { protocol: 'paillier', publicKey }));
 * ```
 */
export function encryptLayer(child: AbstractTensor, options: PaillierEncryptOptions): AbstractTensor {
  if (options?.protocol !== 'paillier') {
    throw new ValueError(`encrypt() supports { protocol: 'paillier' }, got ${JSON.stringify(options?.protocol)}`);
  }
  const publicKey = publicKeyOf(options.publicKey);
  const value = child instanceof AutogradTensor ? child.dataLayer() : child;
  if (value instanceof PointerTensor) {
    if (options.pool !== undefined) {
      throw new ValueError('a pool only serves local encryption: the worker holding this tensor encrypts with its own pool');
    }
    // The public key goes along by value; the worker finds its own pool (and private key) for it.
    const key: WireValue =
      options.publicKey instanceof RemoteKey && options.publicKey.location.id === value.location.id
        ? { ref: options.publicKey.idAtLocation }
        : { obj: encodeObject(publicKey) };
    return value.command('paillierEncrypt', [key, ...protocolArgs(options)], [value.shape])[0]!;
  }
  if (value instanceof PaillierTensor) throw new ValueError('this tensor is already encrypted');
  if (!(value instanceof FloatTensor)) {
    throw new UnsupportedOperationError(`encrypt() needs float numbers, not a ${value.layerName} (floatPrecision() or get() first)`);
  }
  return PaillierTensor.encrypt(value.values, value.shape, options);
}

/**
 * `e.decrypt(privateKey)` on a layer: a PaillierTensor becomes floats. For a pointer, the key
 * must be a {@link RemoteKey} held by the same worker, which decrypts there; syft-ts never sends
 * a private key along with a command.
 */
export function decryptLayer(child: AbstractTensor, privateKey: PaillierPrivateKey | RemoteKey): AbstractTensor {
  if (child instanceof PointerTensor) {
    if (privateKey instanceof RemoteKey) {
      if (privateKey.kind !== 'private') throw new ValueError('decrypt() needs a private key; this RemoteKey holds a public key');
      if (privateKey.location.id !== child.location.id) {
        throw new ValueError(
          `the tensor is on '${child.location.id}' and the private key on '${privateKey.location.id}': move() the tensor to the key's worker first`,
        );
      }
      return child.command('paillierDecrypt', [{ ref: privateKey.idAtLocation }], [child.shape])[0]!;
    }
    if (privateKey instanceof PaillierPrivateKey) {
      throw new ValueError(
        `this tensor is on '${child.location.id}', and decrypting it there would send your private key along: ` +
          'get() it and decrypt here, or decrypt on a worker that holds the key (pass its RemoteKey; ' +
          'sy.paillier.sendKey(privateKey, worker) sends one on purpose)',
      );
    }
    throw new ValueError('decrypt() needs a PaillierPrivateKey or a RemoteKey');
  }
  if (!(child instanceof PaillierTensor)) {
    throw new UnsupportedOperationError(`decrypt() needs an encrypted tensor, not a ${child.layerName}`);
  }
  if (privateKey instanceof RemoteKey) {
    throw new ValueError(`the private key is on '${privateKey.location.id}': send() the tensor there and decrypt it there`);
  }
  if (!(privateKey instanceof PaillierPrivateKey)) throw new ValueError('decrypt() needs a PaillierPrivateKey');
  return child.decrypt(privateKey);
}

// ---- the wire: fixed-width ciphertext bytes plus small metadata ---------------------------------

export const paillierCodec: Codec<PaillierTensor> = {
  type: 'paillier',
  cls: PaillierTensor,
  encode(t) {
    const { meta, data } = t.vector.toWire();
    const pk = t.publicKey;
    const node: WireNode = {
      type: 'paillier',
      shape: [...t.shape],
      n: bigintToBytes(pk.n, pk.nBytes),
      encoding: { ...meta.encoding },
      scaleExponent: meta.scaleExponent,
      offset: meta.offset,
      budget: { ...meta.budget },
      layout: meta.layout === null ? null : { ...meta.layout },
      data,
    };
    return node;
  },
  decode(node) {
    expectFields(node, ['shape', 'n', 'encoding', 'scaleExponent', 'offset', 'budget', 'layout', 'data']);
    const shape = expectShape('paillier', node.shape);
    if (!(node.n instanceof Uint8Array) || node.n.length === 0 || node.n.length > 2048) bad('paillier', 'n must be 1 to 2048 raw bytes');
    if (!(node.data instanceof Uint8Array)) bad('paillier', 'data must be raw ciphertext bytes');
    const meta = {
      format: 'syft-ts/paillier-vector',
      version: 1,
      n: toHex(bytesToBigint(node.n)),
      length: sizeOf(shape),
      encoding: node.encoding,
      scaleExponent: node.scaleExponent,
      offset: node.offset,
      budget: node.budget,
      layout: node.layout,
    };
    try {
      return new PaillierTensor(EncryptedVector.fromWire({ meta, data: node.data }), shape);
    } catch (e) {
      if (e instanceof WireFormatError) throw new WireFormatError(`bad 'paillier' object: ${e.message}`);
      throw e;
    }
  },
};

// ---- worker commands --------------------------------------------------------------------------------

function argPack(v: WireValue | undefined): PackOptions | false {
  if (v === false) return false;
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) {
    throw new ValueError('pack must be false or { additions, extraBits }');
  }
  const { additions, extraBits, ...rest } = v as Record<string, WireValue>;
  if (Object.keys(rest).length > 0 || typeof additions !== 'number' || typeof extraBits !== 'number') {
    throw new ValueError('pack must be false or { additions, extraBits } (numbers)');
  }
  return { additions, extraBits };
}

commands['paillierEncrypt'] = {
  results: 1,
  needsSelf: true,
  async run(ctx, self, args) {
    const key = ctx.arg(args[0]);
    const publicKey = key instanceof PaillierPrivateKey ? key.publicKey : key;
    if (!(publicKey instanceof PaillierPublicKey)) throw new ValueError('paillierEncrypt needs a Paillier key');
    const encoding = FixedPointEncoding.fromJSON(args[1]);
    const pack = argPack(args[2]);
    const clip = argBool(args[3], 'clip');
    const t = selfLayer(self);
    const value = t instanceof AutogradTensor ? t.dataLayer() : t;
    if (!(value instanceof FloatTensor)) throw new UnsupportedOperationError(`encrypt() needs float numbers, not a ${value.layerName}`);
    // The r^n factors come from this worker's pool, filled over its threads now if need be.
    const pool = poolOn(ctx.worker, publicKey);
    await pool.ensure(EncryptedVector.ciphertextsNeeded(value.values.length, publicKey, { encoding, pack }));
    return PaillierTensor.encrypt(value.values, value.shape, { publicKey, encoding, pack, clip, pool });
  },
};

commands['paillierDecrypt'] = {
  results: 1,
  needsSelf: true,
  async run(ctx, self, args) {
    const key = ctx.arg(args[0]);
    if (!(key instanceof PaillierPrivateKey)) throw new ValueError('paillierDecrypt needs a private key held by this worker');
    const t = selfLayer(self);
    if (!(t instanceof PaillierTensor)) throw new UnsupportedOperationError(`decrypt() needs an encrypted tensor, not a ${t.layerName}`);
    return t.decryptAsync(key);
  },
};
