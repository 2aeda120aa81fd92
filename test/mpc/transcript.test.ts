import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import type { Message } from '../../src/workers/messages.js';

// Records every message that reaches a worker, with its sender.
function record(w: sy.VirtualWorker): { from: string; msg: Message }[] {
  const log: { from: string; msg: Message }[] = [];
  const original = w.receive.bind(w);
  w.receive = (raw, from, reply) => {
    log.push({ from, msg: raw as Message });
    original(raw, from, reply);
  };
  return log;
}

function holdsRingData(v: unknown): boolean {
  if (v instanceof BigInt64Array) return true;
  if (v === null || typeof v !== 'object') return false;
  return Object.values(v as object).some(holdsRingData);
}

test.each([2, 3])(
  'during a private matmul among %i parties, the orchestrator and the crypto provider receive no share and no unmasked value',
  async (n) => {
    const ws = Array.from({ length: n }, (_, i) => new sy.VirtualWorker({ id: `tr${n}-${i}` }));
    const provider = new sy.VirtualWorker({ id: `tr${n}-dealer` });
    const x = sy.tensor([[1, 2, 3], [4, 5, 6]]).fixPrecision().share(...ws, { cryptoProvider: provider });
    const w = sy.tensor([[0.5], [-1], [2]]).fixPrecision().share(...ws, { cryptoProvider: provider });
    for (const p of ws) await p.sync();

    const me = record(sy.local);
    const dealerLog = record(provider);
    const partyLogs = ws.map(record);
    const z = x.matmul(w);
    for (const p of ws) await p.sync();

    // The orchestrator got nothing at all while the protocol ran.
    expect(me).toEqual([]);
    // The provider got commands from the orchestrator only, carrying shapes and ids, no tensor data.
    expect(dealerLog.length).toBeGreaterThan(0);
    for (const { from, msg } of dealerLog) {
      expect(from).toBe('me');
      expect(msg.kind).toBe('cmd');
      expect(holdsRingData(msg)).toBe(false);
    }
    // The parties got commands from the orchestrator (no data), seeds and corrections from the
    // provider, and masked values from each other.
    for (const log of partyLogs) {
      for (const { from, msg } of log) {
        // Commands and barrier requests carry no data; values come only as peer messages.
        if (from === 'me' || msg.kind === 'req') expect(holdsRingData(msg)).toBe(false);
        else expect(msg.kind).toBe('peer');
      }
    }
    // Only now, on request, is the result revealed to the orchestrator.
    const got = (await z.get()).floatPrecision().arraySync() as number[][];
    // within the fixed-precision error (truncation among 3+ parties may be one unit off)
    got.flat().forEach((v, i) => expect(Math.abs(v - [4.5, 9][i]!)).toBeLessThanOrEqual(2e-3));
  },
);
