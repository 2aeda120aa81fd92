/**
 * The two halves of `move()`: the worker holding an object sends it straight to the destination,
 * which stores it under the id the orchestrator chose. The orchestrator never sees the object.
 */
import { argString, type CommandSpec } from './commands.js';
import { decodeObject, encodeObject } from './codec.js';
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
    ctx.send(to, session, 'move', node);
    ctx.forget(ctx.selfId!);
    handOver(obj);
  },
};

commands['recvFrom'] = {
  results: 1,
  needsSelf: false,
  async run(ctx, _self, args) {
    const from = argString(args[0], 'source', 64);
    const session = argString(args[1], 'session', 32);
    const node = await ctx.recv(from, session, 'move');
    return decodeObject(node, { worker: ctx.worker });
  },
};
