// A party that dies in the middle of a protocol. Bob runs in his own process (so he can be
// killed); alice, the crypto provider and a spare party are in-process servers, so the test can
// look at their state. Bob is frozen (SIGSTOP) before the step starts and killed once alice has
// sent him her masked values: alice is then certainly mid-protocol, waiting for his.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { WebsocketClientWorker, type WorkerProcess, startWorkerProcess } from '../../src/workers/websocket/index.js';
import { TestNet, sy, until } from './helpers/net.js';

const TOKEN = 'token-for-the-smpc-fault-tests';
const TIMEOUT_MS = 1000;
const dir = mkdtempSync('/tmp/syft-smpc-faults-');
writeFileSync(`${dir}/token`, `${TOKEN}\n`, { mode: 0o600 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const net = new TestNet({ name: 'token', tls: false, token: TOKEN });
const children: WorkerProcess[] = [];
afterEach(async () => {
  await net.close();
  await Promise.all(children.splice(0).map((c) => c.stop()));
});

async function setup() {
  const bobProc = await startWorkerProcess({ id: 'bob', tokenFile: `${dir}/token`, timeoutMs: TIMEOUT_MS });
  children.push(bobProc);
  const opts = { timeoutMs: TIMEOUT_MS, sessionGraceMs: 300 };
  const alice = await net.server('alice', opts);
  const dealer = await net.server('crypto_provider', opts);
  const carol = await net.server('carol', opts);
  // Bob's client keeps trying to reconnect for longer than the protocol timeout, so the error the
  // caller sees is the protocol's own: alice's step that waited for bob.
  const bob = await WebsocketClientWorker.connect(bobProc.url, { id: 'bob', token: TOKEN, reconnectWithinMs: 5000 });
  net.clients.push(bob);
  const [aliceC, dealerC, carolC] = await Promise.all([alice, dealer, carol].map((s) => net.client(s)));
  return { bobProc, bob, alice, dealer, carol, aliceC: aliceC!, dealerC: dealerC!, carolC: carolC! };
}

/** Freezes bob, starts `step`, kills bob once alice has sent him her part; returns get()'s error and how long it took. */
async function killBobMidStep(
  bobProc: WorkerProcess,
  alice: { traffic(): { links: { messagesSent: number } } },
  step: () => sy.Tensor,
): Promise<{ err: unknown; ms: number }> {
  bobProc.child.kill('SIGSTOP');
  const sentBefore = alice.traffic().links.messagesSent;
  const result = step();
  const pending = result.get().catch((e: unknown) => e);
  await until(() => alice.traffic().links.messagesSent > sentBefore, 5000, 'alice to send bob her masked values');
  bobProc.child.kill('SIGKILL');
  const t0 = performance.now();
  const err = await pending;
  return { err, ms: performance.now() - t0 };
}

describe('a party killed mid-protocol', () => {
  for (const [name, op, step] of [
    ['a private matmul', 'mpc.beaver', (x: sy.Tensor, w: sy.Tensor) => x.matmul(w)],
    ['a comparison (relu)', 'mpc.relu', (x: sy.Tensor) => x.relu()],
  ] as const) {
    test(`during ${name}: get() rejects within the timeout; the other workers keep serving and free what was left`, async () => {
      const { bobProc, bob, alice, dealer, carol, aliceC, dealerC, carolC } = await setup();
      const share = (t: sy.Tensor, parties: WebsocketClientWorker[]) => t.fixPrecision().share(...parties, { cryptoProvider: dealerC });
      const X = share(sy.randn([16, 32]), [aliceC, bob]);
      const W = share(sy.randn([32, 8]), [aliceC, bob]);
      // A first product links the workers and proves the set-up works.
      expect((await X.slice(0, 1).mul(X.slice(1, 2)).get()).shape).toEqual([1, 32]);
      expect(alice.sessions().filter((s) => s.from === 'bob')).toEqual([{ role: 'peer', from: 'bob', connected: true, objects: 0 }]);

      const { err, ms } = await killBobMidStep(bobProc, alice, () => step(X, W));
      expect(err).toBeInstanceOf(sy.RemoteError);
      expect((err as sy.RemoteError).workerId).toBe('alice');
      expect((err as sy.RemoteError).op).toBe(op);
      expect(String(err)).toMatch(
        new RegExp(`no '\\w+' from 'bob' within ${TIMEOUT_MS} ms: is that worker still running and connected\\?`),
      );
      expect(ms).toBeLessThan(TIMEOUT_MS + 1500);
      expect(await bobProc.exited).toBe(null);

      // Alice and the dealer keep serving: the same computation with carol in bob's place.
      const x = sy.tensor([[1, -2], [3, 4]]);
      const Y = share(x, [aliceC, carolC]);
      const z = (await step(Y, Y).get()).floatPrecision();
      expect(z.shape).toEqual([2, 2]);
      // Bob's link session on alice ends after its grace period; nothing waits for bob any more.
      await until(() => !alice.sessions().some((s) => s.from === 'bob'), 3000, "bob's peer session on alice to end");
      // The orchestrator gives up on bob: closing its sessions frees everything it had made, and
      // the protocol values no step will read (the dealer's material for the steps after the
      // failed one).
      await Promise.all([aliceC.close(), dealerC.close(), carolC.close()]);
      await until(() => alice.objectCount + dealer.objectCount + carol.objectCount === 0, 2000, 'the objects to be freed');
      expect(alice.mailbox.size + dealer.mailbox.size + carol.mailbox.size).toBe(0);
      await bob.close();
    });
  }
});
