// Tutorial 09's federated training with bob and alice as real `syft-ts worker` processes over
// WebSockets gives the same model as with virtual workers in this process: the same loss on
// every batch and the same trained weights (within 1e-6), from the same seed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { WebsocketClientWorker, type WorkerProcess, startWorkerProcess } from '../../src/workers/websocket/index.js';
import { main } from '../../tutorials/09-federated-then-encrypted-mnist.js';

const TOKEN = 'tutorial09-token-4e1d77a0c2';
const dir = mkdtempSync('/tmp/syft-t09-');
const tokenFile = `${dir}/token`;
writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
const procs: WorkerProcess[] = [];
const clients: WebsocketClientWorker[] = [];

beforeAll(async () => {
  procs.push(...(await Promise.all(['bob', 'alice'].map((id) => startWorkerProcess({ id, tokenFile, timeoutMs: 60_000 })))));
  for (const p of procs) clients.push(await WebsocketClientWorker.connect(p.url, { id: p.id, token: TOKEN, timeoutMs: 60_000 }));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(procs.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
});

test('federated training over two worker processes gives the model virtual workers give', async () => {
  const opts = { train: 320, test: 100, batch: 64, epochs: 1, encryptedTest: 0, seed: 3, log: () => {} };
  const [bob, alice] = clients as [WebsocketClientWorker, WebsocketClientWorker];
  const overSockets = await main({ ...opts, workers: [bob, alice] });
  const inProcess = await main(opts);
  // 160 digits on each: three batches each (64, 64, 32), bob's first.
  expect(overSockets.batchLoss).toHaveLength(6);
  overSockets.batchLoss.forEach((l, i) => expect(Math.abs(l - inProcess.batchLoss[i]!)).toBeLessThanOrEqual(1e-6));
  const [a, b] = [overSockets.weights!, inProcess.weights!];
  expect(a.length).toBe(b.length);
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
  expect(maxDiff).toBeLessThanOrEqual(1e-6);
  // The model trained (it is not the initial one): and both were tested alike.
  expect(overSockets.batchLoss[5]!).toBeLessThan(overSockets.batchLoss[0]!);
  expect(overSockets.federatedTestAccuracy).toBe(inProcess.federatedTestAccuracy);
  // At most the training data is left on the workers (its pointers may have been collected once
  // main() returned): every batch and every copy of the model was freed.
  await Promise.all(clients.map((c) => c.sync()));
  expect((await bob.objectIds()).length).toBeLessThanOrEqual(2);
  expect((await alice.objectIds()).length).toBeLessThanOrEqual(2);
  expect(bob.rejected + alice.rejected).toBe(0);
}, 300_000);
