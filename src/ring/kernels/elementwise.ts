// Elementwise binary and unary operations in plain JavaScript: the js engine's kernels, the
// wasm engines' kernels for short arrays, and every op the engines do not run themselves.
//
// Why add/sub/mul go to wasm on the wasm engines (RingKernels.binary): V8's loop over typed
// arrays measured ~2.3 ns per element on the project's Xeon even in L1, while the wasm kernel fed
// through 32 KiB chunk copies took 1.4-1.7x less on 4K-100K elements and 1.0-1.3x less on 1M
// (JS and wasm interleaved in one process; ring.bench.ts keeps "JS loop" rows to compare).
//
// Each op has its own loop: V8 lowers `a[i] + b[i]` on BigInt64Arrays to one native instruction
// only when the operation is visible in the loop, not behind a shared callback.
import { broadcastStrides, coalesce, sizeOf, stridesOf } from '../../shapes.js';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'and' | 'or' | 'xor' | 'eq' | 'gt' | 'lt' | 'ge' | 'le';

/** out = a op b for equal-length arrays. The three arithmetic ops are unrolled (measured ~25%). */
export function binaryFlat(op: BinaryOp, a: BigInt64Array, b: BigInt64Array, out: BigInt64Array): void {
  const n = a.length;
  const n4 = n - (n % 4);
  let i = 0;
  switch (op) {
    case 'add':
      for (; i < n4; i += 4) {
        out[i] = a[i] + b[i];
        out[i + 1] = a[i + 1] + b[i + 1];
        out[i + 2] = a[i + 2] + b[i + 2];
        out[i + 3] = a[i + 3] + b[i + 3];
      }
      for (; i < n; i++) out[i] = a[i] + b[i];
      return;
    case 'sub':
      for (; i < n4; i += 4) {
        out[i] = a[i] - b[i];
        out[i + 1] = a[i + 1] - b[i + 1];
        out[i + 2] = a[i + 2] - b[i + 2];
        out[i + 3] = a[i + 3] - b[i + 3];
      }
      for (; i < n; i++) out[i] = a[i] - b[i];
      return;
    case 'mul':
      for (; i < n4; i += 4) {
        out[i] = a[i] * b[i];
        out[i + 1] = a[i + 1] * b[i + 1];
        out[i + 2] = a[i + 2] * b[i + 2];
        out[i + 3] = a[i + 3] * b[i + 3];
      }
      for (; i < n; i++) out[i] = a[i] * b[i];
      return;
    default:
      binaryRow(op, a, 0, 1, b, 0, 1, out, 0, n);
  }
}

/**
 * out[o + i] = a[ai + i*as] op b[bi + i*bs] for i < n: one row of a broadcast. A stride of 0
 * repeats a value (a scalar, or a broadcast dimension).
 */
export function binaryRow(
  op: BinaryOp,
  a: BigInt64Array,
  ai: number,
  as: number,
  b: BigInt64Array,
  bi: number,
  bs: number,
  out: BigInt64Array,
  o: number,
  n: number,
): void {
  const end = o + n;
  switch (op) {
    case 'add':
      for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai] + b[bi];
      return;
    case 'sub':
      for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai] - b[bi];
      return;
    case 'mul':
      for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai] * b[bi];
      return;
    case 'and':
      for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai] & b[bi];
      return;
    case 'or':
      for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai] | b[bi];
      return;
    case 'xor':
      for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai] ^ b[bi];
      return;
    case 'eq':
      for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai] === b[bi] ? 1n : 0n;
      return;
    case 'gt':
      for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai] > b[bi] ? 1n : 0n;
      return;
    case 'lt':
      for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai] < b[bi] ? 1n : 0n;
      return;
    case 'ge':
      for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai] >= b[bi] ? 1n : 0n;
      return;
    case 'le':
      for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai] <= b[bi] ? 1n : 0n;
      return;
  }
}

/**
 * out = a op b with numpy broadcasting; `out` has the broadcast shape `outShape`. Dimensions that
 * both operands walk contiguously are merged first, so the inner loop is as long as possible.
 */
export function binaryBroadcast(
  op: BinaryOp,
  a: BigInt64Array,
  aShape: readonly number[],
  b: BigInt64Array,
  bShape: readonly number[],
  out: BigInt64Array,
  outShape: readonly number[],
): void {
  if (out.length === 0) return;
  const plan = coalesce(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape), stridesOf(outShape)]);
  const shape = plan.shape;
  const [sa, sb] = plan.strides;
  const last = shape.length - 1;
  const rowLen = shape[last];
  const rows = sizeOf(shape) / rowLen;
  const idx = new Array<number>(last).fill(0);
  let ai = 0;
  let bi = 0;
  for (let r = 0, o = 0; r < rows; r++, o += rowLen) {
    binaryRow(op, a, ai, sa[last], b, bi, sb[last], out, o, rowLen);
    // Odometer over the outer dimensions.
    for (let d = last - 1; d >= 0; d--) {
      ai += sa[d];
      bi += sb[d];
      if (++idx[d] < shape[d]) break;
      ai -= sa[d] * shape[d];
      bi -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
}

export function neg(a: BigInt64Array, out: BigInt64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = -a[i];
}

export function not(a: BigInt64Array, out: BigInt64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = ~a[i];
}
