/**
 * Packing: many fixed-point values per Paillier plaintext, in slots of `slotBits` bits,
 * value i of a ciphertext at bits [i·slotBits, (i+1)·slotBits).
 *
 * Each slot holds a non-negative integer (offset encoding), with headroom above the value's own
 * bits for the number of additions the protocol declares: summing k vectors adds the slots
 * independently as long as no slot reaches 2^slotBits, and the budget (budget.ts) refuses any
 * operation that could. All slots together stay below 2^(bits(n) - 1) < n, so the packed
 * integer never wraps modulo n.
 *
 * What packing supports: add, addMany, addPlain (a packed plaintext), multiplying every slot by
 * the SAME public scalar (integer or fractional, negative too), decrypt. What it cannot do:
 * multiply slots by different scalars (elementwise mul, dot/matmul), sum the values inside a
 * vector, or read one slot without decrypting — those throw a PackingUnsupportedError.
 */
import { ValueError, WireFormatError } from '../errors.js';
import type { FixedPointEncoding } from './encoding.js';
import { PaillierOverflowError } from './errors.js';
import { ceilLog2 } from './paillier/bigint.js';
import type { PaillierPublicKey } from './paillier/keys.js';

/** How much headroom to give each slot. */
export interface PackOptions {
  /**
   * How many vectors (each within the encoding's range) will be added together, e.g. the number
   * of clients of one aggregate. Default 1.
   */
  readonly additions?: number;
  /** More bits per slot, for multiplying by public scalars (a fractional one adds the scale's bits). */
  readonly extraBits?: number;
}

/** JSON form of a layout. */
export interface PackingLayoutJSON {
  readonly slotBits: number;
  readonly slots: number;
}

/**
 * Slot width and slots per ciphertext.
 *
 * @example
 * ```ts
 * const layout = PackingLayout.choose(publicKey2048, new FixedPointEncoding({ valueBits: 32 }), { additions: 10 });
 * layout.slotBits; // 36 = 32 + ⌈log2 10⌉
 * layout.slots;    // 56 values per ciphertext
 * ```
 */
export class PackingLayout {
  constructor(
    /** Bits per slot. */
    readonly slotBits: number,
    /** Slots per ciphertext. */
    readonly slots: number,
  ) {
    if (!Number.isInteger(slotBits) || slotBits < 2 || !Number.isInteger(slots) || slots < 1) {
      throw new ValueError(`a packing layout needs integer slotBits ≥ 2 and slots ≥ 1, got ${slotBits} and ${slots}`);
    }
  }

  /**
   * The widest packing the key allows for values of the encoding, summed `additions` times:
   * slotBits = valueBits + ⌈log2(additions)⌉ + extraBits, slots = ⌊(bits(n) - 1) / slotBits⌋.
   * Throws a PaillierOverflowError when not even one slot fits.
   */
  static choose(publicKey: PaillierPublicKey, encoding: FixedPointEncoding, options: PackOptions = {}): PackingLayout {
    const additions = options.additions ?? 1;
    const extraBits = options.extraBits ?? 0;
    if (!Number.isInteger(additions) || additions < 1) throw new ValueError(`pack.additions must be an integer ≥ 1, got ${additions}`);
    if (!Number.isInteger(extraBits) || extraBits < 0) throw new ValueError(`pack.extraBits must be an integer ≥ 0, got ${extraBits}`);
    const slotBits = encoding.valueBits + ceilLog2(additions) + extraBits;
    const slots = Math.floor((publicKey.bits - 1) / slotBits);
    if (slots < 1) {
      throw new PaillierOverflowError(
        'pack',
        slotBits,
        publicKey.bits - 1,
        `a slot of ${slotBits} bits (valueBits ${encoding.valueBits} + headroom) does not fit a ${publicKey.bits}-bit key, ` +
          'which holds at most ' + (publicKey.bits - 1) + ' bits per plaintext: use a larger key, fewer valueBits, or fewer additions',
      );
    }
    return new PackingLayout(slotBits, slots);
  }

  /** Bits of all slots of one ciphertext together. */
  get packedBits(): number {
    return this.slotBits * this.slots;
  }

  /** True when the packed integer stays below 2^(bits(n) - 1), hence below n. */
  fitsKey(publicKey: PaillierPublicKey): boolean {
    return this.packedBits <= publicKey.bits - 1;
  }

  /** Ciphertexts needed for `length` values. */
  ciphertextCount(length: number): number {
    return Math.ceil(length / this.slots);
  }

  /**
   * Packs slot integers (each in [0, 2^slotBits)) into plaintexts, filling the unused slots of
   * the last one with `fill`.
   */
  pack(slotValues: readonly bigint[], fill: bigint): bigint[] {
    const w = BigInt(this.slotBits);
    const out: bigint[] = [];
    for (let start = 0; start < slotValues.length; start += this.slots) {
      let packed = 0n;
      for (let i = this.slots - 1; i >= 0; i--) {
        const v = start + i < slotValues.length ? slotValues[start + i]! : fill;
        packed = (packed << w) | v;
      }
      out.push(packed);
    }
    return out;
  }

  /** Splits plaintexts back into `length` slot integers (unused trailing slots are dropped). */
  unpack(plaintexts: readonly bigint[], length: number): bigint[] {
    const w = BigInt(this.slotBits);
    const mask = (1n << w) - 1n;
    const out = new Array<bigint>(length);
    let k = 0;
    for (const p of plaintexts) {
      let rest = p;
      for (let i = 0; i < this.slots && k < length; i++) {
        out[k++] = rest & mask;
        rest >>= w;
      }
    }
    return out;
  }

  /** True when both layouts are the same. */
  equals(other: PackingLayout): boolean {
    return this.slotBits === other.slotBits && this.slots === other.slots;
  }

  toJSON(): PackingLayoutJSON {
    return { slotBits: this.slotBits, slots: this.slots };
  }

  /** Reads {@link toJSON}'s form for a key; throws a WireFormatError if it is malformed or too big. */
  static fromJSON(json: unknown, publicKey: PaillierPublicKey): PackingLayout {
    if (typeof json !== 'object' || json === null) throw new WireFormatError('layout: expected an object { slotBits, slots }');
    const { slotBits, slots } = json as Record<string, unknown>;
    if (typeof slotBits !== 'number' || typeof slots !== 'number') throw new WireFormatError('layout: slotBits and slots must be numbers');
    let layout: PackingLayout;
    try {
      layout = new PackingLayout(slotBits, slots);
    } catch (e) {
      throw new WireFormatError(`layout: ${(e as Error).message}`);
    }
    if (!layout.fitsKey(publicKey)) {
      throw new WireFormatError(`layout: ${slots} slots of ${slotBits} bits do not fit a ${publicKey.bits}-bit key`);
    }
    return layout;
  }
}
