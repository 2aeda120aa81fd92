/**
 * One queue per sender. Messages of one sender run in the order sent, one at a time (a command
 * that waits — a protocol step waiting for a peer — holds its sender's queue until it is done);
 * different senders' queues do not wait for each other. So a stalled `recvFrom`, a party fault
 * or a slow command of one client never freezes another client's replies.
 *
 * A queue with more work gives way to the others after each message when it has run for a
 * while (a macrotask turn), so one sender that floods the worker with cheap commands cannot
 * hold the event loop either.
 */
import { within, type WorkerLimits } from './limits.js';
import { nextTurn } from '../util/turn.js';

/** Runs one item; returns a promise only when the next item must wait for it. */
export type Run<T> = (item: T) => Promise<void> | undefined;

interface Lane<T> {
  items: T[];
  head: number;
  busy: boolean;
}

const SLICE_MS = 8;
const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class SenderQueues<T> {
  readonly #lanes = new Map<string, Lane<T>>();
  #busy = 0;

  constructor(
    private readonly run: Run<T>,
    private readonly limits: () => WorkerLimits,
    private readonly idle: () => void,
  ) {}

  /** True when no queue has work running or waiting. */
  get isIdle(): boolean {
    return this.#busy === 0;
  }

  /** Messages waiting (not yet started) in `sender`'s queue. */
  waiting(sender: string): number {
    const l = this.#lanes.get(sender);
    return l ? l.items.length - l.head : 0;
  }

  /**
   * Resolves once every item queued so far, in every queue, has run: `marker(done)` makes the item
   * each busy queue runs last, which calls `done`.
   */
  barrier(marker: (done: () => void) => T, except?: string): Promise<void> {
    const lanes = [...this.#lanes.entries()].filter(([k, l]) => l.busy && k !== except);
    if (lanes.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let left = lanes.length;
      const done = () => {
        if (--left === 0) resolve();
      };
      for (const [, lane] of lanes) lane.items.push(marker(done));
    });
  }

  /** Queues `item` for `sender`; throws a QuotaError (nothing queued) when its queue is full. */
  push(sender: string, item: T): void {
    let lane = this.#lanes.get(sender);
    if (!lane) this.#lanes.set(sender, (lane = { items: [], head: 0, busy: false }));
    within(this.limits(), 'maxQueuedPerSession', lane.items.length - lane.head + 1, `the messages waiting in '${sender}''s queue`);
    lane.items.push(item);
    if (!lane.busy) {
      lane.busy = true;
      this.#busy++;
      this.drain(sender, lane);
    }
  }

  private drain(sender: string, lane: Lane<T>): void {
    const started = now();
    while (lane.head < lane.items.length) {
      const item = lane.items[lane.head]!;
      lane.items[lane.head++] = undefined as T;
      if (lane.head > 4096 && lane.head * 2 > lane.items.length) {
        // Long asynchronous runs never empty a queue: drop its consumed front now and then.
        lane.items = lane.items.slice(lane.head);
        lane.head = 0;
      }
      const pending = this.run(item);
      if (pending) {
        void pending.then(() => this.drain(sender, lane));
        return;
      }
      if (lane.head < lane.items.length && this.#busy > 1 && now() - started > SLICE_MS) {
        // Others have work too: let them (and the transports' reads) run before going on.
        nextTurn(() => this.drain(sender, lane));
        return;
      }
    }
    lane.busy = false;
    this.#lanes.delete(sender);
    this.#busy--;
    if (this.#busy === 0) this.idle();
  }
}
