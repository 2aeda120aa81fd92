/** What the main thread and a thread worker say to each other over the parent port. */
import type { MessagePort } from 'node:worker_threads';
import type { Message, ReplyMessage, WireError } from '../messages.js';

export type ToThread =
  | { t: 'msg'; from: string; msg: Message }
  | { t: 'req'; id: number; from: string; msg: Message }
  /** A direct port to another thread worker. */
  | { t: 'link'; peer: string; port: MessagePort };

export type FromThread =
  | { t: 'ready' }
  /**
   * The thread's queue ran dry after `seen` messages from the parent: if that is all the parent
   * sent, the thread may be let go of (unref'd) until it gets more work.
   */
  | { t: 'idle'; seen: number }
  | { t: 'reply'; id: number; reply: ReplyMessage }
  | { t: 'refused'; error: WireError }
  /** A message for a worker of the main thread. */
  | { t: 'relay'; to: string; msg: Message };
