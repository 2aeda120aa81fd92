// Recycled ring buffers, for temporaries whose last use the protocol knows (a dealer's draws, the
// masks of a Beaver step). Why: every new ArrayBuffer's pages fault in on first write, and in a
// Chromium page that costs about 0.5 ms per MB on our machine (Node: 0.05), where one private
// matmul 64x784 by 784x128 among in-page workers makes ~11 MB of fresh tensors. Only buffers whose
// every reader is done may be given back; what is taken holds stale bytes and must be overwritten.
import { allocUninit } from './alloc.js';
import type { RingTensor } from './ring-tensor.js';

/** Most bytes kept for reuse, and most buffers of one length. */
const MAX_BYTES = 32 * 1024 * 1024;
const PER_LENGTH = 4;
/** Below this, a fresh allocation is cheap. */
const MIN_LENGTH = 4096;

const free = new Map<number, BigInt64Array[]>();
let held = 0;

/** A BigInt64Array of n elements, recycled when one is free: overwrite it all before reading. */
export function takeRing(n: number): BigInt64Array {
  const list = n >= MIN_LENGTH ? free.get(n) : undefined;
  const a = list?.pop();
  if (a === undefined) return allocUninit(n);
  held -= a.byteLength;
  return a;
}

/**
 * Gives tensors' buffers back for reuse. The caller promises nothing reads or writes them again
 * (no view of them escapes); tensors that are views into a larger buffer are left to the GC.
 */
export function recycle(...tensors: readonly (RingTensor | undefined)[]): void {
  for (const t of tensors) {
    const a = t?.data;
    if (a === undefined || a.length < MIN_LENGTH || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) continue;
    if (typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer) continue;
    let list = free.get(a.length);
    if (!list) free.set(a.length, (list = []));
    if (list.length >= PER_LENGTH || held + a.byteLength > MAX_BYTES || list.includes(a)) continue;
    list.push(a);
    held += a.byteLength;
  }
}

/** Bytes held for reuse (tests). @internal */
export function recycledBytes(): number {
  return held;
}
