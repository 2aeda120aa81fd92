// WebSocket transport figures: request round trips and tensor throughput between this process and
// a `syft-ts worker` child process on loopback, beside the same work on an in-process worker that
// encodes every message (the wire format without the network); then the encrypted MNIST training
// batch of bench/mpc.bench.ts with the two parties and the crypto provider in three worker
// processes, beside the same batch on virtual workers measured in the same run, with the bytes
// sent per batch and where each process spent its time. `npm run bench -- websocket`
// (BENCH_QUICK=1 for a short run).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sy from '../src/index.js';
import { encodeObject } from '../src/workers/codec.js';
import { encodeMessage } from '../src/workers/serde.js';
import type { RemoteWorker } from '../src/workers/worker.js';
import { WebsocketClientWorker, type WorkerProcess, type WorkerStats, startWorkerProcess } from '../src/workers/websocket/index.js';
import { mnistWorkload } from './mnist-workload.js';
import { type Harness, summarize } from './harness.js';

const quick = process.env.BENCH_QUICK === '1';

const BATCH = [64, 784] as const;
const BATCH_BYTES = BATCH[0] * BATCH[1] * 4;

export async function run(h: Harness): Promise<void> {
  await sy.ready();
  const token = 'bench-token-0d9c4e7a';
  const dir = mkdtempSync(join(tmpdir(), 'syft-bench-'));
  writeFileSync(join(dir, 'token'), token);
  const proc = await startWorkerProcess({ id: 'bench_bob', tokenFile: join(dir, 'token') });
  const remote = await WebsocketClientWorker.connect(proc.url, { id: 'bench_bob', token });
  const virtual = new sy.VirtualWorker({ id: 'bench_virtual', serialize: true });
  try {
    await suite(h, 'ws child process', remote, () => remote.sync());
    await suite(h, 'in-process, serialized', virtual, () => virtual.sync());
    const frame = encodeMessage({ kind: 'store', id: 1, obj: encodeObject(sy.randn([...BATCH]).child) });
    h.record('store message for 64x784 float32, on the wire', frame.length, 'B', { payload: BATCH_BYTES });
  } finally {
    await remote.close();
    await proc.stop();
  }
  try {
    await mnist(h, join(dir, 'token'), token);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function suite(h: Harness, where: string, bob: RemoteWorker & { ping?: () => Promise<void> }, sync: () => Promise<void>): Promise<void> {
  if (bob.ping) await h.time(`ping round trip [${where}]`, () => bob.ping!(), { reps: 500, warmup: 50 });

  const small = sy.tensor([1, 2, 3, 4]);
  await h.time(`send + get a 4-element tensor [${where}]`, () => small.send(bob).get(), { reps: 300, warmup: 30 });

  const kept = small.send(bob);
  await h.time(`copy + get (a small remote op and its result) [${where}]`, () => kept.copy().get(), { reps: 300, warmup: 30 });

  // Throughput: many sends in flight, then one round trip to be sure they all arrived.
  const x = sy.randn([...BATCH]);
  const n = 50;
  const sends = await h.time(
    `send 64x784 float32 x${n}, then sync [${where}]`,
    async () => {
      for (let i = 0; i < n; i++) x.send(bob).dispose();
      await sync();
    },
    { reps: 15, warmup: 2 },
  );
  h.record(`send 64x784 float32 throughput [${where}]`, (n * BATCH_BYTES) / 1e6 / (sends.median / 1000), 'MB/s', {
    perSendMs: Number((sends.median / n).toFixed(3)),
  });

  // The transport alone: the same store message, encoded once as a tensor would be.
  const node = encodeObject(x.child);
  const posts = await h.time(
    `post a 64x784 store message x${n}, then sync [${where}]`,
    async () => {
      const ids: number[] = [];
      for (let i = 1; i <= n; i++) {
        const id = 1_000_000 + i;
        ids.push(id);
        bob.post({ kind: 'store', id, obj: node }, sy.local);
      }
      bob.post({ kind: 'del', ids }, sy.local);
      await sync();
    },
    { reps: 15, warmup: 2 },
  );
  h.record(`post 64x784 throughput [${where}]`, (n * BATCH_BYTES) / 1e6 / (posts.median / 1000), 'MB/s');

  const big = x.send(bob);
  await h.time(`copy + get 64x784 float32 [${where}]`, () => big.copy().get(), { reps: 50, warmup: 5 });
  big.dispose();
  kept.dispose();
  await sync();
}

// ---- the encrypted MNIST training batch, parties in processes ---------------------------------

/** Tutorial 06's workload on the given workers, counting the steps it ran. */
async function mnistSetup(parties: sy.RemoteWorker[], cryptoProvider: sy.RemoteWorker, nBatches: number) {
  const w = await mnistWorkload(parties, cryptoProvider, nBatches);
  let steps = 0;
  const step = async () => {
    await w.train();
    steps++;
  };
  return { step, steps: () => steps };
}

const REPS = quick ? 3 : 30;
const WARMUP = 2;

async function mnist(h: Harness, tokenFile: string, token: string): Promise<void> {
  const nBatches = quick ? 3 : 10;

  // In process: virtual workers, as in bench/mpc.bench.ts.
  const vParties = [new sy.VirtualWorker({ id: 'wsb-alice' }), new sy.VirtualWorker({ id: 'wsb-bob' })];
  const vDealer = new sy.VirtualWorker({ id: 'wsb-dealer' });
  const inProcess = await mnistSetup(vParties, vDealer, nBatches);
  await Promise.all([...vParties, vDealer].map((w) => w.sync()));

  // The parties and the dealer in three processes, this process the orchestrator.
  const procs: WorkerProcess[] = [];
  const clients: WebsocketClientWorker[] = [];
  try {
    procs.push(...(await Promise.all(['alice', 'bob', 'dealer'].map((id) => startWorkerProcess({ id: `wsb-${id}`, tokenFile })))));
    for (const p of procs) clients.push(await WebsocketClientWorker.connect(p.url, { id: p.id, token, timeoutMs: 120_000 }));
    const [alice, bob, dealer] = clients as [WebsocketClientWorker, WebsocketClientWorker, WebsocketClientWorker];
    const remote = await mnistSetup([alice, bob], dealer, nBatches);
    await Promise.all(clients.map((c) => c.sync()));

    const snapshot = async () => ({
      mine: clients.map((c) => ({ ...c.traffic })),
      theirs: await Promise.all(clients.map((c) => c.workerStats())),
    });
    // The two set-ups take turns, batch by batch, so both see the same machine: other work on
    // it comes and goes, and a comparison of two separate runs would mostly measure that.
    for (let i = 0; i < WARMUP; i++) {
      await inProcess.step();
      await remote.step();
    }
    const before = await snapshot();
    const stepsBefore = remote.steps();
    const times: { virtual: number[]; ws: number[] } = { virtual: [], ws: [] };
    const ratios: number[] = [];
    // This process's own busy time, during the remote steps only.
    const mine = { activeMs: 0, cpuMs: 0 };
    for (let i = 0; i < REPS; i++) {
      let t0 = performance.now();
      await inProcess.step();
      times.virtual.push(performance.now() - t0);
      const elu0 = performance.eventLoopUtilization();
      const cpu0 = process.cpuUsage();
      t0 = performance.now();
      await remote.step();
      times.ws.push(performance.now() - t0);
      mine.activeMs += performance.eventLoopUtilization(elu0).active;
      const cpu = process.cpuUsage(cpu0);
      mine.cpuMs += (cpu.user + cpu.system) / 1000;
      ratios.push(times.ws.at(-1)! / times.virtual.at(-1)!);
    }
    const after = await snapshot();
    const n = remote.steps() - stepsBefore;
    const record = (name: string, samples: number[]) => h.record({ name, unit: 'ms', reps: samples.length, ...summarize(samples) });
    const virtual = record('encrypted training, batch of 64 [virtual workers, one process]', times.virtual);
    const ws = record('encrypted training, batch of 64 [3 worker processes, websockets]', times.ws);
    h.record('processes / in-process training batch', ws.median / virtual.median, 'x', {
      goal: '<= 2',
      medianOfPairRatios: Number(summarize(ratios).median.toFixed(2)),
    });

    // Bytes sent per batch over every connection, by kind.
    const sentBy = (t: WorkerStats['traffic']) => t.clients.bytesSent + t.peers.bytesSent + t.links.bytesSent;
    const workersSent = clients.map((_, k) => sentBy(after.theirs[k]!.traffic) - sentBy(before.theirs[k]!.traffic));
    const orchestratorSent = clients.reduce((a, _, k) => a + after.mine[k]!.bytesSent - before.mine[k]!.bytesSent, 0);
    const orchestratorReceived = clients.reduce((a, _, k) => a + after.mine[k]!.bytesReceived - before.mine[k]!.bytesReceived, 0);
    const total = orchestratorSent + workersSent.reduce((a, b) => a + b, 0);
    const peerBytes = (k: number) => after.theirs[k]!.traffic.links.bytesSent - before.theirs[k]!.traffic.links.bytesSent;
    const messages = (k: number) => after.theirs[k]!.traffic.links.messagesSent - before.theirs[k]!.traffic.links.messagesSent;
    h.record('bytes sent per training batch, all connections', total / n, 'B', {
      partyToParty: Math.round((peerBytes(0) + peerBytes(1)) / n),
      dealerToParties: Math.round(peerBytes(2) / n),
      orchestratorCommands: Math.round(orchestratorSent / n),
      repliesToOrchestrator: Math.round(orchestratorReceived / n),
      peerMessagesPerParty: Math.round(messages(0) / n),
    });

    // Where each process spent a batch: running code (of which encoding and decoding messages)
    // or waiting (the rest of the batch's wall time); and its CPU time (less than running time
    // when the cores are shared). The workers sit idle while the virtual workers take their turn,
    // so their running time is all in the remote steps.
    const perBatch = (v: number) => Number((v / n).toFixed(1));
    const wall = times.ws.reduce((a, b) => a + b, 0);
    clients.forEach((c, k) => {
      const [a, b] = [after.theirs[k]!, before.theirs[k]!];
      const serde = (t: WorkerStats['traffic']) =>
        t.clients.encodeMs + t.clients.decodeMs + t.peers.encodeMs + t.peers.decodeMs + t.links.encodeMs + t.links.decodeMs;
      const active = a.process.activeMs - b.process.activeMs;
      h.record(`${c.id}: running time per batch`, perBatch(active), 'ms', {
        serializationMs: perBatch(serde(a.traffic) - serde(b.traffic)),
        waitingMs: perBatch(Math.max(0, wall - active)),
        cpuMs: perBatch(a.process.cpuMs - b.process.cpuMs),
      });
    });
    const mySerde = clients.reduce(
      (a, _, k) => a + after.mine[k]!.encodeMs + after.mine[k]!.decodeMs - before.mine[k]!.encodeMs - before.mine[k]!.decodeMs,
      0,
    );
    h.record('orchestrator: running time per batch', perBatch(mine.activeMs), 'ms', {
      serializationMs: perBatch(mySerde),
      waitingMs: perBatch(wall - mine.activeMs),
      cpuMs: perBatch(mine.cpuMs),
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(procs.map((p) => p.stop()));
  }
}
