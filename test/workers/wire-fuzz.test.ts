// Fuzz: mutations of valid frames (test/workers/helpers/mutator.ts) go through decodeMessage and
// then into a real worker: 20,000 into a VirtualWorker's receive, 2,000 more over a socket into a
// WebSocket server worker. Nothing may crash or hang; every frame is refused with a
// WireFormatError or decodes to a valid message; every reply is an error or a valid answer, and
// every request gets exactly one; the workers still serve legitimate requests afterwards.
// Deterministic: every frame comes from a seeded generator.
import { afterAll, expect, test } from 'vitest';
import { WireFormatError } from '../../src/errors.js';
import * as sy from '../../src/index.js';
import { encodeObject } from '../../src/workers/codec.js';
import type { Message, ReplyMessage, WireNode } from '../../src/workers/messages.js';
import { decodeMessage, encodeMessage } from '../../src/workers/serde.js';
import { rawConnect } from '../websocket/helpers/raw.js';
import { TestNet } from '../websocket/helpers/net.js';
import { FrameMutator } from './helpers/mutator.js';

const SEED = 20_260_619;
const TOKEN = 'wire-fuzz-token-5c1e93b0d7a24f68';
const IN_PROCESS_FRAMES = 20_000;
const SOCKET_FRAMES = 2_000;

const pointer = (location: string, id: number): WireNode => ({ type: 'pointer', location, id, shape: [2, 2] });
const ring = (): WireNode => ({ type: 'ring', shape: [2, 2], data: new BigInt64Array([1n, -2n, 3n, 2n ** 62n]) });

// Objects under fixed ids; 1001-1005 are tensors (pointers may aim at them), 1006-1007 hold pointers.
function baseObjects(selfId: string): [number, WireNode][] {
  return [
    [1001, encodeObject(sy.tensor([[1, 2], [3, 4]]).child)],
    [1002, encodeObject(sy.tensor([1, 2, 3], { requiresGrad: true }).child)],
    [1003, ring()],
    [1004, ring()],
    [1005, { type: 'fpt', base: 10, precision: 3, child: ring() }],
    [1006, { type: 'ast', shares: [pointer(selfId, 1003), pointer(selfId, 1004)], provider: null }],
    [1007, pointer(selfId, 1001)],
  ];
}

function templates(selfId: string): Message[] {
  const float = () => encodeObject(sy.tensor([[0.5, -1], [2, 8]]).child);
  const ast = (): WireNode => ({ type: 'ast', shares: [pointer(selfId, 1003), pointer(selfId, 1004), pointer(selfId, 1003)], provider: null });
  return [
    { kind: 'store', id: 1, obj: float() },
    { kind: 'store', id: 1, obj: encodeObject(sy.tensor([1, 2], { requiresGrad: true }).child) },
    { kind: 'store', id: 1, obj: { type: 'fpt', base: 10, precision: 3, child: ring() } },
    { kind: 'store', id: 1, obj: ast() },
    { kind: 'store', id: 1, obj: pointer(selfId, 1001) },
    { kind: 'store', id: 1, obj: { type: 'autograd', requiresGrad: false, child: { type: 'fpt', base: 10, precision: 3, child: ast() } } },
    { kind: 'cmd', op: 'add', self: 1001, args: [{ ref: 1001 }], ret: [1] },
    { kind: 'cmd', op: 'add', self: 1001, args: [{ obj: float() }], ret: [1] },
    { kind: 'cmd', op: 'mul', self: 1005, args: [2], ret: [1] },
    { kind: 'cmd', op: 'add', self: 1006, args: [{ ref: 1006 }], ret: [1] },
    { kind: 'cmd', op: 'matmul', self: 1001, args: [{ ref: 1001 }], ret: [1] },
    { kind: 'cmd', op: 'sum', self: 1001, args: [null, false], ret: [1] },
    { kind: 'cmd', op: 'relu', self: 1007, args: [], ret: [1] },
    { kind: 'cmd', op: 'neg', self: 1006, args: [], ret: [1] },
    { kind: 'req', req: 1, op: 'get', args: [1001, true] },
    { kind: 'req', req: 1, op: 'get', args: [1006, true] },
    { kind: 'req', req: 1, op: 'ping', args: [] },
    { kind: 'req', req: 1, op: 'ids', args: [] },
    { kind: 'peer', session: 'ab'.repeat(16), tag: 'share', payload: { shape: [2, 2], data: new BigInt64Array(4) } },
    { kind: 'del', ids: [2 ** 40] },
    { kind: 'reply', req: 1, ok: true, value: [1, 2n, 'x'] },
  ];
}

// A reply is either an error with a name, a message and an op, or a valid message that a client
// decodes (a round trip through the wire format, which validates it).
function checkReply(r: ReplyMessage): void {
  expect(r.kind).toBe('reply');
  expect(Number.isSafeInteger(r.req)).toBe(true);
  if (r.ok) expect(decodeMessage(encodeMessage(r))).toEqual(r);
  else {
    expect(typeof r.error.name === 'string' && r.error.name.length > 0).toBe(true);
    expect(typeof r.error.message).toBe('string');
    expect(typeof r.error.op).toBe('string');
  }
}

// A result or a store under an id that pointers aim at can make a pointer that points at itself,
// and one op on it then makes the worker post to itself forever: issue 19's second item, which
// this test does not cover. Such messages are counted and not sent. (The fuzz found it: store a
// pointer to 1001 at 1007, delete 1001, then relu 1007 into 1001.)
function makesPointerCycle(m: Message, pointedAt: readonly number[]): boolean {
  if (m.kind === 'cmd') return m.ret.some((id) => pointedAt.includes(id));
  return m.kind === 'store' && pointedAt.includes(m.id);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const net = new TestNet({ name: 'wire-fuzz', tls: false, token: TOKEN });
afterAll(() => net.close());

test(`${IN_PROCESS_FRAMES + SOCKET_FRAMES} mutated valid frames: no crash, every reply an error or a valid answer, workers still serving`, async () => {
  const t0 = performance.now();
  const tally = { frames: 0, refusedAtDecode: 0, decoded: 0, skippedPointerCycles: 0, requests: 0, replies: 0, errorReplies: 0, okReplies: 0 };

  // ---- in-process: a VirtualWorker's receive -------------------------------------------------
  const selfId = 'wire_fuzz_target';
  const bob = new sy.VirtualWorker({ id: selfId });
  const seed = () => {
    const held = new Set(bob.objectIds());
    for (const [id, obj] of baseObjects(selfId)) if (!held.has(id)) bob.receive({ kind: 'store', id, obj }, 'owner');
  };
  seed();
  const base = baseObjects(selfId).map(([id]) => id);
  const mz = new FrameMutator(SEED, { selfId, tensorIds: base.slice(0, 5), liveIds: base, templates: templates(selfId) });
  const replies: ReplyMessage[] = [];
  const pending = new Set<number>();
  // Requests are renumbered from here (no mutation makes such numbers; a refused 'reply' message
  // is answered with its own number).
  const FIRST_REQ = 2 ** 52;
  let nextReq = FIRST_REQ;
  for (let batch = 0; batch < IN_PROCESS_FRAMES / 500; batch++) {
    for (let i = 0; i < 500; i++) {
      const { frame, mutations } = mz.next();
      tally.frames++;
      let msg: Message;
      try {
        msg = decodeMessage(frame);
      } catch (e) {
        if (!(e instanceof WireFormatError)) throw new Error(`decoding after [${mutations.join(', ')}] threw ${String(e)}`);
        tally.refusedAtDecode++;
        continue;
      }
      tally.decoded++;
      if (makesPointerCycle(msg, base)) {
        tally.skippedPointerCycles++;
        continue;
      }
      if (msg.kind === 'req') {
        // Numbered here, so that each request's single answer can be checked.
        msg.req = nextReq++;
        pending.add(msg.req);
        tally.requests++;
      }
      bob.receive(msg, 'fuzzer', (r) => {
        replies.push(r);
        if (r.req >= FIRST_REQ && r.req < FIRST_REQ + IN_PROCESS_FRAMES) {
          expect(pending.delete(r.req), `a second answer to request ${r.req}`).toBe(true);
        }
      });
    }
    await withTimeout(bob.sync(), 20_000, `the worker after batch ${batch}`);
    seed();
  }
  expect(pending.size, 'requests without an answer').toBe(0);
  for (const r of replies) checkReply(r);
  tally.replies += replies.length;
  tally.okReplies += replies.filter((r) => r.ok).length;
  tally.errorReplies += replies.filter((r) => !r.ok).length;
  // Both outcomes were reached often, and the worker still serves.
  expect(tally.refusedAtDecode).toBeGreaterThan(IN_PROCESS_FRAMES / 5);
  expect(tally.decoded).toBeGreaterThan(IN_PROCESS_FRAMES / 5);
  expect(replies.filter((r) => r.ok).length).toBeGreaterThan(100);
  expect((await sy.tensor([10, 20]).send(bob).add(1).get()).arraySync()).toEqual([11, 21]);
  const inProcessSeconds = (performance.now() - t0) / 1000;

  // ---- over a socket: a WebSocket server worker ----------------------------------------------
  const t1 = performance.now();
  const server = await net.server('wire_fuzz_ws');
  const owner = await net.client(server);
  for (const [id, obj] of baseObjects(server.id)) owner.post({ kind: 'store', id, obj }, sy.local);
  await owner.sync();
  const wz = new FrameMutator(SEED + 1, { selfId: server.id, tensorIds: base.slice(0, 5), liveIds: base, templates: templates(server.id) });
  const conn = await rawConnect(server.url, { key: TOKEN });
  expect(conn.welcome).toBeDefined();
  const sentReqs = new Map<number, number>();
  let undecodable = 0;
  const syncReqs = new Set<number>();
  for (let batch = 0; batch < SOCKET_FRAMES / 250; batch++) {
    for (let i = 0; i < 250; i++) {
      const { frame } = wz.next();
      tally.frames++;
      let msg: Message | undefined;
      try {
        msg = decodeMessage(frame);
      } catch {
        undecodable++;
      }
      if (msg && makesPointerCycle(msg, base)) {
        tally.skippedPointerCycles++;
        continue;
      }
      // A request gets its answer; a 'reply' sent to a worker is refused under its own number.
      if ((msg?.kind === 'req' || msg?.kind === 'reply') && msg.req !== 0) sentReqs.set(msg.req, (sentReqs.get(msg.req) ?? 0) + 1);
      conn.send(frame);
    }
    const syncReq = 2 ** 52 + batch;
    syncReqs.add(syncReq);
    conn.send(encodeMessage({ kind: 'req', req: syncReq, op: 'sync', args: [] }));
    await conn.until(() => conn.replies.some((r) => r.req === syncReq), 20_000);
  }
  tally.refusedAtDecode += undecodable;
  tally.decoded += SOCKET_FRAMES - undecodable;
  // Few are left out.
  expect(tally.skippedPointerCycles).toBeLessThan(tally.frames / 50);
  const answers = conn.replies.filter((r) => !syncReqs.has(r.req));
  for (const r of answers) checkReply(r);
  // Each undecodable frame got its error (request number 0); each request its answer.
  expect(answers.filter((r) => r.req === 0 && !r.ok).length).toBeGreaterThanOrEqual(undecodable);
  for (const [req, n] of sentReqs) expect(answers.filter((r) => r.req === req).length, `answers to request ${req}`).toBe(n);
  tally.requests += [...sentReqs.values()].reduce((a, b) => a + b, 0);
  tally.replies += answers.length;
  tally.okReplies += answers.filter((r) => r.ok).length;
  tally.errorReplies += answers.filter((r) => !r.ok).length;
  expect(conn.closed).toBeUndefined();
  conn.close();
  expect((await sy.tensor([5, 6]).send(owner).mul(2).get()).arraySync()).toEqual([10, 12]);
  const fresh = await net.client(server);
  expect((await sy.tensor([1]).send(fresh).add(1).get()).arraySync()).toEqual([2]);

  expect(tally.frames).toBe(IN_PROCESS_FRAMES + SOCKET_FRAMES);
  const socketSeconds = (performance.now() - t1) / 1000;
  const top = Object.entries(mz.counts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  console.info(
    `wire fuzz: ${tally.frames} frames (${IN_PROCESS_FRAMES} in-process in ${inProcessSeconds.toFixed(2)} s, ${SOCKET_FRAMES} over a socket in ${socketSeconds.toFixed(2)} s): ` +
      `${JSON.stringify(tally)}; mutations: ${top}`,
  );
});
