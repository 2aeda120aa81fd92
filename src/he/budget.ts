/**
 * The bit budget carried by every encrypted value: static bounds [lo, hi] on the integer its
 * plaintext holds (per element, or per slot when packed), updated by every operation from the
 * operands' bounds alone — never from the data — and checked BEFORE a result is computed.
 *
 * Two kinds of room:
 * - `plaintext`: one value per ciphertext, stored modulo n. Decoding picks the representative in
 *   [lo, lo + n), which is the true value while hi - lo < n. (For two's complement around 0 this
 *   is the usual rule "x > n/2 means x - n".)
 * - `slot`: a packed slot of `slotBits` bits; the integer must stay in [0, 2^slotBits) or it
 *   would carry into the next slot.
 */
import { WireFormatError } from '../errors.js';
import { PaillierOverflowError } from './errors.js';
import { bitLength, parseBigint, toHex } from './paillier/bigint.js';

/** The room a budget must fit in. */
export type BudgetLimit =
  | { readonly kind: 'plaintext'; readonly n: bigint }
  | { readonly kind: 'slot'; readonly slotBits: number };

/** JSON form of a budget's bounds. */
export interface BitBudgetJSON {
  readonly lo: string;
  readonly hi: string;
}

/** Advice appended to overflow errors, by kind of room. */
const ADVICE = {
  plaintext:
    'Nothing was computed. To fix: aggregate fewer ciphertexts per sum, use a larger key (keygen({ bits })), ' +
    'fewer fractional bits (each multiplication by a fractional scalar adds the scale again), ' +
    'or decrypt and re-encrypt to start again from a fresh scale and range.',
  slot:
    'Nothing was computed. To fix: pack with room for more additions (pack: { additions }) or scalar ' +
    'multiplications (pack: { extraBits }), aggregate fewer clients per ciphertext, use fewer valueBits, ' +
    'encrypt without packing, or decrypt and re-encrypt.',
};

/**
 * Static bounds on an encrypted integer, and the room they must fit in.
 *
 * @example
 * ```ts
 * const b = new BitBudget(0n, 2n ** 32n - 1n, { kind: 'slot', slotBits: 36 });
 * b.additionsLeft;            // 15: a 36-bit slot holds the sum of 16 such values
 * b.plus(b, 'add').bits;      // 33
 * ```
 */
export class BitBudget {
  constructor(
    /** Smallest value the integer can have. */
    readonly lo: bigint,
    /** Largest value the integer can have. */
    readonly hi: bigint,
    readonly limit: BudgetLimit,
  ) {}

  /** Bits of the largest magnitude the integer can have. */
  get bits(): number {
    return Math.max(bitLength(this.lo), bitLength(this.hi));
  }

  /** Bits the room holds: slot width, or the plaintext space log2(n) rounded down. */
  get capacityBits(): number {
    return this.limit.kind === 'slot' ? this.limit.slotBits : bitLength(this.limit.n) - 1;
  }

  /** Bits the range needs: ⌈log2(number of possible values)⌉ (slots: bits of hi). */
  get neededBits(): number {
    return this.limit.kind === 'slot' ? bitLength(this.hi) : bitLength(this.hi - this.lo);
  }

  /** True when the range fits its room (see the module documentation). */
  get fits(): boolean {
    if (this.lo > this.hi) return false;
    if (this.limit.kind === 'slot') return this.lo >= 0n && this.hi < 1n << BigInt(this.limit.slotBits);
    return this.hi - this.lo < this.limit.n;
  }

  /**
   * How many more values with this same budget could still be added before the room runs out
   * (capped at Number.MAX_SAFE_INTEGER).
   */
  get additionsLeft(): number {
    const room = this.limit.kind === 'slot' ? (1n << BigInt(this.limit.slotBits)) - 1n : this.limit.n - 1n;
    const used = this.limit.kind === 'slot' ? this.hi : this.hi - this.lo;
    if (used <= 0n) return Number.MAX_SAFE_INTEGER;
    const left = room / used - 1n;
    if (left < 0n) return 0;
    return left > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(left);
  }

  /** Bounds of the sum of values with these budgets. Throws before anything overflows. */
  plus(other: { readonly lo: bigint; readonly hi: bigint }, op: string): BitBudget {
    return new BitBudget(this.lo + other.lo, this.hi + other.hi, this.limit).check(op);
  }

  /**
   * Bounds after multiplying by the public integer k. A slot cannot hold a negative value, so
   * for slots k must be ≥ 0 (negate with {@link complement} first).
   */
  times(k: bigint, op: string): BitBudget {
    if (this.limit.kind === 'slot' && k < 0n) throw new RangeError('BitBudget.times: slots need k ≥ 0; use complement() first');
    const a = this.lo * k;
    const b = this.hi * k;
    return new BitBudget(a < b ? a : b, a < b ? b : a, this.limit).check(op);
  }

  /** Bounds of hi - x for x in [lo, hi]: how packed slots are negated without going below 0. */
  complement(): BitBudget {
    return new BitBudget(0n, this.hi - this.lo, this.limit);
  }

  /** The same bounds in another room (e.g. moving from slots to whole plaintexts). */
  within(limit: BudgetLimit, op: string): BitBudget {
    return new BitBudget(this.lo, this.hi, limit).check(op);
  }

  /** Returns this budget, or throws a PaillierOverflowError saying how much room there was. */
  check(op: string): BitBudget {
    if (this.fits) return this;
    const needed = this.neededBits;
    const available = this.capacityBits;
    const where =
      this.limit.kind === 'slot'
        ? `a packed slot of ${this.limit.slotBits} bits (values must stay in [0, 2^${this.limit.slotBits}))`
        : `the plaintext space of a ${bitLength(this.limit.n)}-bit key (a range narrower than n)`;
    const range = this.lo < 0n ? `[-2^${log2(-this.lo)}, 2^${log2(this.hi)}]` : `[0, 2^${log2(this.hi)}]`;
    throw new PaillierOverflowError(
      op,
      needed,
      available,
      `${op} would overflow: the result could take any value in ${range}, which needs ${needed} bits, ` +
        `more than ${where} holds (${available} bits). ${ADVICE[this.limit.kind]}`,
    );
  }

  toJSON(): BitBudgetJSON {
    return { lo: toHex(this.lo), hi: toHex(this.hi) };
  }

  /** Reads {@link toJSON}'s form for a given room; throws a WireFormatError if it does not fit. */
  static fromJSON(json: unknown, limit: BudgetLimit): BitBudget {
    if (typeof json !== 'object' || json === null) throw new WireFormatError('budget: expected an object { lo, hi }');
    const o = json as Record<string, unknown>;
    const lo = parseBigint(o['lo']);
    const hi = parseBigint(o['hi']);
    if (lo === undefined || hi === undefined) throw new WireFormatError('budget: lo and hi must be decimal or 0x-hex strings');
    const budget = new BitBudget(lo, hi, limit);
    if (!budget.fits) throw new WireFormatError('budget: the bounds do not fit the key or slot they claim to');
    return budget;
  }
}

/** log2 of a positive bigint with one decimal, for messages. */
function log2(x: bigint): string {
  if (x <= 0n) return '0';
  const bits = bitLength(x);
  const top = Number(x >> BigInt(Math.max(0, bits - 53)));
  return (Math.log2(top) + Math.max(0, bits - 53)).toFixed(1);
}
