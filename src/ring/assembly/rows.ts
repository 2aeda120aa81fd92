// Helpers shared by the matmul kernels.

/**
 * Copies m rows of n words from a buffer whose rows are `padded` words apart into a buffer whose
 * rows are `ldc` words apart. The kernels compute whole panels, so they write a padded result
 * when n is not a multiple of the panel width.
 */
export function compactRows(src: usize, dst: usize, m: i32, padded: i32, n: i32, ldc: i32): void {
  const rowBytes = <usize>n << 3;
  for (let i = 0; i < m; i++) {
    memory.copy(dst + ((<usize>i * <usize>ldc) << 3), src + ((<usize>i * <usize>padded) << 3), rowBytes);
  }
}
