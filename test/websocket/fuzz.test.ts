// Fuzz: a live worker gets well over 10,000 hostile messages — malformed, truncated, corrupted,
// wrong-typed, oversized, unknown ops, bad ids, forged replies and protocol values, garbage
// control frames, wrong tokens and broken handshakes, raw TCP noise. It must not crash, must
// answer or drop every one with an error, must keep its objects exactly as they were, and must
// still serve clients afterwards. Deterministic: every frame comes from a seeded generator.
import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { encodeObject } from '../../src/workers/codec.js';
import { encodeMessage } from '../../src/workers/serde.js';
import type { WebsocketServerWorker } from '../../src/workers/websocket/index.js';
import { CLOSE } from '../../src/workers/websocket/protocol.js';
import { FrameFuzzer } from './helpers/fuzz.js';
import { TestNet, sy } from './helpers/net.js';
import { type RawConnection, rawConnect } from './helpers/raw.js';

const SEED = 20_260_521;
const TOKEN = 'fuzz-target-token-9d2e';
const MAX_BYTES = 64 * 1024;
const net = new TestNet({ name: 'fuzz', tls: false, token: TOKEN });

let server: WebsocketServerWorker;
let snapshot: () => unknown;

beforeAll(async () => {
  // Every broken handshake below must reach the worker's check, so the per-address backoff of
  // failed logins (tested in admission.test.ts) is set out of the way.
  server = await net.server('target', { maxMessageBytes: MAX_BYTES, handshakeTimeoutMs: 300, admission: { loginBurst: 1e6 } });
  const owner = await net.client(server);
  // Objects under fixed ids (not through pointers, whose ids are random): the generated frames,
  // which aim at these ids too, are then the same on every run.
  owner.post({ kind: 'store', id: 1001, obj: encodeObject(sy.tensor([[1, 2], [3, 4]]).child) }, sy.local);
  owner.post({ kind: 'store', id: 1002, obj: encodeObject(sy.tensor([1, 2, 3], { requiresGrad: true }).child) }, sy.local);
  owner.post({ kind: 'cmd', op: 'matmul', self: 1001, args: [{ ref: 1001 }], ret: [1003] }, sy.local);
  owner.post({ kind: 'cmd', op: 'sum', self: 1003, args: [null, false], ret: [1004] }, sy.local);
  await owner.sync();
  snapshot = () => [...server.objects].map(([id, t]) => [id, (t as sy.Tensor).arraySync()]);
});
afterAll(() => net.close());

test('a live worker survives 10,000+ hostile messages unchanged, and still serves clients', async () => {
  const t0 = performance.now();
  const before = snapshot();
  const liveIds = server.objectIds();
  expect(liveIds).toEqual([1001, 1002, 1003, 1004]);
  const rejectedBefore = server.rejected;
  const authFailuresBefore = server.authFailures;
  const templates = [
    encodeMessage({ kind: 'store', id: 12345, obj: encodeObject(sy.tensor([[1, 2], [3, 4]]).child) }),
    encodeMessage({ kind: 'cmd', op: 'add', self: liveIds[0]!, args: [{ ref: liveIds[1]! }], ret: [999] }),
    encodeMessage({ kind: 'req', req: 3, op: 'get', args: [liveIds[0]!, true] }),
    encodeMessage({ kind: 'peer', session: 'cd'.repeat(16), tag: 'share', payload: new BigInt64Array([1n, -2n]) }),
    encodeMessage({ kind: 'del', ids: [liveIds[2]!] }),
  ];
  const fz = new FrameFuzzer(SEED, liveIds, templates);
  const tally = { undecodable: 0, refused: 0, failedRequests: 0, failedPosts: 0, control: 0, oversized: 0, handshakes: 0, tcp: 0 };

  const conn = await rawConnect(server.url, { key: TOKEN });
  expect(conn.welcome).toBeDefined();
  let expectedReplies = 0;
  const flush = async () => {
    await conn.until(() => conn.replies.length >= expectedReplies, 10_000);
    expect(conn.replies.length).toBe(expectedReplies);
  };

  // 1. Binary frames that must each get exactly one error reply: 6,000 undecodable, 4,000 that
  //    decode but are refused (unknown ops, wrong result ids, missing targets, forged replies,
  //    protocol values from a client), and 1,000 requests that fail (unknown requests, bad ids).
  const failingReqIds = new Set<number>();
  for (let batch = 0; batch < 22; batch++) {
    for (let i = 0; i < 500; i++) {
      const k = batch * 500 + i;
      if (k < 6000) {
        conn.send(fz.undecodable());
        tally.undecodable++;
      } else if (k < 10_000) {
        conn.send(fz.encode(fz.refusable()));
        tally.refused++;
      } else {
        const req = 100_000 + k;
        failingReqIds.add(req);
        conn.send(encodeMessage(fz.failingRequest(req)));
        tally.failedRequests++;
      }
      expectedReplies++;
    }
    await flush();
  }
  expect(conn.replies.every((r) => r.ok === false)).toBe(true);
  expect(server.rejected - rejectedBefore).toBe(tally.undecodable + tally.refused);
  const answered = conn.replies.filter((r) => failingReqIds.has(r.req)).map((r) => r.req);
  expect(new Set(answered).size).toBe(failingReqIds.size);
  expect(answered).toHaveLength(failingReqIds.size);

  // 2. Well-formed posts that fail (bad ids, undecodable payloads): the failure is recorded under
  //    the result id and surfaces at get(); a store that fails is also answered at once (req 0).
  const failedIds: number[] = [];
  for (let i = 0; i < 500; i++) {
    const id = fz.freshId();
    failedIds.push(id);
    const post = fz.failingPost(id);
    if (post.kind === 'store') expectedReplies++;
    conn.send(encodeMessage(post));
    tally.failedPosts++;
  }
  failedIds.forEach((id, i) => conn.send(encodeMessage({ kind: 'req', req: 500_000 + i, op: 'get', args: [id, false] })));
  expectedReplies += failedIds.length;
  await flush();
  const gets = conn.replies.filter((r) => r.req >= 500_000);
  expect(gets).toHaveLength(failedIds.length);
  expect(gets.every((r) => !r.ok)).toBe(true);

  // 3. Garbage control (text) frames after the handshake: an error frame each, connection kept.
  const controlsBefore = conn.controls.length;
  for (let i = 0; i < 300; i++) {
    conn.send(fz.controlGarbage());
    tally.control++;
  }
  // (The worker's acks for the binary frames above may arrive among the answers.)
  const errors = () => conn.controls.slice(controlsBefore).filter((c) => c.t === 'error').length;
  await conn.until(() => errors() >= 300);
  expect(errors()).toBe(300);
  expect(conn.controls.slice(controlsBefore).every((c) => c.t === 'error' || c.t === 'ack')).toBe(true);
  expect(conn.closed).toBeUndefined();
  conn.close();

  // 4. Oversized frames: refused by size before any decoding, the connection closed with 1009.
  const oversized: Promise<RawConnection>[] = [];
  for (let i = 0; i < 30; i++) {
    oversized.push(
      rawConnect(server.url, { key: TOKEN }).then(async (c) => {
        c.send(fz.bytes(MAX_BYTES + 1 + fz.int(4 * MAX_BYTES)));
        await c.until(() => c.closed !== undefined);
        return c;
      }),
    );
    tally.oversized++;
  }
  for (const c of await Promise.all(oversized)) expect(c.closed!.code).toBe(CLOSE.tooBig);

  // 5. Wrong tokens and broken handshakes: refused and closed, in a few parallel waves.
  const handshakes: Promise<RawConnection>[] = [];
  for (let i = 0; i < 200; i++) {
    const kind = i % 4;
    handshakes.push(
      rawConnect(server.url, {
        key: kind === 0 ? `${TOKEN}${i}` : kind === 1 ? TOKEN.slice(0, i % TOKEN.length) : TOKEN,
        tamper:
          kind === 2
            ? (_h, ch) => fz.helloGarbage(ch.nonce)
            : kind === 3
              ? (h) => ({ ...h, id: 'someone_else' }) // the proof no longer matches the id
              : undefined,
      }).then(async (c) => {
        await c.until(() => c.closed !== undefined);
        return c;
      }),
    );
    tally.handshakes++;
    if (handshakes.length % 50 === 0) await Promise.all(handshakes.slice(-50));
  }
  const refusedCodes = (await Promise.all(handshakes)).map((c) => c.closed!.code);
  expect(refusedCodes.every((code) => code === CLOSE.refused || code === CLOSE.protocol)).toBe(true);
  expect(server.authFailures - authFailuresBefore).toBe(200);
  // And a connection that never says hello is dropped after the handshake timeout.
  const silent = await rawConnect(server.url, { tamper: () => '' }).catch(() => undefined);
  await silent?.until(() => silent.closed !== undefined, 2000);
  expect([CLOSE.protocol, CLOSE.handshakeTimeout]).toContain(silent?.closed?.code);

  // 6. Raw TCP noise at the port: the HTTP layer drops it.
  await Promise.all(
    Array.from({ length: 20 }, () => {
      tally.tcp++;
      return new Promise<void>((resolve) => {
        const s = tcpConnect(server.port, '127.0.0.1', () => s.write(fz.bytes(1 + fz.int(2000))));
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.setTimeout(3000, () => {
          s.destroy();
          resolve();
        });
      });
    }),
  );

  // Nothing changed; the worker still serves its client and new ones.
  expect(snapshot()).toEqual(before);
  expect(server.mailbox.size).toBe(0);
  const owner = net.clients[0]!;
  const p = sy.tensor([10, 20]).send(owner);
  expect((await p.add(1).get()).arraySync()).toEqual([11, 21]);
  const fresh = await net.client(server);
  expect((await sy.tensor([5]).send(fresh).mul(2).get()).arraySync()).toEqual([10]);

  const total = Object.values(tally).reduce((a, b) => a + b, 0);
  expect(total).toBeGreaterThanOrEqual(10_000);
  const seconds = (performance.now() - t0) / 1000;
  console.info(`fuzz: ${total} hostile messages/connections in ${seconds.toFixed(2)} s (${JSON.stringify(tally)}; ${fz.discarded} candidates discarded because they decoded)`);
});
