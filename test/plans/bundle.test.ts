// Bundled protocol channels (src/plans/bundle.ts): what a plan run sends one peer in one turn
// goes as one numbered bundle; the receiver reads bundles in order and hands each value to the
// step waiting for it. Malformed or duplicated bundles fail the waiting steps, never hang them.
import { describe, expect, test } from 'vitest';
import { BundledChannel } from '../../src/plans/bundle.js';
import { Mailbox } from '../../src/workers/mailbox.js';
import type { WireValue } from '../../src/workers/messages.js';
import { ProtocolError } from '../../src/errors.js';

const S = 'ab'.repeat(16);

/** Two workers' raw channels over mailboxes, with a log of the frames sent. */
function pair() {
  const boxes = { a: new Mailbox(), b: new Mailbox() };
  const frames: { from: string; to: string; session: string; tag: string; payload: WireValue }[] = [];
  const raw = (me: 'a' | 'b') => ({
    send: (to: string, session: string, tag: string, payload: WireValue) => {
      frames.push({ from: me, to, session, tag, payload });
      boxes[to as 'a' | 'b'].deliver(me, session, tag, payload);
    },
    recv: (from: string, session: string, tag: string) => boxes[me].wait(from, session, tag, 1000),
  });
  return { raw, frames, boxes };
}

describe('bundled protocol channels', () => {
  test('values sent in one turn travel in one frame and reach their steps, in any order asked', async () => {
    const { raw, frames } = pair();
    const a = new BundledChannel(raw('a'), S);
    const b = new BundledChannel(raw('b'), S);
    a.send('b', 's1', 'eps', 1);
    a.send('b', 's1', 'delta', 2);
    a.send('b', 's2', 'eps', 3);
    const got = await Promise.all([b.recv('a', 's2', 'eps'), b.recv('a', 's1', 'delta'), b.recv('a', 's1', 'eps')]);
    expect(got).toEqual([3, 2, 1]);
    expect(frames.length).toBe(1);
    // A later turn: the next bundle, read in order.
    a.send('b', 's3', 'x', 4);
    await Promise.resolve();
    a.send('b', 's4', 'x', 5);
    expect(await b.recv('a', 's4', 'x')).toBe(5);
    expect(await b.recv('a', 's3', 'x')).toBe(4);
    expect(frames.map((f) => f.tag)).toEqual(['plan.bundle.0', 'plan.bundle.1', 'plan.bundle.2']);
  });

  test('a malformed or repeated bundle fails the waiting steps with a ProtocolError', async () => {
    const { raw, boxes } = pair();
    const b = new BundledChannel(raw('b'), S);
    const waiting = b.recv('a', 's1', 'eps');
    boxes.b.deliver('a', S, 'plan.bundle.0', [{ s: 's1', t: 'x' }] as unknown as WireValue);
    await expect(waiting).rejects.toThrow(ProtocolError);

    const c = new BundledChannel(raw('b'), 'cd'.repeat(16));
    const w2 = c.recv('a', 's1', 'never');
    boxes.b.deliver('a', 'cd'.repeat(16), 'plan.bundle.0', [{ s: 's1', t: 'x', v: 1 }, { s: 's1', t: 'x', v: 2 }]);
    await expect(w2).rejects.toThrow(/twice/);
  });
});
