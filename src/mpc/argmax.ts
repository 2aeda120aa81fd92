/**
 * Argmax of a narrow dim (10 classes, say) on shares, in 12 rounds where two comparisons took 16.
 *
 * The parties hold the k(k-1)/2 pairwise differences x_i - x_j (i < j) of every row, a local
 * product with a public +-1 matrix. One comparison circuit gives XOR shares of
 * s_ij = [x_i < x_j] without converting them to integers. Entry i is the (first) maximum when it
 * wins all its k - 1 pairs: NOT s_ij against every later j (ties go to the lower index, as in
 * PyTorch) and s_ji against every earlier j. That AND of k - 1 bits is a tree of binary Beaver
 * ANDs, ceil(log2(k - 1)) rounds over every row and entry at once; then the one-hot bits are
 * converted to integers with a random bit the dealer shares both ways (one round), and the index
 * is their dot product with 0..k-1, locally. Rounds: 1 (open c) + 6 (carry tree) + 4 (AND tree,
 * k = 10) + 1 (conversion).
 */
import { ProtocolError, WireFormatError } from '../errors.js';
import { RingTensor, bitPlanes, planeWords } from '../ring/index.js';
import { argInt, type CommandSpec } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';
import type { HeldObject } from '../workers/held.js';
import type { RemoteWorker } from '../workers/worker.js';
import { comparisonStep, dealtStep, msbXor, openXor, sizes } from './comparison.js';
import { type CorrelationKind, receiveCorrelated } from './dealer.js';
import { bitsFromMasked, u32 } from './binary-kernels.js';
import { openAmong, shapeArg } from './protocol.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const argmaxCommands: Record<string, CommandSpec> = {};
const commands = argmaxCommands;

/** Widest dim argmax takes this way (wider ones take the tournament). */
export const PAIRWISE_ARGMAX_MAX_WIDTH = 16;

function widthArg(v: WireValue | undefined): number {
  const k = argInt(v, 'width');
  if (k < 2 || k > PAIRWISE_ARGMAX_MAX_WIDTH) throw new WireFormatError(`argmax width must be 2..${PAIRWISE_ARGMAX_MAX_WIDTH}, got ${k}`);
  return k;
}

/** The AND tree over `leaves` operand vectors: operand pairs per level. */
function andTree(leaves: number): number[] {
  const levels: number[] = [];
  for (let count = leaves; count > 1; count = Math.ceil(count / 2)) levels.push(Math.floor(count / 2));
  return levels;
}

/** Sizes for `rows` rows of width k: pairwise elements n, one-hot bits M, words per bit vector. */
function layout(n: number, k: number) {
  const pairs = (k * (k - 1)) / 2;
  if (n % pairs !== 0) throw new ProtocolError(`argmax over width ${k} needs a multiple of ${pairs} pairwise differences, got ${n}`);
  const rows = n / pairs;
  const bits = rows * k;
  const mw = planeWords(bits); // 32-bit words per bit vector (even)
  const ands = k - 2; // AND vectors of the tree over k - 1 leaves
  return { pairs, rows, bits, mw, ands, cmp: sizes(n) };
}

/**
 * Dealer material (registered by src/registry.ts). Components: r (arith, n), the carry tree's
 * AND inputs a and b, the AND tree's inputs a2 and b2 (binary), rho (binary, one bit per one-hot
 * entry). Derived: r as transposed XOR shares, a AND b, a2 AND b2, rho's bits as integers.
 */
export const argmaxCorrelations: Record<string, CorrelationKind> = {
  argmax: {
    check(params) {
      const s = shapeArg(params[0], 'shape');
      if (s.length !== 1) throw new ProtocolError('argmax material is dealt for flat tensors');
      layout(s[0]!, widthArg(params[1]));
    },
    components(params) {
      const n = (params[0] as number[])[0]!;
      const { mw, ands, cmp } = layout(n, params[1] as number);
      return [[n], [cmp.triples], [cmp.triples], [(ands * mw) / 2], [(ands * mw) / 2], [mw / 2]];
    },
    componentSharing: () => ['arith', 'binary', 'binary', 'binary', 'binary', 'binary'],
    derive(components, params) {
      const { bits } = layout((params[0] as number[])[0]!, params[1] as number);
      const [r, a, b, a2, b2, rho] = components as RingTensor[];
      const lanes = bitPlanes(r!.data);
      const rLanes = new BigInt64Array(lanes.buffer, lanes.byteOffset, lanes.length / 2);
      const rhoArith = new BigInt64Array(bits);
      const R = u32(rho!.data);
      for (let i = 0; i < bits; i++) rhoArith[i] = BigInt((R[i >>> 5]! >>> (i & 31)) & 1);
      return [RingTensor.from([rLanes.length], rLanes), a!.and(b!), a2!.and(b2!), RingTensor.from([bits], rhoArith)];
    },
    derivedSharing: () => ['binary', 'binary', 'binary', 'arith'],
  },
};

/**
 * Orchestrator side: shares of the argmax index of each row, from shares of the pairwise
 * differences x_i - x_j (i < j, in that order) of rows of width k. Results are flat [rows].
 */
export function argmaxShared<H extends HeldObject<H>>(diffs: readonly H[], k: number, provider: RemoteWorker): H[] {
  const n = diffs[0]!.shape.reduce((a, b) => a * b, 1);
  const { rows } = layout(n, k);
  return dealtStep(diffs, provider, 'argmax', [[n], k], 'mpc.argmax', [k], [[rows]]).map((r) => r[0]!);
}

const bitAt = (v: Uint32Array, i: number) => (v[i >>> 5]! >>> (i & 31)) & 1;

commands['mpc.argmax'] = {
  results: 1,
  needsSelf: true,
  async run(ctx, self, args) {
    const { x, n, session, parties, me, first, dealer } = comparisonStep(ctx, self, args, 'argmax');
    const k = widthArg(args[3]);
    const { pairs, rows, bits, mw, ands, cmp } = layout(n, k);
    const params: WireValue[] = [[n], k];
    const { components, derived } = await receiveCorrelated(ctx, dealer, session, 'argmax', params, me, parties.length, [[64 * cmp.vec], [cmp.triples], [(ands * mw) / 2], [bits]]);
    const [r, a, b, a2, b2, rho] = components as RingTensor[];

    // s_ij = [x_i < x_j] = msb(x_i - x_j), XOR-shared.
    const opened = await openAmong(ctx, session, 'c', parties, x.add(r!));
    const [rBinary, c, c2, rhoArith] = (await derived()) as RingTensor[];
    const s = await msbXor(ctx, session, parties, first, opened, { a: a!, b: b!, rBinary: rBinary!, c: c! });

    // Leaf t of entry (row, i) is i's win against j = t (t < i) or j = t + 1 (t >= i).
    const pairIndex = (i: number, j: number) => i * k - (i * (i + 1)) / 2 + (j - i - 1);
    let ops: Uint32Array[] = [];
    for (let t = 0; t < k - 1; t++) {
      const v = new Uint32Array(mw);
      for (let row = 0; row < rows; row++) {
        for (let i = 0; i < k; i++) {
          const j = t < i ? t : t + 1;
          const bit = j < i ? bitAt(s, row * pairs + pairIndex(j, i)) : bitAt(s, row * pairs + pairIndex(i, j)) ^ (first ? 1 : 0);
          const at = row * k + i;
          v[at >>> 5]! |= bit << (at & 31);
        }
      }
      ops.push(v);
    }

    // The AND tree: one round per level, every pair of the level at once.
    const A2 = u32(a2!.data), B2 = u32(b2!.data), C2 = u32(c2!.data);
    let used = 0;
    for (const [level, count] of andTree(k - 1).entries()) {
      const msg = new Uint32Array(2 * count * mw);
      for (let q = 0; q < count; q++) {
        const [xv, yv] = [ops[2 * q]!, ops[2 * q + 1]!];
        const base = (used + q) * mw;
        for (let w = 0; w < mw; w++) {
          msg[q * mw + w] = xv[w]! ^ A2[base + w]!;
          msg[(count + q) * mw + w] = yv[w]! ^ B2[base + w]!;
        }
      }
      const e = await openXor(ctx, session, `tree${level}`, parties, msg);
      const next: Uint32Array[] = [];
      for (let q = 0; q < count; q++) {
        const z = new Uint32Array(mw);
        const base = (used + q) * mw;
        for (let w = 0; w < mw; w++) {
          const ew = e[q * mw + w]!, fw = e[(count + q) * mw + w]!;
          z[w] = C2[base + w]! ^ (ew & B2[base + w]!) ^ (fw & A2[base + w]!) ^ (first ? ew & fw : 0);
        }
        next.push(z);
      }
      if (ops.length % 2) next.push(ops[ops.length - 1]!);
      used += count;
      ops = next;
    }

    // One-hot bits to integers (open them masked by rho), then the index: sum of i · onehot_i.
    const masked = ops[0]!.slice();
    const R = u32(rho!.data);
    for (let w = 0; w < mw; w++) masked[w]! ^= R[w]!;
    const e = await openXor(ctx, session, 'b2a', parties, masked);
    const oneHot = bitsFromMasked(e, rhoArith!.data, first);
    const index = new BigInt64Array(rows);
    for (let row = 0; row < rows; row++) {
      let sum = 0n;
      for (let i = 1; i < k; i++) sum += BigInt(i) * oneHot[row * k + i]!;
      index[row] = BigInt.asIntN(64, sum);
    }
    return RingTensor.from([rows], index);
  },
};
