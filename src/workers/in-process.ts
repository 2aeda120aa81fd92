/**
 * The in-process transport: a worker of this process reached through its own entry point
 * (`Worker.receive`), with copies on the way in and out so the two sides never share memory.
 * Used by virtual workers, and by a WebSocket server worker for code running in its own process.
 */
import { Caller } from './caller.js';
import type { Message, ReplyMessage } from './messages.js';
import type { Sender, Worker } from './worker.js';

export interface InProcessOptions {
  /** Copies a message on its way to the worker. */
  copyIn: <T extends Message>(m: T) => T;
  /** Copies a reply on its way back. */
  copyOut: (r: ReplyMessage) => ReplyMessage;
  /** Who sends the conveniences' messages. Default: the worker itself. */
  owner?: Sender;
}

/** A {@link Caller} delivering to `worker` in this process. Refused posts are kept on their sender. */
export function inProcessCaller(worker: Worker, opts: InProcessOptions): Caller {
  const caller: Caller = new Caller({
    peer: () => worker.id,
    owner: opts.owner ?? worker,
    transmit: (msg, from) => worker.receive(opts.copyIn(msg), from.id, (r) => caller.settle(opts.copyOut(r), from)),
    // A refused post has no caller waiting: keep the error for whoever inspects the sender.
    onRefused: (error, from) => {
      if (from) from.lastRejection = error;
    },
  });
  return caller;
}
