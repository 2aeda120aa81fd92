// The dealer's failure path: a dealer that cannot compute a step's corrections tells the last
// party why, at once, instead of leaving it to wait out its receive timeout. The other parties'
// draws and the dealer itself stay usable.
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { ProtocolError } from '../../src/errors.js';
import { receiveCorrelated, registerCorrelations } from '../../src/mpc/dealer.js';
import { introduceAll, newSession, partiesArg, postCommand, sessionArg } from '../../src/mpc/protocol.js';
import type { RingTensor } from '../../src/ring/index.js';
import { argString, registerCommand } from '../../src/workers/commands.js';

// A correlation whose derived value the dealer cannot compute when asked for 'fail'.
registerCorrelations({ 'test.flaky': {
  components: () => [[4]],
  derive: ([a], params) => {
    if (params[0] === 'fail') throw new RangeError('no product for this step');
    return [a!.add(a!)];
  },
  check: (params) => {
    if (params[0] !== 'fail' && params[0] !== 'ok') throw new Error('test.flaky takes fail or ok');
  },
} });

// What each party saw, by worker id: its derived share, or the error it got.
const seen = new Map<string, { component?: RingTensor; derived?: RingTensor; error?: unknown; ms: number }>();

registerCommand('test.receive', {
  results: 0,
  needsSelf: false,
  async run(ctx, _self, args) {
    const session = sessionArg(args[0]);
    const { parties, me } = partiesArg(ctx, args[1]);
    const dealer = argString(args[2], 'dealer');
    const mode = argString(args[3], 'mode');
    const started = performance.now();
    try {
      const shares = await receiveCorrelated(ctx, dealer, session, 'test.flaky', [mode], me, parties.length, [[4]]);
      const [derived] = await shares.derived();
      seen.set(ctx.worker.id, { component: shares.components[0], derived, ms: performance.now() - started });
    } catch (error) {
      seen.set(ctx.worker.id, { error, ms: performance.now() - started });
    }
  },
});

async function deal(mode: 'fail' | 'ok', parties: sy.VirtualWorker[], dealer: sy.VirtualWorker, me: sy.VirtualWorker) {
  seen.clear();
  const session = newSession();
  const ids = parties.map((p) => p.id);
  introduceAll(parties, me, dealer);
  postCommand(dealer, 'mpc.deal', ['test.flaky', session, ids, mode], me);
  for (const p of parties) postCommand(p, 'test.receive', [session, ids, dealer.id, mode], me);
  await Promise.all([...parties, dealer].map((w) => w.sync()));
  // The last party's wait ends with the dealer's message, which follows the commands.
  for (let i = 0; i < 50 && seen.size < parties.length; i++) await new Promise((r) => setTimeout(r, 10));
}

test('a dealer that fails tells the last party why, at once, and keeps dealing', async () => {
  const parties = ['dl-alice', 'dl-bob', 'dl-carol'].map((id) => new sy.VirtualWorker({ id }));
  const dealer = new sy.VirtualWorker({ id: 'dl-dealer' });
  const me = new sy.VirtualWorker({ id: 'dl-me' });

  await deal('fail', parties, dealer, me);
  const last = seen.get('dl-carol');
  expect(last?.error).toBeInstanceOf(ProtocolError);
  expect(String((last!.error as Error).message)).toMatch(/dealer 'dl-dealer' could not deal this step: RangeError: no product for this step/);
  // Not a receive timeout (those take many seconds).
  expect(last!.ms).toBeLessThan(2000);
  // The parties that draw everything from their seeds are unaffected.
  expect(seen.get('dl-alice')?.derived?.shape).toEqual([4]);
  expect(seen.get('dl-bob')?.derived?.shape).toEqual([4]);

  // The same dealer deals the next step correctly: the derived shares add up to a + a.
  await deal('ok', parties, dealer, me);
  const got = ['dl-alice', 'dl-bob', 'dl-carol'].map((id) => seen.get(id));
  expect(got.every((g) => g?.component !== undefined && g.derived !== undefined)).toBe(true);
  const sum = (ts: RingTensor[]) => ts.reduce((s, t) => s.add(t));
  const a = sum(got.map((g) => g!.component!));
  expect([...sum(got.map((g) => g!.derived!)).data]).toEqual([...a.add(a).data]);
});
