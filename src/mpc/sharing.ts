/**
 * Making, refreshing and opening n-out-of-n additive shares in Z_2^64.
 *
 * - A local value is split here (the holder knows it anyway) with the OS CSPRNG and each share
 *   is sent to its party.
 * - A remote value is split by the worker that holds it, which sends the shares straight to the
 *   parties: the orchestrator never sees the value or a share (private data loaders).
 * - Refresh adds pseudo-random zero shares: party i sends a fresh seed to party i+1 and adds
 *   PRG(own seed) - PRG(received seed); the masks cancel in the sum.
 */
import { ProtocolError, ValueError } from '../errors.js';
import { Prg, RingTensor, randomRing } from '../ring/index.js';
import { FixedPrecisionTensor } from '../tensors/fixed-precision.js';
import { AutogradTensor } from '../tensors/autograd.js';
import { PointerTensor, sendLayer } from '../tensors/pointer.js';
import type { Shape } from '../shapes.js';
import { argString, registerCommand, type CommandContext } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';
import type { RemoteWorker, Worker } from '../workers/worker.js';
import { callRemote, draw, introduceAll, introduceSender, newSession, partiesArg, ringFrom, ringPayload, seedFrom, sessionArg } from './protocol.js';

/** Splits `value` into `n` shares: n-1 uniform, the last one making the sum. */
export function splitShares(value: RingTensor, n: number): RingTensor[] {
  if (!Number.isInteger(n) || n < 2) throw new ValueError(`sharing needs at least two parties, got ${n}`);
  const shares: RingTensor[] = [];
  let rest = value;
  for (let i = 0; i < n - 1; i++) {
    const s = randomRing(value.shape);
    shares.push(s);
    rest = rest.sub(s);
  }
  shares.push(rest);
  return shares;
}

/** Sums shares back into the value. */
export function combineShares(shares: readonly RingTensor[]): RingTensor {
  return shares.slice(1).reduce((acc, s) => acc.add(s), shares[0]!);
}

/** Shares a local ring value among `parties`; returns the share pointers in party order. */
export function shareLocal(value: RingTensor, parties: readonly RemoteWorker[], owner: Worker): PointerTensor[] {
  checkParties(parties);
  return splitShares(value, parties.length).map((s, i) => sendLayer(s, parties[i]!, owner));
}

export function checkParties(parties: readonly RemoteWorker[]): void {
  if (parties.length < 2) throw new ValueError(`sharing needs at least two workers, got ${parties.length}`);
  const ids = parties.map((p) => p.id);
  if (new Set(ids).size !== ids.length) throw new ValueError(`each share needs its own worker, got ${ids.join(', ')}`);
}

/** What a remote value is expected to be: plain integers, or fixed precision with these settings. */
export type ShareExpectation = null | [base: number, precisionFractional: number];

/**
 * Has the worker holding `src` split it among `parties` (worker to worker). Returns the share
 * pointers in party order, at once.
 */
export function shareRemote(src: PointerTensor, parties: readonly RemoteWorker[], expect: ShareExpectation): PointerTensor[] {
  checkParties(parties);
  const owner = src.owner;
  const holder = src.location;
  const ids = parties.map((p) => p.id);
  const session = newSession();
  introduceSender(holder, parties, owner);
  const shape = src.shape;
  const args: WireValue[] = [session, ids, expect];
  const own = parties.findIndex((p) => p.id === holder.id);
  const out: PointerTensor[] = [];
  let mine: PointerTensor | undefined;
  if (own >= 0) mine = src.command('mpc.shareSplit', args, [shape])[0];
  else src.command('mpc.shareOut', args, []);
  parties.forEach((p, i) => {
    out.push(i === own ? mine! : callRemote(p, 'mpc.shareIn', [holder.id, session, [...shape]], shape, owner));
  });
  return out;
}

// The ring value a holder shares: integers as they are, fixed precision checked against what the
// orchestrator expects (so the shares mean what the orchestrator will say they mean).
function valueToShare(self: unknown, expect: WireValue | undefined): RingTensor {
  let t = self instanceof AutogradTensor ? self.child : self;
  if (expect === null) {
    if (!(t instanceof RingTensor)) throw new ProtocolError('the tensor to share is not an integer tensor: fixPrecision() it first');
    return t;
  }
  if (!Array.isArray(expect) || expect.length !== 2) throw new ProtocolError('bad fixed-precision expectation');
  if (!(t instanceof FixedPrecisionTensor) || t.base !== expect[0] || t.precisionFractional !== expect[1]) {
    throw new ProtocolError(`the tensor to share is not fixed precision with base ${expect[0]} and precision ${expect[1]}`);
  }
  t = t.child;
  if (!(t instanceof RingTensor)) throw new ProtocolError('the tensor to share is already shared');
  return t;
}

function splitAndSend(ctx: CommandContext, self: unknown, args: readonly WireValue[]): RingTensor | undefined {
  const session = sessionArg(args[0]);
  const parties = args[1];
  if (!Array.isArray(parties) || parties.length < 2 || !parties.every((p) => typeof p === 'string')) {
    throw new ProtocolError('parties must be a list of worker ids');
  }
  const shares = splitShares(valueToShare(self, args[2]), parties.length);
  let mine: RingTensor | undefined;
  (parties as string[]).forEach((p, i) => {
    if (p === ctx.worker.id) mine = shares[i];
    else ctx.send(p, session, 'share', ringPayload(shares[i]!));
  });
  return mine;
}

registerCommand('mpc.shareOut', { results: 0, needsSelf: true, run: (ctx, self, args) => void splitAndSend(ctx, self, args) });

registerCommand('mpc.shareSplit', {
  results: 1,
  needsSelf: true,
  run(ctx, self, args) {
    const mine = splitAndSend(ctx, self, args);
    if (!mine) throw new ProtocolError('the holder is not one of the parties');
    return mine;
  },
});

registerCommand('mpc.shareIn', {
  results: 1,
  needsSelf: false,
  async run(ctx, _self, args) {
    const from = argString(args[0], 'holder', 64);
    const session = sessionArg(args[1]);
    const shape = args[2] as number[];
    return ringFrom(await ctx.recv(from, session, 'share'), shape, 'share');
  },
});

/** Re-randomises shares with pseudo-random zero shares (no dealer needed). */
export function refreshShares(shares: readonly PointerTensor[]): PointerTensor[] {
  const owner = shares[0]!.owner;
  const parties = shares.map((s) => s.location);
  introduceAll(parties, owner);
  const ids = parties.map((p) => p.id);
  const session = newSession();
  return shares.map((s) => s.command('mpc.refresh', [session, ids], [s.shape])[0]!);
}

registerCommand('mpc.refresh', {
  results: 1,
  needsSelf: true,
  async run(ctx, self, args) {
    const x = self as RingTensor;
    if (!(x instanceof RingTensor)) throw new ProtocolError('refresh runs on ring shares');
    const session = sessionArg(args[0]);
    const { parties, me } = partiesArg(ctx, args[1]);
    const n = parties.length;
    const seed = Prg.randomSeed();
    ctx.send(parties[(me + 1) % n]!, session, 'zero', seed);
    const theirs = seedFrom(await ctx.recv(parties[(me + n - 1) % n]!, session, 'zero'), 'zero share');
    const mask = (await draw(new Prg(seed), x.shape)).sub(await draw(new Prg(theirs), x.shape));
    return x.add(mask);
  },
});

export type { Shape };
