/**
 * The orchestrator's entry into the shared world: sharing a value that is here, or one that a
 * worker holds, among parties.
 *
 * - A local value is split here (the holder knows it anyway) with the OS CSPRNG and each share
 *   is sent to its party.
 * - A remote value is split by the worker that holds it, which sends the shares straight to the
 *   parties: the orchestrator never sees the value or a share (private data loaders). The holder
 *   checks that what it shares is what the orchestrator will say it is (integers, or fixed
 *   precision of the stated base and precision), under whatever autograd layer sits on it.
 *
 * The arithmetic of shares is the protocols' (src/mpc/sharing.ts); this file knows the layers.
 */
import { ProtocolError, ValueError } from '../errors.js';
import { splitShares } from '../mpc/sharing.js';
import { introduceSender, newSession, postCommand, ringFrom, ringPayload, sessionArg, shapeArg } from '../mpc/protocol.js';
import { RingTensor } from '../ring/index.js';
import { sizeOf } from '../shapes.js';
import { within } from '../workers/limits.js';
import { randomId } from '../util/random.js';
import { argString, type CommandContext, type CommandSpec } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';
import type { RemoteWorker, Worker } from '../workers/worker.js';
import { AutogradTensor } from './autograd.js';
import { FixedPrecisionTensor } from './fixed-precision.js';
import { PointerTensor, sendLayer } from './pointer.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const tensorSharingCommands: Record<string, CommandSpec> = {};
const commands = tensorSharingCommands;

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
  const mine = own >= 0 ? src.command('mpc.shareSplit', args, [shape])[0] : undefined;
  if (own < 0) src.command('mpc.shareOut', args, []);
  return parties.map((p, i) => {
    if (i === own) return mine!;
    const id = randomId();
    postCommand(p, 'mpc.shareIn', [holder.id, session, [...shape]], owner, [id]);
    return new PointerTensor(p, id, shape, owner);
  });
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
  if (!Array.isArray(parties) || parties.length < 2 || parties.length > 64 || !parties.every((p) => typeof p === 'string')) {
    throw new ProtocolError('parties must be a list of 2 to 64 worker ids');
  }
  const shares = splitShares(valueToShare(self, args[2]), parties.length);
  let mine: RingTensor | undefined;
  (parties as string[]).forEach((p, i) => {
    if (p === ctx.worker.id) mine = shares[i];
    else ctx.send(p, session, 'share', ringPayload(shares[i]!));
  });
  return mine;
}

commands['mpc.shareOut'] = { results: 0, needsSelf: true, run: (ctx, self, args) => void splitAndSend(ctx, self, args) };

commands['mpc.shareSplit'] = {
  results: 1,
  needsSelf: true,
  run(ctx, self, args) {
    const mine = splitAndSend(ctx, self, args);
    if (!mine) throw new ProtocolError('the holder is not one of the parties');
    return mine;
  },
};

commands['mpc.shareIn'] = {
  results: 1,
  needsSelf: false,
  async run(ctx, _self, args) {
    const from = argString(args[0], 'holder', 64);
    const session = sessionArg(args[1]);
    const shape = shapeArg(args[2], 'shape');
    within(ctx.limits, 'maxElementsPerOp', sizeOf(shape), 'the share to receive');
    return ringFrom(await ctx.recv(from, session, 'share'), shape, 'share');
  },
};
