// The request/reply core (src/workers/caller.ts) on a hand-driven transport: what every transport
// gets from it — request ids, replies matched to requests, RemoteError, timeouts, refusals kept,
// and pending requests failed when the link dies.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { Caller } from '../../src/workers/caller.js';
import { scheduleDelete } from '../../src/workers/deletes.js';
import type { Message, ReplyMessage, WireError, WireValue } from '../../src/workers/messages.js';
import type { RemoteWorker, Sender } from '../../src/workers/worker.js';

function rig(opts: { timeoutMs?: number; onRefused?: (e: WireError, from: Sender | undefined) => void } = {}) {
  const sent: { msg: Message; from: Sender }[] = [];
  const announced: WireError[] = [];
  const owner: Sender = { id: 'me' };
  let broken: Error | undefined;
  const caller = new Caller({
    peer: () => 'bob',
    owner,
    timeoutMs: opts.timeoutMs,
    transmit: (msg, from) => {
      if (broken) throw broken;
      sent.push({ msg, from });
    },
    onRejection: (e) => announced.push(e),
    ...(opts.onRefused ? { onRefused: opts.onRefused } : {}),
  });
  const reqOf = (i: number) => (sent[i]!.msg as { req: number }).req;
  return { caller, sent, announced, owner, reqOf, breakWith: (e: Error) => (broken = e) };
}

const ok = (req: number, value: WireValue): ReplyMessage => ({ kind: 'reply', req, ok: true, value });
const err = (req: number, message: string): ReplyMessage => ({ kind: 'reply', req, ok: false, error: { name: 'ValueError', message, op: 'get' } });

describe('the request/reply core', () => {
  test('each request gets its own id, and replies find their request in any order', async () => {
    const { caller, sent, reqOf } = rig();
    const a = caller.request({ kind: 'req', req: 0, op: 'get', args: [1] }, { id: 'alice' });
    const b = caller.call('ids', []);
    expect(sent.map((s) => s.from.id)).toEqual(['alice', 'me']);
    expect(reqOf(0)).not.toBe(reqOf(1));
    expect(caller.pendingCount).toBe(2);
    caller.settle(ok(reqOf(1), [7, 8]));
    caller.settle(ok(reqOf(0), 'first'));
    expect(await a).toBe('first');
    expect(await b).toEqual([7, 8]);
    expect(caller.pendingCount).toBe(0);
  });

  test('a failure the worker reports becomes a RemoteError naming the worker, the op and the error', async () => {
    const { caller, reqOf } = rig();
    const p = caller.call('get', [3]);
    caller.settle(err(reqOf(0), 'no such object'));
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(sy.RemoteError);
    expect(e).toMatchObject({ workerId: 'bob', op: 'get', remoteName: 'ValueError', remoteMessage: 'no such object' });
  });

  test('a reply nobody waits for is a refused post: counted, kept and announced; a late ok reply is dropped', () => {
    const { caller, announced } = rig();
    caller.settle(err(0, 'refused post'));
    caller.settle(ok(12345, null));
    expect(caller.rejected).toBe(1);
    expect(caller.lastRejection?.message).toBe('refused post');
    expect(announced.map((e) => e.message)).toEqual(['refused post']);
  });

  test('refusals can be routed to their sender (in-process transports keep them there)', () => {
    const seen: [string, string | undefined][] = [];
    const { caller } = rig({ onRefused: (e, from) => seen.push([e.message, from?.id]) });
    caller.settle(err(0, 'nope'), { id: 'alice' });
    expect(seen).toEqual([['nope', 'alice']]);
    expect(caller.rejected).toBe(0);
  });

  test('a request with no reply rejects with a TimeoutError after its timeout, and its late reply is harmless', async () => {
    const { caller, reqOf } = rig({ timeoutMs: 30 });
    const t0 = performance.now();
    await expect(caller.call('sync', [])).rejects.toThrow(sy.TimeoutError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(caller.pendingCount).toBe(0);
    caller.settle(ok(reqOf(0), null));
    expect(caller.rejected).toBe(0);
  });

  test('when the link dies every pending request rejects with the reason, and none is left', async () => {
    const { caller } = rig({ timeoutMs: 60_000 });
    const ps = [caller.call('sync', []), caller.call('ids', []), caller.call('ping', [])];
    const dead = new sy.ProtocolError('link to bob is gone');
    caller.fail(dead);
    for (const p of ps) await expect(p).rejects.toBe(dead);
    expect(caller.pendingCount).toBe(0);
  });

  test('a transport that cannot send rejects the request at once and keeps nothing pending', async () => {
    const { caller, breakWith } = rig({ timeoutMs: 60_000 });
    breakWith(new sy.ProtocolError('closed'));
    await expect(caller.call('ids', [])).rejects.toThrow('closed');
    expect(caller.pendingCount).toBe(0);
    expect(() => caller.clearObjects()).toThrow('closed');
  });

  test('sync sends the deletes queued so far before its own request', async () => {
    const { caller, sent, owner, reqOf } = rig();
    const location: RemoteWorker = {
      id: 'bob',
      post: (msg, from) => sent.push({ msg, from }),
      request: () => Promise.reject(new Error('unused')),
      introduce: () => {},
    };
    scheduleDelete({ location, id: 41, owner });
    scheduleDelete({ location, id: 42, owner });
    const done = caller.sync();
    expect(sent.map((s) => s.msg.kind)).toEqual(['del', 'req']);
    expect(sent[0]!.msg).toEqual({ kind: 'del', ids: [41, 42] });
    caller.settle(ok(reqOf(1), null));
    await done;
  });
});
