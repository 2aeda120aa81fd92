// Matrix products shared by threads on one shared memory (built with --enable threads).
//
// The host writes a job into a control block and every thread, the caller included, calls
// matmulClaim: each claims the next block of the product with an atomic compare-exchange and
// runs the SIMD kernel on it, until no block is left. Blocks are small (a few tenths of a
// millisecond), so a thread that wakes late simply claims fewer of them and nobody waits on it.
//
// Control block (i32 slots from `ctl`, 16-byte aligned):
//   0  NEXT      seq << 16 | next block << 8 | block count (so a claim needs one atomic word)
//   1  FINISHED  blocks completed
//   2  a   3  b   4  c   (byte addresses)
//   5  m   6  k   7  n
//   8  byColumns (1: blocks are column panels, 0: blocks are rows)
//   9  block size (panels or rows)
//   10 scratch base  11 scratch bytes per thread
import { matmulBlock } from './matmul-simd';

const PANEL: i32 = 6;

/** Claims and computes blocks of the job in `ctl` until none is left; returns how many it did. */
export function matmulClaim(ctl: usize, thread: i32): i32 {
  let done = 0;
  while (true) {
    const cur = atomic.load<i32>(ctl);
    const index = (cur >>> 8) & 255;
    if (index >= (cur & 255)) return done;
    if (atomic.cmpxchg<i32>(ctl, cur, cur + 256) != cur) continue;
    // The job cannot change before this block is counted finished, so plain loads are safe here.
    const a = <usize>load<u32>(ctl, 8);
    const b = <usize>load<u32>(ctl, 12);
    const c = <usize>load<u32>(ctl, 16);
    const m = load<i32>(ctl, 20);
    const k = load<i32>(ctl, 24);
    const n = load<i32>(ctl, 28);
    const size = load<i32>(ctl, 36);
    const scratch = <usize>load<u32>(ctl, 40) + <usize>thread * <usize>load<u32>(ctl, 44);
    if (load<i32>(ctl, 32) != 0) {
      const j0 = index * size * PANEL;
      const j1 = min(j0 + size * PANEL, n);
      matmulBlock(a, b + (<usize>j0 << 3), c + (<usize>j0 << 3), m, k, j1 - j0, n, n, scratch);
    } else {
      const r0 = index * size;
      const r1 = min(r0 + size, m);
      matmulBlock(a + <usize>r0 * (<usize>k << 3), b, c + <usize>r0 * (<usize>n << 3), r1 - r0, k, n, n, n, scratch);
    }
    atomic.add<i32>(ctl + 4, 1);
    done++;
  }
}
