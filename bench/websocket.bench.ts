// WebSocket transport figures: request round trips and tensor throughput between this process and
// a `syft-ts worker` child process on loopback, beside the same work on an in-process worker that
// encodes every message (the wire format without the network). `npm run bench -- websocket`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sy from '../src/index.js';
import { encodeObject } from '../src/workers/codec.js';
import { encodeMessage } from '../src/workers/serde.js';
import type { RemoteWorker } from '../src/workers/worker.js';
import { WebsocketClientWorker, startWorkerProcess } from '../src/workers/websocket/index.js';
import type { Harness } from './harness.js';

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
