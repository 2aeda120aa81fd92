/**
 * Plumbing shared by the protocols: how the orchestrator launches a step on every party, how a
 * party sends ring values to its peers, and how the parties open a masked value among
 * themselves. The orchestrator only ever sends commands; values flow party to party.
 */
import { ProtocolError, WireFormatError } from '../errors.js';
import { Prg, RingTensor } from '../ring/index.js';
import { takeRing } from '../ring/recycle.js';
import { type Shape, sizeOf } from '../shapes.js';
import { argInt, argString, type CommandContext } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';
import type { RemoteWorker, Worker } from '../workers/worker.js';
import { randomSessionId } from '../util/random.js';
import { IS_NODE } from '../util/node.js';

export { randomSessionId as newSession };

// ---- the orchestrator's side ------------------------------------------------------------

const introduced = new WeakMap<RemoteWorker, Set<string>>();

function introduceOnce(a: RemoteWorker, b: RemoteWorker, owner: Worker): void {
  let known = introduced.get(a);
  if (!known) introduced.set(a, (known = new Set()));
  if (a === b || known.has(b.id)) return;
  a.introduce(b, owner);
  known.add(b.id);
}

/**
 * Makes sure every party can send protocol values to every other, and the dealer (which only
 * ever sends) to every party.
 */
export function introduceAll(parties: readonly RemoteWorker[], owner: Worker, dealer?: RemoteWorker): void {
  for (const a of parties) introduceSender(a, parties, owner);
  if (dealer) introduceSender(dealer, parties, owner);
}

/** Makes sure `sender` can send protocol values to each of `receivers` (one way). */
export function introduceSender(sender: RemoteWorker, receivers: readonly RemoteWorker[], owner: Worker): void {
  for (const r of receivers) introduceOnce(sender, r, owner);
}

/** Posts a command that has no target object (a dealer's step). */
export function postCommand(to: RemoteWorker, op: string, args: WireValue[], owner: Worker, ret: number[] = []): void {
  to.post({ kind: 'cmd', op, args, ret }, owner);
}

// ---- the parties' side -------------------------------------------------------------------

/** A ring tensor as a protocol payload: its shape and its raw words. */
export function ringPayload(t: RingTensor): WireValue {
  return { shape: [...t.shape], data: t.data };
}

/** Reads a ring payload from a peer, checking it has the shape the protocol expects. */
export function ringFrom(v: WireValue, shape: Shape, what: string): RingTensor {
  const o = v as { shape?: unknown; data?: unknown } | null;
  if (
    o === null || typeof o !== 'object' || !(o.data instanceof BigInt64Array) || !Array.isArray(o.shape) ||
    o.shape.length !== shape.length || !o.shape.every((d, i) => d === shape[i]) || o.data.length !== sizeOf(shape)
  ) {
    throw new ProtocolError(`${what}: a peer sent a value that is not a ring tensor of shape [${shape.join(', ')}]`);
  }
  return RingTensor.from(shape, o.data);
}

/** The party list of a step: worker ids in party order, and this worker's index in it. */
export function partiesArg(ctx: CommandContext, v: WireValue | undefined): { parties: string[]; me: number } {
  if (!Array.isArray(v) || v.length < 2 || v.length > 64 || !v.every((p) => typeof p === 'string')) {
    throw new WireFormatError('parties must be a list of 2 to 64 worker ids');
  }
  const parties = v as string[];
  const me = parties.indexOf(ctx.worker.id);
  if (me < 0 || new Set(parties).size !== parties.length) {
    throw new ProtocolError(`worker '${ctx.worker.id}' is asked to run a step of a protocol it is not a party of`);
  }
  return { parties, me };
}

export function sessionArg(v: WireValue | undefined): string {
  const s = argString(v, 'session', 32);
  if (!/^[0-9a-f]{32}$/.test(s)) throw new WireFormatError('session must be 32 hex characters');
  return s;
}

export function shapeArg(v: WireValue | undefined, what: string): Shape {
  if (!Array.isArray(v) || v.length > 16 || !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new WireFormatError(`${what} must be a shape`);
  }
  if (sizeOf(v as number[]) > 2 ** 28) throw new WireFormatError(`${what} is too large`);
  return v as number[];
}

export function seedFrom(v: WireValue | undefined, what: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== 16) throw new ProtocolError(`${what}: expected a 16-byte seed`);
  return v;
}

/**
 * Opens a masked value among the parties: each sends its share to every other and combines what
 * it gets (adds arithmetic shares, XORs binary ones). Only values that are uniformly masked may
 * be opened (eps = x - a in Beaver).
 */
export async function openAmong(
  ctx: CommandContext,
  session: string,
  tag: string,
  parties: readonly string[],
  mine: RingTensor,
  sharing: 'arith' | 'binary' = 'arith',
): Promise<RingTensor> {
  const payload = ringPayload(mine);
  for (const p of parties) if (p !== ctx.worker.id) ctx.send(p, session, tag, payload);
  let sum = mine;
  for (const p of parties) {
    if (p === ctx.worker.id) continue;
    // What arrived is this worker's own copy, so it can hold the sum.
    const theirs = ringFrom(await ctx.recv(p, session, tag), mine.shape, tag);
    sum = sharing === 'binary' ? theirs.xor_(sum) : theirs.add_(sum);
  }
  return sum;
}

/** Draws from a PRG, synchronously where the platform allows (Node), else asynchronously. */
export async function draw(prg: Prg, shape: Shape): Promise<RingTensor> {
  return IS_NODE ? prg.ringSync(shape) : prg.ring(shape);
}

/** {@link draw} into a recycled buffer (src/ring/recycle.ts): for values the caller recycles after use. */
export async function drawRecycled(prg: Prg, shape: Shape): Promise<RingTensor> {
  const into = takeRing(sizeOf(shape));
  return IS_NODE ? prg.ringSync(shape, into) : prg.ring(shape, into);
}

export function partyIndexArg(v: WireValue | undefined, n: number): number {
  const i = argInt(v, 'party index');
  if (i < 0 || i >= n) throw new WireFormatError('party index out of range');
  return i;
}
