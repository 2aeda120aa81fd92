/**
 * Where protocol values from peers wait for the step that needs them. A value is addressed by
 * (sender, session, tag); it may arrive before or after the receiving party asks for it. Waiting
 * has a timeout, so a peer that left makes the protocol fail instead of hanging.
 */
import { ProtocolError } from '../errors.js';
import type { WireValue } from './messages.js';

interface Slot {
  value?: WireValue;
  has: boolean;
  waiter?: { resolve: (v: WireValue) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };
  session: string;
  /** Who sent a value that waits (counted against their share of the mailbox). */
  from?: string;
}

export class Mailbox {
  private readonly slots = new Map<string, Slot>();

  // Values waiting undelivered, by sender: one sender's flood cannot crowd out the others.
  private readonly bySender = new Map<string, number>();

  /** Most values that may wait undelivered (in all, and from one sender); a flood beyond is refused. */
  constructor(
    private readonly capacity = 100_000,
    private readonly perSender: () => number = () => capacity,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  private key(from: string, session: string, tag: string): string {
    return `${session}\u0000${tag}\u0000${from}`;
  }

  /** A value arrived. Returns why it was dropped (a duplicate, a full mailbox), or undefined when it was taken. */
  deliver(from: string, session: string, tag: string, value: WireValue): string | undefined {
    const k = this.key(from, session, tag);
    const slot = this.slots.get(k);
    if (slot?.waiter) {
      this.slots.delete(k);
      clearTimeout(slot.waiter.timer);
      slot.waiter.resolve(value);
      return undefined;
    }
    if (slot) return 'a value with this session and tag already waits';
    const mine = this.bySender.get(from) ?? 0;
    if (mine >= this.perSender()) return `${mine} values from '${from}' already wait undelivered (limits.maxMailboxPerSender)`;
    if (this.slots.size >= this.capacity) return 'the mailbox is full';
    this.slots.set(k, { value, has: true, session, from });
    this.bySender.set(from, mine + 1);
    return undefined;
  }

  private taken(slot: Slot): void {
    if (!slot.has || slot.from === undefined) return;
    const n = (this.bySender.get(slot.from) ?? 1) - 1;
    if (n <= 0) this.bySender.delete(slot.from);
    else this.bySender.set(slot.from, n);
  }

  /** Waits for the value `from` sends under (session, tag). */
  wait(from: string, session: string, tag: string, timeoutMs: number): Promise<WireValue> {
    const k = this.key(from, session, tag);
    const slot = this.slots.get(k);
    if (slot?.has) {
      this.slots.delete(k);
      this.taken(slot);
      return Promise.resolve(slot.value!);
    }
    if (slot?.waiter) return Promise.reject(new ProtocolError(`two steps wait for '${tag}' from '${from}' in one session`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.slots.delete(k);
        reject(
          new ProtocolError(
            `no '${tag}' from '${from}' within ${timeoutMs} ms: is that worker still running and connected? ` +
              `(raise the timeout with { timeoutMs } when a party is slow)`,
          ),
        );
      }, timeoutMs);
      // A pending wait must not keep a process alive on its own.
      (timer as { unref?: () => void }).unref?.();
      this.slots.set(k, { has: false, waiter: { resolve, reject, timer }, session });
    });
  }

  /** Fails every wait of a session and drops its undelivered values. */
  abortSession(session: string, error: Error): void {
    for (const [k, s] of this.slots) {
      if (s.session !== session) continue;
      this.slots.delete(k);
      this.taken(s);
      if (s.waiter) {
        clearTimeout(s.waiter.timer);
        s.waiter.reject(error);
      }
    }
  }

  /** Fails every pending wait (the worker is closing). */
  abortAll(error: Error): void {
    for (const s of this.slots.values()) {
      if (s.waiter) {
        clearTimeout(s.waiter.timer);
        s.waiter.reject(error);
      }
    }
    this.slots.clear();
    this.bySender.clear();
  }
}
