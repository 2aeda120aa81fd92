/**
 * Fewer, larger frames: during a plan run, the protocol values a worker sends one peer in one
 * turn of its work travel together, as one numbered bundle.
 *
 * Op by op, each protocol value is a message of its own (a Beaver product sends its eps and
 * delta separately, and independent products started together each send theirs). In a plan run,
 * sends are held until the current job (microtask) is done and then go out as one `peer` message
 * per peer. Every worker of a run wraps its protocol channel the same way, so the receiving side
 * knows the shape of the stream: bundles from a peer are numbered 0, 1, 2, ... under a session of
 * the run's own (derived from its salt), and are read in order, their values handed to the steps
 * waiting for them or kept until asked for. Nothing about what a protocol sends changes: only
 * how many frames carry it.
 *
 * A malformed bundle, a value sent twice, or more values kept than the mailbox would keep, fail
 * the run with a ProtocolError.
 */
import { ProtocolError } from '../errors.js';
import type { CommandContext } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';

type Channel = Pick<CommandContext, 'send' | 'recv'>;

/** Tag of bundle k. */
const tagOf = (k: number) => `plan.bundle.${k}`;

/** A bundle is flushed early once its ring payloads reach this many bytes. */
const MAX_BUNDLE_BYTES = 8 * 1024 * 1024;

/** Most values one run keeps received but not yet asked for. */
const MAX_KEPT = 100_000;

function bytesOf(v: WireValue): number {
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v === null || typeof v !== 'object') return 8;
  let n = 0;
  for (const x of Object.values(v as Record<string, WireValue>)) n += bytesOf(x);
  return n;
}

interface Waiter {
  resolve: (v: WireValue) => void;
  reject: (e: unknown) => void;
}

/** One run's protocol channel with bundling: `send` and `recv` as a command context has them. */
export class BundledChannel implements Channel {
  readonly #outer: Channel;
  readonly #session: string;
  readonly #out = new Map<string, { entries: WireValue[]; bytes: number }>();
  readonly #sent = new Map<string, number>();
  #scheduled = false;
  readonly #kept = new Map<string, WireValue>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #waiting = new Map<string, number>();
  readonly #next = new Map<string, number>();
  readonly #reading = new Set<string>();

  /** `session`: the run's bundle session (32 hex characters, the same on every worker of the run). */
  constructor(outer: Channel, session: string) {
    this.#outer = outer;
    this.#session = session;
  }

  readonly send = (to: string, session: string, tag: string, payload: WireValue): void => {
    let b = this.#out.get(to);
    if (!b) this.#out.set(to, (b = { entries: [], bytes: 0 }));
    b.entries.push({ s: session, t: tag, v: payload });
    b.bytes += bytesOf(payload);
    if (b.bytes >= MAX_BUNDLE_BYTES) this.flushTo(to);
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
  };

  private flush(): void {
    this.#scheduled = false;
    for (const to of [...this.#out.keys()]) this.flushTo(to);
  }

  private flushTo(to: string): void {
    const b = this.#out.get(to);
    if (!b || b.entries.length === 0) return;
    this.#out.delete(to);
    const k = this.#sent.get(to) ?? 0;
    this.#sent.set(to, k + 1);
    this.#outer.send(to, this.#session, tagOf(k), b.entries);
  }

  readonly recv = (from: string, session: string, tag: string): Promise<WireValue> => {
    const key = `${from}\u0000${session}\u0000${tag}`;
    if (this.#kept.has(key)) {
      const v = this.#kept.get(key)!;
      this.#kept.delete(key);
      return Promise.resolve(v);
    }
    if (this.#waiters.has(key)) return Promise.reject(new ProtocolError(`two steps wait for '${tag}' from '${from}' in one session`));
    return new Promise<WireValue>((resolve, reject) => {
      this.#waiters.set(key, { resolve, reject });
      this.#waiting.set(from, (this.#waiting.get(from) ?? 0) + 1);
      void this.read(from);
    });
  };

  // Reads `from`'s bundles in order while some step waits for a value from it.
  private async read(from: string): Promise<void> {
    if (this.#reading.has(from)) return;
    this.#reading.add(from);
    try {
      while ((this.#waiting.get(from) ?? 0) > 0) {
        const k = this.#next.get(from) ?? 0;
        const bundle = await this.#outer.recv(from, this.#session, tagOf(k));
        this.#next.set(from, k + 1);
        this.unpack(from, bundle);
      }
    } catch (e) {
      for (const [key, w] of [...this.#waiters]) {
        if (!key.startsWith(`${from}\u0000`)) continue;
        this.#waiters.delete(key);
        w.reject(e);
      }
      this.#waiting.delete(from);
    } finally {
      this.#reading.delete(from);
    }
  }

  private unpack(from: string, bundle: WireValue): void {
    if (!Array.isArray(bundle) || bundle.length === 0) throw new ProtocolError(`'${from}' sent a malformed bundle of protocol values`);
    for (const e of bundle) {
      const o = e as { s?: unknown; t?: unknown; v?: WireValue } | null;
      if (o === null || typeof o !== 'object' || typeof o.s !== 'string' || typeof o.t !== 'string' || !('v' in o)) {
        throw new ProtocolError(`'${from}' sent a malformed entry in a bundle of protocol values`);
      }
      const key = `${from}\u0000${o.s}\u0000${o.t}`;
      const w = this.#waiters.get(key);
      if (w) {
        this.#waiters.delete(key);
        this.#waiting.set(from, this.#waiting.get(from)! - 1);
        w.resolve(o.v!);
      } else {
        if (this.#kept.has(key)) throw new ProtocolError(`'${from}' sent '${o.t}' twice in one session`);
        if (this.#kept.size >= MAX_KEPT) throw new ProtocolError(`'${from}' sent more protocol values than a run keeps (${MAX_KEPT})`);
        this.#kept.set(key, o.v!);
      }
    }
  }
}
