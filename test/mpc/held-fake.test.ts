// The protocols run against a fake of the one interface they know (HeldObject, in
// src/workers/held.ts): handles made here, with no PointerTensor and no tensor layer. The shares
// are plain ring tensors stored on virtual workers; the results are checked against the ring
// arithmetic they stand for. A second test proves from the import graph that the protocols'
// modules reach no tensor layer, so nothing of the chain is needed to run them.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { beaverCommands, beaverCorrelations, beaverProduct } from '../../src/mpc/beaver.js';
import { comparisonCommands, comparisonCorrelations, msbShared } from '../../src/mpc/comparison.js';
import { dealerCommands, registerCorrelations } from '../../src/mpc/dealer.js';
import { ringCodec } from '../../src/mpc/ring-codec.js';
import { combineShares, refreshShares, sharingCommands, splitShares } from '../../src/mpc/sharing.js';
import { divideShared, truncationCommands, truncationCorrelations } from '../../src/mpc/truncation.js';
import { RingTensor, randomRing } from '../../src/ring/index.js';
import type { Shape } from '../../src/shapes.js';
import { randomId } from '../../src/util/random.js';
import { SeededRandom } from '../../src/util/seeded.js';
import { decodeObject, encodeObject, registerCodec } from '../../src/workers/codec.js';
import { registerCommands } from '../../src/workers/commands.js';
import type { HeldObject } from '../../src/workers/held.js';
import type { WireValue } from '../../src/workers/messages.js';
import { VirtualWorker } from '../../src/workers/virtual.js';
import { areaOf, importGraph } from '../house/imports.js';

for (const t of [dealerCommands, beaverCommands, comparisonCommands, truncationCommands, sharingCommands]) registerCommands(t);
registerCorrelations({ ...beaverCorrelations, ...comparisonCorrelations, ...truncationCorrelations });
registerCodec(ringCodec);

/** A handle to an object on a worker: just its place, id and shape, and the commands sent on it. */
class Handle implements HeldObject<Handle> {
  constructor(
    readonly location: VirtualWorker,
    readonly id: number,
    readonly shape: Shape,
    readonly owner: VirtualWorker,
    readonly sent: string[],
  ) {}

  command(op: string, args: readonly (Handle | WireValue | undefined)[], shapes: readonly Shape[]): Handle[] {
    const ret = shapes.map(() => randomId());
    const wire = args.map((a) => (a instanceof Handle ? { ref: a.id } : (a ?? null)));
    this.location.post({ kind: 'cmd', op, self: this.id, args: wire, ret }, this.owner);
    this.sent.push(op);
    return ret.map((id, i) => new Handle(this.location, id, shapes[i]!, this.owner, this.sent));
  }

  async get(): Promise<RingTensor> {
    const node = await this.location.request({ kind: 'req', req: 0, op: 'get', args: [this.id, false] }, this.owner);
    return decodeObject(node, { worker: this.owner }) as RingTensor;
  }
}

function world(n: number, tag: string) {
  const owner = new VirtualWorker({ id: `${tag}-me` });
  const parties = Array.from({ length: n }, (_, i) => new VirtualWorker({ id: `${tag}-p${i}` }));
  const dealer = new VirtualWorker({ id: `${tag}-dealer` });
  const sent: string[] = [];
  const share = (value: RingTensor): Handle[] =>
    splitShares(value, n).map((s, i) => {
      const id = randomId();
      parties[i]!.post({ kind: 'store', id, obj: encodeObject(s) }, owner);
      return new Handle(parties[i]!, id, s.shape, owner, sent);
    });
  const open = async (hs: readonly Handle[]) => combineShares(await Promise.all(hs.map((h) => h.get())));
  return { owner, parties, dealer, sent, share, open };
}

const rng = new SeededRandom(7);
const small = (shape: number[]) =>
  RingTensor.from(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => BigInt(Math.floor(rng.uniform(-1000, 1001)))));

describe.each([2, 3])('protocols on fake handles, %i parties', (n) => {
  test('Beaver products: elementwise and matrix', async () => {
    const w = world(n, `fake-mul-${n}`);
    const [x, y, a, b] = [small([3, 4]), small([3, 4]), small([3, 5]), small([5, 2])];
    const prod = beaverProduct('mul', w.share(x), w.share(y), w.dealer);
    const mm = beaverProduct('matmul', w.share(a), w.share(b), w.dealer);
    expect((await w.open(prod)).equals(x.mul(y))).toBe(true);
    expect((await w.open(mm)).equals(a.matmul(b))).toBe(true);
    expect(w.sent).toEqual(Array(2 * n).fill('mpc.beaver'));
  });

  test('comparison: msb is 1 exactly where the value is negative', async () => {
    const w = world(n, `fake-msb-${n}`);
    const x = small([50]);
    const bits = await w.open(msbShared(w.share(x), w.dealer));
    expect([...bits.data]).toEqual([...x.data].map((v) => (v < 0n ? 1n : 0n)));
  });

  test('division by a public integer is within one unit', async () => {
    const w = world(n, `fake-div-${n}`);
    const x = RingTensor.from([40], Array.from({ length: 40 }, (_, i) => BigInt((i - 20) * 123457)));
    const q = await w.open(divideShared(w.share(x), 1000n, w.dealer));
    [...x.data].forEach((v, i) => {
      const exact = v >= 0n ? v / 1000n : -((-v + 999n) / 1000n); // floor
      const got = q.data[i]!;
      expect(got === exact || got === exact + 1n || got === exact - 1n).toBe(true);
    });
  });

  test('refresh changes every share and keeps the value', async () => {
    const w = world(n, `fake-refresh-${n}`);
    const x = randomRing([16]);
    const before = w.share(x);
    const shares = await Promise.all(before.map((h) => h.location.peek(h.id) as RingTensor));
    const after = refreshShares(before);
    const fresh = await Promise.all(after.map((h) => h.get()));
    fresh.forEach((s, i) => expect(s.equals(shares[i]!)).toBe(false));
    expect(combineShares(fresh).equals(x)).toBe(true);
  });
});

test('the protocols reach no tensor layer: the import closure of src/mpc/ stays below src/tensors/', () => {
  const edges = importGraph(join(import.meta.dirname, '../../src'));
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const seen = new Set<string>();
  const stack = edges.map((e) => e.from).filter((f) => f.startsWith('mpc/'));
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    stack.push(...(next.get(f) ?? []));
  }
  expect(seen.size).toBeGreaterThan(8);
  expect([...seen].filter((f) => ['tensors', 'tensor', 'index', 'nn', 'federated'].includes(areaOf(f)))).toEqual([]);
});
