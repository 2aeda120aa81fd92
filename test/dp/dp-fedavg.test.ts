// Client-level DP federated averaging, and noise added inside secure aggregation. The transcript
// test records every message to and from the aggregating parties (encoded frames, replies
// included) and every object they hold, and checks that neither any client's update nor the
// un-noised aggregate ever appears — while the same search finds the aggregate when it is sent in
// the clear (so the search would see it). The revealed value is the noisy sum, whose noise has the
// stated std.
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { RingTensor } from '../../src/ring/ring-tensor.js';

const { nn } = sy;

beforeAll(async () => {
  await sy.ready();
});

const made: sy.VirtualWorker[] = [];
afterEach(() => {
  for (const w of made.splice(0)) w.clearObjects?.();
});

function worker(id: string): sy.VirtualWorker {
  const w = new sy.VirtualWorker({ id: `${id}-${Math.random().toString(36).slice(2, 8)}` });
  made.push(w);
  return w;
}

/** Records every frame to and from `w` (its posts, its requests and their replies). */
function record(w: sy.VirtualWorker, frames: Uint8Array[]): void {
  const post = w.post.bind(w);
  const request = w.request.bind(w);
  w.post = (msg, from) => {
    frames.push(sy.encodeMessage(msg));
    post(msg, from);
  };
  w.request = async (msg, from) => {
    frames.push(sy.encodeMessage(msg));
    const value = await request(msg, from);
    frames.push(sy.encodeMessage({ kind: 'reply', req: 0, ok: true, value }));
    return value;
  };
}

/** The little-endian bytes of the first 12 entries of an int64 vector: a pattern to look for. */
function pattern(v: BigInt64Array): Buffer {
  return Buffer.from(new Uint8Array(v.slice(0, 12).buffer));
}

function seen(frames: readonly Uint8Array[], parties: readonly sy.VirtualWorker[], v: BigInt64Array): boolean {
  const p = pattern(v);
  if (frames.some((f) => Buffer.from(f).indexOf(p) >= 0)) return true;
  for (const w of parties) {
    for (const id of w.objectIds()) {
      const o = w.peek(id);
      if (o instanceof RingTensor && Buffer.from(new Uint8Array(o.data.buffer, o.data.byteOffset, o.data.byteLength)).indexOf(p) >= 0) return true;
    }
  }
  return false;
}

const SCALE = sy.dp.DISTRIBUTED_NOISE_SCALE;
const encode = (v: Float64Array) => BigInt64Array.from(v, (x) => BigInt(Math.round(x * SCALE)));

describe('distributed discrete Gaussian inside secure aggregation', () => {
  test('the revealed sum carries noise of total std sigma (5.4-sd bounds: failure probability < 1e-6)', async () => {
    const parties = [worker('alice'), worker('bob')];
    const n = 20_000;
    const m = 4;
    const std = 0.8;
    const values = Array.from({ length: m }, (_, i) => Float64Array.from({ length: n }, (_, j) => Math.sin(i + j) * 0.01));
    const parts = values.map((v) => sy.dp.noisyShare(v, { std, contributors: m, parties }));
    const noisy = await sy.dp.revealSum(parts);
    let s1 = 0;
    let s2 = 0;
    for (let j = 0; j < n; j++) {
      const exact = values.reduce((s, v) => s + Math.round(v[j]! * SCALE), 0) / SCALE;
      const z = noisy[j]! - exact;
      s1 += z;
      s2 += z * z;
    }
    expect(Math.abs(s1 / n)).toBeLessThan((5.4 * std) / Math.sqrt(n));
    expect(Math.abs(s2 / n / std ** 2 - 1)).toBeLessThan(5.4 * Math.sqrt(2 / n));
  });

  test('transcript: no party and not the orchestrator ever holds a client update or the un-noised aggregate', async () => {
    const parties = [worker('alice'), worker('bob'), worker('carol')];
    const frames: Uint8Array[] = [];
    for (const p of parties) record(p, frames);
    const n = 64;
    const updates = Array.from({ length: 3 }, (_, i) => Float64Array.from({ length: n }, (_, j) => ((i + 1) * (j + 1)) / 1000));
    const plainSum = new BigInt64Array(n);
    for (const u of updates) encode(u).forEach((x, j) => (plainSum[j]! += x));
    const parts = updates.map((u) => sy.dp.noisyShare(u, { std: 0.5, contributors: 3, parties }));
    const noisy = await sy.dp.revealSum(parts);
    expect(frames.length).toBeGreaterThan(0);
    for (const u of updates) expect(seen(frames, parties, encode(u))).toBe(false);
    expect(seen(frames, parties, plainSum)).toBe(false);
    // What the orchestrator reconstructed is the noisy sum, not the plain one.
    const revealed = BigInt64Array.from(noisy, (x) => BigInt(Math.round(x * SCALE)));
    expect(revealed.some((x, j) => x !== plainSum[j])).toBe(true);
    // The search does find the aggregate when it travels in the clear.
    new sy.Tensor(new RingTensor([n], plainSum.slice())).send(parties[0]!);
    expect(seen(frames, parties, plainSum)).toBe(true);
  });

  test('with no noise the same protocol reveals the exact sum (the noise is the only difference)', async () => {
    const parties = [worker('alice'), worker('bob')];
    const updates = [Float64Array.of(0.25, -1.5, 3), Float64Array.of(1, 2, -0.125)];
    const parts = updates.map((u) => sy.dp.noisyShare(u, { std: 0, contributors: 2, parties }));
    expect([...(await sy.dp.revealSum(parts))]).toEqual([1.25, 0.5, 2.875]);
  });
});

function clients(k: number): sy.dp.DPFedAvgClient[] {
  sy.manualSeed(11);
  return Array.from({ length: k }, (_, i) => {
    const x = sy.randn([8, 4]);
    const y = sy.tensor(Array.from({ length: 8 }, (_, j) => (j + i) % 3), { dtype: 'int64' });
    return { id: `client${i}`, batches: [[x, y] as const] };
  });
}

function net(): sy.nn.Module {
  sy.manualSeed(5);
  return new nn.Sequential(new nn.Linear(4, 5), new nn.ReLU(), new nn.Linear(5, 3), new nn.LogSoftmax(1));
}

const flat = (m: sy.nn.Module) => m.parameters().flatMap((p) => (p.arraySync() as unknown as number[]).flat(2) as number[]);

describe('DP-FedAvg', () => {
  test('without noise and with every client: the model moves by the mean of the clipped updates', async () => {
    const model = net();
    const before = flat(model);
    const fl = new sy.dp.DPFedAvg({ model, clients: clients(4), clientSampleRate: 1, noiseMultiplier: 0, clipNorm: 0.05, lr: 0.5 });
    const updates = fl.clients.map((c) => fl.clientUpdate(c));
    updates.forEach((u) => expect(Math.sqrt(u.update.reduce((s, x) => s + x * x, 0))).toBeLessThanOrEqual(0.05 + 1e-9));
    const report = await fl.round();
    expect(report.clients).toHaveLength(4);
    expect(report.clippedFraction).toBe(1);
    flat(model).forEach((v, j) => {
      const want = before[j]! + updates.reduce((s, u) => s + u.update[j]!, 0) / 4;
      expect(Math.abs(v - want)).toBeLessThan(1e-6);
    });
  });

  test('secure aggregation: the round never exposes the un-noised sum, and the accountant counts rounds at the client rate', async () => {
    const parties = [worker('alice'), worker('bob')];
    const frames: Uint8Array[] = [];
    for (const p of parties) record(p, frames);
    const model = net();
    const fl = new sy.dp.DPFedAvg({
      model, clients: clients(5), clientSampleRate: 1, noiseMultiplier: 1.2, clipNorm: 0.1, lr: 0.5, aggregation: { parties },
    });
    // Every client joins (rate 1), and local training is deterministic: these are the round's updates.
    const updates = fl.clients.map((c) => encode(fl.clientUpdate(c).update));
    const plainSum = new BigInt64Array(updates[0]!.length);
    for (const u of updates) u.forEach((x, j) => (plainSum[j]! += x));
    const before = flat(model);
    await fl.round();
    expect(frames.length).toBeGreaterThan(0);
    for (const u of updates) expect(seen(frames, parties, u)).toBe(false);
    expect(seen(frames, parties, plainSum)).toBe(false);
    // The model moved by (plain sum + noise) / 5: the noise is there, of the order of sigma * clip / 5.
    const moved = flat(model).map((v, j) => (v - before[j]!) * 5 - Number(plainSum[j]!) / SCALE);
    const rms = Math.sqrt(moved.reduce((s, z) => s + z * z, 0) / moved.length);
    expect(rms).toBeGreaterThan(0.02);
    expect(rms).toBeLessThan(0.5);
    await fl.round();
    expect(fl.accountant.steps).toBe(2);
    const ref = new sy.dp.RDPAccountant();
    ref.history = [{ noiseMultiplier: 1.2, sampleRate: 1, steps: 2 }];
    expect(fl.getEpsilon(1e-5)).toBe(ref.getEpsilon(1e-5));
  });

  test('clients are Poisson-sampled each round and bad settings are refused', async () => {
    const fl = new sy.dp.DPFedAvg({ model: net(), clients: clients(10), clientSampleRate: 0.3, noiseMultiplier: 1, clipNorm: 1 });
    let joined = 0;
    for (let r = 0; r < 200; r++) joined += fl.sampleClients().length;
    // Binomial(2000, 0.3): sd 20.5
    expect(Math.abs(joined - 600)).toBeLessThan(5.4 * Math.sqrt(2000 * 0.3 * 0.7));
    expect(() => new sy.dp.DPFedAvg({ model: net(), clients: clients(2), clientSampleRate: 0, noiseMultiplier: 1, clipNorm: 1 })).toThrow(/clientSampleRate/);
    expect(() => new sy.dp.DPFedAvg({ model: net(), clients: clients(2), clientSampleRate: 1, noiseMultiplier: 1, clipNorm: 1, aggregation: { parties: [] } })).toThrow(/two workers/);
  });
});

describe('DP-FedAvg with clients on their own workers', () => {
  /** Records frames to a worker and, apart, the replies it sends back. */
  function recordSplit(w: sy.VirtualWorker, sent: Uint8Array[], replies: Uint8Array[]): void {
    const post = w.post.bind(w);
    const request = w.request.bind(w);
    w.post = (msg, from) => {
      sent.push(sy.encodeMessage(msg));
      post(msg, from);
    };
    w.request = async (msg, from) => {
      sent.push(sy.encodeMessage(msg));
      const value = await request(msg, from);
      replies.push(sy.encodeMessage({ kind: 'reply', req: 0, ok: true, value }));
      return value;
    };
  }

  test('train, clip, noise and share on the client: same result as the local clients without noise', async () => {
    const parties = [worker('alice'), worker('bob')];
    const local = clients(3);
    const remote = local.map((c) => ({ ...c, worker: worker(c.id) }));
    const a = net();
    const b = net();
    const opts = { clientSampleRate: 1, noiseMultiplier: 0, clipNorm: 0.05, lr: 0.5, aggregation: { parties } } as const;
    await new sy.dp.DPFedAvg({ ...opts, model: a, clients: local }).round();
    await new sy.dp.DPFedAvg({ ...opts, model: b, clients: remote }).round();
    const [fa, fb] = [flat(a), flat(b)];
    fa.forEach((v, j) => expect(Math.abs(v - fb[j]!)).toBeLessThan(1e-5));
    expect(fa.some((v, j) => v !== flat(net())[j])).toBe(true); // the model moved
  });

  test('transcript: the parties never see the un-noised sum, and nothing but shares leaves a client worker', async () => {
    const parties = [worker('alice'), worker('bob')];
    const frames: Uint8Array[] = [];
    for (const p of parties) record(p, frames);
    const local = clients(3);
    const remote = local.map((c) => ({ ...c, worker: worker(c.id) }));
    const clientSent: Uint8Array[] = [];
    const clientReplies: Uint8Array[] = [];
    for (const c of remote) recordSplit(c.worker, clientSent, clientReplies);
    // The un-noised sum, from the same training run here (deterministic: same model, same batches).
    const probe = new sy.dp.DPFedAvg({ model: net(), clients: local, clientSampleRate: 1, noiseMultiplier: 1, clipNorm: 0.05, lr: 0.5 });
    const plainSum = new BigInt64Array(flat(net()).length);
    for (const c of local) encode(probe.clientUpdate(c).update).forEach((x, j) => (plainSum[j]! += x));
    const model = net();
    const before = flat(model);
    const fl = new sy.dp.DPFedAvg({ model, clients: remote, clientSampleRate: 1, noiseMultiplier: 1, clipNorm: 0.05, lr: 0.5, aggregation: { parties } });
    await fl.round();
    expect(frames.length).toBeGreaterThan(0);
    expect(seen(frames, parties, plainSum)).toBe(false);
    // Each client worker ran its own noisy encoding; the orchestrator got no values back from any.
    const text = clientSent.map((f) => Buffer.from(f).toString('latin1')).join('');
    expect(text.split('dp.noisyEncode').length - 1).toBe(3 * 4); // 3 clients x 4 parameters
    expect(clientReplies.reduce((n, f) => n + f.length, 0)).toBeLessThan(4096);
    // The model moved by (sum + noise) / 3; the noise is there.
    const moved = flat(model).map((v, j) => (v - before[j]!) * 3 - Number(plainSum[j]!) / SCALE);
    expect(Math.sqrt(moved.reduce((s, z) => s + z * z, 0) / moved.length)).toBeGreaterThan(0.01);
  });

  test('a client on a worker needs secure aggregation', () => {
    const remote = clients(1).map((c) => ({ ...c, worker: worker(c.id) }));
    expect(() => new sy.dp.DPFedAvg({ model: net(), clients: remote, clientSampleRate: 1, noiseMultiplier: 1, clipNorm: 1 })).toThrow(/aggregation: \{ parties \}/);
  });
});

test('dp.noisyEncode on a worker checks what it is sent', async () => {
  const w = worker('carol');
  const x = sy.tensor([0.5, -0.25]).send(w);
  const ptr = x.child as import('../../src/tensors/pointer.js').PointerTensor;
  const ok = new sy.Tensor(ptr.command('dp.noisyEncode', [0, SCALE], [[2]])[0]!);
  expect(((await ok.get()).child as RingTensor).data).toEqual(BigInt64Array.of(BigInt(SCALE / 2), BigInt(-SCALE / 4)));
  const bad = new sy.Tensor(ptr.command('dp.noisyEncode', [-1, SCALE], [[2]])[0]!);
  await expect(bad.get()).rejects.toThrow(/std must be a finite number >= 0/);
  const badScale = new sy.Tensor(ptr.command('dp.noisyEncode', [1, 0.5], [[2]])[0]!);
  await expect(badScale.get()).rejects.toThrow(/scale must be a positive integer/);
});
