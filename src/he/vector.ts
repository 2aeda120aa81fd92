/**
 * EncryptedVector: a vector of fixed-point values under one Paillier public key — its ciphertexts
 * plus everything needed to decode them exactly (encoding, scale exponent, offset, packing
 * layout) and the bit budget that proves no operation has wrapped.
 *
 * Each stored integer x (one per ciphertext, or one per slot when packed) means the value
 * (x - offset) / scale^scaleExponent, and lies in [budget.lo, budget.hi]. Every operation
 * computes the new budget from its operands' budgets first and throws a PaillierOverflowError
 * if it could overflow; only then does it touch ciphertexts. Decryption checks the result
 * against the budget again, so a value that is not what the metadata promises is refused
 * (PaillierRangeError), never returned.
 */
import { ShapeError, ValueError, WireFormatError } from '../errors.js';
import { BitBudget } from './budget.js';
import type { BudgetLimit } from './budget.js';
import { FixedPointEncoding } from './encoding.js';
import { KeyMismatchError, PackingUnsupportedError, PaillierRangeError } from './errors.js';
import { PackingLayout } from './packing.js';
import type { PackOptions } from './packing.js';
import { parseBigint, toHex } from './paillier/bigint.js';
import { PaillierPublicKey } from './paillier/keys.js';
import type { PaillierPrivateKey } from './paillier/keys.js';
import { batchModInv } from './paillier/modular.js';
import { modPow } from './paillier/modpow.js';
import { RnPool } from './paillier/rn-pool.js';
import type { ThreadOptions } from './paillier/threads.js';
import { bytesToCiphertexts, ciphertextsToBytes } from './wire.js';
import type { EncryptedVectorMeta, EncryptedVectorWire } from './wire.js';

/** Options of {@link EncryptedVector.encrypt}. */
export interface EncryptVectorOptions {
  /** The protocol's encoding. Default `new FixedPointEncoding()` (16 fractional bits, 32 value bits). */
  readonly encoding?: FixedPointEncoding;
  /** Pack many values per ciphertext, with headroom for `additions` (see packing.ts). Default: no packing. */
  readonly pack?: PackOptions | false;
  /** Precomputed r^n factors; without one (or when it runs dry) they are computed on this thread. */
  readonly pool?: RnPool;
  /** Clamp out-of-range values to the encoding's range instead of throwing. Default false. */
  readonly clip?: boolean;
}

/** Exact decryption: value i is numerators[i] / denominator. */
export interface ExactValues {
  readonly numerators: bigint[];
  readonly denominator: bigint;
}

interface State {
  readonly publicKey: PaillierPublicKey;
  readonly encoding: FixedPointEncoding;
  readonly layout: PackingLayout | undefined;
  readonly length: number;
  readonly scaleExponent: number;
  readonly offset: bigint;
  readonly budget: BitBudget;
  readonly ciphertexts: bigint[];
}

/** The most scale factors a value may carry (far beyond any key's room; guards the wire). */
const MAX_SCALE_EXPONENT = 4096;

/**
 * An encrypted vector of fixed-point values.
 *
 * @example
 * ```ts
 * const { publicKey, privateKey } = await keygen({ bits: 2048 });
 * const encoding = new FixedPointEncoding({ fractionalBits: 16 });
 * const a = EncryptedVector.encrypt([0.5, -1.25], publicKey, { encoding, pack: { additions: 10 } });
 * const b = EncryptedVector.encrypt([1, 2], publicKey, { encoding, pack: { additions: 10 } });
 * a.add(b).mulScalar(0.5).decrypt(privateKey); // Float64Array [0.75, 0.375]
 * ```
 */
export class EncryptedVector {
  readonly publicKey: PaillierPublicKey;
  readonly encoding: FixedPointEncoding;
  /** Packing layout, or undefined when each ciphertext holds one value. */
  readonly layout: PackingLayout | undefined;
  /** Number of values. */
  readonly length: number;
  /** Values are (integer - offset) / scale^scaleExponent: 1 when fresh, +1 per fractional scalar multiply. */
  readonly scaleExponent: number;
  /** Offset included in every stored integer (offset encoding); 0 for two's complement. */
  readonly offset: bigint;
  /** Static bounds of every stored integer, and the room they must fit in. */
  readonly budget: BitBudget;
  private readonly cts: bigint[];

  private constructor(state: State) {
    this.publicKey = state.publicKey;
    this.encoding = state.encoding;
    this.layout = state.layout;
    this.length = state.length;
    this.scaleExponent = state.scaleExponent;
    this.offset = state.offset;
    this.budget = state.budget;
    this.cts = state.ciphertexts;
  }

  /** The raw ciphertexts (a copy). */
  get ciphertexts(): bigint[] {
    return this.cts.slice();
  }

  /** Number of ciphertexts. */
  get ciphertextCount(): number {
    return this.cts.length;
  }

  /** True when many values share each ciphertext. */
  get packed(): boolean {
    return this.layout !== undefined;
  }

  /** Bytes of the ciphertexts on the wire. */
  get byteLength(): number {
    return this.cts.length * this.publicKey.ciphertextBytes;
  }

  /**
   * How many ciphertexts encrypting `length` values takes with these options: the number of r^n
   * factors to have in a pool beforehand.
   */
  static ciphertextsNeeded(length: number, publicKey: PaillierPublicKey, options: EncryptVectorOptions = {}): number {
    if (options.pack === undefined || options.pack === false) return length;
    return PackingLayout.choose(publicKey, options.encoding ?? new FixedPointEncoding(), options.pack).ciphertextCount(length);
  }

  /**
   * Encodes and encrypts floats. Out-of-range values throw an EncodingRangeError (or are clamped
   * with `clip: true`); an encoding too wide for the key throws a PaillierOverflowError.
   */
  static encrypt(values: ArrayLike<number>, publicKey: PaillierPublicKey, options: EncryptVectorOptions = {}): EncryptedVector {
    if (!(publicKey instanceof PaillierPublicKey)) throw new ValueError('EncryptedVector.encrypt needs a PaillierPublicKey');
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw new ValueError('EncryptedVector.encrypt needs an array (or typed array) of numbers');
    }
    const encoding = options.encoding ?? new FixedPointEncoding();
    const encoded = encoding.encodeAll(values, options.clip ?? false);
    const packed = options.pack !== undefined && options.pack !== false;
    const layout = packed ? PackingLayout.choose(publicKey, encoding, options.pack as PackOptions) : undefined;
    // Packed slots must stay non-negative, so they always use the offset.
    const offset = packed ? -encoding.minEncoded : encoding.offset;
    const budget = new BitBudget(encoding.minEncoded + offset, encoding.maxEncoded + offset, limitFor(publicKey, layout)).check('encrypt');

    const stored = offset === 0n ? encoded : encoded.map((e) => e + offset);
    const plaintexts = layout !== undefined ? layout.pack(stored, offset) : stored.map((x) => (x < 0n ? x + publicKey.n : x));
    const pool = options.pool;
    const ciphertexts = plaintexts.map((m) =>
      pool !== undefined ? publicKey.encryptWithFactor(m, publicKey.poolFactor(pool)) : publicKey.encrypt(m),
    );
    return new EncryptedVector({ publicKey, encoding, layout, length: values.length, scaleExponent: 1, offset, budget, ciphertexts });
  }

  /**
   * {@link encrypt}, after making sure the pool holds enough r^n factors (filling it over worker
   * threads). Without a pool, a temporary public-key pool is used.
   */
  static async encryptAsync(
    values: ArrayLike<number>,
    publicKey: PaillierPublicKey,
    options: EncryptVectorOptions & ThreadOptions = {},
  ): Promise<EncryptedVector> {
    const pool = options.pool ?? new RnPool(publicKey, options.threads === undefined ? {} : { threads: options.threads });
    await pool.ensure(EncryptedVector.ciphertextsNeeded(values.length, publicKey, options));
    return EncryptedVector.encrypt(values, publicKey, { ...options, pool });
  }

  /** Elementwise sum of two vectors (scales are aligned first by exact multiplication). */
  add(other: EncryptedVector): EncryptedVector {
    return EncryptedVector.addMany([this, other]);
  }

  /** Elementwise difference. */
  sub(other: EncryptedVector): EncryptedVector {
    return EncryptedVector.addMany([this, other.neg()]);
  }

  /** Elementwise negation. */
  neg(): EncryptedVector {
    return this.mulScalar(-1n);
  }

  /**
   * Elementwise sum of many vectors — the server's aggregation step. The budget of the total is
   * checked once, before any ciphertext is multiplied.
   */
  static addMany(vectors: readonly EncryptedVector[]): EncryptedVector {
    if (vectors.length === 0) throw new ValueError('addMany needs at least one vector');
    const first = vectors[0]!;
    for (const v of vectors) first.checkCompatible(v, 'add');
    // Budgets first: lower scales are lifted exactly (× scale^d), then everything is summed.
    const exponent = Math.max(...vectors.map((v) => v.scaleExponent));
    const factors = vectors.map((v) => first.encoding.scale ** BigInt(exponent - v.scaleExponent));
    let lo = 0n;
    let hi = 0n;
    let offset = 0n;
    vectors.forEach((v, j) => {
      const lifted = factors[j] === 1n ? v.budget : v.budget.times(factors[j]!, 'aligning scales before add');
      lo += lifted.lo;
      hi += lifted.hi;
      offset += v.offset * factors[j]!;
    });
    const budget = new BitBudget(lo, hi, first.budget.limit).check(vectors.length > 2 ? `addMany of ${vectors.length} vectors` : 'add');
    // Only now touch ciphertexts.
    const n2 = first.publicKey.n2;
    const aligned = vectors.map((v, j) => (factors[j] === 1n ? v.cts : v.powAll(factors[j]!)));
    const ciphertexts = aligned[0]!.map((c, i) => {
      let acc = c;
      for (let j = 1; j < aligned.length; j++) acc = (acc * aligned[j]![i]!) % n2;
      return acc;
    });
    return first.derive({ scaleExponent: exponent, offset, budget, ciphertexts });
  }

  /**
   * Adds public values elementwise. They are encoded like fresh values (same range check), then
   * brought to this vector's scale; packed vectors add one packed plaintext per ciphertext.
   */
  addPlain(values: ArrayLike<number>): EncryptedVector {
    if (values.length !== this.length) throw new ShapeError(`addPlain: ${values.length} values for a vector of ${this.length}`);
    const lift = this.encoding.scale ** BigInt(this.scaleExponent - 1);
    const plainOffset = (this.packed ? -this.encoding.minEncoded : this.encoding.offset) * lift;
    const budget = this.budget.plus(
      { lo: this.encoding.minEncoded * lift + plainOffset, hi: this.encoding.maxEncoded * lift + plainOffset },
      'addPlain',
    );
    const stored = this.encoding.encodeAll(values).map((e) => e * lift + plainOffset);
    const pk = this.publicKey;
    const plaintexts = this.layout !== undefined ? this.layout.pack(stored, plainOffset) : stored;
    const ciphertexts = this.cts.map((c, i) => pk.addPlain(c, plaintexts[i]!));
    return this.derive({ offset: this.offset + plainOffset, budget, ciphertexts });
  }

  /**
   * Multiplies every value by the same public scalar. An integer (bigint, or integral number)
   * keeps the scale; any other number is encoded at the protocol's scale, and the result carries
   * one more scale factor (its budget grows by log2(scale) bits plus the scalar's own bits).
   */
  mulScalar(scalar: number | bigint): EncryptedVector {
    const { value: k, scaled } = this.encoding.encodeScalar(scalar);
    const exponent = this.scaleExponent + (scaled ? 1 : 0);
    const op = `mulScalar(${String(scalar)})`;
    if (this.layout === undefined || k >= 0n) {
      const budget = this.budget.times(k, op);
      const ciphertexts = this.powAll(k);
      return this.derive({ scaleExponent: exponent, offset: this.offset * k, budget, ciphertexts });
    }
    // A packed slot cannot go negative: store |k|·(hi - x) instead of k·x, which is
    // k·(x - offset) + |k|·(hi - offset), i.e. the same value with a new offset.
    const a = -k;
    const budget = this.budget.complement().times(a, op);
    const hi = this.budget.hi;
    const complementPlain = this.layout.pack(new Array<bigint>(this.layout.slots).fill(hi), hi)[0]!;
    const pk = this.publicKey;
    const inverses = batchModInv(this.cts, pk.n2);
    const ciphertexts = inverses.map((inv) => modPow(pk.addPlain(inv, complementPlain), a, pk.n2));
    return this.derive({ scaleExponent: exponent, offset: a * (hi - this.offset), budget, ciphertexts });
  }

  /**
   * Multiplies elementwise by public numbers (unpacked vectors only). If any of them is not an
   * integer, all are encoded at the protocol's scale and the result carries one more scale.
   */
  mul(values: ArrayLike<number | bigint>): EncryptedVector {
    this.requireUnpacked('mul (elementwise, by different scalars)');
    if (values.length !== this.length) throw new ShapeError(`mul: ${values.length} values for a vector of ${this.length}`);
    const { values: ks, scaled } = this.encoding.encodeScalars(values);
    const base = this.withoutOffset();
    let lo = 0n;
    let hi = 0n;
    for (const k of ks) {
      const a = base.budget.lo * k;
      const b = base.budget.hi * k;
      if (a < lo) lo = a;
      if (b < lo) lo = b;
      if (a > hi) hi = a;
      if (b > hi) hi = b;
    }
    const budget = new BitBudget(lo, hi, base.budget.limit).check('mul');
    const pk = this.publicKey;
    const negatives = ks.some((k) => k < 0n) ? batchModInv(base.cts, pk.n2) : [];
    const ciphertexts = base.cts.map((c, i) => {
      const k = ks[i]!;
      return k < 0n ? modPow(negatives[i]!, -k, pk.n2) : modPow(c, k, pk.n2);
    });
    return base.derive({ scaleExponent: base.scaleExponent + (scaled ? 1 : 0), offset: 0n, budget, ciphertexts });
  }

  /** The sum of the values, as a vector of length 1 (unpacked vectors only). */
  sum(): EncryptedVector {
    this.requireUnpacked('sum (of the values inside one vector)');
    const len = BigInt(this.length);
    const budget = new BitBudget(this.budget.lo * len, this.budget.hi * len, this.budget.limit).check('sum');
    const total = this.publicKey.sum(this.cts);
    return this.derive({ length: 1, offset: this.offset * len, budget, ciphertexts: [total] });
  }

  /**
   * Vector × public matrix: result j = Σᵢ valueᵢ · matrix[i][j], for a matrix with one row per
   * value (unpacked vectors only). Integer matrices keep the scale; any fractional entry encodes
   * the whole matrix at the protocol's scale and adds one scale to the result.
   */
  dot(matrix: ReadonlyArray<ArrayLike<number | bigint>>): EncryptedVector {
    this.requireUnpacked('dot (a matrix product)');
    if (matrix.length !== this.length) throw new ShapeError(`dot: the matrix has ${matrix.length} rows, the vector ${this.length} values`);
    const columns = this.length === 0 ? 0 : matrix[0]!.length;
    for (const row of matrix) {
      if (row.length !== columns) throw new ShapeError('dot: every row of the matrix needs the same number of columns');
    }
    const flat: Array<number | bigint> = [];
    for (const row of matrix) for (let j = 0; j < columns; j++) flat.push(row[j]!);
    return this.linear(1, this.length, flat, columns, 'dot');
  }

  /**
   * Matrix product with a public right factor (unpacked vectors only): this vector, read row-major
   * as a `rows × k` matrix, times `matrix`, a row-major `k × columns` matrix of public numbers.
   * The result is the row-major `rows × columns` product. Integer matrices keep the scale; any
   * fractional entry encodes the whole matrix at the protocol's scale and adds one scale.
   *
   * @example
   * ```ts
   * // [[1, 2], [3, 4]] @ [[1], [-1]] = [[-1], [-1]]
   * EncryptedVector.encrypt([1, 2, 3, 4], pk).matmul(2, [1, -1], 1).decrypt(sk); // Float64Array [-1, -1]
   * ```
   */
  matmul(rows: number, matrix: ArrayLike<number | bigint>, columns: number): EncryptedVector {
    this.requireUnpacked('matmul (a matrix product)');
    if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(columns) || columns < 0) {
      throw new ShapeError(`matmul: rows and columns must be non-negative integers, got ${rows} and ${columns}`);
    }
    const k = rows === 0 ? 0 : this.length / rows;
    if (!Number.isInteger(k) || rows * k !== this.length) {
      throw new ShapeError(`matmul: ${this.length} values do not make ${rows} rows`);
    }
    if (matrix.length !== k * columns) {
      throw new ShapeError(`matmul: a ${k} × ${columns} matrix needs ${k * columns} entries, got ${matrix.length}`);
    }
    return this.linear(rows, k, matrix, columns, 'matmul');
  }

  /**
   * Picks values by index (unpacked vectors only): value i of the result is value `indices[i]`
   * of this one, and indices may repeat. The same ciphertexts are reused, so nothing is
   * re-encrypted: this is how transposes, slices and broadcasts rearrange encrypted values.
   */
  gather(indices: ArrayLike<number>): EncryptedVector {
    this.requireUnpacked('rearranging values (transpose, slice, broadcast)');
    const ciphertexts = new Array<bigint>(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const j = indices[i]!;
      if (!Number.isInteger(j) || j < 0 || j >= this.length) {
        throw new ShapeError(`gather: index ${j} is out of range for a vector of ${this.length} values`);
      }
      ciphertexts[i] = this.cts[j]!;
    }
    return this.derive({ length: indices.length, ciphertexts });
  }

  /**
   * Sums of groups of values (unpacked vectors only): value i of the result is the sum of the
   * values at `groups[i]` (an empty group sums to 0). Reductions over some dimensions of a
   * tensor are such sums. The budget grows with the largest group.
   */
  sumGroups(groups: ReadonlyArray<ArrayLike<number>>): EncryptedVector {
    this.requireUnpacked('sum (of the values inside one vector)');
    for (const g of groups) {
      for (let i = 0; i < g.length; i++) {
        const j = g[i]!;
        if (!Number.isInteger(j) || j < 0 || j >= this.length) {
          throw new ShapeError(`sumGroups: index ${j} is out of range for a vector of ${this.length} values`);
        }
      }
    }
    // Groups of different sizes would carry different offsets: drop the offset first.
    const base = this.withoutOffset();
    let lo = 0n;
    let hi = 0n;
    for (const size of new Set(groups.map((g) => g.length))) {
      const s = BigInt(size);
      if (base.budget.lo * s < lo) lo = base.budget.lo * s;
      if (base.budget.hi * s > hi) hi = base.budget.hi * s;
    }
    const budget = new BitBudget(lo, hi, base.budget.limit).check('sum');
    const n2 = this.publicKey.n2;
    const ciphertexts = groups.map((g) => {
      // Enc(0) with r = 1 for an empty group: the value is public anyway.
      let acc = 1n;
      for (let i = 0; i < g.length; i++) acc = (acc * base.cts[g[i]!]!) % n2;
      return acc;
    });
    return base.derive({ length: groups.length, offset: 0n, budget, ciphertexts });
  }

  /** Decrypts and decodes to floats on this thread. Throws a PaillierRangeError if a value breaks its budget. */
  decrypt(privateKey: PaillierPrivateKey): Float64Array {
    this.checkKey(privateKey);
    return this.toFloats(this.cts.map((c) => privateKey.decrypt(c)));
  }

  /** {@link decrypt} with the decryptions spread over worker threads. */
  async decryptAsync(privateKey: PaillierPrivateKey, options: ThreadOptions = {}): Promise<Float64Array> {
    this.checkKey(privateKey);
    return this.toFloats(await privateKey.decryptMany(this.cts, options));
  }

  /** Decrypts to exact fractions: value i = numerators[i] / denominator. */
  decryptExact(privateKey: PaillierPrivateKey): ExactValues {
    this.checkKey(privateKey);
    return { numerators: this.decodeIntegers(this.cts.map((c) => privateKey.decrypt(c))), denominator: this.denominator };
  }

  /** scale^scaleExponent. */
  get denominator(): bigint {
    return this.encoding.scale ** BigInt(this.scaleExponent);
  }

  /** The wire form: ciphertexts as 2·nBytes big-endian bytes each, and JSON-able metadata. */
  toWire(): EncryptedVectorWire {
    const meta: EncryptedVectorMeta = {
      format: 'syft-ts/paillier-vector',
      version: 1,
      n: toHex(this.publicKey.n),
      length: this.length,
      encoding: this.encoding.toJSON(),
      scaleExponent: this.scaleExponent,
      offset: toHex(this.offset),
      budget: this.budget.toJSON(),
      layout: this.layout === undefined ? null : this.layout.toJSON(),
    };
    return { meta, data: ciphertextsToBytes(this.cts, this.publicKey.ciphertextBytes) };
  }

  /**
   * Reads a wire form, validating every field: throws a WireFormatError on malformed metadata,
   * wrong byte lengths or values that are not ciphertexts, and a KeyMismatchError when
   * `options.publicKey` is given and the vector was encrypted under another key.
   */
  static fromWire(wire: { readonly meta: unknown; readonly data: Uint8Array }, options: { readonly publicKey?: PaillierPublicKey } = {}): EncryptedVector {
    if (typeof wire !== 'object' || wire === null) throw new WireFormatError('expected { meta, data }');
    const meta = wire.meta;
    if (typeof meta !== 'object' || meta === null) throw new WireFormatError('meta: expected an object');
    const m = meta as Record<string, unknown>;
    if (m['format'] !== 'syft-ts/paillier-vector') throw new WireFormatError(`meta.format: expected "syft-ts/paillier-vector", got ${JSON.stringify(m['format'])}`);
    if (m['version'] !== 1) throw new WireFormatError(`meta.version: this build reads version 1, got ${JSON.stringify(m['version'])}`);
    const n = parseBigint(m['n']);
    if (n === undefined) throw new WireFormatError('meta.n: expected the modulus as a hex or decimal string');
    let publicKey: PaillierPublicKey;
    if (options.publicKey !== undefined) {
      if (options.publicKey.n !== n) {
        throw new KeyMismatchError('this vector was encrypted under a different public key than the one given to fromWire');
      }
      publicKey = options.publicKey;
    } else {
      try {
        publicKey = new PaillierPublicKey(n);
      } catch (e) {
        throw new WireFormatError(`meta.n: ${(e as Error).message}`);
      }
    }
    const length = m['length'];
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
      throw new WireFormatError('meta.length: expected a non-negative integer');
    }
    const encoding = FixedPointEncoding.fromJSON(m['encoding']);
    const scaleExponent = m['scaleExponent'];
    if (typeof scaleExponent !== 'number' || !Number.isInteger(scaleExponent) || scaleExponent < 1 || scaleExponent > MAX_SCALE_EXPONENT) {
      throw new WireFormatError(`meta.scaleExponent: expected an integer in [1, ${MAX_SCALE_EXPONENT}]`);
    }
    const offset = parseBigint(m['offset']);
    if (offset === undefined) throw new WireFormatError('meta.offset: expected a hex or decimal string');
    const layout = m['layout'] === null ? undefined : PackingLayout.fromJSON(m['layout'], publicKey);
    const budget = BitBudget.fromJSON(m['budget'], limitFor(publicKey, layout));
    const count = layout === undefined ? length : layout.ciphertextCount(length);
    const ciphertexts = bytesToCiphertexts(wire.data, count, publicKey.ciphertextBytes, publicKey.n);
    return new EncryptedVector({ publicKey, encoding, layout, length, scaleExponent, offset, budget, ciphertexts });
  }

  // ---- internals ----

  /**
   * Row r, column j of the result is Σ_i value[r·k + i] · matrix[i·columns + j]. The budget of
   * every column is computed (once, for all rows) before any ciphertext is touched.
   */
  private linear(rows: number, k: number, matrix: ArrayLike<number | bigint>, columns: number, op: string): EncryptedVector {
    const { values: ks, scaled } = this.encoding.encodeScalars(matrix);
    const base = this.withoutOffset();
    let lo = 0n;
    let hi = 0n;
    for (let j = 0; j < columns; j++) {
      let cLo = 0n;
      let cHi = 0n;
      for (let i = 0; i < k; i++) {
        const w = ks[i * columns + j]!;
        const a = base.budget.lo * w;
        const b = base.budget.hi * w;
        cLo += a < b ? a : b;
        cHi += a < b ? b : a;
      }
      if (cLo < lo) lo = cLo;
      if (cHi > hi) hi = cHi;
    }
    const budget = new BitBudget(lo, hi, base.budget.limit).check(op);
    const pk = this.publicKey;
    const inverses = ks.some((w) => w < 0n) ? batchModInv(base.cts, pk.n2) : [];
    const ciphertexts: bigint[] = [];
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < columns; j++) {
        let acc = 1n;
        for (let i = 0; i < k; i++) {
          const w = ks[i * columns + j]!;
          if (w === 0n) continue;
          const at = r * k + i;
          const term = w === 1n ? base.cts[at]! : w < 0n ? modPow(inverses[at]!, -w, pk.n2) : modPow(base.cts[at]!, w, pk.n2);
          acc = (acc * term) % pk.n2;
        }
        ciphertexts.push(acc);
      }
    }
    return base.derive({ length: rows * columns, scaleExponent: base.scaleExponent + (scaled ? 1 : 0), offset: 0n, budget, ciphertexts });
  }

  private derive(changes: Partial<State> & { readonly ciphertexts: bigint[] }): EncryptedVector {
    return new EncryptedVector({
      publicKey: this.publicKey,
      encoding: this.encoding,
      layout: this.layout,
      length: this.length,
      scaleExponent: this.scaleExponent,
      offset: this.offset,
      budget: this.budget,
      ...changes,
    });
  }

  /** Every ciphertext raised to k (negative k through one batched inversion). */
  private powAll(k: bigint): bigint[] {
    const n2 = this.publicKey.n2;
    if (k === 1n) return this.cts.slice();
    if (k < 0n) return batchModInv(this.cts, n2).map((c) => modPow(c, -k, n2));
    return this.cts.map((c) => modPow(c, k, n2));
  }

  /** The same values with offset 0 (one plaintext addition per ciphertext, unpacked only). */
  private withoutOffset(): EncryptedVector {
    if (this.offset === 0n) return this;
    const budget = this.budget.plus({ lo: -this.offset, hi: -this.offset }, 'removing the offset');
    const ciphertexts = this.cts.map((c) => this.publicKey.addPlain(c, -this.offset));
    return this.derive({ offset: 0n, budget, ciphertexts });
  }

  private requireUnpacked(op: string): void {
    if (this.layout !== undefined) {
      throw new PackingUnsupportedError(
        `${op} is not possible on a packed vector: a packed ciphertext can only scale all its slots by the same ` +
          'number. Encrypt without packing (pack: false) for elementwise products, sums inside a vector and matrix products.',
      );
    }
  }

  private checkCompatible(other: EncryptedVector, op: string): void {
    if (!(other instanceof EncryptedVector)) throw new ValueError(`${op}: expected an EncryptedVector`);
    if (!other.publicKey.equals(this.publicKey)) {
      throw new KeyMismatchError(`${op}: the vectors were encrypted under different public keys; every party must use the same key pair`);
    }
    if (!other.encoding.equals(this.encoding)) {
      throw new ValueError(`${op}: the vectors use different encodings; the protocol must fix one FixedPointEncoding for everyone`);
    }
    if (other.length !== this.length) throw new ShapeError(`${op}: lengths differ (${this.length} and ${other.length})`);
    const same = this.layout === undefined ? other.layout === undefined : other.layout !== undefined && other.layout.equals(this.layout);
    if (!same) {
      throw new PackingUnsupportedError(`${op}: the vectors are packed differently; encrypt all of them with the same pack options`);
    }
  }

  private checkKey(privateKey: PaillierPrivateKey): void {
    if (!privateKey.publicKey.equals(this.publicKey)) {
      throw new KeyMismatchError('this private key does not belong to the public key the vector was encrypted under');
    }
  }

  /** Plaintexts (mod n) to the encoded integers (value × denominator), checked against the budget. */
  private decodeIntegers(plaintexts: readonly bigint[]): bigint[] {
    const { lo, hi } = this.budget;
    let stored: bigint[];
    if (this.layout !== undefined) {
      const limit = 1n << BigInt(this.layout.packedBits);
      for (const p of plaintexts) {
        if (p >= limit) throw this.rangeError();
      }
      stored = this.layout.unpack(plaintexts, this.length);
    } else {
      const n = this.publicKey.n;
      // The representative of x mod n in [lo, lo + n): the true value while hi - lo < n.
      stored = plaintexts.map((p) => {
        let d = (p - lo) % n;
        if (d < 0n) d += n;
        return lo + d;
      });
    }
    return stored.map((x) => {
      if (x < lo || x > hi) throw this.rangeError();
      return x - this.offset;
    });
  }

  private toFloats(plaintexts: readonly bigint[]): Float64Array {
    const integers = this.decodeIntegers(plaintexts);
    const out = new Float64Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.encoding.decode(integers[i]!, this.scaleExponent);
    return out;
  }

  private rangeError(): PaillierRangeError {
    return new PaillierRangeError(
      'a decrypted value lies outside the range its bit budget guarantees, so it is not returned: the ciphertexts or ' +
        'their metadata were altered, or a peer encrypted values outside the declared encoding. Re-run the round.',
    );
  }
}

function limitFor(publicKey: PaillierPublicKey, layout: PackingLayout | undefined): BudgetLimit {
  return layout === undefined ? { kind: 'plaintext', n: publicKey.n } : { kind: 'slot', slotBits: layout.slotBits };
}
