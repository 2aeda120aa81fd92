/**
 * Secure comparison: shares of msb(x) — 1 where the shared value x is negative — from which
 * gt/lt/ge/le/eq, relu and its derivative, max and argmax are built.
 *
 * Why this protocol. With a dealer available, the cheapest route we measured is
 * mask-and-open followed by one boolean circuit, for any number of parties:
 *   1. the dealer shares a random r twice, arithmetically and as XOR shares;
 *   2. the parties open c = x + r (uniform, so it reveals nothing);
 *   3. x = c - r = c + ~r + 1 is computed on the XOR shares of r: with c public, generate
 *      g = c AND ~r and propagate p = c XOR ~r are local; the carry into bit 63 is a 6-level
 *      tree of (g, p) merges, run bit-sliced across elements (see binary-kernels.ts) so that
 *      every AND works on useful bits only — 118 AND gates per element in all, one round per
 *      level, each a binary Beaver triple from the dealer;
 *   4. msb = p_63 XOR carry_63, converted to an arithmetic 0/1 share with a random bit the
 *      dealer shares both ways (open msb XOR rho, then msb = e + rho - 2 e rho).
 * Eight rounds in all. CrypTen's A2B instead adds the parties' shares with an adder circuit:
 * the same depth for two parties but n-1 adders for n parties. Function secret sharing
 * (AriaNN) needs one round but 64 AES evaluations per element and party; in JavaScript that
 * costs more than the eight cheap rounds between workers.
 */
import { ProtocolError } from '../errors.js';
import { RingTensor, bitPlanes, planeWords } from '../ring/index.js';
import type { Shape } from '../shapes.js';
import { argString, type CommandContext, type CommandSpec } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';
import type { HeldObject } from '../workers/held.js';
import type { RemoteWorker } from '../workers/worker.js';
import { type CorrelationKind, receiveCorrelated } from './dealer.js';
import { bitsFromMasked, circuitStart, laneToWords, levelFinish, levelMessage, treeAnds, treePlan, u32, xorInto } from './binary-kernels.js';
import { introduceAll, newSession, openAmong, partiesArg, postCommand, ringFrom, ringPayload, sessionArg, shapeArg } from './protocol.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const comparisonCommands: Record<string, CommandSpec> = {};
const commands = comparisonCommands;

// Dealer material for msb over n elements, with m = planeWords(n) 32-bit words per lane vector:
//   components: r (arith, n words), rho (binary, one lane vector), the tree's AND inputs a and b
//               (binary, treeAnds() lane vectors each)
//   derived:    r as XOR shares, already transposed into lane vectors (64 of them), c = a AND b,
//               and rho's bits as arith 0/1 (n words)
const TREE_ANDS = treeAnds();

export function sizes(n: number): { vec: number; triples: number } {
  const vec = planeWords(n) / 2; // 64-bit words per lane vector
  return { vec, triples: TREE_ANDS * vec };
}

/** Dealer material of a comparison (registered by src/registry.ts). */
export const comparisonCorrelations: Record<string, CorrelationKind> = {
  msb: {
    check(params) {
      const s = shapeArg(params[0], 'shape');
      if (s.length !== 1) throw new ProtocolError('msb material is dealt for flat tensors');
    },
    components(params) {
      const n = (params[0] as number[])[0]!;
      const { vec, triples } = sizes(n);
      return [[n], [vec], [triples], [triples]];
    },
    componentSharing: () => ['arith', 'binary', 'binary', 'binary'],
    derive(components, params) {
      const n = (params[0] as number[])[0]!;
      const [r, rho, a, b] = components as [RingTensor, RingTensor, RingTensor, RingTensor];
      const lanes = bitPlanes(r.data);
      const rLanes = new BigInt64Array(lanes.buffer, lanes.byteOffset, lanes.length / 2);
      return [RingTensor.from([rLanes.length], rLanes), a.and(b), RingTensor.from([n], laneToWords(u32(rho.data), n))];
    },
    derivedSharing: () => ['binary', 'binary', 'arith'],
  },
};

/**
 * Orchestrator side of a step the dealer deals for: the provider deals `kind` (with `params`) for
 * a fresh session, and each party runs `op` on its share with [session, parties, dealer, ...more].
 * Returns each party's result handles.
 */
export function dealtStep<H extends HeldObject<H>>(
  x: readonly H[],
  provider: RemoteWorker,
  kind: string,
  params: WireValue[],
  op: string,
  more: WireValue[],
  resultShapes: Shape[],
): H[][] {
  const owner = x[0]!.owner;
  const parties = x.map((s) => s.location);
  const ids = parties.map((p) => p.id);
  const session = newSession();
  introduceAll(parties, owner, provider);
  postCommand(provider, 'mpc.deal', [kind, session, ids, ...params], owner);
  return x.map((s) => s.command(op, [session, ids, provider.id, ...more], resultShapes));
}

/** Orchestrator side: shares of msb(x) (1 where x < 0), as 0/1 integers. */
export function msbShared<H extends HeldObject<H>>(x: readonly H[], provider: RemoteWorker): H[] {
  const shape = x[0]!.shape;
  const n = shape.reduce((a, b) => a * b, 1);
  return dealtStep(x, provider, 'msb', [[n]], 'mpc.msb', [], [shape]).map((r) => r[0]!);
}

/** Opens XOR shares of 32-bit words among the parties (an even number of words). */
export async function openXor(ctx: CommandContext, session: string, tag: string, parties: readonly string[], mine: Uint32Array): Promise<Uint32Array> {
  const words = new BigInt64Array(mine.buffer, mine.byteOffset, mine.length / 2);
  const payload = ringPayload(RingTensor.from([words.length], words));
  for (const p of parties) if (p !== ctx.worker.id) ctx.send(p, session, tag, payload);
  const acc = mine.slice();
  for (const p of parties) {
    if (p === ctx.worker.id) continue;
    xorInto(acc, u32(ringFrom(await ctx.recv(p, session, tag), [words.length], tag).data));
  }
  return acc;
}

/** The dealer material of one comparison as a party holds it (components, then derived values). */
export interface MsbMaterial {
  r: RingTensor;
  rho: RingTensor;
  a: RingTensor;
  b: RingTensor;
  rBinary: RingTensor;
  c: RingTensor;
  rhoArith: RingTensor;
}

/** The shapes of the derived values a party expects for msb over n elements. */
export function msbDerivedShapes(n: number): number[][] {
  const { vec, triples } = sizes(n);
  return [[64 * vec], [triples], [n]];
}

/**
 * Steps 2-3 on a party, from the opened c = x + r: the carry tree, one round per level. Returns
 * this party's XOR share of msb(x), n bits packed in 32-bit words.
 */
export async function msbXor(
  ctx: CommandContext,
  session: string,
  parties: readonly string[],
  first: boolean,
  opened: RingTensor,
  k: Pick<MsbMaterial, 'a' | 'b' | 'rBinary' | 'c'>,
): Promise<Uint32Array> {
  const n = opened.size;
  // 2. x = c - r = c + ~r + 1, bit-sliced into lanes: generate and propagate vectors.
  const m = planeWords(n);
  const { g: gl, p: pl } = circuitStart(bitPlanes(opened.data), u32(k.rBinary.data), m, first);
  const p63 = pl.subarray(63 * m, 64 * m);
  let G = gl.subarray(0, 63 * m);
  let P = pl.subarray(0, 63 * m);

  // 3. The carry tree over lanes 0..62, one round per level.
  const A = u32(k.a.data), B = u32(k.b.data), C = u32(k.c.data);
  let groups = 63;
  let off = 0;
  for (const [level, { pairs, ands }] of treePlan().entries()) {
    const size = ands * m;
    const [al, bl, cl] = [A.subarray(off, off + size), B.subarray(off, off + size), C.subarray(off, off + size)];
    const e = await openXor(ctx, session, `and${level}`, parties, levelMessage(G, P, m, pairs, al, bl));
    ({ G, P } = levelFinish(e, G, P, m, groups, al, bl, cl, first));
    groups = Math.ceil(groups / 2);
    off += size;
  }
  // msb = p63 XOR carry.
  const out = new Uint32Array(m);
  for (let w = 0; w < m; w++) out[w] = p63[w]! ^ G[w]!;
  return out;
}

/**
 * Steps 2-4 on a party: the circuit, then the opening of msb XOR rho. Returns e = msb XOR rho,
 * public, as n bits packed in 32-bit words.
 */
export async function maskedMsb(
  ctx: CommandContext,
  session: string,
  parties: readonly string[],
  first: boolean,
  opened: RingTensor,
  k: Pick<MsbMaterial, 'rho' | 'a' | 'b' | 'rBinary' | 'c'>,
): Promise<Uint32Array> {
  const bits = await msbXor(ctx, session, parties, first, opened, k);
  // 4. Open msb masked by rho.
  xorInto(bits, u32(k.rho.data).subarray(0, bits.length));
  return openXor(ctx, session, 'b2a', parties, bits);
}

/**
 * The arguments every comparison-based step starts with, on a party: its ring shares (flattened)
 * and [session, parties, dealer, ...].
 */
export function comparisonStep(ctx: CommandContext, self: unknown, args: readonly WireValue[], what: string) {
  const shares = self as RingTensor;
  if (!(shares instanceof RingTensor)) throw new ProtocolError(`${what} runs on ring shares`);
  const session = sessionArg(args[0]);
  const { parties, me } = partiesArg(ctx, args[1]);
  const dealer = argString(args[2], 'dealer', 64);
  return { shares, x: shares.reshape([shares.size]), n: shares.size, session, parties, me, first: me === 0, dealer };
}

commands['mpc.msb'] = {
  results: 1,
  needsSelf: true,
  async run(ctx, self, args) {
    const { shares, x, n, session, parties, me, first, dealer } = comparisonStep(ctx, self, args, 'comparison');
    const params: WireValue[] = [[n]];
    const { components, derived } = await receiveCorrelated(ctx, dealer, session, 'msb', params, me, parties.length, msbDerivedShapes(n));
    const [r, rho, a, b] = components as [RingTensor, RingTensor, RingTensor, RingTensor];

    // 1. c = x + r, opened to every party.
    const opened = await openAmong(ctx, session, 'c', parties, x.add(r));
    const [rBinary, c, rhoArith] = (await derived()) as [RingTensor, RingTensor, RingTensor];
    // 2-4. The circuit, and msb = e + rho - 2 e rho from the opened e = msb XOR rho.
    const eBits = await maskedMsb(ctx, session, parties, first, opened, { rho, a, b, rBinary, c });
    return RingTensor.from(shares.shape, bitsFromMasked(eBits, rhoArith.data, first));
  },
};
