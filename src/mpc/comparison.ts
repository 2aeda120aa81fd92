/**
 * Secure comparison: shares of msb(x) — 1 where the shared value x is negative — from which
 * gt/lt/ge/le/eq, relu and its derivative, max and argmax are built.
 *
 * Why this protocol. With a dealer available, the cheapest route we measured is
 * mask-and-open followed by one boolean circuit, for any number of parties:
 *   1. the dealer shares a random r twice, arithmetically and as XOR shares;
 *   2. the parties open c = x + r (uniform, so it reveals nothing);
 *   3. x = c - r = c + ~r + 1 is computed bit-sliced on the XOR shares of r: with c public,
 *      generate g = c AND ~r and propagate p = c XOR ~r are local, and the carry into bit 63
 *      is a 6-level tree of (g, p) merges over 64-bit words — 11 word ANDs per element, one
 *      round per level, each AND a binary Beaver triple from the dealer;
 *   4. msb = p_63 XOR carry_63, converted to an arithmetic 0/1 share with a random bit the
 *      dealer shares both ways (open msb XOR rho, then msb = e + rho - 2 e rho).
 * Eight rounds in all. CrypTen's A2B instead adds the parties' shares with an adder circuit:
 * the same depth for two parties but n-1 adders for n parties. Function secret sharing
 * (AriaNN) needs one round but 64 AES evaluations per element and party; in JavaScript that
 * costs more than the eight cheap rounds between workers.
 */
import { ProtocolError } from '../errors.js';
import { RingTensor } from '../ring/index.js';
import type { PointerTensor } from '../tensors/pointer.js';
import type { Shape } from '../tensors/shapes.js';
import { argString, registerCommand, type CommandContext } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';
import type { RemoteWorker } from '../workers/worker.js';
import { registerCorrelation, receiveCorrelated } from './dealer.js';
import { concatFlat, introduceAll, newSession, openAmong, partiesArg, postCommand, sessionArg, shapeArg, splitFlat } from './protocol.js';

const LEVELS = 6; // 64 lanes -> 1
const LOW63 = 0x7fffffffffffffffn;
const BIT63 = -0x8000000000000000n; // the top bit, as a signed 64-bit value

// Dealer material for msb over n elements (flat):
//   components: r (arith), rho (binary), then per level j: a_j, b_j (binary; 2n words for the
//   five levels that need two ANDs, n for the last)
//   derived:    r as XOR shares, c_j = a_j AND b_j for each level, rho's low bit as arith
function andWidth(level: number, n: number): number {
  return level < LEVELS - 1 ? 2 * n : n;
}

registerCorrelation('msb', {
  check(params) {
    const s = shapeArg(params[0], 'shape');
    if (s.length !== 1) throw new ProtocolError('msb material is dealt for flat tensors');
  },
  components(params) {
    const n = (params[0] as number[])[0]!;
    const out: Shape[] = [[n], [n]];
    for (let j = 0; j < LEVELS; j++) out.push([andWidth(j, n)], [andWidth(j, n)]);
    return out;
  },
  componentSharing: () => ['arith', ...Array<'binary'>(1 + 2 * LEVELS).fill('binary')],
  derive(components) {
    const [r, rho] = components as [RingTensor, RingTensor];
    const out = [r];
    for (let j = 0; j < LEVELS; j++) out.push(components[2 + 2 * j]!.and(components[3 + 2 * j]!));
    out.push(rho.and(1n));
    return out;
  },
  derivedSharing: () => [...Array<'binary'>(1 + LEVELS).fill('binary'), 'arith'],
});

/** Orchestrator side: shares of msb(x) (1 where x < 0), as 0/1 integers. */
export function msbShared(x: readonly PointerTensor[], provider: RemoteWorker): PointerTensor[] {
  const owner = x[0]!.owner;
  const parties = x.map((s) => s.location);
  const ids = parties.map((p) => p.id);
  const shape = x[0]!.shape;
  const n = shape.reduce((a, b) => a * b, 1);
  const session = newSession();
  introduceAll([...parties, provider], owner);
  postCommand(provider, 'mpc.deal', ['msb', session, ids, [n]], owner);
  return x.map((s) => s.command('mpc.msb', [session, ids, provider.id], [shape])[0]!);
}

/** One binary Beaver AND of XOR-shared words. */
async function and(
  ctx: CommandContext,
  session: string,
  tag: string,
  parties: readonly string[],
  me: number,
  x: RingTensor,
  y: RingTensor,
  [a, b, c]: [RingTensor, RingTensor, RingTensor],
): Promise<RingTensor> {
  const opened = await openAmong(ctx, session, tag, parties, concatFlat([x.xor(a), y.xor(b)]), 'binary');
  const [e, f] = splitFlat(opened, [x.shape, y.shape]) as [RingTensor, RingTensor];
  const z = c.xor(e.and(b)).xor(f.and(a));
  return me === 0 ? z.xor(e.and(f)) : z;
}

registerCommand('mpc.msb', {
  results: 1,
  needsSelf: true,
  async run(ctx, self, args) {
    const shares = self as RingTensor;
    if (!(shares instanceof RingTensor)) throw new ProtocolError('comparison runs on ring shares');
    const session = sessionArg(args[0]);
    const { parties, me } = partiesArg(ctx, args[1]);
    const dealer = argString(args[2], 'dealer', 64);
    const n = shares.size;
    const x = shares.reshape([n]);
    const params: WireValue[] = [[n]];
    const derivedShapes: Shape[] = [[n], ...Array.from({ length: LEVELS }, (_, j) => [andWidth(j, n)]), [n]];
    const { components, derived } = await receiveCorrelated(ctx, dealer, session, 'msb', params, me, parties.length, derivedShapes);
    const [r, rho] = components as [RingTensor, RingTensor];
    const rBinary = derived[0]!;
    const rhoArith = derived[LEVELS + 1]!;
    const triple = (j: number): [RingTensor, RingTensor, RingTensor] => [components[2 + 2 * j]!, components[3 + 2 * j]!, derived[1 + j]!];

    // 1. c = x + r, opened to every party.
    const c = await openAmong(ctx, session, 'c', parties, x.add(r));

    // 2. c - r = c + ~r + 1, bit-sliced: g = c AND ~r, p = c XOR ~r (NOT and XOR with a public
    //    value are applied by party 0 alone; AND with a public value by everyone).
    const notR = me === 0 ? rBinary.not() : rBinary;
    let g = notR.and(c);
    let p = me === 0 ? notR.xor(c) : notR;
    g = g.xor(p.and(1n)); // the +1 carried into bit 0: carry out of bit 0 is g0 OR p0 = g0 XOR p0
    const p63 = p.shiftRightLogical(63);
    // Lane 63 becomes the identity of the merge (g = 0, p = 1), so the tree's result at lane 0 is
    // the carry into bit 63.
    g = g.and(LOW63);
    p = p.and(LOW63);
    if (me === 0) p = p.xor(BIT63);

    // 3. The tree: merge each block with the block 2^j lanes above it.
    for (let j = 0; j < LEVELS; j++) {
      const d = 2 ** j;
      const ph = p.shiftRightLogical(d);
      const gh = g.shiftRightLogical(d);
      if (j < LEVELS - 1) {
        const both = await and(ctx, session, `and${j}`, parties, me, concatFlat([ph, ph]), concatFlat([g, p]), triple(j));
        const [pg, pp] = splitFlat(both, [[n], [n]]) as [RingTensor, RingTensor];
        g = gh.xor(pg);
        p = pp;
      } else {
        g = gh.xor(await and(ctx, session, `and${j}`, parties, me, ph, g, triple(j)));
      }
    }
    const msb = p63.xor(g).and(1n);

    // 4. XOR-shared bit -> arithmetic 0/1: e = msb XOR rho is public; msb = e + rho·(1 - 2e).
    const e = await openAmong(ctx, session, 'b2a', parties, msb.xor(rho.and(1n)), 'binary');
    const out = rhoArith.mul(e.mul(-2n).add(1n));
    return (me === 0 ? out.add(e) : out).reshape(shares.shape);
  },
});
