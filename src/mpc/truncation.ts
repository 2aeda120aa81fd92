/**
 * Division of a shared value by a public positive integer d — the truncation after a
 * fixed-precision product (d = base^precision), and division by a batch size.
 *
 * Two parties divide locally (SecureML): party 0 takes floor(x0 / d), party 1 takes
 * -floor(-x1 / d) = ceil(x1 / d). The result is off by at most one unit, and wrong only when the shares wrap,
 * with probability about |x| / 2^64.
 *
 * With three or more parties that local trick fails almost always (PySyft 0.2's bug, issues
 * #2706 and #2341 in its tracker). Instead the dealer hands out shares of a random r and of
 * r' = floor(r / d). The parties open c = x - r to party 0 (uniform, so it reveals nothing);
 * party 0 takes floor(c / d) + r'_0 + 1 and the others r'_i. The two floors lose (c mod d +
 * r mod d) / d, one unit on average, which the +1 gives back: the result is within one unit of
 * x / d and unbiased (without it every product came out a unit low, and sums of products — a
 * convolution's input gradient, a batch's weight gradient — drifted by a unit per term).
 */
import { ProtocolError } from '../errors.js';
import { RingTensor } from '../ring/index.js';
import { argString, type CommandSpec } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';
import type { HeldObject } from '../workers/held.js';
import type { RemoteWorker } from '../workers/worker.js';
import { type CorrelationKind, receiveCorrelated } from './dealer.js';
import { introduceAll, newSession, partiesArg, postCommand, ringFrom, ringPayload, sessionArg, shapeArg } from './protocol.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const truncationCommands: Record<string, CommandSpec> = {};
const commands = truncationCommands;

function divisorArg(v: WireValue | undefined): bigint {
  if (typeof v !== 'bigint' || v < 1n || v >= 2n ** 62n) throw new ProtocolError('the divisor must be a positive bigint below 2^62');
  return v;
}

/** Dealer material of a division: r and r' = floor(r / d) (registered by src/registry.ts). */
export const truncationCorrelations: Record<string, CorrelationKind> = {
  trunc: {
    check(params) {
      shapeArg(params[0], 'shape');
      divisorArg(params[1]);
    },
    components: (params) => [params[0] as number[]],
    derive: ([r], params) => [r!.divScalar(params[1] as bigint)],
  },
};

/**
 * Orchestrator side: shares of floor(x / d), within one unit. Needs the crypto provider only
 * for three or more parties.
 */
export function divideShared<H extends HeldObject<H>>(x: readonly H[], d: bigint, provider: RemoteWorker | undefined): H[] {
  if (d < 1n) throw new ProtocolError(`division by ${d}: the divisor must be a positive integer`);
  if (d === 1n) return x.map((s) => s.command('clone', [], [s.shape])[0]!);
  const shape = x[0]!.shape;
  if (x.length === 2) return x.map((s, i) => s.command('mpc.truncLocal', [d, i], [shape])[0]!);
  if (!provider) {
    throw new ProtocolError(
      'dividing a value shared among three or more parties needs a crypto provider: share(..., { cryptoProvider })',
    );
  }
  const owner = x[0]!.owner;
  const parties = x.map((s) => s.location);
  const ids = parties.map((p) => p.id);
  const session = newSession();
  introduceAll(parties, owner, provider);
  postCommand(provider, 'mpc.deal', ['trunc', session, ids, [...shape], d], owner);
  return x.map((s) => s.command('mpc.trunc', [d, session, ids, provider.id], [shape])[0]!);
}

commands['mpc.truncLocal'] = {
  results: 1,
  needsSelf: true,
  run(_ctx, self, args) {
    const x = self as RingTensor;
    if (!(x instanceof RingTensor)) throw new ProtocolError('truncation runs on ring shares');
    const d = divisorArg(args[0]);
    // Party 1's -floor(-x / d) is ceil(x / d) = floor((x + d - 1) / d): one pass fewer.
    return args[1] === 0 ? x.divScalar(d) : x.add(d - 1n).divScalar(d);
  },
};

commands['mpc.trunc'] = {
  results: 1,
  needsSelf: true,
  async run(ctx, self, args) {
    const x = self as RingTensor;
    if (!(x instanceof RingTensor)) throw new ProtocolError('truncation runs on ring shares');
    const d = divisorArg(args[0]);
    const session = sessionArg(args[1]);
    const { parties, me } = partiesArg(ctx, args[2]);
    const dealer = argString(args[3], 'dealer', 64);
    const params: WireValue[] = [[...x.shape], d];
    const { components, derived } = await receiveCorrelated(ctx, dealer, session, 'trunc', params, me, parties.length, [x.shape]);
    const masked = x.sub(components[0]!);
    if (me !== 0) {
      ctx.send(parties[0]!, session, 'masked', ringPayload(masked));
      return (await derived())[0]!;
    }
    let c = masked;
    for (const p of parties.slice(1)) c = c.add(ringFrom(await ctx.recv(p, session, 'masked'), x.shape, 'masked value'));
    return c.divScalar(d).add((await derived())[0]!).add(1n);
  },
};
