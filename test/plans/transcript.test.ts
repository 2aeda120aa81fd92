// With plans, the orchestrator and the crypto provider still never hold a share or an unmasked
// value: sending a plan sends commands (no tensor data), a run sends references and a salt, the
// provider's part holds only its deals, and values travel party to party.
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import type { Message } from '../../src/workers/messages.js';

function record(w: sy.VirtualWorker): { from: string; msg: Message }[] {
  const log: { from: string; msg: Message }[] = [];
  const original = w.receive.bind(w);
  w.receive = (raw, from, reply) => {
    log.push({ from, msg: raw as Message });
    original(raw, from, reply);
  };
  return log;
}

// Ring words anywhere in a message: shares, masked or unmasked values.
function holdsRingData(v: unknown): boolean {
  if (v instanceof BigInt64Array) return true;
  if (v === null || typeof v !== 'object') return false;
  return Object.values(v as object).some(holdsRingData);
}

test.each([2, 3])('a training step as a plan among %i parties: no share or unmasked value reaches the orchestrator or the provider', async (n) => {
  const ws = Array.from({ length: n }, (_, i) => new sy.VirtualWorker({ id: `ptr${n}-${i}` }));
  const provider = new sy.VirtualWorker({ id: `ptr${n}-dealer` });
  sy.manualSeed(21);
  const model = new sy.nn.Sequential(new sy.nn.Linear(6, 4), new sy.nn.ReLU(), new sy.nn.Linear(4, 3));
  model.fixPrecision().share(...ws, { cryptoProvider: provider, requiresGrad: true });
  const opt = new sy.optim.SGD(model.parameters(), { lr: 0.1 }).fixPrecision();
  const share = (t: sy.Tensor) => t.fixPrecision().share(...ws, { cryptoProvider: provider });
  const x = share(sy.randn([5, 6]));
  const y = share(sy.rand([5, 3]));
  const all = [...ws, provider];
  for (const w of all) await w.sync();

  const me = record(sy.local);
  const dealerLog = record(provider);
  const partyLogs = ws.map(record);
  const plan = sy.func2plan((a: sy.Tensor, b: sy.Tensor) => {
    opt.zeroGrad();
    const l = model.forward(a).sub(b).pow(2).sum().refresh().div(5);
    l.backward();
    opt.step();
    return l;
  });
  plan.build(x, y);
  const losses = [plan(x, y), plan(x, y)] as sy.Tensor[];
  for (const w of all) await w.sync();

  expect(me).toEqual([]);
  // The provider: its part of the plan and two runs, from the orchestrator, without tensor data.
  const commands = dealerLog.filter((e) => e.msg.kind !== 'req'); // the test's own sync() barriers
  expect(commands.map((e) => e.msg.kind)).toEqual(['store', 'cmd', 'cmd']);
  for (const { from, msg } of commands) {
    expect(from).toBe('me');
    expect(holdsRingData(msg)).toBe(false);
  }
  const dealerPart = (dealerLog[0]!.msg as Extract<Message, { kind: 'store' }>).obj as unknown as { program: { actions: { op: string }[] } };
  expect(new Set(dealerPart.program.actions.map((a) => a.op))).toEqual(new Set(['mpc.deal']));
  // The parties: from the orchestrator, their plan and the runs (no data); values only from peers.
  for (const log of partyLogs) {
    const fromMe = log.filter((e) => e.from === 'me');
    expect(fromMe.filter((e) => e.msg.kind !== 'req').map((e) => e.msg.kind)).toEqual(['store', 'cmd', 'cmd']);
    for (const { from, msg } of log) {
      if (from === 'me' || msg.kind === 'req') expect(holdsRingData(msg)).toBe(false);
      else expect(msg.kind).toBe('peer');
    }
  }
  // Only now, on request, is the loss revealed to the orchestrator.
  const [l1, l2] = await Promise.all(losses.map(async (l) => (await l.get()).floatPrecision().item()));
  expect(l2!).toBeLessThan(l1!);
});
