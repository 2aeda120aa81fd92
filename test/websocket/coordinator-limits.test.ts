// A coordinator is dialled by anyone, before anyone is authenticated, so what a connection costs
// it is capped: connections at once, per address, callers waiting for one id, ids remembered, and
// the pre-upgrade limits of a listening worker. A connection over a cap is closed with 4401 and
// the cap's name; the coordinator keeps relaying for the workers it already serves.
import { WebSocket } from 'ws';
import { afterEach, describe, expect, test } from 'vitest';
import { Coordinator, OutboundWorker, WebsocketClientWorker } from '../../src/workers/websocket/index.js';
import { sy, until } from './helpers/net.js';

const TOKEN = 'coordinator-limits-token-2c9d';

let made: { close(): Promise<void> }[] = [];
let sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets) s.terminate();
  for (const m of made.reverse()) await m.close().catch(() => {});
  made = [];
  sockets = [];
});

/** Opens a raw WebSocket to `url`; resolves with how it ended if it was closed within `ms`, else 'open'. */
function dial(url: string, ms = 400): Promise<{ code: number; reason: string } | 'open'> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), ms);
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
    ws.on('error', () => {});
  });
}

describe('a coordinator under a flood of connections', () => {
  test('connections per address and in all are capped, and the cap is named', async () => {
    const c = await Coordinator.start({ limits: { maxPerAddress: 3, maxConnections: 100 } });
    made.push(c);
    const first = await Promise.all([1, 2, 3].map((i) => dial(`${c.joinUrl}/join/idle${i}`)));
    expect(first).toEqual(['open', 'open', 'open']);
    expect(c.connections).toBe(3);
    const fourth = await dial(`${c.joinUrl}/join/idle4`);
    expect(fourth).toEqual({ code: 4401, reason: expect.stringMatching(/maxPerAddress/) });
    // Closing one frees its place.
    sockets[0]!.terminate();
    await until(() => c.connections === 2);
    expect(await dial(`${c.joinUrl}/join/idle5`)).toBe('open');

    const d = await Coordinator.start({ limits: { maxConnections: 2 } });
    made.push(d);
    await Promise.all([dial(`${d.joinUrl}/join/a`), dial(`${d.joinUrl}/join/b`)]);
    expect(await dial(`${d.joinUrl}/join/c`)).toEqual({ code: 4401, reason: expect.stringMatching(/maxConnections/) });
  });

  test('callers waiting for one worker are capped; waiting for another is not affected', async () => {
    const c = await Coordinator.start({ limits: { maxWaitingPerId: 2 }, waitMs: 5000 });
    made.push(c);
    expect(await Promise.all([dial(c.url('ghost')), dial(c.url('ghost'))])).toEqual(['open', 'open']);
    expect(await dial(c.url('ghost'))).toEqual({ code: 4401, reason: expect.stringMatching(/maxWaitingPerId/) });
    expect(await dial(c.url('other'))).toBe('open');
  });

  test('ids are forgotten once idle, so a stream of new ids cannot grow the coordinator', async () => {
    const c = await Coordinator.start({ limits: { maxIds: 5 } });
    made.push(c);
    for (let i = 0; i < 20; i++) {
      expect(await dial(`${c.joinUrl}/join/w${i}`, 50)).toBe('open');
      sockets.at(-1)!.terminate();
      await until(() => c.connections === 0);
      expect(c.ids).toBeLessThanOrEqual(5);
    }
    // With five busy ids, a sixth is refused.
    await Promise.all([0, 1, 2, 3, 4].map((i) => dial(`${c.joinUrl}/join/busy${i}`, 100)));
    expect(await dial(`${c.joinUrl}/join/busy5`)).toEqual({ code: 4401, reason: expect.stringMatching(/maxIds/) });
  });

  test('plain HTTP is answered 426, a malformed id is refused, and a flood leaves real workers served', async () => {
    const c = await Coordinator.start({ limits: { maxWaitingPerId: 4 } });
    made.push(c);
    const res = await fetch(c.joinUrl.replace('ws:', 'http:') + '/join/x');
    expect(res.status).toBe(426);
    expect(await dial(`${c.joinUrl}/join/%E0%A4%A`)).toEqual({ code: 4401, reason: expect.stringMatching(/join/) });
    const alice = await OutboundWorker.join(c.joinUrl, { id: 'alice', token: TOKEN });
    made.push(alice);
    await c.waitFor('alice');
    // Idle offers under other ids and callers waiting for an absent worker.
    await Promise.all([...Array(20)].map((_, i) => dial(`${c.joinUrl}/join/flood${i}`, 50)));
    await Promise.all([...Array(6)].map(() => dial(c.url('absent'), 50)));
    const a = await WebsocketClientWorker.connect(c.url('alice'), { id: 'alice', token: TOKEN });
    made.push(a);
    const x = sy.tensor([1, 2, 3]).send(a);
    expect((await x.add(x).get()).arraySync()).toEqual([2, 4, 6]);
  });

  test('bad limits are refused before listening', async () => {
    await expect(Coordinator.start({ limits: { maxIds: 0 } })).rejects.toThrow(/maxIds.*positive whole number/);
    await expect(Coordinator.start({ limits: { maxSockets: 3 } as never })).rejects.toThrow(/unknown coordinator limit 'maxSockets'/);
  });
});
