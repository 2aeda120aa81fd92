/**
 * PointerTensor names an object held by a worker. An op on a pointer sends a command and
 * returns a new pointer at once (the result's id is chosen here, its shape inferred here); the
 * worker runs the command in order. `await p.get()` is where the caller waits, and where a
 * remote failure surfaces.
 *
 * Ownership: a pointer owns its remote object. The object is freed when the pointer is
 * disposed — by `dispose()`, by the end of a `sy.tidy` scope, or, as a last resort, when the
 * pointer is garbage collected — and handed over by `get()` and `move()`.
 */
import { PermissionError, StateError, ValueError } from '../errors.js';
import { type Codec, type DecodeContext,
  bad,
  decodeObject,
  encodeObject,
  expectFields,
  expectInt,
  expectShape,
  expectString,
  registerCodec,
} from '../workers/codec.js';
import { nextHops } from '../workers/forwarding.js';
import { type Held, scheduleDelete } from '../workers/deletes.js';
import { local } from '../workers/local.js';
import type { ObjectId, WireNode, WireValue } from '../workers/messages.js';
import type { RemoteWorker, Worker } from '../workers/worker.js';
import { randomId, randomSessionId } from '../util/random.js';
import { AbstractTensor, type Dims, type Operand } from '../layer/abstract.js';
import { SCOPE_WALK, type Releasable, trackInScope } from './scope.js';
import type { Shape } from '../shapes.js';
import { type OpArg, type UnaryOp, opSpec } from '../layer/ops.js';
import type { Pair } from '../layer/window.js';

// Pointers nobody references any more free their remote objects (batched: workers/deletes.ts).
const collected = new FinalizationRegistry<Held>(scheduleDelete);

/** Pointers are created by ops and by decoding; this is the single constructor path. */
export class PointerTensor extends AbstractTensor implements Releasable {
  /** The pointer's own id at its owner ("me:<id>" when printed). */
  readonly id: number = randomId();
  #shape: Shape;
  #released = false;
  // A borrowed pointer (a search result) uses an object someone else owns and never frees it.
  #borrowed = false;
  kept = false;
  /**
   * When the remote object is itself a pointer (a pointer chain) and this side knows it: the
   * worker it points at. `move()` introduces the destination to it, so the moved pointer works.
   */
  pointee: RemoteWorker | undefined;
  /**
   * What the remote object is, when this side knows: fixed precision with these settings
   * (set by `fixPrecision()` on a pointer). Lets `share()` of a remote tensor wrap the shares.
   */
  fixedPrecision: { base: number; precisionFractional: number } | undefined;

  constructor(
    readonly location: RemoteWorker,
    readonly idAtLocation: ObjectId,
    shape: Shape,
    readonly owner: Worker = local,
  ) {
    super();
    this.#shape = shape;
    collected.register(this, { location, id: idAtLocation, owner }, this);
    if (owner === local) trackInScope(this);
  }

  get layerName(): string {
    return 'PointerTensor';
  }

  get shape(): Shape {
    return this.#shape;
  }

  get released(): boolean {
    return this.#released;
  }

  chainString(): string {
    return `[PointerTensor | ${this.owner.id}:${this.id} -> ${this.location.id}:${this.idAtLocation}]`;
  }

  private live(op: string): void {
    if (this.#released) {
      throw new StateError(
        `cannot ${op}: this pointer to ${this.location.id}:${this.idAtLocation} was already retrieved with get(), ` +
          'moved, or freed (dispose() / end of a sy.tidy scope); keep results you still need with sy.keep()',
      );
    }
  }

  /** Forgets the remote object without deleting it: someone else owns it now. */
  handOver(): void {
    if (this.#released) return;
    this.#released = true;
    collected.unregister(this);
  }

  /**
   * Makes this a borrowed pointer: it computes on the object but never frees it (dropping it,
   * `dispose()` and the end of a tidy scope leave the object where it is). Search results are
   * borrowed: the object stays its owner's. Returns this pointer.
   */
  borrow(): this {
    this.#borrowed = true;
    collected.unregister(this);
    return this;
  }

  /** True for a pointer that never frees its object (see {@link borrow}). */
  get borrowed(): boolean {
    return this.#borrowed;
  }

  /**
   * Lets `recipient` use the object this pointer names (a grant on its location). A worker calls
   * it before a pointer it holds leaves for `recipient` (a get() or move() of a pointer), so the
   * pointer that arrives works there: the object still belongs to whoever made it. The grant is a
   * command (`grantFor`) whose answer comes back as a protocol value, so it also works where the
   * link to the location carries commands but no requests (between thread workers).
   */
  grantTo(recipient: string): Promise<void> {
    const session = randomSessionId();
    const owner = this.owner;
    owner.asRemote().introduce(this.location, owner);
    this.location.introduce(owner.asRemote(), owner);
    this.location.post({ kind: 'cmd', op: 'grantFor', args: [this.idAtLocation, recipient, owner.id, session], ret: [] }, owner);
    return owner.mailbox.wait(this.location.id, session, 'granted', owner.timeoutMs).then((answer) => checkGranted(answer, this.location.id, recipient));
  }

  override dispose(): void {
    if (this.#released) return;
    this.handOver();
    if (this.#borrowed) return;
    scheduleDelete({ location: this.location, id: this.idAtLocation, owner: this.owner });
  }

  // ---- sending commands ---------------------------------------------------------------------

  private argument(o: Operand | null | undefined): WireValue {
    if (o === null || o === undefined) return null;
    if (typeof o === 'number' || typeof o === 'bigint') return o;
    if (o instanceof PointerTensor) {
      if (o.location.id !== this.location.id) {
        throw new ValueError(
          `one tensor is on '${this.location.id}' and the other on '${o.location.id}': move() one of them first`,
        );
      }
      o.live('use it');
      return { ref: o.idAtLocation };
    }
    // Never send data implicitly: a local tensor might be private. Protocols that mean to send a
    // public value say so with PointerTensor.inline().
    throw new ValueError(
      `one tensor is local (${o.layerName}) and the other is on '${this.location.id}': ` +
        `send() the local one first if it may go there (syft-ts never sends data implicitly)`,
    );
  }

  /** A local value sent along with a command, by copy: for public values only. */
  static inline(value: AbstractTensor): WireValue {
    return { obj: encodeObject(value) };
  }

  /**
   * Sends `op` with `args` to the worker and returns pointers to its results, one per shape.
   * The building block for every remote op, protocols included.
   */
  command(op: string, args: readonly (Operand | WireValue | null | undefined)[], resultShapes: readonly Shape[]): PointerTensor[] {
    this.live(op);
    const ret = resultShapes.map(() => randomId());
    const wireArgs = args.map((a) =>
      a instanceof AbstractTensor || typeof a === 'number' || typeof a === 'bigint' || a === null || a === undefined
        ? this.argument(a as Operand | null | undefined)
        : (a as WireValue),
    );
    // Sent while a worker runs a command (an op on a pointer it holds): one hop further.
    const hops = nextHops();
    this.location.post({ kind: 'cmd', op, self: this.idAtLocation, args: wireArgs, ret, ...(hops === undefined ? {} : { hops }) }, this.owner);
    return ret.map((id, i) => {
      const p = new PointerTensor(this.location, id, resultShapes[i]!, this.owner);
      // What an op on a pointer's pointer leaves on its worker is a pointer to the same worker.
      p.pointee = this.pointee;
      return p;
    });
  }

  /**
   * Sends an op of the table (src/layer/ops.ts) by name. The result's shape comes from the op's
   * shape rule, which also checks the arguments here, before anything is sent.
   */
  private send(op: string, args: readonly OpArg[]): PointerTensor {
    const shape = opSpec(op).shape(this.#shape, args);
    return this.command(op, args.map((a) => (a === undefined ? null : Array.isArray(a) ? [...a] : a)) as WireValue[], [shape])[0]!;
  }

  /** Sends a command that returns nothing. */
  private effect(op: string, args: readonly (Operand | WireValue | null | undefined)[]): void {
    this.command(op, args, []);
  }

  override add(o: Operand) { return this.send('add', [o]); }
  override sub(o: Operand) { return this.send('sub', [o]); }
  override mul(o: Operand) { return this.send('mul', [o]); }
  override div(o: Operand) { return this.send('div', [o]); }
  override eq(o: Operand) { return this.send('eq', [o]); }
  override gt(o: Operand) { return this.send('gt', [o]); }
  override lt(o: Operand) { return this.send('lt', [o]); }
  override ge(o: Operand) { return this.send('ge', [o]); }
  override le(o: Operand) { return this.send('le', [o]); }
  override pow(exponent: number) { return this.send('pow', [exponent]); }
  override unary(op: UnaryOp) { return this.send(op, []); }
  override matmul(o: AbstractTensor) { return this.send('matmul', [o]); }
  override sum(dims?: Dims, keepDim = false) { return this.send('sum', [dims, keepDim]); }
  override mean(dims?: Dims, keepDim = false) { return this.send('mean', [dims, keepDim]); }
  override max(dim?: number, keepDim = false) { return this.send('max', [dim, keepDim]); }
  override argmax(dim?: number, keepDim = false) { return this.send('argmax', [dim, keepDim]); }
  override reshape(shape: readonly number[]) { return this.send('reshape', [shape]); }
  override transpose(perm?: readonly number[]) { return this.send('transpose', [perm]); }
  override slice(start: number, end?: number, dim = 0) { return this.send('slice', [start, end, dim]); }
  override indexSelect(dim: number, indices: Int32Array) { return this.send('indexSelect', [dim, indices]); }
  override broadcastTo(shape: readonly number[]) { return this.send('broadcastTo', [shape]); }
  override pad(dim: number, before: number, after: number) { return this.send('pad', [dim, before, after]); }
  override oneHot(numClasses: number) { return this.send('oneHot', [numClasses]); }
  override im2col(kernel: Pair, stride: Pair, padding: Pair) { return this.send('im2col', [kernel, stride, padding]); }
  override col2im(size: Pair, kernel: Pair, stride: Pair, padding: Pair) { return this.send('col2im', [size, kernel, stride, padding]); }
  override conv2d(weight: AbstractTensor, bias: AbstractTensor | undefined, stride: Pair, padding: Pair) {
    return this.send('conv2d', [weight, bias, stride, padding]);
  }
  override convTranspose2d(weight: AbstractTensor, bias: AbstractTensor | undefined, stride: Pair, padding: Pair, outputPadding: Pair) {
    return this.send('convTranspose2d', [weight, bias, stride, padding, outputPadding]);
  }
  override conv2dWeight(grad: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair) { return this.send('conv2dWeight', [grad, kernel, stride, padding]); }
  override maxPool2d(kernel: Pair, stride: Pair, padding: Pair) { return this.send('maxPool2d', [kernel, stride, padding]); }
  override maxPool2dBackward(grad: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair) {
    return this.send('maxPool2dBackward', [grad, kernel, stride, padding]);
  }
  override avgPool2d(kernel: Pair, stride: Pair, padding: Pair) { return this.send('avgPool2d', [kernel, stride, padding]); }
  override linear(weight: AbstractTensor, bias: AbstractTensor | undefined) { return this.send('linear', [weight, bias]); }
  override logSoftmax(dim: number) { return this.send('logSoftmax', [dim]); }
  override softmax(dim: number) { return this.send('softmax', [dim]); }
  override gather(dim: number, index: AbstractTensor) { return this.send('gather', [dim, index]); }
  override scatterAdd(dim: number, index: AbstractTensor, src: AbstractTensor) { return this.send('scatterAdd', [dim, index, src]); }
  override dropoutMask(p: number, seed: number) { return this.send('dropoutMask', [p, seed]); }

  override fullLike(value: number) { return this.send('fullLike', [value]); }
  override clone() { return this.send('clone', []); }
  /** A detached deep copy of the remote object, made on the worker (see `copyLayer`). */
  copyRemote(): PointerTensor {
    const p = this.command('copy', [], [this.#shape])[0]!;
    p.fixedPrecision = this.fixedPrecision;
    return p;
  }
  override assign_(src: AbstractTensor): void {
    if (!(src instanceof PointerTensor)) throw new ValueError(`cannot assign a local ${src.layerName} into a remote tensor: send() it first`);
    this.effect('assign_', [src]);
    this.#shape = src.shape;
  }

  // ---- autograd, forwarded to the worker -------------------------------------------------

  override backward(grad?: AbstractTensor): void { this.effect('backward', [grad ?? null]); }
  override gradLayer(): AbstractTensor { return this.command('grad', [], [this.#shape])[0]!; }
  override setGradLayer(grad: AbstractTensor | undefined): void { this.effect('setGrad', [grad ?? null]); }
  override dataLayer(): AbstractTensor { return this.command('data', [], [this.#shape])[0]!; }
  /** Turns gradient recording on or off for the remote tensor (a leaf). */
  requiresGrad_(on: boolean): void { this.effect('requiresGrad_', [on]); }

  // ---- moving the object --------------------------------------------------------------------

  /** Brings the object here and removes it from the worker. */
  override async get(): Promise<AbstractTensor> {
    this.live('get()');
    this.handOver();
    const node = await this.location.request({ kind: 'req', req: 0, op: 'get', args: [this.idAtLocation, false] }, this.owner);
    return decodeObject(node, { worker: this.owner }) as AbstractTensor;
  }

  /**
   * Moves the object to `dest`, directly from its worker (the orchestrator never sees it).
   * This pointer is spent; use the returned one.
   */
  move(dest: RemoteWorker): PointerTensor {
    this.live('move()');
    if (dest.id === this.location.id) return this;
    const session = randomSessionId();
    const newId = randomId();
    this.location.introduce(dest, this.owner);
    if (this.pointee && this.pointee.id !== dest.id) dest.introduce(this.pointee, this.owner);
    this.effect('sendTo', [dest.id, session]);
    dest.post({ kind: 'cmd', op: 'recvFrom', args: [this.location.id, session], ret: [newId] }, this.owner);
    this.handOver();
    const moved = new PointerTensor(dest, newId, this.#shape, this.owner);
    moved.fixedPrecision = this.fixedPrecision;
    // A pointer moved to the worker it points at becomes that worker's object (move.ts).
    moved.pointee = this.pointee?.id === dest.id ? undefined : this.pointee;
    return moved;
  }

  override [SCOPE_WALK](): Iterable<unknown> {
    return [];
  }
}

/** Throws unless `answer` (what a `grantFor` command sent back) says `location` granted `recipient`. */
export function checkGranted(answer: WireValue, location: string, recipient: string): void {
  if (answer === true) return;
  throw new PermissionError(
    `'${location}' does not let '${recipient}' use the object a pointer names: ${typeof answer === 'string' ? answer : 'no reason given'}`,
  );
}

/** Sends a local value to a worker, returning a pointer to the copy stored there. */
export function sendLayer(value: AbstractTensor, dest: RemoteWorker, owner: Worker = local): PointerTensor {
  if (value instanceof PointerTensor) {
    throw new ValueError(`this tensor is already on '${value.location.id}': use move() to take it elsewhere`);
  }
  const id = randomId();
  dest.post({ kind: 'store', id, obj: encodeObject(value) }, owner);
  return new PointerTensor(dest, id, value.shape, owner);
}

/** Marks every pointer inside `value` as handed over (its remote objects now belong to a receiver). */
export function handOverPointers(value: AbstractTensor): void {
  for (const l of value.layers()) if (l instanceof PointerTensor) l.handOver();
}

export const pointerCodec: Codec<PointerTensor> = {
  type: 'pointer',
  cls: PointerTensor,
  encode: (p) => ({ type: 'pointer', location: p.location.id, id: p.idAtLocation, shape: [...p.shape] }),
  decode(node: WireNode, _child, ctx: DecodeContext) {
    expectFields(node, ['location', 'id', 'shape']);
    const where = expectString('pointer', node.location, 64);
    const id = expectInt('pointer', node.id, 1, Number.MAX_SAFE_INTEGER);
    const shape = expectShape('pointer', node.shape);
    // A worker never holds a pointer to itself: an op on it would post to itself, and a pointer
    // under its own id would do so forever.
    if (where === ctx.worker.id) bad('pointer', `a pointer to worker '${where}' itself cannot be stored there: send the object instead`);
    let location: RemoteWorker;
    try {
      location = ctx.worker.resolvePeer(where);
    } catch (e) {
      bad('pointer', (e as Error).message);
    }
    return new PointerTensor(location, id, shape, ctx.worker);
  },
};

