/**
 * Kernels for the boolean circuit of the comparison protocol, on XOR shares.
 *
 * Layout: bit-sliced across elements. The n elements' 64-bit words are transposed once into 64
 * *lane vectors*: lane k holds bit k of every element, n bits packed into 32-bit words. The
 * carry tree then merges lanes, and every AND gate works on dense words of useful bits: about 2
 * words of AND material per element in all, where the word-per-element layout spent 22 (most
 * lanes of a word carry nothing after the first levels). The transpose is the ring engine's
 * `bitPlanes` (a wasm kernel; lane vectors are its planes); the gates are plain int32 loops.
 */

type Words = BigInt64Array;

export function u32(a: Words): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

/**
 * The carry tree's plan: at each level the groups (lanes 0..62 at first) are merged in adjacent
 * pairs (hi = 2i+1 over lo = 2i); an odd top group passes through. A pair needs P_hi AND G_lo
 * for the new G, and P_hi AND P_lo for the new P — except the lowest pair, whose P is never
 * used again (the lowest group is never a hi). Counts of AND vectors per level.
 */
export function treePlan(lanes = 63): { pairs: number; ands: number }[] {
  const plan: { pairs: number; ands: number }[] = [];
  for (let groups = lanes; groups > 1; groups = Math.ceil(groups / 2)) {
    const pairs = Math.floor(groups / 2);
    plan.push({ pairs, ands: 2 * pairs - 1 });
  }
  return plan;
}

/** Total AND vectors of the tree (the dealer deals this many triples of lane vectors). */
export function treeAnds(lanes = 63): number {
  return treePlan(lanes).reduce((s, l) => s + l.ands, 0);
}

/**
 * The masked inputs of one level's ANDs, in the plan's order: for pair i, x = P_{2i+1} and
 * y = G_{2i} then (for i > 0) x = P_{2i+1}, y = P_{2i}. Returns [x XOR a, y XOR b] flat.
 * G and P hold `groups` lane vectors of m words each.
 */
export function levelMessage(G: Uint32Array, P: Uint32Array, m: number, pairs: number, a: Uint32Array, b: Uint32Array): Uint32Array {
  const ands = 2 * pairs - 1;
  const out = new Uint32Array(2 * ands * m);
  const yOff = ands * m;
  let t = 0;
  for (let i = 0; i < pairs; i++) {
    const hi = (2 * i + 1) * m;
    const lo = 2 * i * m;
    for (let w = 0; w < m; w++, t++) {
      out[t] = P[hi + w]! ^ a[t]!;
      out[yOff + t] = G[lo + w]! ^ b[t]!;
    }
    if (i === 0) continue;
    for (let w = 0; w < m; w++, t++) {
      out[t] = P[hi + w]! ^ a[t]!;
      out[yOff + t] = P[lo + w]! ^ b[t]!;
    }
  }
  return out;
}

/** XORs `other` into `acc` (opening XOR shares). */
export function xorInto(acc: Uint32Array, other: Uint32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! ^ other[i]!;
}

/**
 * Finishes a level from the opened e = x XOR a, f = y XOR b: each AND is
 * z = c XOR (e AND b) XOR (f AND a) XOR [party 0](e AND f); then G' = G_hi XOR z and P' = z for
 * each pair, and the odd top group carried over. Returns the next level's G and P.
 */
export function levelFinish(
  opened: Uint32Array,
  G: Uint32Array,
  P: Uint32Array,
  m: number,
  groups: number,
  a: Uint32Array,
  b: Uint32Array,
  c: Uint32Array,
  first: boolean,
): { G: Uint32Array; P: Uint32Array } {
  const pairs = Math.floor(groups / 2);
  const next = Math.ceil(groups / 2);
  const ands = 2 * pairs - 1;
  const fOff = ands * m;
  const both = first ? -1 : 0; // e AND f is added by party 0 only
  const G2 = new Uint32Array(next * m);
  const P2 = new Uint32Array(next * m);
  let t = 0;
  for (let i = 0; i < pairs; i++) {
    const hi = (2 * i + 1) * m;
    for (let w = 0; w < m; w++, t++) {
      const e = opened[t]!, f = opened[fOff + t]!;
      G2[i * m + w] = G[hi + w]! ^ c[t]! ^ (e & b[t]!) ^ (f & a[t]!) ^ (e & f & both);
    }
    if (i === 0) continue;
    for (let w = 0; w < m; w++, t++) {
      const e = opened[t]!, f = opened[fOff + t]!;
      P2[i * m + w] = c[t]! ^ (e & b[t]!) ^ (f & a[t]!) ^ (e & f & both);
    }
  }
  if (groups % 2) {
    G2.set(G.subarray((groups - 1) * m, groups * m), pairs * m);
    P2.set(P.subarray((groups - 1) * m, groups * m), pairs * m);
  }
  return { G: G2, P: P2 };
}

/**
 * The start of the circuit for x = c - r = c + ~r + 1, on lane vectors: c public (this party's
 * transposed copy), r XOR-shared (dealt already transposed, so the parties transpose only c).
 * Generate g = c AND ~r and propagate p = c XOR ~r, with the +1 folded into bit 0: the carry out
 * of bit 0 is g0 XOR p0, so lane 0 of g takes p's lane 0. NOT and XOR with public values are
 * applied by party 0 only; AND with a public value by every party. `m` words per lane.
 */
export function circuitStart(c: Uint32Array, r: Uint32Array, m: number, first: boolean): { g: Uint32Array; p: Uint32Array } {
  const len = c.length;
  const g = new Uint32Array(len);
  const p = new Uint32Array(len);
  for (let w = 0; w < len; w++) {
    const nr = first ? ~r[w]! : r[w]!;
    g[w] = c[w]! & nr;
    p[w] = first ? c[w]! ^ nr : nr;
  }
  for (let w = 0; w < m; w++) g[w] = g[w]! ^ p[w]!;
  return { g, p };
}

/**
 * Arithmetic shares of 0/1 bits from the opened e = bit XOR rho and shares of rho:
 * bit = e + rho - 2 e rho, i.e. rho where e = 0 and 1 - rho where e = 1 (the 1 added by party 0).
 * On 32-bit halves, so no BigInt is made per element: 1 - rho = ~rho + 2 and -rho = ~rho + 1.
 */
export function bitsFromMasked(e: Uint32Array, rho: Words, first: boolean): Words {
  const n = rho.length;
  const out = new BigInt64Array(n);
  const R = u32(rho);
  const O = u32(out);
  const add = first ? 2 : 1;
  for (let i = 0; i < n; i++) {
    const lo = R[2 * i]!;
    const hi = R[2 * i + 1]!;
    if (((e[i >>> 5]! >>> (i & 31)) & 1) === 0) {
      O[2 * i] = lo;
      O[2 * i + 1] = hi;
    } else {
      const sum = (~lo >>> 0) + add;
      O[2 * i] = sum;
      O[2 * i + 1] = (~hi >>> 0) + (sum > 0xffffffff ? 1 : 0);
    }
  }
  return out;
}

/** The bits of lane 0 of `v` (n elements) as 64-bit 0/1 words. */
export function laneToWords(v: Uint32Array, n: number): Words {
  const out = new BigInt64Array(n);
  const O = u32(out);
  for (let i = 0; i < n; i++) O[2 * i] = (v[i >>> 5]! >>> (i & 31)) & 1;
  return out;
}
