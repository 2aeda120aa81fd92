// How tutorial 13 cuts the digits among its data owners: the pages cut their slices with it, and
// the plaintext twin in Node cuts the same rows.

/** Rows `[start, end)` of part `part` of `parts` of `n` rows. */
export function partRows(n: number, part: number, parts: number): [number, number] {
  return [Math.floor((part * n) / parts), Math.floor(((part + 1) * n) / parts)];
}
