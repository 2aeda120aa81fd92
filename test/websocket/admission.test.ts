// What a connection may do before it authenticates, and what a session may hold: bytes before
// the hello, the handshake timeout, the cap on unauthenticated connections (the oldest goes),
// plain HTTP answered with 426, failed logins rate-limited per address, the session caps with
// reclaim of down sessions, and replies nobody acknowledges.
import { connect as tcpConnect, type Socket } from 'node:net';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, test } from 'vitest';
import type { ReplyMessage } from '../../src/workers/messages.js';
import { encodeObject } from '../../src/workers/codec.js';
import { encodeMessage } from '../../src/workers/serde.js';
import { newToken } from '../../src/workers/websocket/identities.js';
import { WebsocketClientWorker } from '../../src/workers/websocket/index.js';
import { TestNet, sy, testCert, until } from './helpers/net.js';
import { rawConnect } from './helpers/raw.js';

const net = new TestNet();
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await net.close();
});

const portOf = (url: string) => Number(new URL(url).port);
function idle(url: string): Socket {
  const s = tcpConnect({ host: '127.0.0.1', port: portOf(url) });
  s.on('error', () => {});
  sockets.push(s);
  return s;
}
const closed = (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));

// A WebSocket that never says hello; resolves once it is open.
async function noHello(url: string, localAddress = '127.0.0.1'): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, localAddress, rejectUnauthorized: false });
  ws.on('error', () => {});
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('unexpected-response', (_q, res) => j(new Error(`HTTP ${res.statusCode} retry-after ${res.headers['retry-after']}`)));
  });
  return ws;
}
const wsClosed = (ws: WebSocket) => new Promise<void>((r) => (ws.readyState === WebSocket.CLOSED ? r() : ws.once('close', () => r())));

describe('before the hello', () => {
  for (const tls of [false, true]) {
    test(`a big frame before the hello closes the connection; the worker keeps serving (${tls ? 'wss' : 'ws'})`, async () => {
      const server = await net.server('bob', tls ? { tls: testCert() } : {});
      const ws = await noHello(server.url);
      ws.send(new Uint8Array(4 * 2 ** 20));
      await wsClosed(ws);
      expect(server.admission.dropped).toBe(1);
      const bob = await net.client(server, tls ? { ca: testCert().cert } : {});
      expect((await sy.tensor([1, 2]).send(bob).get()).arraySync()).toEqual([1, 2]);
      expect(server.admission.unauthenticated).toBe(0);
    });
  }

  test('a connection that never authenticates is closed after the handshake timeout', async () => {
    const server = await net.server('bob', { admission: { handshakeTimeoutMs: 200 } });
    const tcp = idle(server.url);
    const ws = await noHello(server.url);
    await Promise.all([closed(tcp), wsClosed(ws)]);
    expect(server.admission.unauthenticated).toBe(0);
  });

  test('idle connections beyond the cap close the oldest; a client that authenticates gets in', async () => {
    const server = await net.server('bob', { admission: { maxUnauthenticated: 8 } });
    const flood = Array.from({ length: 40 }, () => idle(server.url));
    await until(() => flood.filter((s) => s.destroyed).length >= 32, 5000, 'the oldest idle connections to be closed');
    expect(server.admission.unauthenticated).toBeLessThanOrEqual(8);
    const bob = await net.client(server);
    expect((await sy.tensor([3]).send(bob).get()).arraySync()).toEqual([3]);
    expect(server.admission.unauthenticated).toBeLessThanOrEqual(8);
  });

  test('a plain HTTP request is answered with 426 and closed', async () => {
    const server = await net.server('bob');
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: portOf(server.url), path: '/' }, (r) => {
        let body = '';
        r.on('data', (d) => (body += d));
        r.on('end', () => resolve({ status: r.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(426);
    expect(res.body).toMatch(/syft-ts worker/);
  });

  test('failed logins from one address make it wait (429, Retry-After); other addresses are served', async () => {
    const token = newToken();
    const server = await net.server('bob', { token, admission: { loginBurst: 3 } });
    for (let i = 0; i < 3; i++) {
      const ws = await noHello(server.url, '127.0.0.2');
      ws.send('not a hello');
      await wsClosed(ws);
    }
    await expect(noHello(server.url, '127.0.0.2')).rejects.toThrow(/HTTP 429 retry-after [1-9]/);
    expect(server.authFailures).toBe(3);
    const bob = await net.client(server, { token });
    expect((await sy.tensor([5]).send(bob).get()).arraySync()).toEqual([5]);
  });
});

describe('sessions', () => {
  test('a full table reclaims the session down longest; with all connected, a new one is refused', async () => {
    const server = await net.server('bob', { sessionLimits: { maxSessions: 3 } });
    const raws = await Promise.all([0, 1, 2].map((i) => rawConnect(server.url, { id: `c${i}` })));
    expect(server.sessionCount).toBe(3);
    const refused = await rawConnect(server.url, { id: 'late' });
    expect(refused.refused).toMatch(/3 connected sessions \(limit maxSessions\)/);
    raws[1]!.close(); // dropped without a bye: in its grace period
    await until(() => server.sessions().some((s) => !s.connected), 2000, 'the drop to be seen');
    const late = await net.client(server);
    expect(server.sessions().map((s) => s.from).sort()).toEqual(['c0', 'c2', 'me']);
    expect((await sy.tensor([7]).send(late).get()).arraySync()).toEqual([7]);
    for (const r of raws) r.close();
  });

  test('one identity may hold only so many sessions', async () => {
    const server = await net.server('bob', { sessionLimits: { maxSessionsPerIdentity: 2 } });
    const a = await rawConnect(server.url, { id: 'mallory' });
    const b = await rawConnect(server.url, { id: 'mallory' });
    const c = await rawConnect(server.url, { id: 'mallory' });
    expect(c.refused).toMatch(/'mallory' already has 2 sessions here \(limit maxSessionsPerIdentity\)/);
    expect((await net.client(server)).id).toBe('bob');
    a.close();
    b.close();
  });

  test('replies never acknowledged turn into QuotaErrors, then end the session; others are served', async () => {
    const server = await net.server('bob', { sessionLimits: { maxUnackedBytes: 64 * 1024, maxUnackedFrames: 40 } });
    const raw = await rawConnect(server.url, { id: 'lazy' });
    raw.send(encodeMessage({ kind: 'store', id: 77, obj: encodeObject(sy.tensor(new Array(4096).fill(1)).child) }));
    for (let req = 1; req <= 50; req++) raw.send(encodeMessage({ kind: 'req', req, op: 'get', args: [77, true] }));
    await raw.until(() => raw.closed !== undefined, 10_000);
    const replies: ReplyMessage[] = raw.replies;
    const ok = replies.filter((r) => r.ok).length;
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(4); // 16 KiB each within 64 KiB
    expect(replies.find((r) => !r.ok)?.error?.message).toMatch(/limit maxUnackedBytes/);
    expect(raw.closed!.reason).toMatch(/unacknowledged/);
    const bob = await net.client(server);
    expect((await sy.tensor([8]).send(bob).get()).arraySync()).toEqual([8]);
  });
});

test('a client pins the worker certificate by fingerprint', async () => {
  const { certFingerprint } = await import('../../src/workers/websocket/tls.js');
  const server = await net.server('bob', { tls: testCert() });
  const fingerprint = certFingerprint(testCert().cert);
  const ok = await WebsocketClientWorker.connect(server.url, { fingerprint });
  expect((await sy.tensor([9]).send(ok).get()).arraySync()).toEqual([9]);
  await ok.close();
  const wrong = fingerprint.replace(/^../, fingerprint.startsWith('00') ? '11' : '00');
  await expect(WebsocketClientWorker.connect(server.url, { fingerprint: wrong, reconnect: false })).rejects.toThrow(/not the pinned/);
  await expect(WebsocketClientWorker.connect(server.url, { fingerprint: 'abc' })).rejects.toThrow(/32 bytes of hex/);
});
