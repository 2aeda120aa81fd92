/**
 * n-out-of-n additive shares in Z_2^64: splitting, combining and refreshing.
 *
 * - Splitting draws n-1 uniform shares from the OS CSPRNG; the last makes the sum.
 * - Refresh adds pseudo-random zero shares: party i sends a fresh seed to party i+1 and adds
 *   PRG(own seed) - PRG(received seed); the masks cancel in the sum, and no dealer is needed.
 *
 * Who splits what (a local value here, a remote one on the worker holding it, which knows fixed
 * precision and autograd) is the tensor layer's business: src/tensors/sharing.ts.
 */
import { ProtocolError, ValueError } from '../errors.js';
import { Prg, RingTensor, randomRing } from '../ring/index.js';
import { type CommandSpec } from '../workers/commands.js';
import type { HeldObject } from '../workers/held.js';
import { draw, introduceAll, newSession, partiesArg, seedFrom, sessionArg } from './protocol.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const sharingCommands: Record<string, CommandSpec> = {};
const commands = sharingCommands;

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

/** Re-randomises shares with pseudo-random zero shares (no dealer needed). */
export function refreshShares<H extends HeldObject<H>>(shares: readonly H[]): H[] {
  const owner = shares[0]!.owner;
  const parties = shares.map((s) => s.location);
  introduceAll(parties, owner);
  const ids = parties.map((p) => p.id);
  const session = newSession();
  return shares.map((s) => s.command('mpc.refresh', [session, ids], [s.shape])[0]!);
}

commands['mpc.refresh'] = {
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
};
