// The kernels an engine provides. RingTensor does shapes and broadcasting; kernels see flat
// BigInt64Arrays (row-major) and write into an output array the caller allocated.

export type RingEngineName = 'simd' | 'scalar' | 'js';

/** The elementwise ops an engine runs itself; the others are JavaScript loops on every engine. */
export type ArithOp = 'add' | 'sub' | 'mul';

export interface RingKernels {
  readonly engine: RingEngineName;
  /**
   * Batched C = A B mod 2^64. Product p reads A at aOffsets[p] (m x k) and B at bOffsets[p]
   * (k x n) and writes out[p*m*n ...]. m, k, n >= 1.
   */
  matmul(
    a: BigInt64Array,
    b: BigInt64Array,
    out: BigInt64Array,
    m: number,
    k: number,
    n: number,
    aOffsets: readonly number[],
    bOffsets: readonly number[],
  ): void;
  /**
   * C = A B (m x k by k x n) into `out`, possibly on helper threads while this one goes on; the
   * promise resolves once `out` holds the product. A and B may change as soon as it returns.
   * Engines without helper threads leave it out (RingTensor.matmulAsync then runs matmul).
   */
  matmulAsync?(a: BigInt64Array, b: BigInt64Array, out: BigInt64Array, m: number, k: number, n: number): Promise<void>;
  /** out = a op b mod 2^64 for equal-length arrays; out may be a or b (in-place ops). */
  binary(op: ArithOp, a: BigInt64Array, b: BigInt64Array, out: BigInt64Array): void;
  /** out = a >> bits (arithmetic), 0 <= bits <= 63. out may be a. */
  shiftRight(a: BigInt64Array, out: BigInt64Array, bits: number): void;
  /** out = a >>> bits (logical), 0 <= bits <= 63. */
  shiftRightLogical(a: BigInt64Array, out: BigInt64Array, bits: number): void;
  /** out = a << bits mod 2^64, 0 <= bits <= 63. */
  shiftLeft(a: BigInt64Array, out: BigInt64Array, bits: number): void;
  /** out = floor(a / d) for signed a, 1 <= d < 2^63. */
  divFloor(a: BigInt64Array, out: BigInt64Array, d: bigint): void;
  /**
   * The 64 bit planes of n words: plane k (at out[k*m ...], m = out.length / 64 = planeWords(n))
   * holds bit k of every word, n bits packed into 32-bit words; bits past n are zero.
   */
  bitPlanes(words: BigInt64Array, out: Uint32Array): void;
  /** Sum of all elements mod 2^64. */
  sum(a: BigInt64Array): bigint;
}

/** 32-bit words per bit plane of n elements (even, so a plane is whole 64-bit words). */
export function planeWords(n: number): number {
  return 2 * Math.ceil(n / 64);
}
