/** What the main thread and a thread worker say to each other over the parent port. */
import type { MessagePort } from 'node:worker_threads';
import type { Message, ReplyMessage } from '../messages.js';

/** What a thread worker is started with (its `workerData`). */
export interface ThreadInit {
  id: string;
  timeoutMs: number;
  /** The tfjs backend the main thread runs, for the thread to run the same. */
  backend: 'wasm' | 'cpu';
}

export type ToThread =
  /** A message for the thread's worker; requests carry their request id inside. */
  | { t: 'msg'; from: string; msg: Message }
  /** A direct port to another thread worker. */
  | { t: 'link'; peer: string; port: MessagePort };

export type FromThread =
  | { t: 'ready' }
  /**
   * The thread's queue ran dry after `seen` messages from the parent: if that is all the parent
   * sent, the thread may be let go of (unref'd) until it gets more work.
   */
  | { t: 'idle'; seen: number }
  /** The answer to a request, or the refusal of a message (request id 0 when it was a post). */
  | { t: 'reply'; reply: ReplyMessage }
  /** A message for a worker of the main thread. */
  | { t: 'relay'; to: string; msg: Message };
