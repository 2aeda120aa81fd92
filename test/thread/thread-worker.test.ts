import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

describe('thread workers', () => {
  let alice: sy.ThreadWorker;
  let bob: sy.ThreadWorker;
  let dealer: sy.ThreadWorker;
  beforeAll(async () => {
    [alice, bob, dealer] = await Promise.all(['t-alice', 't-bob', 't-dealer'].map((id) => sy.ThreadWorker.start({ id })));
  });
  afterAll(async () => {
    await Promise.all([alice, bob, dealer].map((w) => w.close()));
  });

  test('send, ops, get and failures surface as with virtual workers', async () => {
    const p = sy.tensor([[1, 2], [3, 4]]).send(alice);
    expect((await p.matmul(p).sum(1).get()).arraySync()).toEqual([17, 37]);
    expect(await alice.objectIds()).toContain(p.idAtLocation);
    await expect(p.oneHot(2).get()).rejects.toThrow(/worker 't-alice' failed to run 'oneHot'/);
  });

  test('move goes thread to thread; a main-thread worker can take part', async () => {
    const v = new sy.VirtualWorker({ id: 't-main' });
    const p = sy.tensor([5, 6]).send(alice).move(bob);
    expect((await p.get()).arraySync()).toEqual([5, 6]);
    const q = sy.tensor([7]).send(v).move(alice).move(v);
    expect((await q.get()).arraySync()).toEqual([7]);
  });

  test('secure computation among thread workers: products, comparisons, truncation', async () => {
    const x = sy.tensor([[1.5, -2], [0.25, 3]]);
    const X = x.fixPrecision().share(alice, bob, { cryptoProvider: dealer });
    const got = (await X.matmul(X).relu().get()).floatPrecision().arraySync() as number[][];
    const want = x.matmul(x).relu().arraySync() as number[][];
    got.flat().forEach((v, i) => expect(v).toBeCloseTo(want.flat()[i]!, 2));
    expect((await X.argmax(1).get()).floatPrecision().arraySync()).toEqual([0, 1]);
  });

  test('a closed thread worker refuses work with a clear error', async () => {
    const w = await sy.ThreadWorker.start({ id: 't-closing' });
    await w.close();
    expect(() => sy.tensor([1]).send(w)).toThrow(/closed/);
  });
});

test('a program whose dealer is a thread runs to its end (the thread keeps the process alive while others wait on it)', () => {
  // Parties in the main thread wait on the dealer thread, not on requests of the program: the
  // thread must stay referenced while it has work, or Node exits with the protocol unfinished.
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'dealer-thread.ts')], {
    cwd: join(import.meta.dirname, '..', '..'),
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(out.trim().split('\n').at(-1)).toBe('done');
});

test('a thread worker is a Sender: a refusal of a post made in its name is kept on it, not thrown', async () => {
  // The relay posts a thread's protocol values to main-thread workers with the ThreadWorker as
  // sender; an in-process worker that refuses one records the refusal on the sender.
  const t = await sy.ThreadWorker.start({ id: 't-sender' });
  const v = new sy.VirtualWorker({ id: 't-sender-target' });
  try {
    expect(t.rejected).toBe(0);
    v.post({ kind: 'cmd', op: 'add', args: [], ret: [] } as never, t);
    expect(t.rejected).toBe(1);
    expect(t.lastRejection?.message).toMatch(/'add' fills 1 result id\(s\), the message gives 0/);
  } finally {
    await t.close();
  }
});
