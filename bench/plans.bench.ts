// Plans against op by op, interleaved in one process: tutorial 06's encrypted MLP (784-128-64-10,
// 2 parties + crypto provider) training and inference per batch of 64, once sent op by op and
// once as a plan traced from the same code, on twin models and the same shared batches. Also the
// messages each worker gets from the orchestrator per step, both ways.
import * as sy from '../src/index.js';
import { privateBatches } from '../src/federated/private-loader.js';
import type { Message } from '../src/workers/messages.js';
import { net } from '../tutorials/06-encrypted-training-mnist.js';
import { type Harness, summarize } from './harness.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebsocketClientWorker, startWorkerProcess } from '../src/workers/websocket/index.js';

const quick = process.env.BENCH_QUICK === '1';
const BATCH = 64;

type Kind = 'virtual' | 'threads' | 'processes';

type Synced = sy.RemoteWorker & { sync(): Promise<void> };

async function workers(kind: Kind, tag: string): Promise<{ parties: sy.RemoteWorker[]; cryptoProvider: sy.RemoteWorker; all: Synced[]; close: () => Promise<void> }> {
  const ids = [`${tag}-alice`, `${tag}-bob`, `${tag}-dealer`];
  if (kind === 'processes') {
    const token = 'bench-plans-token-4f1e2a';
    const dir = mkdtempSync(join(tmpdir(), 'syft-plans-bench-'));
    writeFileSync(join(dir, 'token'), token);
    const procs = await Promise.all(ids.map((id) => startWorkerProcess({ id: id.replace(/-/g, '_'), tokenFile: join(dir, 'token') })));
    const all = await Promise.all(procs.map((p) => WebsocketClientWorker.connect(p.url, { id: p.id, token })));
    const close = async () => {
      await Promise.all(all.map((c) => c.close()));
      await Promise.all(procs.map((p) => p.stop()));
      rmSync(dir, { recursive: true, force: true });
    };
    return { parties: all.slice(0, 2), cryptoProvider: all[2]!, all, close };
  }
  const all = kind === 'virtual' ? ids.map((id) => new sy.VirtualWorker({ id })) : await Promise.all(ids.map((id) => sy.ThreadWorker.start({ id })));
  const close = async () => {
    if (kind === 'threads') await Promise.all((all as sy.ThreadWorker[]).map((w) => w.close()));
  };
  return { parties: all.slice(0, 2), cryptoProvider: all[2]!, all, close };
}

/** Two twin models on one set of workers and shared MNIST batches. */
async function setup(parties: sy.RemoteWorker[], cryptoProvider: sy.RemoteWorker, nBatches: number) {
  const { train: digits } = await sy.datasets.loadMnist({ train: BATCH * nBatches, test: 0 });
  const targets = sy.datasets.oneHot(digits.labels);
  const half = (digits.count / 2) | 0;
  const owners = parties.map((p, i) => {
    const [s, e] = i === 0 ? [0, half] : [half, digits.count];
    return {
      data: sy.tensor(digits.images.subarray(s * 784, e * 784), { shape: [e - s, 784] }).send(p),
      target: sy.tensor(targets.subarray(s * 10, e * 10), { shape: [e - s, 10] }).send(p),
    };
  });
  const batches = privateBatches(owners, { parties, cryptoProvider, batchSize: BATCH });
  sy.manualSeed(1);
  const model = net();
  model.fixPrecision().share(...parties, { cryptoProvider, requiresGrad: true });
  const twin = model.copy();
  const opt = new sy.optim.SGD(model.parameters(), { lr: 0.02 }).fixPrecision();
  const twinOpt = new sy.optim.SGD(twin.parameters(), { lr: 0.02 }).fixPrecision();
  return { batches, model, twin, opt, twinOpt };
}

const stepOf = (model: sy.nn.Module, opt: sy.optim.Optimizer) => (data: sy.Tensor, target: sy.Tensor) => {
  opt.zeroGrad();
  const l = model.forward(data).sub(target).pow(2).sum().refresh().div(BATCH);
  l.backward();
  opt.step();
  return l;
};

/** Messages (commands, stores, frees) each of `ws` gets from this process while `fn` runs. */
async function countMessages(ws: readonly sy.VirtualWorker[], fn: () => Promise<void>): Promise<number[]> {
  const counts = ws.map(() => 0);
  ws.forEach((w, i) => {
    const original = w.receive.bind(w);
    w.receive = (raw, from, reply) => {
      const kind = (raw as Message).kind;
      if (from === 'me' && (kind === 'cmd' || kind === 'store' || kind === 'del')) counts[i]!++;
      original(raw, from, reply);
    };
  });
  try {
    await fn();
    await Promise.all(ws.map((w) => w.sync()));
  } finally {
    for (const w of ws) delete (w as { receive?: unknown }).receive;
  }
  return counts;
}

/** Times `a` and `b` alternately, `reps` times each after `warmup` rounds. */
async function interleaved(reps: number, warmup: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number[], number[]]> {
  const sa: number[] = [];
  const sb: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    for (const [f, s] of [[a, sa], [b, sb]] as const) {
      const t0 = performance.now();
      await f();
      if (i >= warmup) s.push(performance.now() - t0);
    }
  }
  return [sa, sb];
}

function record(h: Harness, name: string, samples: number[], target?: number): number {
  const s = summarize(samples);
  h.record({ name, unit: 'ms', reps: samples.length, ...s, ...(target === undefined ? {} : { extra: { target, pass: s.median <= target } }) });
  return s.median;
}

async function compare(h: Harness, kind: Kind): Promise<void> {
  const { parties, cryptoProvider, all, close } = await workers(kind, `plans-${kind}`);
  const sync = () => Promise.all(all.map((w) => w.sync()));
  const { batches, model, twin, opt, twinOpt } = await setup(parties, cryptoProvider, quick ? 2 : 6); // even: every batch holds 64 rows
  const trainPlan = sy.func2plan(stepOf(twin, twinOpt), { name: 'trainStep' });
  trainPlan.build(batches[0]!.data, batches[0]!.target);
  const inferPlan = sy.func2plan((x: sy.Tensor) => sy.noGrad(() => twin.forward(x).argmax(1)), { name: 'infer' });
  inferPlan.build(batches[0]!.data);
  trainPlan.send();
  inferPlan.send();
  await sync();

  let i = 0;
  let j = 0;
  const opTrain = async () => {
    const b = batches[i++ % batches.length]!;
    await sy.tidy(() => stepOf(model, opt)(b.data, b.target)).get();
  };
  const planTrain = async () => {
    const b = batches[j++ % batches.length]!;
    await (trainPlan(b.data, b.target) as sy.Tensor).get();
  };
  const opInfer = async () => {
    const b = batches[i++ % batches.length]!;
    await sy.tidy(() => sy.noGrad(() => model.forward(b.data).argmax(1))).get();
  };
  const planInfer = async () => {
    const b = batches[j++ % batches.length]!;
    await (inferPlan(b.data) as sy.Tensor).get();
  };
  const what = { virtual: 'virtual workers, one thread', threads: 'thread workers', processes: 'WebSocket worker processes' }[kind];
  const reps = quick ? 3 : kind === 'virtual' ? 30 : 15;
  const targets = { virtual: [35, 15], threads: [undefined, undefined], processes: [45, 25] }[kind];
  const [ot, pt] = await interleaved(reps, 2, opTrain, planTrain);
  const opT = record(h, `encrypted training, batch of 64, op by op (${what})`, ot, targets[0]);
  const plT = record(h, `encrypted training, batch of 64, as a plan (${what})`, pt, targets[0]);
  h.record(`training: op by op / plan (${kind})`, opT / plT, 'x');
  const [oi, pi] = await interleaved(reps, 2, opInfer, planInfer);
  const opI = record(h, `encrypted inference, batch of 64, op by op (${what})`, oi, targets[1]);
  const plI = record(h, `encrypted inference, batch of 64, as a plan (${what})`, pi, targets[1]);
  h.record(`inference: op by op / plan (${kind})`, opI / plI, 'x');

  if (kind === 'processes') {
    // What this process sent each worker (frames), per step, both ways.
    const clients = all as WebsocketClientWorker[];
    const sent = async (f: () => Promise<unknown>) => {
      const before = clients.map((c) => ({ ...c.traffic }));
      await f();
      await sync();
      return clients.map((c, k) => ({ msgs: c.traffic.messagesSent - before[k]!.messagesSent - 1, bytes: c.traffic.bytesSent - before[k]!.bytesSent }));
    };
    for (const [name, f] of [['training step, op by op', opTrain], ['training step, as a plan', planTrain]] as const) {
      const c = await sent(f);
      h.record(`frames this process sends each party per ${name}`, c[0]!.msgs, 'msgs', { alice: c[0], bob: c[1], dealer: c[2], note: 'less the sync barrier' });
    }
  }
  if (kind === 'virtual') {
    const ws = all as sy.VirtualWorker[];
    const names = ['alice', 'bob', 'dealer'];
    const per = (c: number[]) => Object.fromEntries(c.map((n, k) => [names[k]!, n]));
    const opCounts = await countMessages(ws, opTrain);
    const planCounts = await countMessages(ws, planTrain);
    h.record('messages per training step to each party, op by op', opCounts[0]!, 'msgs', per(opCounts));
    h.record('messages per training step to each party, as a plan', planCounts[0]!, 'msgs', per(planCounts));
    const opInf = await countMessages(ws, opInfer);
    const planInf = await countMessages(ws, planInfer);
    h.record('messages per inference to each party, op by op', opInf[0]!, 'msgs', per(opInf));
    h.record('messages per inference to each party, as a plan', planInf[0]!, 'msgs', per(planInf));
  }
  await close();
}

export async function run(h: Harness): Promise<void> {
  await sy.ready();
  await compare(h, 'virtual');
  if (!quick) await compare(h, 'threads');
  await compare(h, 'processes');
}
