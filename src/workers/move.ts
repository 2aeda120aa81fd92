/**
 * The two halves of `move()`: the worker holding an object sends it straight to the destination,
 * which stores it under the id the orchestrator chose. The orchestrator never sees the object.
 *
 * The object may be a pointer (a pointer chain: `x.send(bob).send(alice).move(carol)` moves
 * Alice's pointer to Carol, who then points at Bob). A pointer that arrives at the very worker it
 * points at is not stored as a pointer to itself: the worker takes the object it points to and
 * stores that under the new id, as PySyft loads the tensor when a pointer to itself comes in.
 */
import { argString, type CommandContext, type CommandSpec } from './commands.js';
import { decodeObject, encodeObject } from './codec.js';
import { WireFormatError } from '../errors.js';
import { isObjectId, type WireValue } from './messages.js';
import { checkMayLeave } from './store.js';
import { handOver } from './worker.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const moveCommands: Record<string, CommandSpec> = {};
const commands = moveCommands;

commands['sendTo'] = {
  results: 0,
  needsSelf: true,
  run(ctx, self, args) {
    const to = argString(args[0], 'destination', 64);
    const session = argString(args[1], 'session', 32);
    const obj = self as object;
    checkMayLeave(obj, ctx.worker.id, 'moved to another worker');
    const node = encodeObject(obj);
    // A pointer moved on: the destination may use what it names before the pointer gets there.
    const granted = ctx.grantPointers(obj, to);
    // Handed over first: what it points to is the receiver's now, so dropping it frees nothing.
    handOver(obj);
    ctx.forget(ctx.selfId!);
    if (granted === undefined) return ctx.send(to, session, 'move', node);
    return granted.then(() => ctx.send(to, session, 'move', node));
  },
};

/** What a moved object is, as it arrives: a pointer to this very worker is resolved to its object. */
export function arrive(ctx: CommandContext, node: WireValue, source: string): object {
  const n = node as { type?: unknown; location?: unknown; id?: unknown } | null;
  if (n !== null && typeof n === 'object' && n.type === 'pointer' && n.location === ctx.worker.id) {
    if (!isObjectId(n.id)) throw new WireFormatError("bad 'pointer' object: expected an object id");
    // The pointer's sender may use that object (or it could not have pointed at it); whoever holds
    // the new id owns it now.
    return ctx.take(n.id, source);
  }
  return decodeObject(node, { worker: ctx.worker });
}

commands['recvFrom'] = {
  results: 1,
  needsSelf: false,
  async run(ctx, _self, args) {
    const from = argString(args[0], 'source', 64);
    const session = argString(args[1], 'session', 32);
    return arrive(ctx, await ctx.recv(from, session, 'move'), from);
  },
};
