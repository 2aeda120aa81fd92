/**
 * AdditiveSharingTensor: a value split into n additive shares in Z_2^64, one per worker, held
 * here as pointers in party order. Linear ops run on each share where it lives; products,
 * divisions and comparisons are protocols among the parties (src/mpc), with the crypto provider
 * dealing correlated randomness. This object holds no share itself, only pointers.
 */
import { ProtocolError, UnsupportedOperationError, ValueError } from '../errors.js';
import { beaverProduct } from '../mpc/beaver.js';
import { msbShared } from '../mpc/comparison.js';
import { reluShared } from '../mpc/relu.js';
import { PAIRWISE_ARGMAX_MAX_WIDTH, argmaxShared } from '../mpc/argmax.js';
import { combineShares, refreshShares } from '../mpc/sharing.js';
import { divideShared } from '../mpc/truncation.js';
import { RingTensor } from '../ring/index.js';
import { type Codec, bad, expectFields } from '../workers/codec.js';
import type { RemoteWorker } from '../workers/worker.js';
import { AbstractTensor, type Dims, type Operand } from '../layer/abstract.js';
import type { UnaryOp } from '../layer/ops.js';
import type { Pair } from '../layer/window.js';
import { PointerTensor } from './pointer.js';
import { checkReveal } from './reveal-guard.js';
import { sharedMaxPool2d, sharedMaxPool2dBackward } from './shared-pooling.js';
import { type Shape, broadcastShapes, matmulShape, normDim, sameShape } from '../shapes.js';

export class AdditiveSharingTensor extends AbstractTensor {
  #shares: PointerTensor[];
  readonly cryptoProvider: RemoteWorker | undefined;

  constructor(shares: readonly PointerTensor[], cryptoProvider?: RemoteWorker) {
    super();
    if (shares.length < 2) throw new ValueError('a shared tensor needs at least two shares');
    const s0 = shares[0]!.shape;
    if (!shares.every((s) => sameShape(s.shape, s0))) throw new ValueError('shares must all have one shape');
    if (new Set(shares.map((s) => s.location.id)).size !== shares.length) throw new ValueError('each share needs its own worker');
    this.#shares = [...shares];
    this.cryptoProvider = cryptoProvider;
  }

  get layerName(): string {
    return 'AdditiveSharingTensor';
  }

  get shape(): Shape {
    return this.#shares[0]!.shape;
  }

  /** Pointers to the shares, in party order. */
  get shares(): readonly PointerTensor[] {
    return this.#shares;
  }

  /** The workers holding the shares, in party order. */
  get parties(): RemoteWorker[] {
    return this.#shares.map((s) => s.location);
  }

  override children(): readonly AbstractTensor[] {
    return this.#shares;
  }

  chainString(): string {
    const lines = this.#shares.map((s) => `\t-> ${s.chainString()}`);
    const provider = this.cryptoProvider ? `\n\t*crypto provider: ${this.cryptoProvider.id}*` : '';
    return `[AdditiveSharingTensor]\n${lines.join('\n')}${provider}`;
  }

  private derive(shares: PointerTensor[]): AdditiveSharingTensor {
    return new AdditiveSharingTensor(shares, this.cryptoProvider);
  }

  private each(f: (share: PointerTensor, i: number) => AbstractTensor): AdditiveSharingTensor {
    return this.derive(this.#shares.map((s, i) => f(s, i) as PointerTensor));
  }

  private other(o: AdditiveSharingTensor, op: string): AdditiveSharingTensor {
    const mine = this.parties.map((p) => p.id).join(',');
    const theirs = o.parties.map((p) => p.id).join(',');
    if (mine !== theirs) {
      throw new ValueError(`cannot ${op} values shared among [${mine}] and [${theirs}]: share both among the same workers, in the same order`);
    }
    return o;
  }

  private provider(what: string): RemoteWorker {
    if (!this.cryptoProvider) {
      throw new ProtocolError(`${what} on shared values needs a crypto provider: share(..., { cryptoProvider })`);
    }
    return this.cryptoProvider;
  }

  // A public value joins the sum once: party 0 adds it, the others keep their share (broadcast
  // to the result's shape when the public value widens it).
  private addPublic(v: RingTensor | bigint, negate: boolean): AdditiveSharingTensor {
    const out = typeof v === 'bigint' ? this.shape : broadcastShapes(this.shape, v.shape);
    const arg = typeof v === 'bigint' ? (negate ? -v : v) : PointerTensor.inline(negate ? v.neg() : v);
    return this.each((s, i) => {
      if (i === 0) return s.command('add', [arg], [out])[0]!;
      return sameShape(out, this.shape) ? s.clone() : s.broadcastTo(out);
    });
  }

  private publicValue(o: Operand, op: string): RingTensor | bigint {
    if (typeof o === 'bigint') return o;
    if (typeof o === 'number') {
      if (!Number.isSafeInteger(o)) throw new ValueError(`shared integers meet integers only; got ${o}: use fixPrecision()`);
      return BigInt(o);
    }
    if (o instanceof RingTensor) return o;
    throw new UnsupportedOperationError(`cannot ${op} a shared tensor and a ${o.layerName}: share it among the same workers or fixPrecision() it`);
  }

  override add(o: Operand) {
    if (o instanceof AdditiveSharingTensor) {
      const b = this.other(o, 'add');
      return this.each((s, i) => s.add(b.#shares[i]!));
    }
    return this.addPublic(this.publicValue(o, 'add'), false);
  }

  override sub(o: Operand) {
    if (o instanceof AdditiveSharingTensor) {
      const b = this.other(o, 'sub');
      return this.each((s, i) => s.sub(b.#shares[i]!));
    }
    return this.addPublic(this.publicValue(o, 'sub'), true);
  }

  // neg is local to each share; relu is one protocol (./../mpc/relu.ts); abs and sign come from
  // their composites (comparisons).
  override unary(op: UnaryOp): AbstractTensor {
    if (op === 'neg') return this.each((s) => s.neg());
    if (op === 'relu') {
      const [out, mask] = this.reluForward();
      mask.dispose();
      return out;
    }
    return super.unary(op);
  }

  /** relu(x) and the mask [x > 0] (0/1 shares) in the rounds of one comparison. */
  override reluForward(): [AdditiveSharingTensor, AdditiveSharingTensor] {
    const { out, mask } = reluShared(this.#shares, this.provider('comparison'));
    return [this.derive(out), this.derive(mask)];
  }

  override neg(): AdditiveSharingTensor {
    return this.each((s) => s.neg());
  }

  override mul(o: Operand) {
    if (o instanceof AdditiveSharingTensor) {
      const b = this.other(o, 'multiply');
      return this.derive(beaverProduct('mul', this.#shares, b.#shares, this.provider('multiplication')));
    }
    const v = this.publicValue(o, 'mul');
    const arg = typeof v === 'bigint' ? v : PointerTensor.inline(v);
    const out = typeof v === 'bigint' ? this.shape : broadcastShapes(this.shape, v.shape);
    return this.each((s) => s.command('mul', [arg], [out])[0]!);
  }

  override matmul(o: AbstractTensor) {
    if (o instanceof AdditiveSharingTensor) {
      const b = this.other(o, 'matmul');
      return this.derive(beaverProduct('matmul', this.#shares, b.#shares, this.provider('matrix multiplication')));
    }
    if (!(o instanceof RingTensor)) throw new UnsupportedOperationError(`cannot matmul a shared tensor and a ${o.layerName}`);
    const arg = PointerTensor.inline(o);
    return this.each((s) => s.command('matmul', [arg], [matmulShape(s.shape, o.shape)])[0]!);
  }

  override rmatmul(o: AbstractTensor) {
    if (!(o instanceof RingTensor)) throw new UnsupportedOperationError(`cannot matmul a ${o.layerName} and a shared tensor`);
    // o @ x_i for every share: the public left factor travels to each party.
    const left = PointerTensor.inline(o);
    return this.each((s) => s.command('rmatmul', [left], [matmulShape(o.shape, s.shape)])[0]!);
  }

  /** Shares of floor(x / d) (within one unit), for a public positive integer d. */
  divScalar(d: bigint): AdditiveSharingTensor {
    return this.derive(divideShared(this.#shares, d, this.cryptoProvider));
  }

  override refresh() {
    return this.derive(refreshShares(this.#shares));
  }

  // ---- comparisons (0/1 shares) ---------------------------------------------------------------

  /** 1 where the value is negative (its most significant bit), 0 elsewhere. */
  msb(): AdditiveSharingTensor {
    return this.derive(msbShared(this.#shares, this.provider('comparison')));
  }

  // o - this, for the comparisons that look at the other side (comparing with zero — relu —
  // needs no public addition).
  private from(o: Operand): AdditiveSharingTensor {
    return isZero(o) ? this.neg() : this.neg().add(o);
  }

  private minus(o: Operand): AdditiveSharingTensor {
    return isZero(o) ? this : this.sub(o);
  }

  override lt(o: Operand) { return this.minus(o).msb(); }
  override gt(o: Operand) { return this.from(o).msb(); }
  override ge(o: Operand) { return this.minus(o).msb().neg().add(1n); }
  override le(o: Operand) { return this.from(o).msb().neg().add(1n); }
  override eq(o: Operand) { return this.lt(o).add(this.gt(o)).neg().add(1n); }

  override max(dim?: number, keepDim = false) { return this.tournament(dim, keepDim).values; }

  override argmax(dim?: number, keepDim = false) {
    const width = dim === undefined ? this.shape.reduce((a, b) => a * b, 1) : this.shape[normDim(dim, this.shape.length)]!;
    return width <= PAIRWISE_ARGMAX_MAX_WIDTH ? this.pairwiseArgmax(dim, keepDim) : this.tournament(dim, keepDim).indices;
  }

  /**
   * Argmax of a narrow dim (10 classes, say) in one protocol (src/mpc/argmax.ts): the signs of
   * x_i - x_j for every pair i < j (the differences taken by one local product with a public +-1
   * matrix), then for each entry the AND of its wins, in the boolean domain — the maximum is the
   * entry that beats all k-1 others, ties going to the lower index as in PyTorch.
   */
  private pairwiseArgmax(dim: number | undefined, keepDim: boolean): AdditiveSharingTensor {
    let x: AdditiveSharingTensor = dim === undefined ? this.reshape([1, -1]) : this;
    const d = dim === undefined ? 1 : normDim(dim, this.shape.length);
    const last = x.shape.length - 1;
    if (d !== last) x = x.transpose([...Array(last + 1).keys()].filter((i) => i !== d).concat(d));
    const k = x.shape[last]!;
    if (k === 1) return x.fullLike(0).reshape(x.shape.slice(0, last)).reshapeOut(this.shape, d, dim, keepDim);
    const nPairs = (k * (k - 1)) / 2;
    const toPairs = new BigInt64Array(k * nPairs); // [k, P]: column p is e_i - e_j
    let p = 0;
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++, p++) {
        toPairs[i * nPairs + p] = 1n;
        toPairs[j * nPairs + p] = -1n;
      }
    }
    const diffs = x.matmul(RingTensor.from([k, nPairs], toPairs)) as AdditiveSharingTensor;
    const index = this.derive(argmaxShared(diffs.#shares, k, this.provider('comparison')));
    return index.reshapeOut(this.shape, d, dim, keepDim);
  }

  // The argmax of `shape` along d, as flat rows, in the shape argmax(dim, keepDim) gives.
  private reshapeOut(shape: readonly number[], d: number, dim: number | undefined, keepDim: boolean): AdditiveSharingTensor {
    if (dim === undefined) return this.reshape(keepDim ? shape.map(() => 1) : []);
    return this.reshape(keepDim ? shape.map((n, i) => (i === d ? 1 : n)) : shape.filter((_, i) => i !== d));
  }

  /**
   * Maximum and its index along `dim` by a knockout tournament: each round compares pairs with
   * one secure comparison and keeps the winners (value and index) with one multiplication. Ties
   * keep the lower index, as PyTorch does.
   */
  private tournament(dim: number | undefined, keepDim: boolean): { values: AdditiveSharingTensor; indices: AdditiveSharingTensor } {
    let x: AdditiveSharingTensor = dim === undefined ? this.reshape([-1]) : this;
    const d = dim === undefined ? 0 : normDim(dim, this.shape.length);
    const rank = x.shape.length;
    const last = rank - 1;
    const perm = [...Array(rank).keys()].filter((i) => i !== d).concat(d);
    if (d !== last) x = x.transpose(perm);
    const width = x.shape[last]!;
    const positions = RingTensor.from([width], Array.from({ length: width }, (_, i) => BigInt(i)));
    let idx = x.fullLike(0).add(positions);
    const cat = (a: AdditiveSharingTensor, b: AdditiveSharingTensor) => {
      const wa = a.shape[last]!;
      const wb = b.shape[last]!;
      return a.pad(last, 0, wb).add(b.pad(last, wa, 0));
    };
    for (let k = width; k > 1; k = Math.ceil(k / 2)) {
      const h = Math.floor(k / 2);
      const [a, b] = [x.slice(0, h, last), x.slice(h, 2 * h, last)];
      const [ia, ib] = [idx.slice(0, h, last), idx.slice(h, 2 * h, last)];
      const bWins = a.lt(b);
      // One multiplication selects both the value and the index of each winner.
      const pick = bWins.pad(last, 0, h).add(bWins.pad(last, h, 0)).mul(cat(b.sub(a), ib.sub(ia)));
      let nx = a.add(pick.slice(0, h, last));
      let ni = ia.add(pick.slice(h, 2 * h, last));
      if (k % 2) {
        nx = cat(nx, x.slice(2 * h, k, last));
        ni = cat(ni, idx.slice(2 * h, k, last));
      }
      x = nx;
      idx = ni;
    }
    const outShape = x.shape.slice(0, last);
    const keptShape = this.shape.map((n, i) => (i === d ? 1 : n));
    const finish = (t: AdditiveSharingTensor) =>
      dim === undefined ? t.reshape(keepDim ? this.shape.map(() => 1) : []) : t.reshape(keepDim ? keptShape : outShape.length ? outShape : []);
    return { values: finish(x), indices: finish(idx) };
  }

  override sum(dims?: Dims, keepDim = false) { return this.each((s) => s.sum(dims, keepDim)); }
  override reshape(shape: readonly number[]) { return this.each((s) => s.reshape(shape)); }
  override transpose(perm?: readonly number[]) { return this.each((s) => s.transpose(perm)); }
  override slice(start: number, end?: number, dim = 0) { return this.each((s) => s.slice(start, end, dim)); }
  override broadcastTo(shape: readonly number[]) { return this.each((s) => s.broadcastTo(shape)); }
  override pad(dim: number, before: number, after: number) { return this.each((s) => s.pad(dim, before, after)); }
  override clone() { return this.each((s) => s.clone()); }
  // im2col and col2im are linear: each party unfolds or folds its own share.
  override im2col(kernel: Pair, stride: Pair, padding: Pair) { return this.each((s) => s.im2col(kernel, stride, padding)); }
  override col2im(size: Pair, kernel: Pair, stride: Pair, padding: Pair) { return this.each((s) => s.col2im(size, kernel, stride, padding)); }

  // Max pooling by a tournament whose outcomes the backward reuses (./shared-pooling.ts).
  override maxPool2d(kernel: Pair, stride: Pair, padding: Pair) { return sharedMaxPool2d(this, kernel, stride, padding); }
  override maxPool2dBackward(grad: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair) {
    return sharedMaxPool2dBackward(this, grad, kernel, stride, padding);
  }

  /** Gathers at a public index: each party picks from its own share. */
  override gather(dim: number, index: AbstractTensor) {
    const arg = PointerTensor.inline(this.publicIndex(index, 'gather'));
    return this.each((s) => s.command('gather', [dim, arg], [index.shape])[0]!);
  }

  /** Adds shared values at a public index: each party adds its share of `src` to its own share. */
  override scatterAdd(dim: number, index: AbstractTensor, src: AbstractTensor) {
    if (!(src instanceof AdditiveSharingTensor)) throw new UnsupportedOperationError(`scatterAdd into a shared tensor needs a shared source, not a ${src.layerName}`);
    const b = this.other(src, 'scatterAdd');
    const arg = PointerTensor.inline(this.publicIndex(index, 'scatterAdd'));
    return this.each((s, i) => s.command('scatterAdd', [dim, arg, b.#shares[i]!], [this.shape])[0]!);
  }

  private publicIndex(index: AbstractTensor, op: string): AbstractTensor {
    if (index instanceof RingTensor || index.layerName === 'FloatTensor') return index;
    throw new UnsupportedOperationError(`${op} on shared values needs a public int64 index (a RingTensor), not a ${index.layerName}`);
  }

  /** A public constant, shared trivially: party 0 holds it, the others zeros. */
  override fullLike(value: number) {
    return this.each((s, i) => s.fullLike(i === 0 ? value : 0));
  }

  override assign_(src: AbstractTensor): void {
    if (!(src instanceof AdditiveSharingTensor)) throw new ValueError(`cannot assign a ${src.layerName} into a shared tensor`);
    const b = this.other(src, 'assign');
    this.#shares.forEach((s, i) => s.assign_(b.#shares[i]!));
  }

  /** Brings every share here and adds them up: this reveals the value to the caller. */
  override async get(): Promise<AbstractTensor> {
    checkReveal(this); // a worker's value shared by share() of its pointer: see reveal-guard.ts
    const parts = await Promise.all(this.#shares.map((s) => s.get()));
    return combineShares(parts as RingTensor[]);
  }
}

function isZero(o: Operand): boolean {
  return o === 0 || o === 0n;
}

export const astCodec: Codec<AdditiveSharingTensor> = {
  type: 'ast',
  cls: AdditiveSharingTensor,
  encode: (t, child) => ({
    type: 'ast',
    shares: t.shares.map((s) => child(s)),
    provider: t.cryptoProvider?.id ?? null,
  }),
  decode(node, child, ctx) {
    expectFields(node, ['shares', 'provider']);
    if (!Array.isArray(node.shares) || node.shares.length < 2 || node.shares.length > 64) bad('ast', 'shares must be a list');
    const shares = node.shares.map((s) => child(s));
    if (!shares.every((s) => s instanceof PointerTensor)) bad('ast', 'every share must be a pointer');
    const p = node.provider;
    if (p !== null && typeof p !== 'string') bad('ast', 'provider must be a worker id or null');
    const provider = p === null ? undefined : p === ctx.worker.id ? ctx.worker.asRemote() : ctx.worker.resolvePeer(p);
    return new AdditiveSharingTensor(shares as PointerTensor[], provider);
  },
};
