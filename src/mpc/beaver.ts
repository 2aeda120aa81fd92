/**
 * Private multiplication with Beaver triples (elementwise and matrix products).
 *
 * The dealer gives each party shares of random a, b and of c = a ⊗ b. The parties open
 * eps = x - a and delta = y - b among themselves (a and b are uniform, so these reveal nothing),
 * then party i computes its share
 *     z_i = eps ⊗ y_i + a_i ⊗ delta + c_i
 * which add up to (x - a) ⊗ y + a ⊗ (y - b) + a ⊗ b = x ⊗ y, with no public term. Two
 * products per party, and the first needs only eps: eps and delta are opened in separate
 * messages, so the first product runs (on the ring's helper threads) while delta is opened.
 */
import { ProtocolError, WireFormatError } from '../errors.js';
import type { RingTensor } from '../ring/index.js';
import { RingTensor as Ring } from '../ring/index.js';
import { type Shape, broadcastShapes, matmulShape, sizeOf } from '../shapes.js';
import { within } from '../workers/limits.js';
import { argLayer, argString, type CommandSpec } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';
import type { HeldObject } from '../workers/held.js';
import type { RemoteWorker } from '../workers/worker.js';
import { type CorrelationKind, receiveCorrelated } from './dealer.js';
import { introduceAll, newSession, openAmong, partiesArg, postCommand, sessionArg, shapeArg } from './protocol.js';
import { recycle } from '../ring/recycle.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const beaverCommands: Record<string, CommandSpec> = {};
const commands = beaverCommands;

export type ProductKind = 'mul' | 'matmul';

// Matrix products may run on the ring's helper threads meanwhile this thread does the other
// parties' and the dealer's work (virtual workers share it).
function product(kind: ProductKind, a: RingTensor, b: RingTensor): RingTensor | Promise<RingTensor> {
  return kind === 'mul' ? a.mul(b) : a.matmulAsync(b);
}

function productShape(kind: ProductKind, x: Shape, y: Shape): Shape {
  return kind === 'mul' ? broadcastShapes(x, y) : matmulShape(x, y);
}

/** The multiply-adds of one product: a matrix product costs its output times the inner dimension. */
function productMacs(kind: ProductKind, x: Shape, y: Shape): number {
  const out = sizeOf(productShape(kind, x, y));
  return kind === 'mul' ? out : out * (x[x.length - 1] ?? 1);
}

function triples(kind: ProductKind): CorrelationKind {
  return {
    check(params) {
      const x = shapeArg(params[0], 'x shape');
      const y = shapeArg(params[1], 'y shape');
      productShape(kind, x, y);
    },
    components: (params) => [params[0] as number[], params[1] as number[]],
    macs: (params) => productMacs(kind, params[0] as number[], params[1] as number[]),
    derive: async ([a, b]) => [await product(kind, a!, b!)],
  };
}

/** Beaver triples for both kinds of product (registered by src/registry.ts). */
export const beaverCorrelations: Record<string, CorrelationKind> = { mul: triples('mul'), matmul: triples('matmul') };

/**
 * Orchestrator side: launches a private product of two shared values (share pointers in party
 * order) and returns the pointers to the result's shares at once.
 */
export function beaverProduct<H extends HeldObject<H>>(kind: ProductKind, x: readonly H[], y: readonly H[], provider: RemoteWorker): H[] {
  const owner = x[0]!.owner;
  const parties = x.map((p) => p.location);
  const ids = parties.map((p) => p.id);
  const xs = x[0]!.shape;
  const ys = y[0]!.shape;
  const out = productShape(kind, xs, ys);
  const session = newSession();
  introduceAll(parties, owner, provider);
  postCommand(provider, 'mpc.deal', [kind, session, ids, [...xs], [...ys]], owner);
  return x.map((share, i) => share.command('mpc.beaver', [y[i]!, kind, session, ids, provider.id], [out])[0]!);
}

// Party side: `mpc.beaver` on x_i with [y_i, kind, session, parties, dealer].
commands['mpc.beaver'] = {
  results: 1,
  needsSelf: true,
  async run(ctx, self, args) {
    const x = self as RingTensor;
    const y = argLayer(ctx, args[0], 'second factor') as unknown as RingTensor;
    if (!(x instanceof Ring) || !(y instanceof Ring)) throw new ProtocolError('Beaver multiplication runs on ring shares');
    const kind = argString(args[1], 'kind', 8);
    if (kind !== 'mul' && kind !== 'matmul') throw new WireFormatError(`unknown product '${kind}'`);
    const session = sessionArg(args[2]);
    const { parties, me } = partiesArg(ctx, args[3]);
    const dealer = argString(args[4], 'dealer', 64);
    const outShape = productShape(kind, x.shape, y.shape);
    within(ctx.limits, 'maxMacsPerOp', 2 * productMacs(kind, x.shape, y.shape), `the multiply-adds of this party's share of a private ${kind}`);
    const params: WireValue[] = [[...x.shape], [...y.shape]];
    const { components, derived } = await receiveCorrelated(ctx, dealer, session, kind, params, me, parties.length, [outShape]);
    const [a, b] = components as [RingTensor, RingTensor];
    // Both shares go out before either opening is awaited: still one round.
    const openEps = settled(openAmong(ctx, session, 'eps', parties, x.sub(a)));
    const openDelta = settled(openAmong(ctx, session, 'delta', parties, y.sub(b)));
    const first = settled(Promise.resolve(product(kind, await openEps, y)));
    const second = product(kind, a, await openDelta);
    const [c] = await derived();
    // The products are this step's own fresh tensors, so they take the sums in place.
    const z = (await first).add_(await second).add_(c!);
    // a and b, and c where this party drew it, were read for the last time (the last party's c
    // came from the dealer: left to the GC).
    recycle(a, b, ...(me < parties.length - 1 ? [c] : []));
    return z;
  },
};

/**
 * Marks a promise as handled, so that if it fails while the step awaits something else, Node does
 * not report an unhandled rejection; awaiting it later still throws.
 */
function settled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
