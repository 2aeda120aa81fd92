// FedAvg over virtual workers, in the clear and with Paillier-encrypted updates: the same start and
// data give the same models; clients stay in sync; the server never holds a key or a plaintext
// update; failures surface as errors instead of silent divergence.
import { describe, expect, it } from 'vitest';
import * as sy from '../../src/index.js';
import { FedAvgClient, FedAvgServer, PaillierGradientManager, SharedKeyPair } from '../../src/federated/index.js';
import { Receipt } from '../../src/federated/fedavg.js';
import { FloatTensor } from '../../src/tensors/float.js';
import type { ClientBatch, UpdateProtection } from '../../src/federated/index.js';
import { PaillierPrivateKey, PaillierPublicKey } from '../../src/he/paillier/keys.js';
import { PaillierTensor } from '../../src/tensors/paillier.js';
import { TestRandom } from '../he/helpers.js';

const CLIENTS = 3;

/** A worker that remembers every object it ever stored and every message it received. */
class AuditedWorker extends sy.VirtualWorker {
  readonly stored: object[] = [];
  readonly received: unknown[] = [];

  protected override put(id: number, value: object, owner?: string): void {
    this.stored.push(value);
    super.put(id, value, owner);
  }

  override receive(raw: unknown, from: string, reply?: Parameters<sy.VirtualWorker['receive']>[2]): void {
    this.received.push(raw);
    super.receive(raw, from, reply);
  }
}

/** Types of the serialized objects inside a message. */
function nodeTypes(v: unknown, out = new Set<string>()): Set<string> {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return out;
  const t = (v as { type?: unknown }).type;
  if (typeof t === 'string') out.add(t);
  for (const x of Object.values(v)) nodeTypes(x, out);
  return out;
}

/** Three clients' data: 2 batches of 8 rows, 4 features, 3 classes (one-hot). */
function clientData(): ClientBatch[][] {
  const rnd = new TestRandom(99);
  return Array.from({ length: CLIENTS }, () =>
    Array.from({ length: 2 }, () => {
      const x = Array.from({ length: 8 }, () => Array.from({ length: 4 }, () => rnd.normal(1)));
      const y = x.map((row) => {
        const c = row[0]! + row[1]! > 0.5 ? 0 : row[2]! > 0 ? 1 : 2;
        return [0, 1, 2].map((k) => (k === c ? 1 : 0));
      });
      return { data: sy.tensor(x), target: sy.tensor(y) };
    }),
  );
}

function startModel(): sy.nn.Module {
  sy.manualSeed(5);
  return new sy.nn.Sequential(new sy.nn.Linear(4, 5), new sy.nn.ReLU(), new sy.nn.Linear(5, 3));
}

/** The parameters of a (remote) model, read without changing it. */
async function weights(m: sy.nn.Module): Promise<number[]> {
  const out: number[] = [];
  for (const p of m.parameters()) out.push(...([(await p.copy().get()).arraySync()].flat(3) as number[]));
  return out;
}

function workers(prefix: string, serialize = true): { clients: sy.VirtualWorker[]; server: AuditedWorker } {
  return {
    clients: Array.from({ length: CLIENTS }, (_, i) => new sy.VirtualWorker({ id: `${prefix}-c${i}`, serialize })),
    server: new AuditedWorker({ id: `${prefix}-server`, serialize }),
  };
}

describe('FedAvg', () => {
  it('encrypted FedAvg matches plaintext FedAvg from the same start, and keeps every client in sync', async () => {
    const model = startModel();
    const data = clientData();
    const initial = await weights(model);

    const plain = workers('fa-plain');
    const plainClients = plain.clients.map((worker, i) => new FedAvgClient({ worker, model, batches: data[i]!, lr: 0.5, localSteps: 3 }));
    const plainServer = new FedAvgServer({ worker: plain.server, clients: plainClients });

    const enc = workers('fa-enc');
    const keys = await SharedKeyPair.generate(enc.clients, { bits: 256 });
    const manager = new PaillierGradientManager(keys);
    const encClients = enc.clients.map((worker, i) => manager.attach(new FedAvgClient({ worker, model, batches: data[i]!, lr: 0.5, localSteps: 3 })));
    const encServer = new FedAvgServer({ worker: enc.server, clients: encClients });

    for (let round = 1; round <= 2; round++) {
      const a = await plainServer.round();
      const b = await encServer.round();
      expect(a.round).toBe(round);
      expect(b.round).toBe(round);
      // Training is the same computation on the same model: the same losses (round 2 starts
      // from models that differ by the encoding's rounding only).
      if (round === 1) expect(b.clientLosses).toEqual(a.clientLosses);
      b.clientLosses.forEach((l, i) => expect(l).toBeCloseTo(a.clientLosses[i]!, 4));
      expect(b.ms.total).toBeGreaterThan(0);
    }

    const plainModels = await Promise.all(plainClients.map((c) => weights(c.model)));
    const encModels = await Promise.all(encClients.map((c) => weights(c.model)));
    for (const m of plainModels) expect(m).toEqual(plainModels[0]);
    for (const m of encModels) expect(m).toEqual(encModels[0]);
    // The models moved, and the encrypted run moved them the same way (20 fractional bits).
    expect(Math.max(...plainModels[0]!.map((w, i) => Math.abs(w - initial[i]!)))).toBeGreaterThan(0.01);
    encModels[0]!.forEach((w, i) => expect(Math.abs(w - plainModels[0]![i]!)).toBeLessThan(1e-5));

    // The server of the encrypted run only ever held ciphertexts and received no key or plaintext.
    expect(enc.server.stored.length).toBeGreaterThan(0);
    for (const o of enc.server.stored) expect(o instanceof PaillierTensor || o instanceof Receipt).toBe(true);
    for (const raw of enc.server.received) {
      const types = nodeTypes(raw);
      for (const forbidden of ['paillier-private-key', 'float', 'ring', 'autograd']) expect(types.has(forbidden)).toBe(false);
    }
    expect(enc.server.received.length).toBeGreaterThan(0);
    // The same audit sees the plaintext updates on the plaintext server: it can tell.
    expect(plain.server.stored.some((o) => o instanceof FloatTensor && o.values.length > 0)).toBe(true);
    expect(plain.server.received.some((raw) => nodeTypes(raw).has('float'))).toBe(true);
    // The key pair is on the clients' workers only: not here, not on the server.
    for (const w of enc.clients) expect(w.objectIds().some((id) => w.peek(id) instanceof PaillierPrivateKey)).toBe(true);
    expect(sy.local.objectIds().some((id) => sy.local.peek(id) instanceof PaillierPrivateKey)).toBe(false);
    expect(keys.publicKey).toBeInstanceOf(PaillierPublicKey);
    expect(enc.server.objectCount).toBe(0);
  });

  it('a round sets every model to start − Σ weighted updates, with the weights n_c / N', async () => {
    const model = startModel();
    const data = clientData();
    data[2] = data[2]!.slice(0, 1); // client 2 holds half as much data
    const ws = workers('fa-sum', false);
    const recorded: sy.Tensor[][] = [];
    const spy: UpdateProtection = {
      name: 'spy',
      protect: (update) => {
        recorded.push(update.map((u) => sy.keep(u.copy())));
        return [...update];
      },
      reveal: (aggregate) => [...aggregate],
    };
    const clients = ws.clients.map((worker, i) => new FedAvgClient({ worker, model, batches: data[i]!, lr: 0.3, localSteps: 2, protection: spy }));
    expect(clients.map((c) => c.size)).toEqual([16, 16, 8]);
    const start = await weights(clients[0]!.model);
    await new FedAvgServer({ worker: ws.server, clients }).round();
    const updates = await Promise.all(recorded.map(async (u) => (await Promise.all(u.map(async (t) => [(await t.get()).arraySync()].flat(3) as number[]))).flat()));
    const after = await weights(clients[1]!.model);
    after.forEach((w, i) => {
      const sum = updates.reduce((s, u) => s + u[i]!, 0);
      expect(w).toBeCloseTo(start[i]! - sum, 5);
    });
    // Each client's update is its own model delta times its share: client 2 weighs half.
    expect(updates).toHaveLength(3);
  });

  it('one client failing to reveal the sum fails the round, and no client moves', async () => {
    const model = startModel();
    const data = clientData();
    const ws = workers('fa-fail', false);
    const clients: FedAvgClient[] = [];
    const flaky: UpdateProtection = {
      name: 'flaky',
      protect: (update) => [...update],
      // Client 1 computes something its worker refuses (one-hot of non-integers).
      reveal: (aggregate, client) => (client === clients[1] ? aggregate.map((a) => a.oneHot(3).sum(-1)) : [...aggregate]),
    };
    ws.clients.forEach((worker, i) => clients.push(new FedAvgClient({ worker, model, batches: data[i]!, lr: 0.5, localSteps: 2, protection: flaky })));
    const initial = await weights(clients[0]!.model);
    await expect(new FedAvgServer({ worker: ws.server, clients }).round()).rejects.toThrow(/oneHot/);
    for (const c of clients) expect(await weights(c.model)).toEqual(initial);
  });

  it('failures surface as errors: out-of-range updates, overflow at the server, keyless clients', async () => {
    const model = startModel();
    const data = clientData();
    const ws = workers('fa-err');
    const keys = await SharedKeyPair.generate(ws.clients, { bits: 256 });

    // Updates beyond the encoding's range (±2 here) are refused on the client, before upload.
    const narrow = new PaillierGradientManager(keys, { encoding: { fractionalBits: 20, valueBits: 22 } });
    const wild = ws.clients.map((worker, i) => narrow.attach(new FedAvgClient({ worker, model, batches: data[i]!, lr: 1000, localSteps: 1 })));
    await expect(new FedAvgServer({ worker: ws.server, clients: wild }).round()).rejects.toThrow(/EncodingRangeError/);

    // Packed for 2 additions, the server's third one would spill: refused where it happens.
    const tight = new PaillierGradientManager(keys, { pack: { additions: 2 } });
    const clients = ws.clients.map((worker, i) => tight.attach(new FedAvgClient({ worker, model, batches: data[i]!, lr: 0.1, localSteps: 1 })));
    await expect(new FedAvgServer({ worker: ws.server, clients }).round()).rejects.toThrow(
      new RegExp(`worker 'fa-err-server' failed to run 'add': PaillierOverflowError`),
    );

    // After a failed round, every client is back on the round's starting model: still in sync.
    const before = await weights(clients[0]!.model);
    for (const c of clients) expect(await weights(c.model)).toEqual(before);

    // A client whose worker does not hold the key cannot be attached.
    const stranger = new sy.VirtualWorker({ id: 'fa-err-stranger' });
    expect(() => tight.attach(new FedAvgClient({ worker: stranger, model, batches: data[0]! }))).toThrow(/does not hold the private key/);
    expect(() => new FedAvgServer({ worker: ws.clients[0]!, clients })).toThrow(sy.ValueError);
  });
});
