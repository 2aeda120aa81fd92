// End to end: real `syft-ts worker` processes on 127.0.0.1 (started through the CLI), a model
// trained on them as the seed's trusted-aggregator lesson does, encrypted training with the
// workers as the parties and the crypto provider, then a clean shutdown.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { privateBatches } from '../../src/federated/private-loader.js';
import { DEFAULT_WORKER_NODE_ARGS, WebsocketClientWorker, type WorkerProcess, startWorkerProcess } from '../../src/workers/websocket/index.js';
import { sy } from './helpers/net.js';

const TOKEN = 'e2e-shared-token-5b0c8a61';
const dir = mkdtempSync('/tmp/syft-e2e-');
const tokenFile = `${dir}/token`;
writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });

const procs: WorkerProcess[] = [];
const clients: WebsocketClientWorker[] = [];

beforeAll(async () => {
  procs.push(
    ...(await Promise.all(['bob', 'alice', 'secure_worker'].map((id) => startWorkerProcess({ id, tokenFile, timeoutMs: 20_000 })))),
  );
  for (const p of procs) clients.push(await WebsocketClientWorker.connect(p.url, { id: p.id, token: TOKEN }));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(procs.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('worker processes', () => {
  test('federated training across three processes: local steps, a worker-to-worker move, an average', async () => {
    const [bob, alice, secure] = clients as [WebsocketClientWorker, WebsocketClientWorker, WebsocketClientWorker];
    sy.manualSeed(1);
    const data = sy.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const target = sy.tensor([[0], [0], [1], [1]]);
    const owners = [
      { w: bob, x: data.slice(0, 2).send(bob), y: target.slice(0, 2).send(bob) },
      { w: alice, x: data.slice(2).send(alice), y: target.slice(2).send(alice) },
    ];
    const model = new sy.nn.Linear(2, 1);
    const lossOf = (m: sy.nn.Linear) => {
      let total = 0;
      const w = m.weight.arraySync() as number[][];
      const b = (m.bias!.arraySync() as number[])[0]!;
      (data.arraySync() as number[][]).forEach((row, i) => {
        const pred = row[0]! * w[0]![0]! + row[1]! * w[0]![1]! + b;
        total += (pred - (target.arraySync() as number[][])[i]![0]!) ** 2;
      });
      return total;
    };
    const initialLoss = lossOf(model);
    for (let round = 0; round < 5; round++) {
      const trained = owners.map(({ w, x, y }) => {
        const m = model.copy().send(w);
        const opt = new sy.optim.SGD(m.parameters(), { lr: 0.1 });
        for (let i = 0; i < 5; i++) {
          sy.tidy(() => {
            opt.zeroGrad();
            const loss = m.forward(x).sub(y).pow(2).sum();
            loss.backward();
            opt.step();
          });
        }
        return m;
      });
      // The trained models go straight from bob and alice to the secure worker.
      for (const m of trained) m.move(secure);
      model.weight.data = await trained[0]!.weight.data.add(trained[1]!.weight.data).div(2).get();
      model.bias!.data = await trained[0]!.bias!.data.add(trained[1]!.bias!.data).div(2).get();
      secure.clearObjects();
    }
    expect(lossOf(model)).toBeLessThan(initialLoss / 2);
    expect(bob.rejected + alice.rejected + secure.rejected).toBe(0);
    await secure.sync();
    expect(await secure.objectIds()).toEqual([]);
    // Only the data is left on bob and alice.
    expect((await bob.objectIds()).length).toBe(2);
    expect((await alice.objectIds()).length).toBe(2);
  });

  test('encrypted training across three processes: private batches, a shared MLP, the plaintext twin\'s losses', async () => {
    const [bob, alice, cryptoProvider] = clients as [WebsocketClientWorker, WebsocketClientWorker, WebsocketClientWorker];
    const parties = [bob, alice];
    const { train } = await sy.datasets.loadMnist({ train: 32, test: 0, seed: 8 });
    const targets = sy.datasets.oneHot(train.labels);
    const rows = (i: number) => ({
      x: sy.tensor(train.images.subarray(i * 16 * 784, (i + 1) * 16 * 784), { shape: [16, 784] }),
      y: sy.tensor(targets.subarray(i * 160, (i + 1) * 160), { shape: [16, 10] }),
    });
    const owners = parties.map((p, i) => ({ data: rows(i).x.send(p), target: rows(i).y.send(p) }));
    const batches = privateBatches(owners, { parties, cryptoProvider, batchSize: 16 });
    sy.manualSeed(6);
    const model = new sy.nn.Sequential(new sy.nn.Linear(784, 32), new sy.nn.ReLU(), new sy.nn.Linear(32, 10));
    const twin = model.copy();
    model.fixPrecision().share(...parties, { cryptoProvider, requiresGrad: true });
    const optimizer = new sy.optim.SGD(model.parameters(), { lr: 0.1 }).fixPrecision();
    const plainOpt = new sy.optim.SGD(twin.parameters(), { lr: 0.1 });
    const before = await Promise.all(clients.map((c) => c.workerStats()));
    for (let epoch = 0; epoch < 2; epoch++) {
      for (const [i, { data, target, size }] of batches.entries()) {
        const loss = sy.tidy(() => {
          optimizer.zeroGrad();
          const l = model.forward(data).sub(target).pow(2).sum().refresh().div(size);
          l.backward();
          optimizer.step();
          return l;
        });
        plainOpt.zeroGrad();
        const want = twin.forward(rows(i).x).sub(rows(i).y).pow(2).sum().div(16);
        want.backward();
        plainOpt.step();
        // Fixed precision (3 digits) and truncation errors of a unit: close, not equal.
        expect(Math.abs((await loss.get()).floatPrecision().item() - want.item())).toBeLessThan(0.03);
      }
    }
    // The parties exchanged their masked values directly; the dealer sent material to both.
    const after = await Promise.all(clients.map((c) => c.workerStats()));
    const sent = (k: number) => after[k]!.traffic.links.bytesSent - before[k]!.traffic.links.bytesSent;
    expect(sent(0)).toBeGreaterThan(100_000);
    expect(sent(1)).toBeGreaterThan(100_000);
    expect(sent(2)).toBeGreaterThan(10_000);
    expect(bob.rejected + alice.rejected + cryptoProvider.rejected).toBe(0);
    for (const c of clients) await c.sync();
    expect(await cryptoProvider.objectIds()).toEqual([]);
  });

  test('worker processes start with the default Node flags, and nodeArgs replaces them', async () => {
    // The defaults are what the party processes above run with (fewer full collections per step).
    expect(procs[0]!.child.spawnargs.slice(1, 1 + DEFAULT_WORKER_NODE_ARGS.length)).toEqual([...DEFAULT_WORKER_NODE_ARGS]);
    const extra = await startWorkerProcess({ id: 'dave', tokenFile, nodeArgs: ['--stack-trace-limit=3'] });
    try {
      expect(extra.child.spawnargs).toContain('--stack-trace-limit=3');
      for (const f of DEFAULT_WORKER_NODE_ARGS) expect(extra.child.spawnargs).not.toContain(f);
      const dave = await WebsocketClientWorker.connect(extra.url, { id: 'dave', token: TOKEN });
      expect(await sy.tensor([1, 2]).send(dave).add(1).get().then((t) => t.arraySync())).toEqual([2, 3]);
      await dave.close();
    } finally {
      await extra.stop();
    }
  });

  test('SIGTERM shuts a worker down cleanly, and its clients learn it', async () => {
    const extra = await startWorkerProcess({ id: 'carol', tokenFile });
    const carol = await WebsocketClientWorker.connect(extra.url, { id: 'carol', token: TOKEN, reconnectWithinMs: 300 });
    const closed = new Promise<Error>((r) => carol.on('close', r));
    expect(await extra.stop()).toBe(0);
    expect(String(await closed)).toMatch(/could not reconnect within 300 ms/);
  });
});

describe('the command line', () => {
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', tsx, 'src/cli.ts', ...args]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  test('usage errors are clear and exit with 2', async () => {
    const results = await Promise.all([
      run(['worker', '--port', '8778']),
      run(['worker', '--id', 'bob', '--port', 'eighty']),
      run(['worker', '--id', 'bob', '--port', '0', '--tls-cert', tokenFile]),
      run(['worker', '--id', 'bob', '--port', '0', '--token-file', `${dir}/missing`]),
      run(['worker', '--id', 'bob', '--port', '0', '--frobnicate']),
      run(['serve']),
    ]);
    expect(results.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(results.map((r) => r.stderr.split('\n')[0])).toEqual([
      'syft-ts: --id is required: the name clients and peers use for this worker',
      "syft-ts: --port must be a whole number in 0..65535, got 'eighty'",
      'syft-ts: --tls-cert and --tls-key go together: give both, or neither',
      `syft-ts: cannot read the token file '${dir}/missing': ENOENT: no such file or directory, open '${dir}/missing'`,
      "syft-ts: Unknown option '--frobnicate'",
      "syft-ts: unknown command 'serve': the command is 'worker'",
    ]);
    const help = await run(['worker', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: syft-ts worker --id ID --port PORT/);
  });

  test('a port in use is reported, not thrown', async () => {
    const first = procs[0]!;
    const port = new URL(first.url).port;
    const r = await run(['worker', '--id', 'dup', '--port', port, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`port ${port} on 127.0.0.1 is already in use: pick another --port`));
    expect(r.stdout).toBe('');
  });
});
