/**
 * The crypto provider deals correlated randomness: Beaver triples, truncation pairs, and
 * whatever else a protocol registers here. It never sees a share of a secret.
 *
 * To send as little as possible, every party draws its shares from a PRG seeded by the dealer
 * (as CrypTen's trusted third party does): for each kind, some tensors are uniformly random
 * *components* (a and b of a triple) and others are *derived* from them (c = a·b). Party i
 * draws its share of every component from its seed, then its share of every derived value —
 * except the last party, which receives its derived shares explicitly, chosen so that all
 * shares add up. A party learns its seed (16 bytes) and, if last, one correction per derived
 * value: nothing about the other parties' shares.
 */
import { ProtocolError, ValueError, WireFormatError } from '../errors.js';
import { Prg, RingTensor } from '../ring/index.js';
import { type Shape, sizeOf } from '../shapes.js';
import { within } from '../workers/limits.js';
import { type CommandContext, argString, type CommandSpec } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';
import { drawRecycled, ringFrom, ringPayload, seedFrom, sessionArg } from './protocol.js';
import { recycle } from '../ring/recycle.js';
import { nextTurn } from '../util/turn.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const dealerCommands: Record<string, CommandSpec> = {};
const commands = dealerCommands;

/**
 * How the parties' shares of a value combine: `arith` adds them in Z_2^64, `binary` XORs them
 * (binary sharing, for boolean circuits).
 */
export type Sharing = 'arith' | 'binary';

/** A kind of correlated randomness. */
export interface CorrelationKind {
  /** Shapes of the random components, from the kind's parameters. */
  components(params: readonly WireValue[]): Shape[];
  /** The derived values, computed by the dealer from the full components. */
  derive(components: RingTensor[], params: readonly WireValue[]): RingTensor[] | Promise<RingTensor[]>;
  /** Checks the parameters a command brings (they come from the network). */
  check(params: readonly WireValue[]): void;
  /** Multiply-adds `derive` costs, when it is more than its output's size (matrix products). */
  macs?(params: readonly WireValue[]): number;
  /** How each component is shared (default: all arithmetic). */
  componentSharing?(params: readonly WireValue[]): Sharing[];
  /** How each derived value is shared (default: all arithmetic). */
  derivedSharing?(params: readonly WireValue[]): Sharing[];
}

// `a` is always the dealer's own fresh draw or sum, so it takes the result in place.
const combine = (how: Sharing | undefined, a: RingTensor, b: RingTensor) => (how === 'binary' ? a.xor_(b) : a.add_(b));
const remove = (how: Sharing | undefined, a: RingTensor, b: RingTensor) => (how === 'binary' ? a.xor(b) : a.sub(b));

const kinds = new Map<string, CorrelationKind>();

/** Adds kinds of correlated randomness the dealer may deal (src/registry.ts does it for the library's). */
export function registerCorrelations(table: Readonly<Record<string, CorrelationKind>>): void {
  for (const [name, kind] of Object.entries(table)) {
    if (kinds.get(name) === kind) continue;
    if (kinds.has(name)) throw new ValueError(`correlation '${name}' is registered twice`);
    kinds.set(name, kind);
  }
}

function kindOf(name: string): CorrelationKind {
  const k = kinds.get(name);
  if (!k) {
    throw new WireFormatError(
      `unknown correlated randomness '${name}'` +
        (kinds.size === 0 ? ': this process registered none; import the package entry (src/index.ts), which calls registerAll() from src/registry.ts' : ''),
    );
  }
  return k;
}

/** A party's share of one dealing. */
export interface CorrelatedShares {
  components: RingTensor[];
  /**
   * The derived shares. The last party's come in a second message, which the dealer sends only
   * after computing them, so a protocol should ask for them as late as it can and work on the
   * components meanwhile: that takes the dealer's work off the parties' critical path.
   */
  derived(): Promise<RingTensor[]>;
}

/**
 * Party side: waits for the dealer's seed for `session` and derives this party's shares.
 * `derivedShapes` are what the party expects (from its own inputs), checked against the
 * explicit corrections.
 */
export async function receiveCorrelated(
  ctx: CommandContext,
  dealer: string,
  session: string,
  kindName: string,
  params: readonly WireValue[],
  me: number,
  n: number,
  derivedShapes: readonly Shape[],
): Promise<CorrelatedShares> {
  const kind = kindOf(kindName);
  kind.check(params);
  const msg = (await ctx.recv(dealer, session, 'seed')) as { seed?: WireValue } | null;
  if (msg === null || typeof msg !== 'object') throw new ProtocolError('the dealer sent a malformed message');
  const prg = new Prg(seedFrom(msg.seed, 'dealer message'));
  const components: RingTensor[] = [];
  // In recycled buffers: a protocol that knows its last use of them may recycle() them.
  for (const s of kind.components(params)) components.push(await drawRecycled(prg, s));
  if (me < n - 1) {
    // Drawn now, in the order the dealer drew them: components first, then derived values.
    const derived: RingTensor[] = [];
    for (const s of derivedShapes) derived.push(await drawRecycled(prg, s));
    return { components, derived: async () => derived };
  }
  let corrections: Promise<RingTensor[]> | undefined;
  const derived = () =>
    (corrections ??= (async () => {
      const msg = (await ctx.recv(dealer, session, 'deal')) as { derived?: WireValue; error?: WireValue } | null;
      if (msg !== null && typeof msg === 'object' && typeof msg.error === 'string') {
        throw new ProtocolError(`the dealer '${dealer}' could not deal this step: ${msg.error}`);
      }
      const list = msg !== null && typeof msg === 'object' ? msg.derived : undefined;
      if (!Array.isArray(list) || list.length !== derivedShapes.length) throw new ProtocolError('the dealer sent the wrong corrections');
      return list.map((v, i) => ringFrom(v, derivedShapes[i]!, 'dealer correction'));
    })());
  return { components, derived };
}

// Dealer side: `mpc.deal` [kind, session, parties, ...params]. Posted by the orchestrator to the
// crypto provider; its only output is a seed to each party, then the corrections to the last.
commands['mpc.deal'] = {
  results: 0,
  needsSelf: false,
  run(ctx, _self, args) {
    const kind = kindOf(argString(args[0], 'kind', 32));
    const session = sessionArg(args[1]);
    const parties = partiesOf(ctx, args[2]);
    const params = args.slice(3);
    kind.check(params);
    // What a deal may cost the dealer is bounded before it draws anything.
    const elements = kind.components(params).reduce((n, s) => n + sizeOf(s), 0) * parties.length;
    within(ctx.limits, 'maxDealElements', elements, `the correlated randomness of this '${argString(args[0], 'kind', 32)}' deal`);
    if (kind.macs) within(ctx.limits, 'maxMacsPerOp', kind.macs(params), 'the multiply-adds of this deal');
    const seeds = parties.map(() => Prg.randomSeed());
    // Seeds first: the parties draw their components and start the protocol at once; only the
    // last party later needs the corrections. The corrections are computed after the commands
    // already queued here have sent their seeds too (see `later`), so a burst of steps never
    // waits behind one step's products.
    parties.forEach((p, i) => ctx.send(p, session, 'seed', { seed: seeds[i]! }));
    later(ctx, async () => {
      try {
        const corrections = await correctionsOf(kind, params, seeds);
        ctx.send(parties[parties.length - 1]!, session, 'deal', { derived: corrections.map(ringPayload) });
        dealtCount.set(ctx.worker, (dealtCount.get(ctx.worker) ?? 0) + 1);
      } catch (e) {
        // The last party is waiting: tell it why, rather than leave it to time out.
        ctx.send(parties[parties.length - 1]!, session, 'deal', { error: `${(e as Error).name}: ${(e as Error).message}`.slice(0, 500) });
      }
    });
  },
};

// `mpc.dealt` []: resolves once every deal this dealer took so far has sent its corrections too,
// with the number of deals it has finished (a ring tensor of one element). The offline phase
// (plans/preprocess.ts) waits on it to know its pools are full.
const dealtCount = new WeakMap<object, number>();
commands['mpc.dealt'] = {
  results: 1,
  needsSelf: false,
  async run(ctx, _self, args) {
    if (args.length !== 0) throw new WireFormatError('mpc.dealt takes no arguments');
    await (pending.get(ctx.worker) ?? Promise.resolve());
    return RingTensor.from([1], BigInt64Array.of(BigInt(dealtCount.get(ctx.worker) ?? 0)));
  },
};

/** The last party's derived shares: the full derived values minus every other party's draw. */
async function correctionsOf(kind: CorrelationKind, params: readonly WireValue[], seeds: readonly Uint8Array[]): Promise<RingTensor[]> {
  const n = seeds.length;
  const prgs = seeds.map((s) => new Prg(s));
  const shapes = kind.components(params);
  const compSharing = kind.componentSharing?.(params) ?? [];
  const derivedSharing = kind.derivedSharing?.(params) ?? [];
  // Every draw and every full component is the dealer's own temporary (no kind's derive keeps a
  // component, and only the corrections are sent), so their buffers are recycled.
  const full: RingTensor[] = [];
  for (let k = 0; k < shapes.length; k++) {
    let sum: RingTensor | undefined;
    for (const prg of prgs) {
      const part = await drawRecycled(prg, shapes[k]!);
      if (!sum) sum = part;
      else {
        sum = combine(compSharing[k], sum, part);
        recycle(part);
      }
    }
    full.push(sum!);
  }
  const derived = await kind.derive(full, params);
  recycle(...full);
  const corrections = derived.slice();
  for (let i = 0; i < n - 1; i++) {
    for (let k = 0; k < derived.length; k++) {
      const drawn = await drawRecycled(prgs[i]!, derived[k]!.shape);
      corrections[k] = remove(derivedSharing[k], corrections[k]!, drawn);
      recycle(drawn);
    }
  }
  return corrections;
}

// Each dealer's corrections are computed one deal after another, in the order of the deals, each
// after a macrotask turn so that the deal commands queued meanwhile send their seeds first.
const pending = new WeakMap<object, Promise<void>>();

function later(ctx: CommandContext, work: () => Promise<void>): void {
  const before = pending.get(ctx.worker) ?? Promise.resolve();
  const next = before.then(() => new Promise<void>((resolve) => nextTurn(resolve))).then(work);
  pending.set(ctx.worker, next);
  ctx.background(next);
}

// The dealer is not a party: it only checks the list is well formed.
function partiesOf(_ctx: CommandContext, v: WireValue | undefined): string[] {
  if (!Array.isArray(v) || v.length < 2 || v.length > 64 || !v.every((p) => typeof p === 'string' && p.length > 0 && p.length <= 64)) {
    throw new WireFormatError('parties must be a list of 2 to 64 worker ids');
  }
  if (new Set(v).size !== v.length) throw new WireFormatError('parties must differ');
  return v as string[];
}

