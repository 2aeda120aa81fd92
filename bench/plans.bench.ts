// Plans against op by op, interleaved in one process: tutorial 06's encrypted MLP (784-128-64-10,
// 2 parties + crypto provider) training and inference per batch of 64, once sent op by op and
// once as a plan traced from the same code, on twin models and the same shared batches. Also the
// messages each worker gets from the orchestrator per step, both ways; a third twin runs as a plan
// whose randomness the crypto provider dealt ahead (the offline phase, untimed: online time only),
// preprocessing throughput, and frames, bytes and idle time per step across processes.
import * as sy from '../src/index.js';
import type { Message } from '../src/workers/messages.js';
import { type Harness, summarize } from './harness.js';
import { BATCH_SIZE, mnistWorkload } from './mnist-workload.js';
import { net } from '../tutorials/06-encrypted-training-mnist.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebsocketClientWorker, startWorkerProcess } from '../src/workers/websocket/index.js';

const quick = process.env.BENCH_QUICK === '1';
const BATCH = BATCH_SIZE;

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

/** Two twin models on one set of workers and shared MNIST batches (the shared workload's, and a copy). */
async function setup(parties: sy.RemoteWorker[], cryptoProvider: sy.RemoteWorker, nBatches: number) {
  const { batches, model, optimizer: opt } = await mnistWorkload(parties, cryptoProvider, nBatches);
  const twin = model.copy();
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

/** A way of running a step, timed against the others; `prepare` runs untimed before each call. */
interface Mode {
  name: string;
  run: () => Promise<unknown>;
  prepare?: () => Promise<unknown>;
}

/** Times the modes in turn, `reps` rounds after `warmup` rounds: one sample list per mode. */
async function interleaved(reps: number, warmup: number, modes: readonly Mode[]): Promise<number[][]> {
  const samples = modes.map((): number[] => []);
  for (let i = 0; i < warmup + reps; i++) {
    for (const [k, m] of modes.entries()) {
      if (m.prepare) await m.prepare();
      const t0 = performance.now();
      await m.run();
      if (i >= warmup) samples[k]!.push(performance.now() - t0);
    }
  }
  return samples;
}

function record(h: Harness, name: string, samples: number[], target?: number): number {
  const s = summarize(samples);
  h.record({ name, unit: 'ms', reps: samples.length, ...s, ...(target === undefined ? {} : { extra: { target, pass: s.median <= target } }) });
  return s.median;
}

/** Ratio of the medians, with the range of per-round ratios (rounds are interleaved, so paired). */
function ratio(h: Harness, name: string, a: number[], b: number[]): void {
  const r = a.map((x, k) => x / b[k]!).sort((x, y) => x - y);
  h.record(name, summarize(a).median / summarize(b).median, 'x', { pairedMin: r[0], pairedMedian: r[r.length >> 1], pairedMax: r[r.length - 1] });
}

// CrypTen's figures on the same workload (issue 20: its dealer as a separate process, measured
// side by side on this machine), and the floors.
const CRYPTEN = { train: '275-308 ms', infer: '160-172 ms' };

async function compare(h: Harness, kind: Kind): Promise<void> {
  const { parties, cryptoProvider, all, close } = await workers(kind, `plans-${kind}`);
  const sync = () => Promise.all(all.map((w) => w.sync()));
  const { batches, model, twin, opt, twinOpt } = await setup(parties, cryptoProvider, quick ? 2 : 6); // even: every batch holds 64 rows
  // A third twin for plans with the offline phase (same initial weights).
  const twin2 = model.copy();
  const twin2Opt = new sy.optim.SGD(twin2.parameters(), { lr: 0.02 }).fixPrecision();
  const trainPlan = sy.func2plan(stepOf(twin, twinOpt), { name: 'trainStep' });
  trainPlan.build(batches[0]!.data, batches[0]!.target);
  const trainOff = sy.func2plan(stepOf(twin2, twin2Opt), { name: 'trainStepOffline' });
  trainOff.build(batches[0]!.data, batches[0]!.target);
  const inferPlan = sy.func2plan((x: sy.Tensor) => sy.noGrad(() => twin.forward(x).argmax(1)), { name: 'infer' });
  inferPlan.build(batches[0]!.data);
  const inferOff = sy.func2plan((x: sy.Tensor) => sy.noGrad(() => twin.forward(x).argmax(1)), { name: 'inferOffline' });
  inferOff.build(batches[0]!.data);
  for (const p of [trainPlan, trainOff, inferPlan, inferOff]) p.send();
  await sync();

  let i = 0;
  const next = () => batches[i++ % batches.length]!;
  const opTrain = async () => {
    const b = next();
    await sy.tidy(() => stepOf(model, opt)(b.data, b.target)).get();
  };
  const planTrain = (p: sy.Plan) => async () => {
    const b = next();
    await (p(b.data, b.target) as sy.Tensor).get();
  };
  const opInfer = async () => {
    const b = next();
    await sy.tidy(() => sy.noGrad(() => model.forward(b.data).argmax(1))).get();
  };
  const planInfer = (p: sy.Plan) => async () => {
    const b = next();
    await (p(b.data) as sy.Tensor).get();
  };
  // The offline phase, untimed: when the pool is empty, the provider deals the next few runs.
  const CHUNK = 4;
  const fill = (p: sy.Plan) => async () => {
    if (p.send().pooledRuns === 0) await sy.mpc.preprocess(p, { runs: CHUNK });
    await sync();
  };

  const what = { virtual: 'virtual workers, one thread', threads: 'thread workers', processes: 'WebSocket worker processes' }[kind];
  const reps = quick ? 3 : kind === 'virtual' ? 20 : 12;
  const targets = { virtual: [35, 15], threads: [undefined, undefined], processes: [45, 25] }[kind];
  // Every timed step starts on idle workers (sync), so no mode pays for the frees another left.
  const [ot, pt, ft] = await interleaved(reps, 2, [
    { name: 'op', run: opTrain, prepare: sync },
    { name: 'plan', run: planTrain(trainPlan), prepare: sync },
    { name: 'offline', run: planTrain(trainOff), prepare: fill(trainOff) },
  ]);
  record(h, `encrypted training, batch of 64, op by op (${what})`, ot!, targets[0]);
  record(h, `encrypted training, batch of 64, as a plan (${what})`, pt!, targets[0]);
  record(h, `encrypted training, batch of 64, as a plan, randomness dealt ahead: online time (${what})`, ft!, targets[0]);
  ratio(h, `training: op by op / plan (${kind})`, ot!, pt!);
  ratio(h, `training: op by op / plan+offline (${kind})`, ot!, ft!);
  ratio(h, `training: plan / plan+offline (${kind})`, pt!, ft!);
  const [oi, pi, fi] = await interleaved(reps, 2, [
    { name: 'op', run: opInfer, prepare: sync },
    { name: 'plan', run: planInfer(inferPlan), prepare: sync },
    { name: 'offline', run: planInfer(inferOff), prepare: fill(inferOff) },
  ]);
  record(h, `encrypted inference, batch of 64, op by op (${what})`, oi!, targets[1]);
  record(h, `encrypted inference, batch of 64, as a plan (${what})`, pi!, targets[1]);
  record(h, `encrypted inference, batch of 64, as a plan, randomness dealt ahead: online time (${what})`, fi!, targets[1]);
  ratio(h, `inference: op by op / plan (${kind})`, oi!, pi!);
  ratio(h, `inference: op by op / plan+offline (${kind})`, oi!, fi!);
  ratio(h, `inference: plan / plan+offline (${kind})`, pi!, fi!);

  // Preprocessing throughput: runs the provider deals per second, the pool filled in one go.
  for (const [label, p] of [['training', trainOff], ['inference', inferOff]] as const) {
    const R = quick ? 2 : 8;
    const t0 = performance.now();
    const report = await sy.mpc.preprocess(p, { runs: R });
    const ms = performance.now() - t0;
    h.record(`preprocessing: ${label} runs dealt per second (${what})`, (R * 1000) / ms, 'runs/s', { runs: R, ms, dealsPerRun: report.dealsPerRun });
    // Use them up, so no material is left waiting.
    for (let r = 0; r < R; r++) await (label === 'training' ? planTrain(p) : planInfer(p))();
  }

  if (kind === 'processes') {
    // Frames and bytes per step: what this process sends each worker, and what each worker
    // receives from its peers (the other party's openings, the provider's seeds and corrections).
    const clients = all as WebsocketClientWorker[];
    const names = ['alice', 'bob', 'dealer'];
    const stats = () => Promise.all(clients.map((c) => c.workerStats()));
    const perStep = async (label: string, f: () => Promise<unknown>, prepare?: () => Promise<unknown>) => {
      if (prepare) await prepare();
      await sync();
      const before = await stats();
      const sent0 = clients.map((c) => ({ ...c.traffic }));
      const t0 = performance.now();
      await f();
      const wall = performance.now() - t0;
      await sync();
      const after = await stats();
      const per = Object.fromEntries(
        clients.map((c, k) => {
          const a = after[k]!;
          const b = before[k]!;
          const busy = a.process.activeMs - b.process.activeMs;
          const idle = a.process.idleMs - b.process.idleMs;
          return [names[k]!, {
            framesFromOrchestrator: c.traffic.messagesSent - sent0[k]!.messagesSent - 1, // less the sync barrier
            framesFromPeers: a.traffic.peers.messagesReceived - b.traffic.peers.messagesReceived,
            bytesFromPeers: a.traffic.peers.bytesReceived - b.traffic.peers.bytesReceived,
            framesToPeers: a.traffic.links.messagesSent - b.traffic.links.messagesSent,
            busyMs: Math.round(busy),
            idleShare: Math.round((100 * idle) / Math.max(1, busy + idle)) / 100,
          }];
        }),
      );
      const alice = per.alice as { framesFromPeers: number; framesToPeers: number; bytesFromPeers: number };
      h.record(`frames alice receives from peers per ${label}`, alice.framesFromPeers, 'frames', { wallMs: Math.round(wall), ...per });
    };
    await perStep('training step, op by op', opTrain);
    await perStep('training step, as a plan', planTrain(trainPlan));
    await perStep('training step, as a plan, randomness dealt ahead', planTrain(trainOff), fill(trainOff));
    await perStep('inference, as a plan', planInfer(inferPlan));
    await perStep('inference, as a plan, randomness dealt ahead', planInfer(inferOff), fill(inferOff));
    // Leave no dealt run unused.
    for (const p of [trainOff, inferOff]) while (p.send().pooledRuns > 0) await (p === trainOff ? planTrain(p) : planInfer(p))();
  }
  if (kind === 'virtual') {
    const ws = all as sy.VirtualWorker[];
    const names = ['alice', 'bob', 'dealer'];
    const per = (c: number[]) => Object.fromEntries(c.map((n, k) => [names[k]!, n]));
    const opCounts = await countMessages(ws, opTrain);
    const planCounts = await countMessages(ws, planTrain(trainPlan));
    await fill(trainOff)();
    const offCounts = await countMessages(ws, planTrain(trainOff));
    h.record('messages per training step to each party, op by op', opCounts[0]!, 'msgs', per(opCounts));
    h.record('messages per training step to each party, as a plan', planCounts[0]!, 'msgs', per(planCounts));
    h.record('messages per training step to each party, as a plan, randomness dealt ahead', offCounts[0]!, 'msgs', per(offCounts));
    while (trainOff.send().pooledRuns > 0) await planTrain(trainOff)();
    // The plaintext twin: the same MLP step in floats, here.
    const plain = net();
    const plainOpt = new sy.optim.SGD(plain.parameters(), { lr: 0.02 });
    const { train: digits } = await sy.datasets.loadMnist({ train: BATCH, test: 0 });
    const x = sy.tensor(digits.images.subarray(0, BATCH * 784), { shape: [BATCH, 784] });
    const y = sy.tensor(sy.datasets.oneHot(digits.labels), { shape: [BATCH, 10] });
    await h.time('plaintext twin: the same training step in floats, batch of 64', () =>
      sy.tidy(() => {
        plainOpt.zeroGrad();
        const l = plain.forward(x).sub(y).pow(2).sum().div(BATCH);
        l.backward();
        plainOpt.step();
        return l;
      }).item(), { reps: 30 });
    await h.time('plaintext twin: inference, batch of 64', () => sy.tidy(() => sy.noGrad(() => plain.forward(x).argmax(1))).arraySync(), { reps: 30 });
  }
  h.record(`CrypTen on this workload (issue 20), for comparison`, 0, 'note', { training: CRYPTEN.train, inference: CRYPTEN.infer });
  await close();
}

export async function run(h: Harness): Promise<void> {
  await sy.ready();
  // BENCH_PLANS_KINDS=virtual,processes runs only those kinds of workers.
  const only = process.env.BENCH_PLANS_KINDS?.split(',');
  const kinds: Kind[] = quick ? ['virtual', 'processes'] : ['virtual', 'threads', 'processes'];
  for (const k of kinds) if (!only || only.includes(k)) await compare(h, k);
}
