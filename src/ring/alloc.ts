// Output arrays for kernels.
//
// A fresh zeroed 8 MB BigInt64Array costs more than adding two 1M-element arrays: the zeroed
// pages fault in one by one on first write. In Node, Buffer.allocUnsafeSlow takes memory from the
// allocator without zeroing it, which often reuses pages freed by earlier tensors (measured
// ~1 ms less per 1M elements). Such memory can hold stale bytes of this process, so ONLY use
// allocUninit for outputs that the caller overwrites completely before anyone reads them.

type UnsafeAllocator = (bytes: number) => Uint8Array;

const nodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow?: UnsafeAllocator } }).Buffer;
const allocUnsafe: UnsafeAllocator | undefined =
  typeof nodeBuffer?.allocUnsafeSlow === 'function' ? nodeBuffer.allocUnsafeSlow.bind(nodeBuffer) : undefined;

// Below this the zeroing is cheap and the Buffer call overhead is not worth it.
const UNINIT_MIN = 1024;

/** A BigInt64Array of n elements whose contents are unspecified: overwrite every element. */
export function allocUninit(n: number): BigInt64Array {
  if (allocUnsafe !== undefined && n >= UNINIT_MIN) {
    const bytes = allocUnsafe(n * 8);
    if (bytes.byteOffset % 8 === 0) return new BigInt64Array(bytes.buffer, bytes.byteOffset, n);
  }
  return new BigInt64Array(n);
}

/** True on little-endian hosts (all current JS engines); ring bytes are little-endian words. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
