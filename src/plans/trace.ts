/**
 * Tracing: running a plan's function once while every message it would send is recorded instead
 * of sent.
 *
 * The function runs on the ordinary tensor chain, so what it records is exactly what the same
 * step sends op by op. Where the messages would go:
 * - over local values, the arguments and the plan's state are placeholders: pointers to a
 *   stand-in worker that only records ({@link StandIn});
 * - over remote or shared values, the workers themselves are put in recording mode for the
 *   length of the trace (their `post` records, `request` refuses), so the function may use the
 *   tensors its closure holds (a shared model, an optimizer) as they are: they become the plan's
 *   references to objects that stay on their workers.
 * Session ids drawn during the trace are noted (util/random.ts lets a tracer observe them), so the
 * compiled plan knows exactly which of its strings are sessions. Frees the function causes are
 * collected, not sent: the plan drops its own intermediates, and frees of objects that existed
 * before are sent for real once the trace is over.
 */
import type { Message, PostMessage, RequestMessage, WireValue } from '../workers/messages.js';
import { cloneMessage } from '../workers/serde.js';
import type { RemoteWorker, Worker } from '../workers/worker.js';
import { observeSessionIds, randomId } from '../util/random.js';
import { flushDeletes } from '../workers/deletes.js';
import { PlanError } from './errors.js';

/** What one trace saw. */
export class Trace {
  /** Messages each worker would have received, by worker id, in order. */
  readonly messages = new Map<string, PostMessage[]>();
  /** Session ids drawn while tracing. */
  readonly sessions = new Set<string>();
  /** Plans being traced (a plan that calls itself is refused). */
  readonly plans = new Set<object>();
  /** State tensors that plans called during the trace brought in (see Plan). */
  readonly adopted: { tensor: { child: unknown }; restore: () => void; id: number; value: object }[] = [];
  /** The stand-in of a trace over local values. */
  standIn: StandIn | undefined;
  closed = false;

  record(to: string, msg: Message): void {
    if (this.closed) return; // late frees of placeholders: nothing to do
    if (msg.kind === 'req' || msg.kind === 'reply' || msg.kind === 'peer' || msg.kind === 'clear') {
      throw new PlanError(`a plan's function cannot send a '${msg.kind}' message while it is traced`);
    }
    let list = this.messages.get(to);
    if (!list) this.messages.set(to, (list = []));
    list.push(cloneMessage(msg));
  }
}

let active: Trace | undefined;

/** The trace running now, if any. */
export function currentTrace(): Trace | undefined {
  return active;
}

function refuseRequest(op: string): PlanError {
  return new PlanError(
    `a plan's function cannot wait for a value ('${op}' request) while it is traced: a plan is a fixed list of commands; ` +
      'get() its results after calling it',
  );
}

/** A worker that exists only to record what a plan over local values would send it. */
export class StandIn implements RemoteWorker {
  readonly id: string;
  constructor(readonly trace: Trace) {
    this.id = `plan-trace-${randomId().toString(36)}`;
  }
  post(msg: Message, _from: Worker): void {
    this.trace.record(this.id, msg);
  }
  request(msg: RequestMessage, _from: Worker): Promise<WireValue> {
    return Promise.reject(refuseRequest(msg.op));
  }
  introduce(_peer: RemoteWorker, _from: Worker): void {}
}

// Puts a real worker in recording mode; returns how to take it out again.
function recordOn(w: RemoteWorker, t: Trace): () => void {
  const obj = w as unknown as Record<string, unknown>;
  const saved = (['post', 'request'] as const).map((k) => [k, Object.getOwnPropertyDescriptor(obj, k)] as const);
  Object.defineProperty(obj, 'post', { configurable: true, writable: true, value: (msg: Message) => t.record(w.id, msg) });
  Object.defineProperty(obj, 'request', { configurable: true, writable: true, value: (msg: RequestMessage) => Promise.reject(refuseRequest(msg.op)) });
  return () => {
    for (const [k, d] of saved) {
      if (d) Object.defineProperty(obj, k, d);
      else delete obj[k];
    }
  };
}

/**
 * Runs `fn` with the messages to `workers` (and to the trace's stand-in) recorded. `fn` must
 * be synchronous. Returns its value and the trace; frees of objects the trace did not make are
 * the caller's to send (see {@link Trace.messages}, `del` entries).
 */
export function traceRun<T>(t: Trace, workers: readonly RemoteWorker[], fn: () => T): T {
  if (active) throw new PlanError('plans are traced one at a time');
  // Frees already queued belong to the world before the trace: send them now.
  flushDeletes();
  const undo = [...new Map(workers.map((w) => [w.id, w])).values()].map((w) => recordOn(w, t));
  const before = observeSessionIds((s) => t.sessions.add(s));
  active = t;
  let value: T;
  try {
    value = fn();
    if (value instanceof Promise) {
      value.catch(() => undefined);
      throw new PlanError("a plan's function must be synchronous (ops are lazy: return the tensors, await get() after the call)");
    }
  } finally {
    // Frees caused by the function are recorded too, while the workers still record.
    flushDeletes();
    active = undefined;
    observeSessionIds(before);
    for (const u of undo) u();
  }
  return value;
}

/** Closes a trace: frees of its placeholders arriving later are dropped. */
export function closeTrace(t: Trace): void {
  flushDeletes();
  t.closed = true;
}
