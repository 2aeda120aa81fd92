// Pointer chains under per-identity ownership (store.ts): a worker that receives a pointer may use
// what it names only by a grant, and the grant lands before the pointer can be used, even when the
// sender's own queue on the pointed-at worker is busy. Identities that may not use an object
// cannot get a pointer to it used on their behalf.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { encodeObject } from '../../src/workers/codec.js';
import type { ReplyMessage } from '../../src/workers/messages.js';

const flat = (t: sy.Tensor) => (t.arraySync() as number[]).flat(3);
let n = 0;
const HELD = 'a1'.repeat(16);
const FORGED = 'b2'.repeat(16);
const worker = (name: string) => new sy.VirtualWorker({ id: `${name}-g${++n}` });

describe('pointer chains and grants', () => {
  test("alice uses bob's object through the chain only because bob granted her; others still see nothing", async () => {
    const bob = worker('bob');
    const alice = worker('alice');
    const xPtr = sy.tensor([1, -2, 3]).send(bob);
    const id = xPtr.idAtLocation;
    const chain = xPtr.send(alice);
    const y = chain.relu();
    expect(flat(await (await y.get()).get())).toEqual([1, 0, 3]);
    // The object on bob is still ours (the sender's); alice may use it, mallory may not.
    const ask = (from: string) =>
      new Promise<ReplyMessage>((resolve) => bob.receive({ kind: 'req', req: 1, op: 'get', args: [id, true] }, from, resolve));
    expect((await ask(alice.id)).ok).toBe(true);
    const m = await ask('mallory');
    expect(!m.ok && m.error.message).toMatch(/holds no object/);
  });

  test('the grant lands before use although our queue on bob is busy with a command still waiting', async () => {
    const bob = worker('bob');
    const alice = worker('alice');
    const carol = worker('carol');
    const xPtr = sy.tensor([4, 5]).send(bob);
    // Our queue on bob waits for a moved object from carol that has not come yet.
    bob.receive({ kind: 'cmd', op: 'recvFrom', args: [carol.id, HELD], ret: [777] }, sy.local.id);
    const chain = xPtr.send(alice);
    const doubled = chain.mul(2);
    // Alice's pointer cannot be used before bob has granted her: nothing has run on alice yet.
    await new Promise((r) => setTimeout(r, 20));
    expect(alice.objectCount).toBe(0);
    // Carol's value arrives; our queue on bob moves on, the grant lands, alice stores and computes.
    bob.receive({ kind: 'peer', session: HELD, tag: 'move', payload: encodeObject(sy.tensor([0]).child) }, carol.id);
    expect(flat(await (await doubled.get()).get())).toEqual([8, 10]);
  });

  test("a pointer to an object its sender may not use is refused where it lands, with bob's reason", async () => {
    const bob = worker('bob');
    const alice = worker('alice');
    const secret = sy.tensor([42]).send(bob);
    // Mallory names our object on bob in a pointer she sends alice; bob grants nothing for her.
    const forged = encodeObject(secret.child);
    alice.introduce(bob, alice);
    bob.introduce(alice, bob);
    bob.receive({ kind: 'cmd', op: 'grantFor', args: [secret.idAtLocation, alice.id, alice.id, FORGED], ret: [] }, 'mallory');
    alice.receive({ kind: 'cmd', op: 'storeGranted', args: [{ obj: forged }, bob.id, FORGED], ret: [901] }, 'mallory');
    await alice.sync();
    const r = await new Promise<ReplyMessage>((resolve) => alice.receive({ kind: 'req', req: 2, op: 'get', args: [901, false] }, 'mallory', resolve));
    expect(!r.ok && r.error.name).toBe('PermissionError');
    expect(!r.ok && r.error.message).toMatch(/does not let/);
    expect(alice.objectCount).toBe(0);
    expect(flat(await secret.get())).toEqual([42]);
  });

  test('move() of a chain hands the grant on: carol may use the object before her pointer arrives', async () => {
    const bob = worker('bob');
    const alice = worker('alice');
    const carol = worker('carol');
    const chain = sy.tensor([1, 2]).send(bob).send(alice);
    chain.move(carol);
    const y = chain.add(chain);
    expect(flat(await (await y.get()).get())).toEqual([2, 4]);
    expect(flat(await (await chain.get()).get())).toEqual([1, 2]);
    expect([bob.objectCount, alice.objectCount, carol.objectCount]).toEqual([0, 0, 0]);
  });
});
