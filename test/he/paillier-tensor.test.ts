// PaillierTensor through the tensor API: every homomorphic property is checked against the same
// computation on plain floats, three ways — locally, on a worker, and on a worker that encodes
// every message to bytes (the real wire format).
import { beforeAll, describe, expect, it } from 'vitest';
import * as sy from '../../src/index.js';
import { KeyMismatchError, PackingUnsupportedError, PaillierOverflowError } from '../../src/he/errors.js';
import { PaillierPrivateKey } from '../../src/he/paillier/keys.js';
import type { PaillierKeyPair } from '../../src/he/paillier/keys.js';
import { keygenOn, poolOn, sendKey } from '../../src/he/remote-key.js';
import type { RemoteKey } from '../../src/he/remote-key.js';
import { decryptLayer, encryptLayer, PaillierTensor } from '../../src/tensors/paillier.js';
import type { PaillierEncryptOptions } from '../../src/tensors/paillier.js';
import { keyPair, TestRandom } from './helpers.js';

type Nested = number | Nested[];

/** Random values exact at 2^-16, in [-8, 8], shaped as nested arrays. */
function randomNested(rnd: TestRandom, shape: number[]): Nested {
  if (shape.length === 0) return rnd.fixed(8, 16);
  return Array.from({ length: shape[0]! }, () => randomNested(rnd, shape.slice(1)));
}

function flat(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x as number];
}

interface Mode {
  readonly name: string;
  /** Encrypts plain values where this mode keeps them. */
  enc(values: Nested, options?: Partial<PaillierEncryptOptions>): sy.Tensor;
  /** A plain operand where this mode keeps it. */
  plain(values: Nested): sy.Tensor;
  /** Decrypts and reads the values here. */
  read(t: sy.Tensor): Promise<number[]>;
}

let pair: PaillierKeyPair;
beforeAll(async () => {
  pair = await keyPair(256);
});

function localMode(): Mode {
  return {
    name: 'local',
    enc: (v, o = {}) => new sy.Tensor(encryptLayer(sy.tensor(v).child, { protocol: 'paillier', publicKey: pair.publicKey, ...o })),
    plain: (v) => sy.tensor(v),
    read: async (t) => flat(new sy.Tensor(decryptLayer(t.child, pair.privateKey)).arraySync()),
  };
}

function remoteMode(serialize: boolean): Mode & { worker: sy.VirtualWorker; hop: sy.VirtualWorker; key: () => RemoteKey } {
  const worker = new sy.VirtualWorker({ id: `he-${serialize ? 'wire' : 'mem'}`, serialize });
  const hop = new sy.VirtualWorker({ id: `he-hop-${serialize ? 'wire' : 'mem'}`, serialize });
  let key: RemoteKey | undefined;
  const getKey = (): RemoteKey => (key ??= sendKey(pair.privateKey, worker));
  return {
    name: serialize ? 'on a worker, serialized' : 'on a worker',
    worker,
    hop,
    key: getKey,
    enc: (v, o = {}) => new sy.Tensor(encryptLayer(sy.tensor(v).send(worker).child, { protocol: 'paillier', publicKey: getKey(), ...o })),
    plain: (v) => sy.tensor(v).send(worker),
    read: async (t) => flat((await new sy.Tensor(decryptLayer(t.child, getKey())).get()).arraySync()),
  };
}

/** Encrypted op vs the same op on plain floats. */
interface Case {
  readonly name: string;
  readonly shapes: number[][];
  readonly f: (args: sy.Tensor[]) => sy.Tensor;
  /** Which arguments are encrypted (default: the first only). */
  readonly encrypted?: boolean[];
}

const W = [3, 2];
const cases: Case[] = [
  { name: 'enc + enc', shapes: [[2, 3], [2, 3]], f: ([a, b]) => a!.add(b!), encrypted: [true, true] },
  { name: 'enc + enc, broadcast', shapes: [[2, 3], [3]], f: ([a, b]) => a!.add(b!), encrypted: [true, true] },
  { name: 'enc - enc', shapes: [[4], [4]], f: ([a, b]) => a!.sub(b!), encrypted: [true, true] },
  { name: 'enc + plain tensor, broadcast', shapes: [[3], [2, 3]], f: ([a, b]) => a!.add(b!) },
  { name: 'enc - plain tensor', shapes: [[2, 2], [2, 2]], f: ([a, b]) => a!.sub(b!) },
  { name: 'enc + number, enc - number', shapes: [[5]], f: ([a]) => a!.add(2.5).sub(0.25) },
  { name: 'neg', shapes: [[2, 2]], f: ([a]) => a!.neg() },
  { name: 'enc × integer', shapes: [[6]], f: ([a]) => a!.mul(-3) },
  { name: 'enc × fixed-point scalar', shapes: [[6]], f: ([a]) => a!.mul(0.375) },
  { name: 'enc / number', shapes: [[6]], f: ([a]) => a!.div(4) },
  { name: 'enc × plain tensor, broadcast', shapes: [[2, 3], [3]], f: ([a, b]) => a!.mul(b!) },
  { name: 'enc @ plain matrix', shapes: [[2, 3], W], f: ([a, b]) => a!.matmul(b!) },
  { name: 'enc vector @ plain matrix', shapes: [[3], W], f: ([a, b]) => a!.matmul(b!) },
  { name: 'enc matrix @ plain vector', shapes: [[2, 3], [3]], f: ([a, b]) => a!.matmul(b!) },
  { name: 'sum of everything', shapes: [[3, 4]], f: ([a]) => a!.sum() },
  { name: 'sum over a dim', shapes: [[3, 4]], f: ([a]) => a!.sum(0) },
  { name: 'sum over a dim, keepDim', shapes: [[2, 3, 2]], f: ([a]) => a!.sum([0, 2], true) },
  { name: 'mean over a dim', shapes: [[3, 4]], f: ([a]) => a!.mean(1) },
  { name: 'reshape, transpose, t()', shapes: [[2, 3, 2]], f: ([a]) => a!.reshape([3, 4]).t().transpose([1, 0]).reshape([-1]) },
  { name: 'transpose of rank 3', shapes: [[2, 3, 2]], f: ([a]) => a!.transpose([2, 0, 1]) },
  { name: 'slice', shapes: [[4, 3]], f: ([a]) => a!.slice(1, 3).slice(-2, undefined, 1) },
  { name: 'broadcastTo', shapes: [[1, 3]], f: ([a]) => a!.broadcastTo([2, 3]) },
  {
    name: 'a chain: (e + e) × 0.5 @ W, summed',
    shapes: [[2, 3], W],
    f: ([a, b]) => a!.add(a!).mul(0.5).matmul(b!).sum(),
  },
];

describe.each([['local'], ['remote'], ['remote-serialized']] as const)('PaillierTensor (%s)', (kind) => {
  let mode: Mode;
  beforeAll(() => {
    mode = kind === 'local' ? localMode() : remoteMode(kind === 'remote-serialized');
  });

  it.each(cases)('$name decrypts to the same values as on plain floats', async ({ shapes, f, encrypted }) => {
    const rnd = new TestRandom(shapes.flat().reduce((a, b) => a * 31 + b, 7));
    const values = shapes.map((s) => randomNested(rnd, s));
    const enc = values.map((v, i) => ((encrypted ?? [true])[i] ? mode.enc(v) : mode.plain(v)));
    const result = f(enc);
    const want = f(values.map((v) => sy.tensor(v)));
    expect(result.shape).toEqual(want.shape);
    const got = await mode.read(result);
    const expected = flat(want.arraySync());
    expect(got).toHaveLength(expected.length);
    got.forEach((g, i) => expect(Math.abs(g - expected[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(expected[i]!))));
  });

  it('is a Tensor > PaillierTensor chain that prints compactly', () => {
    const e = mode.enc([[1, 2, 3], [4, 5, 6]]);
    const layer = kind === 'local' ? e.child : undefined;
    if (layer !== undefined) {
      expect(layer).toBeInstanceOf(PaillierTensor);
      expect(layer.toString()).toBe('PaillierTensor>[[2, 3] | 6 ciphertexts | 256-bit key]');
      expect(e.toString()).toContain('PaillierTensor>[[2, 3] | 6 ciphertexts | 256-bit key]');
    } else {
      expect(e.isPointer).toBe(true);
      expect(e.toString()).toMatch(/^\(Wrapper\)>\[PointerTensor \| me:\d+ -> he-(mem|wire):\d+\]$/);
    }
    expect(e.shape).toEqual([2, 3]);
  });

  it('refuses what Paillier cannot do, with typed errors (surfacing at get() on a worker)', async () => {
    const e = mode.enc([1, 2]);
    const attempts: Array<[() => sy.Tensor, string]> = [
      [() => e.mul(e), 'mul of two encrypted tensors'],
      [() => e.relu(), 'relu'],
      [() => e.exp(), 'exp'],
      [() => e.gt(0), 'gt'],
      [() => e.matmul(e), 'matmul of two encrypted tensors'],
    ];
    for (const [attempt, op] of attempts) {
      if (kind === 'local') {
        expect(attempt).toThrow(sy.UnsupportedOperationError);
        expect(attempt).toThrow(new RegExp(`PaillierTensor does not support '${op}'.*decrypt\\(\\) first`));
      } else {
        const p = attempt();
        await expect(p.get()).rejects.toThrow(sy.RemoteError);
        await expect(attempt().get()).rejects.toThrow(/UnsupportedOperationError: PaillierTensor does not support/);
      }
    }
  });

  it('packed tensors add and scale, and refuse products and rearrangements', async () => {
    const pack = { additions: 4, extraBits: 1 };
    const a = mode.enc([[0.5, -1, 2], [3, -4.25, 8]], { pack });
    const b = mode.enc([[1, 1, 1], [-1, -1, -1]], { pack });
    expect(await mode.read(a.add(b).add(a).sub(b).mul(2))).toEqual([2, -4, 8, 12, -17, 32]);
    expect(await mode.read(a.reshape([3, 2]))).toEqual([0.5, -1, 2, 3, -4.25, 8]);
    const refused = [() => a.matmul(mode.plain([[1], [2], [3]])), () => a.sum(), () => a.t()];
    for (const attempt of refused) {
      if (kind === 'local') expect(attempt).toThrow(PackingUnsupportedError);
      else await expect(attempt().get()).rejects.toThrow(/PackingUnsupportedError/);
    }
  });

  it('repeated fractional scalar multiplications stay exact, then refuse: never a wrong number', async () => {
    // python-paillier's failure (seed 003): the mantissa grew at each float multiplication until it
    // wrapped and decrypted to garbage, worst after serialization between hops. Here each product
    // carries its scale in the bit budget, and on workers the tensor hops to another worker and
    // back (through the wire format, when serialized) after every product.
    let e = mode.enc([1.5, -2.75, 0.125]);
    let expected = [1.5, -2.75, 0.125];
    let products = 0;
    for (;;) {
      try {
        const next = e.mul(0.5);
        const got = await mode.read(next);
        expected = expected.map((x) => x * 0.5);
        expect(got).toEqual(expected.map((x) => Math.fround(x)));
        products++;
        e = kind === 'local' ? next : next.move((mode as ReturnType<typeof remoteMode>).hop).move((mode as ReturnType<typeof remoteMode>).worker);
      } catch (err) {
        if (kind === 'local') expect(err).toBeInstanceOf(PaillierOverflowError);
        else expect(String(err)).toMatch(/PaillierOverflowError: mulScalar\(0\.5\) would overflow/);
        break;
      }
      if (products > 40) throw new Error('a 256-bit key cannot hold 40 products at 16 fractional bits each');
    }
    expect(products).toBeGreaterThan(5);
  });

  it('refuses tensors under different keys, and a private key that does not match', async () => {
    const other = await keyPair(320);
    const e = mode.enc([1, 2]);
    if (kind === 'local') {
      const f = new sy.Tensor(encryptLayer(sy.tensor([1, 2]).child, { protocol: 'paillier', publicKey: other.publicKey }));
      expect(() => e.add(f)).toThrow(KeyMismatchError);
      expect(() => decryptLayer(e.child, other.privateKey)).toThrow(KeyMismatchError);
    } else {
      const m = mode as ReturnType<typeof remoteMode>;
      const f = new sy.Tensor(encryptLayer(sy.tensor([1, 2]).send(m.worker).child, { protocol: 'paillier', publicKey: other.publicKey }));
      await expect(e.add(f).get()).rejects.toThrow(/KeyMismatchError/);
      const wrong = sendKey(other.privateKey, m.worker);
      await expect(new sy.Tensor(decryptLayer(e.child, wrong)).get()).rejects.toThrow(/KeyMismatchError/);
      wrong.dispose();
    }
  });
});

describe('PaillierTensor details', () => {
  it('rmatmul: a plain matrix times an encrypted one', () => {
    const e = encryptLayer(sy.tensor([[1, 2], [3, 4], [5, 6]]).child, { protocol: 'paillier', publicKey: pair.publicKey }) as PaillierTensor;
    const a = sy.tensor([[1, 0, -1], [0.5, 0.5, 0.5]]);
    const product = e.rmatmul(a.child);
    expect(product.shape).toEqual([2, 2]);
    expect(new sy.Tensor(product.decrypt(pair.privateKey)).arraySync()).toEqual([[-4, -4], [4.5, 6]]);
    const v = e.reshape([6]).slice(0, 3).rmatmul(sy.tensor([2, 0, 1]).child);
    expect(new sy.Tensor(v.decrypt(pair.privateKey)).arraySync()).toBe(2 * 1 + 0 + 3);
  });

  it('reading values without the key says what to do', () => {
    const e = new sy.Tensor(encryptLayer(sy.tensor([1]).child, { protocol: 'paillier', publicKey: pair.publicKey }));
    expect(() => e.arraySync()).toThrow(sy.StateError);
    expect(() => e.arraySync()).toThrow(/decrypt/);
    expect(() => encryptLayer(e.child, { protocol: 'paillier', publicKey: pair.publicKey })).toThrow(/already encrypted/);
    expect(() => encryptLayer(sy.tensor([1]).child, { protocol: 'ckks' as never, publicKey: pair.publicKey })).toThrow(sy.ValueError);
    expect(() => decryptLayer(sy.tensor([1]).child, pair.privateKey)).toThrow(sy.UnsupportedOperationError);
  });

  it('decrypting a remote tensor never sends a local private key along', async () => {
    const bob = new sy.VirtualWorker({ id: 'he-no-key' });
    const { publicKey } = pair;
    const e = new sy.Tensor(encryptLayer(sy.tensor([1, 2]).send(bob).child, { protocol: 'paillier', publicKey }));
    expect(() => decryptLayer(e.child, pair.privateKey)).toThrow(/would send your private key/);
    await bob.sync();
    expect(bob.objectIds().map((id) => bob.peek(id)).some((o) => o instanceof PaillierPrivateKey)).toBe(false);
    // A key on another worker does not decrypt here either.
    const alice = new sy.VirtualWorker({ id: 'he-key-elsewhere' });
    const alicesKey = sendKey(pair.privateKey, alice);
    expect(() => decryptLayer(e.child, alicesKey)).toThrow(/move\(\) the tensor to the key's worker/);
    // Moved there, it decrypts there.
    const moved = e.move(alice);
    expect((await new sy.Tensor(decryptLayer(moved.child, alicesKey)).get()).arraySync()).toEqual([1, 2]);
  });

  it('a worker holding the key pair encrypts from its CRT pool, filled ahead of time', async () => {
    const carol = new sy.VirtualWorker({ id: 'he-pool', serialize: true });
    const { publicKey, privateKey } = await keygenOn(carol, { bits: 256 });
    privateKey.fillPool(10);
    await carol.sync();
    const pool = poolOn(carol, publicKey);
    expect(pool.usesCrt).toBe(true);
    expect(pool.size).toBe(10);
    const e = new sy.Tensor(encryptLayer(sy.tensor([1, 2, 3, 4]).send(carol).child, { protocol: 'paillier', publicKey }));
    expect((await new sy.Tensor(decryptLayer(e.child, privateKey)).get()).arraySync()).toEqual([1, 2, 3, 4]);
    expect(pool.size).toBe(6);
    expect(pool.computedOnDemand).toBe(0);
    // Without the private key, the worker's pool is a public-key one.
    privateKey.dispose();
    await carol.sync();
    expect(poolOn(carol, publicKey).usesCrt).toBe(false);
  });
});

describe('through the public Tensor API', () => {
  it('x.encrypt(...) / e.decrypt(key), with public operands on either side', async () => {
    const { publicKey, privateKey } = await sy.paillier.keygen({ bits: 512 });
    const x = sy.tensor([[0.5, -1.25], [2, 0]]);
    const e = x.encrypt({ protocol: 'paillier', publicKey });
    expect(e.toString()).toMatch(/^\(Wrapper\)>PaillierTensor>/);
    expect(() => e.item()).toThrow(sy.StateError);
    const w = sy.tensor([[1], [2]]);
    const got = e.add(e).mul(3).matmul(w).decrypt(privateKey).arraySync() as number[][];
    expect(got.flat()).toEqual([3 * 2 * (0.5 - 2.5), 3 * 2 * 2]);
    const left = sy.tensor([[1, 1], [1, 1]]).sub(e).add(x).decrypt(privateKey).arraySync();
    expect(left).toEqual([[1, 1], [1, 1]]);
    const rm = sy.tensor([[2, 0], [0, 2]]).matmul(e).decrypt(privateKey).arraySync();
    expect(rm).toEqual([[1, -2.5], [4, 0]]);
  });
});
