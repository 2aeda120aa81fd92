// A worker against hostile senders, in process: pointer loops end, identities stay apart, every
// cost has a limit, one sender's wait blocks no other, and every failure is answered. (The same
// attacks against real worker processes over WebSockets are in test/websocket/.)
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import type { Message, ReplyMessage, WireNode } from '../../src/workers/messages.js';
import { encodeObject } from '../../src/workers/codec.js';

let n = 0;
const worker = (limits?: Partial<sy.WorkerLimits>) => new sy.VirtualWorker({ id: `hard-${++n}`, limits });

/** Hands `msg` to `w` as `from`, and collects what it answers. */
function send(w: sy.VirtualWorker, msg: Message, from: string): ReplyMessage[] {
  const replies: ReplyMessage[] = [];
  w.receive(msg, from, (r) => replies.push(r));
  return replies;
}

async function request(w: sy.VirtualWorker, op: string, args: unknown[], from: string): Promise<ReplyMessage> {
  return new Promise((resolve) => w.receive({ kind: 'req', req: 7, op, args }, from, resolve));
}

const pointerNode = (location: string, id: number): WireNode => ({ type: 'pointer', location, id, shape: [2] });
const floats = (values: number[]) => encodeObject(sy.tensor(values).child);

describe('pointers cannot loop', () => {
  test('a pointer to the worker itself is refused when stored, and the worker keeps serving', async () => {
    const w = worker();
    const replies = send(w, { kind: 'store', id: 5, obj: pointerNode(w.id, 5) }, 'mallory');
    expect(replies[0]?.ok).toBe(false);
    expect(!replies[0]!.ok && replies[0]!.error.message).toMatch(/pointer to worker .* itself cannot be stored/);
    expect(w.objectCount).toBe(0);
    send(w, { kind: 'store', id: 6, obj: floats([1, 2]) }, 'alice');
    const r = await request(w, 'get', [6, false], 'alice');
    expect(r.ok).toBe(true);
  });

  test('a cycle of pointers across two workers ends after limits.maxHops forwards, with a clear error', async () => {
    const a = worker();
    const b = worker();
    // a:1 points at b:2 and b:2 at a:1, each owned by the identity the other forwards as.
    send(b, { kind: 'store', id: 2, obj: pointerNode(a.id, 1) }, a.id);
    send(a, { kind: 'store', id: 1, obj: pointerNode(b.id, 2) }, b.id);
    send(a, { kind: 'cmd', op: 'relu', self: 1, args: [], ret: [99] }, b.id);
    // Each hop leaves one result (a pointer to the next hop's); the forward past the limit is refused.
    const { maxHops } = sy.DEFAULT_LIMITS;
    expect(a.objectCount + b.objectCount).toBe(2 + maxHops + 1);
    expect([a.lastRejection, b.lastRejection].some((e) => e?.name === 'QuotaError' && /maxHops/.test(e.message))).toBe(true);
    // Both still serve.
    send(a, { kind: 'store', id: 3, obj: floats([4]) }, 'carol');
    expect((await request(a, 'get', [3, false], 'carol')).ok).toBe(true);
  });
});

describe('objects belong to the identity that made them', () => {
  test('another identity can neither list, read, use, change, take nor delete them', async () => {
    const w = worker();
    send(w, { kind: 'store', id: 10, obj: floats([1, 2]) }, 'alice');
    const probes = [
      await request(w, 'get', [10, true], 'mallory'),
      await request(w, 'get', [10, false], 'mallory'),
    ];
    expect(probes.every((r) => !r.ok && /holds no object 10/.test(r.error.message))).toBe(true);
    expect((await request(w, 'ids', [], 'mallory')).ok && (await request(w, 'ids', [], 'mallory'))).toMatchObject({ value: [] });
    send(w, { kind: 'cmd', op: 'neg', self: 10, args: [], ret: [11] }, 'mallory');
    expect((await request(w, 'get', [11, false], 'mallory')).ok).toBe(false);
    send(w, { kind: 'cmd', op: 'assign_', self: 10, args: [{ obj: floats([9, 9]) }], ret: [] }, 'mallory');
    send(w, { kind: 'del', ids: [10] }, 'mallory');
    send(w, { kind: 'clear' }, 'mallory');
    const mine = await request(w, 'get', [10, true], 'alice');
    expect(mine.ok).toBe(true);
    expect(mine.ok && (mine.value as { values: Float32Array }).values).toEqual(new Float32Array([1, 2]));
  });

  test('a grant from the owner lets one more identity use the object', async () => {
    const w = worker();
    send(w, { kind: 'store', id: 20, obj: floats([3, -1]) }, 'alice');
    expect((await request(w, 'grant', [20, 'bob'], 'mallory')).ok).toBe(false);
    expect((await request(w, 'grant', [20, 'bob'], 'alice')).ok).toBe(true);
    send(w, { kind: 'cmd', op: 'relu', self: 20, args: [], ret: [21] }, 'bob');
    const r = await request(w, 'get', [21, false], 'bob');
    expect(r.ok && (r.value as { values: Float32Array }).values).toEqual(new Float32Array([3, 0]));
    expect((await request(w, 'get', [20, true], 'mallory')).ok).toBe(false);
  });

  test('a private key a worker generates is never fetched, by anyone', async () => {
    const w = worker();
    send(w, { kind: 'cmd', op: 'paillierKeygen', args: [256], ret: [30] }, 'alice');
    await w.sync();
    const r = await request(w, 'get', [30, true], 'alice');
    expect(!r.ok && r.error.name).toBe('PermissionError');
    send(w, { kind: 'cmd', op: 'paillierPublicKeyOf', self: 30, args: [], ret: [31] }, 'alice');
    expect((await request(w, 'get', [31, false], 'alice')).ok).toBe(true);
  });
});

describe('limits', () => {
  test('objects and bytes per identity, and bytes per worker, each with a QuotaError and nothing changed', async () => {
    const w = worker({ maxObjectsPerSession: 2, maxBytesPerSession: 64, maxBytes: 100 });
    send(w, { kind: 'store', id: 1, obj: floats([1]) }, 'alice');
    send(w, { kind: 'store', id: 2, obj: floats([1]) }, 'alice');
    const third = send(w, { kind: 'store', id: 3, obj: floats([1]) }, 'alice');
    expect(!third[0]!.ok && third[0]!.error.name).toBe('QuotaError');
    expect(!third[0]!.ok && third[0]!.error.message).toMatch(/maxObjectsPerSession/);
    const big = send(w, { kind: 'store', id: 4, obj: floats(Array(17).fill(0)) }, 'bob');
    expect(!big[0]!.ok && big[0]!.error.message).toMatch(/maxBytesPerSession/);
    send(w, { kind: 'store', id: 5, obj: floats(Array(16).fill(0)) }, 'bob');
    const full = send(w, { kind: 'store', id: 6, obj: floats(Array(10).fill(0)) }, 'carol');
    expect(!full[0]!.ok && full[0]!.error.message).toMatch(/maxBytes =/);
    expect(w.objectIds()).toEqual([1, 2, 5]);
    expect(w.usageOf('alice')).toEqual({ objects: 2, bytes: 8 });
  });

  test('an op that would allocate or compute too much is refused before it runs', async () => {
    const w = worker({ maxElementsPerOp: 1000, maxMacsPerOp: 10_000 });
    send(w, { kind: 'store', id: 1, obj: floats([1, 2]) }, 'alice');
    send(w, { kind: 'cmd', op: 'broadcastTo', self: 1, args: [[32768, 32768, 2]], ret: [2] }, 'alice');
    send(w, { kind: 'cmd', op: 'pad', self: 1, args: [0, -5, 0], ret: [3] }, 'alice');
    send(w, { kind: 'store', id: 4, obj: encodeObject(sy.zeros([30, 30]).child) }, 'alice');
    send(w, { kind: 'cmd', op: 'matmul', self: 4, args: [{ ref: 4 }], ret: [5] }, 'alice');
    const errors = await Promise.all([2, 3, 5].map((id) => request(w, 'get', [id, false], 'alice')));
    expect(errors.map((r) => !r.ok && r.error.message)).toEqual([
      expect.stringMatching(/maxElementsPerOp/),
      expect.stringMatching(/non-negative integer amounts/),
      expect.stringMatching(/maxMacsPerOp/),
    ]);
  });

  test('a deal asking the crypto provider for too much is refused at once', () => {
    const dealer = worker({ maxDealElements: 1000 });
    const replies = send(
      dealer,
      { kind: 'cmd', op: 'mpc.deal', args: ['matmul', 'ab'.repeat(16), ['p0', 'p1'], [4096, 4096], [4096, 4096]], ret: [] },
      'mallory',
    );
    expect(!replies[0]!.ok && replies[0]!.error.message).toMatch(/maxDealElements/);
  });

  test('a worker does not generate keys over limits.maxKeyBits', async () => {
    const w = worker();
    send(w, { kind: 'cmd', op: 'paillierKeygen', args: [16384], ret: [1] }, 'alice');
    const r = await request(w, 'get', [1, false], 'alice');
    expect(!r.ok && r.error.message).toMatch(/maxKeyBits = 4096/);
  });

  test('a flood of protocol values from one sender leaves room for the others', () => {
    const w = worker({ maxMailboxPerSender: 3 });
    const value = (i: number, from: string) => send(w, { kind: 'peer', session: 'ab'.repeat(16), tag: `t${i}`, payload: i }, from);
    for (let i = 0; i < 3; i++) expect(value(i, 'mallory')).toEqual([]);
    expect(!value(3, 'mallory')[0]!.ok).toBe(true);
    expect(value(0, 'bob')).toEqual([]);
  });
});

describe('one sender never freezes the others', () => {
  test('a command waiting for a value that never comes holds only its own sender', async () => {
    const w = worker();
    w.timeoutMs = 60_000;
    send(w, { kind: 'cmd', op: 'recvFrom', args: ['nobody', 'cd'.repeat(16)], ret: [1] }, 'mallory');
    send(w, { kind: 'store', id: 2, obj: floats([5]) }, 'alice');
    const t0 = performance.now();
    const r = await request(w, 'get', [2, false], 'alice');
    expect(r.ok).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

test('a command without results that fails is answered with an error naming the op', () => {
  const w = worker();
  send(w, { kind: 'store', id: 1, obj: floats([1]) }, 'alice');
  for (const op of ['backward', 'setGrad', 'assign_', 'requiresGrad_', 'sendTo']) {
    const args = op === 'sendTo' ? ['nowhere', 'ef'.repeat(16)] : op === 'requiresGrad_' ? ['yes'] : [{ ref: 404 }];
    const replies = send(w, { kind: 'cmd', op, self: 1, args, ret: [] }, 'alice');
    expect(replies, op).toHaveLength(1);
    expect(!replies[0]!.ok && replies[0]!.error.op).toBe(op);
  }
});
