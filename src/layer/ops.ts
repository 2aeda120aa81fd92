/**
 * The one table of ops. Each entry says, in one place, what an op takes, the shape of its result
 * (which is also its argument check: it throws before any work is done), whether a worker may run
 * it for others, and — for elementwise ops — its gradient, beside the forward it belongs to.
 *
 * Who reads it:
 * - `PointerTensor` sends every `remote` op by name and knows the result's shape from `shape`;
 * - the worker's allow-list (src/tensors/commands.ts) registers exactly the `remote` ops, decodes
 *   their arguments by `args`, and runs `shape` before the op allocates anything;
 * - `AutogradTensor` records unary and binary ops generically, with `grad` from here;
 * - `FloatTensor` runs unary and binary ops with the tfjs kernel named by `tf`;
 * - an op with a `composite` is written once from other ops (as tinygrad's mixins are): every
 *   layer that has no kernel of its own gets it, and it needs no gradient of its own because
 *   autograd records the ops it is made of.
 *
 * Adding a unary op: an entry in UNARY below, its kernel in the leaf that can compute it (or a
 * `composite`), and its documented method on `Tensor` (src/tensor.ts). See CONTRIBUTING.md.
 */
import { ShapeError, ValueError } from '../errors.js';
import {
  type Shape,
  broadcastShapes,
  broadcastToShape,
  checkPerm,
  indexSelectShape,
  formatShape,
  matmulShape,
  normDim,
  padShape,
  reduceDims,
  reduceShape,
  resolveReshape,
  sizeOf,
  sameShape,
  sliceShape,
} from '../shapes.js';
import type { AbstractTensor, Operand } from './abstract.js';
import {
  col2imShape,
  conv2dShape,
  conv2dWeightShape,
  convTranspose2dShape,
  im2colShape,
  pair,
  pool2dShape,
  window2d,
} from './window.js';

// ---- elementwise ops ------------------------------------------------------------------------

/** What a unary op's gradient sees: the input's value and the output, both below autograd. */
export interface UnarySaved {
  x: AbstractTensor;
  out: AbstractTensor;
}

export interface UnarySpec {
  /** The tfjs kernel a float tensor runs (a kernel name of @tensorflow/tfjs-core, e.g. 'Exp'). */
  readonly tf?: string;
  /** The op from other ops, for layers without a kernel of their own. */
  readonly composite?: (x: AbstractTensor) => AbstractTensor;
  /**
   * d(loss)/dx from d(loss)/dout. Must return a new tensor, never `g` or a saved value itself
   * (backward frees intermediates). Omitted: the op passes no gradient (its output never
   * requires grad).
   */
  readonly grad?: (g: AbstractTensor, saved: UnarySaved) => AbstractTensor;
  /** What the gradient needs saved (default: both). Saving less keeps less alive. */
  readonly saves?: 'x' | 'out' | 'none';
  /** One line for error messages and docs. */
  readonly doc: string;
}

/** `sign(x)`: -1, 0 or 1, from two comparisons where no kernel exists (shared values). */
const sign = (x: AbstractTensor) => x.gt(0).sub(x.lt(0));

/**
 * Unary elementwise ops. Every layer answers them through `unary(op)`; the named methods
 * (`x.exp()`) are sugar over it.
 */
export const UNARY = {
  neg: { tf: 'Neg', grad: (g) => g.neg(), saves: 'none', doc: '-x' },
  exp: { tf: 'Exp', grad: (g, s) => g.mul(s.out), saves: 'out', doc: 'e^x' },
  log: { tf: 'Log', grad: (g, s) => g.div(s.x), saves: 'x', doc: 'natural logarithm' },
  sqrt: { tf: 'Sqrt', grad: (g, s) => g.div(s.out.mul(2)), saves: 'out', doc: 'square root' },
  abs: { tf: 'Abs', composite: (x) => x.mul(sign(x)), grad: (g, s) => g.mul(sign(s.x)), saves: 'x', doc: '|x|' },
  sign: { tf: 'Sign', composite: sign, doc: '-1 where x < 0, 0 where x = 0, 1 where x > 0' },
  relu: { tf: 'Relu', composite: (x) => x.mul(x.gt(0)), grad: (g, s) => g.mul(s.x.gt(0)), saves: 'x', doc: 'max(x, 0)' },
  sigmoid: { tf: 'Sigmoid', grad: (g, s) => g.mul(s.out).mul(s.out.neg().add(1)), saves: 'out', doc: '1 / (1 + e^-x)' },
  tanh: { tf: 'Tanh', grad: (g, s) => g.mul(s.out.mul(s.out).neg().add(1)), saves: 'out', doc: 'hyperbolic tangent' },
} as const satisfies Record<string, UnarySpec>;

export type UnaryOp = keyof typeof UNARY;

export function isUnaryOp(name: string): name is UnaryOp {
  return Object.hasOwn(UNARY, name);
}

/** The spec of a unary op, typed as the interface (the table itself is narrowed by `as const`). */
export function unarySpec(op: UnaryOp): UnarySpec {
  return UNARY[op];
}

export interface BinarySpec {
  /** The tfjs kernel a float tensor runs (a kernel name, e.g. 'Multiply'). */
  readonly tf: string;
  /**
   * d(loss)/da and d(loss)/db from d(loss)/dout, before summing over broadcast dims; `a` and `b`
   * are the operands below autograd. Each is computed only when its input records gradients (on
   * shared values a product is a protocol). Omitted: not differentiable (comparisons).
   */
  readonly da?: (g: AbstractTensor, a: AbstractTensor | number, b: AbstractTensor | number) => AbstractTensor;
  readonly db?: (g: AbstractTensor, a: AbstractTensor | number, b: AbstractTensor | number) => AbstractTensor;
  /** Which operand values the gradients read (the others are not kept alive). */
  readonly saves?: 'a' | 'b' | 'both' | 'none';
  readonly doc: string;
}

/** Binary elementwise ops, with numpy/PyTorch broadcasting. */
export const BINARY = {
  add: { tf: 'Add', da: (g) => g, db: (g) => g, saves: 'none', doc: 'a + b' },
  sub: { tf: 'Sub', da: (g) => g, db: (g) => g.neg(), saves: 'none', doc: 'a - b' },
  mul: { tf: 'Multiply', da: (g, _a, b) => g.mul(b), db: (g, a) => g.mul(a), saves: 'both', doc: 'a * b' },
  // d(a/b)/db = -a / b^2 (b is a tensor whenever it records gradients).
  div: { tf: 'RealDiv', da: (g, _a, b) => g.div(b), db: (g, a, b) => g.mul(a).div((b as AbstractTensor).mul(b)).neg(), saves: 'both', doc: 'a / b' },
  eq: { tf: 'Equal', doc: '1 where a = b' },
  gt: { tf: 'Greater', doc: '1 where a > b' },
  lt: { tf: 'Less', doc: '1 where a < b' },
  ge: { tf: 'GreaterEqual', doc: '1 where a >= b' },
  le: { tf: 'LessEqual', doc: '1 where a <= b' },
} as const satisfies Record<string, BinarySpec>;

export type BinaryOp = keyof typeof BINARY;

export function isBinaryOp(name: string): name is BinaryOp {
  return Object.hasOwn(BINARY, name);
}

export function binarySpec(op: BinaryOp): BinarySpec {
  return BINARY[op];
}

// ---- every op a worker runs: arguments and shape rules ----------------------------------------

/**
 * How an argument travels and is checked on a worker:
 * - `operand`: a tensor (by reference) or a public number/bigint;
 * - `tensor`: a tensor (by reference, or by value for a public one);
 * - `number`, `int`, `bool`: a finite number, a safe integer, true/false;
 * - `tensor?`: a tensor or null (omitted: a convolution without bias);
 * - `int?`: an integer or null (omitted);
 * - `ints`: up to 16 integers (a shape, a permutation, a kernel size); `ints?`: that or null;
 * - `dims`: an integer, up to 16 integers, or null (all dims);
 * - `index`: a list of up to {@link MAX_INDEX_COUNT} indices, sent as an Int32Array (the op's
 *   shape rule checks each is in range).
 */
export type ArgKind = 'operand' | 'tensor' | 'tensor?' | 'number' | 'int' | 'int?' | 'bool' | 'ints' | 'ints?' | 'dims' | 'index';

/** An argument as layers take it (a tensor layer, a number, a list of integers, indices, ...). */
export type OpArg = Operand | boolean | readonly number[] | Int32Array | undefined | null;

/** The most indices one `indexSelect` takes (a batch of a data loader is far smaller). */
export const MAX_INDEX_COUNT = 65_536;

export interface OpSpec {
  readonly args: readonly ArgKind[];
  /** The result's shape from the input's shape and the arguments; throws for arguments that do not fit. */
  readonly shape: (self: Shape, args: readonly OpArg[]) => Shape;
  /** Whether a worker runs it on request (the allow-list). */
  readonly remote: boolean;
  /** Multiply-adds it costs, for ops whose work is not proportional to their output (products). */
  readonly macs?: (self: Shape, args: readonly OpArg[], out: Shape) => number;
}

function shapeOf(o: OpArg): Shape {
  return o !== null && typeof o === 'object' && 'shape' in o ? (o as AbstractTensor).shape : [];
}

const same = (s: Shape) => s;
const broadcast = (s: Shape, a: readonly OpArg[]) => broadcastShapes(s, shapeOf(a[0]));
const asDims = (v: OpArg) => (v === null ? undefined : (v as number | readonly number[] | undefined));
const asInt = (v: OpArg) => (v === null ? undefined : (v as number | undefined));
const reduce = (s: Shape, a: readonly OpArg[]) => reduceShape(s, reduceDims(s.length, asDims(a[0])), a[1] === true);

function positiveInt(v: OpArg, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ValueError(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

// Windowed ops take (kernel, stride, padding) as pairs, starting at argument `i`.
const win = (a: readonly OpArg[], i = 0) => window2d(a[i], a[i + 1], a[i + 2]);
const optShape = (o: OpArg) => (o === null || o === undefined ? undefined : shapeOf(o));

function softmaxShape(s: Shape, a: readonly OpArg[]): Shape {
  if (s.length === 0) throw new ShapeError('softmax needs a tensor of rank 1 or more');
  normDim(a[0] as number, s.length);
  return s;
}

/** gather (PyTorch's): the index has the input's rank and fits it outside `dim`; the result has its shape. */
function gatherShape(s: Shape, dim: OpArg, index: Shape, op: string): Shape {
  const d = normDim(dim as number, s.length);
  if (index.length !== s.length || index.some((n, i) => i !== d && n > s[i]!)) {
    throw new ShapeError(`${op}: index ${formatShape(index)} does not fit input ${formatShape(s)} along dim ${d} (same rank, no larger outside dim ${d})`);
  }
  return index;
}

function linearShape(s: Shape, a: readonly OpArg[]): Shape {
  const w = shapeOf(a[0]);
  const b = optShape(a[1]);
  if (w.length !== 2 || s.length < 1 || s[s.length - 1] !== w[1]) {
    throw new ShapeError(`linear: weight ${formatShape(w)} does not fit input ${formatShape(s)}; it must be [outFeatures, ${s[s.length - 1]}]`);
  }
  if (b && (b.length !== 1 || b[0] !== w[0])) throw new ShapeError(`linear: bias ${formatShape(b)} must be [${w[0]}]`);
  return [...s.slice(0, -1), w[0]!];
}

function dropoutShape(s: Shape, a: readonly OpArg[]): Shape {
  const p = a[0] as number;
  if (!(p >= 0 && p < 1)) throw new ValueError(`dropout probability must be in [0, 1), got ${String(p)}`);
  if (!Number.isSafeInteger(a[1]) || (a[1] as number) < 0 || (a[1] as number) >= 2 ** 32) throw new ValueError('dropout seed must be a 32-bit unsigned integer');
  return s;
}

function fromTable<T extends Record<string, unknown>>(table: T, spec: Omit<OpSpec, 'remote'> & { remote?: boolean }): Record<keyof T, OpSpec> {
  return Object.fromEntries(Object.keys(table).map((k) => [k, { remote: true, ...spec }])) as Record<keyof T, OpSpec>;
}

/** Elements of a pooling or convolution window (a kernel size argument, already checked by the shape rule). */
function kernelArea(k: OpArg): number {
  const [h, w] = pair(k, 'kernel size', 1);
  return h * w;
}

/** Every op that a pointer may send and a worker may run, by name. */
export const OPS: Readonly<Record<string, OpSpec>> = {
  ...fromTable(UNARY, { args: [], shape: same }),
  ...fromTable(BINARY, { args: ['operand'], shape: broadcast }),
  pow: { args: ['number'], shape: same, remote: true },
  matmul: { args: ['tensor'], shape: (s, a) => matmulShape(s, shapeOf(a[0])), remote: true, macs: (s, _a, out) => sizeOf(out) * (s[s.length - 1] ?? 1) },
  // A public left factor brought along by value: o @ self.
  rmatmul: { args: ['tensor'], shape: (s, a) => matmulShape(shapeOf(a[0]), s), remote: true, macs: (s, _a, out) => sizeOf(out) * (s.length > 1 ? s[s.length - 2]! : s[0] ?? 1) },
  sum: { args: ['dims', 'bool'], shape: reduce, remote: true },
  mean: { args: ['dims', 'bool'], shape: reduce, remote: true },
  max: { args: ['int?', 'bool'], shape: (s, a) => reduceShape(s, reduceDims(s.length, asInt(a[0])), a[1] === true), remote: true },
  argmax: { args: ['int?', 'bool'], shape: (s, a) => reduceShape(s, reduceDims(s.length, asInt(a[0])), a[1] === true), remote: true },
  reshape: { args: ['ints'], shape: (s, a) => resolveReshape(s, a[0] as number[]), remote: true },
  transpose: { args: ['ints?'], shape: (s, a) => checkPerm(s.length, (a[0] ?? undefined) as number[] | undefined).map((d) => s[d]!), remote: true },
  slice: { args: ['int', 'int?', 'int'], shape: (s, a) => sliceShape(s, a[0] as number, asInt(a[1]), a[2] as number), remote: true },
  // Rows (or slabs along any dim) by index: a shuffled batch of a dataset, gathered where it is.
  indexSelect: { args: ['int', 'index'], shape: (s, a) => indexSelectShape(s, a[0] as number, a[1] as Int32Array, MAX_INDEX_COUNT), remote: true },
  broadcastTo: { args: ['ints'], shape: (s, a) => broadcastToShape(s, a[0]), remote: true },
  pad: { args: ['int', 'int', 'int'], shape: (s, a) => padShape(s, a[0] as number, a[1] as number, a[2] as number), remote: true },
  oneHot: { args: ['int'], shape: (s, a) => [...s, positiveInt(a[0], 'oneHot: the number of classes')], remote: true },
  fullLike: { args: ['number'], shape: same, remote: true },
  clone: { args: [], shape: same, remote: true },

  // ---- convolution and pooling (src/layer/window.ts has their geometry) ----------------------
  // Linear maps, local on shares: each share is unfolded or folded where it lives.
  im2col: { args: ['ints', 'ints', 'ints'], shape: (s, a) => im2colShape(s, win(a)), remote: true },
  col2im: { args: ['ints', 'ints', 'ints', 'ints'], shape: (s, a) => col2imShape(s, pair(a[0], 'output size', 1), win(a, 1)), remote: true },
  // x.conv2d(weight, bias, stride, padding); the next two are its input and weight gradients.
  conv2d: {
    args: ['tensor', 'tensor?', 'ints', 'ints'],
    shape: (s, a) => conv2dShape(s, shapeOf(a[0]), optShape(a[1]), pair(a[2], 'stride', 1), pair(a[3], 'padding', 0)),
    remote: true,
    // Each output element is a dot product over in-channels x kernel.
    macs: (_s, a, out) => sizeOf(out) * sizeOf(shapeOf(a[0]).slice(1)),
  },
  convTranspose2d: {
    args: ['tensor', 'tensor?', 'ints', 'ints', 'ints'],
    shape: (s, a) =>
      convTranspose2dShape(s, shapeOf(a[0]), optShape(a[1]), pair(a[2], 'stride', 1), pair(a[3], 'padding', 0), pair(a[4], 'output padding', 0)),
    remote: true,
    // Each input element is spread over out-channels x kernel.
    macs: (s, a) => sizeOf(s) * sizeOf(shapeOf(a[0]).slice(1)),
  },
  // x.conv2dWeight(grad, kernel, stride, padding): d(loss)/d(weight) of x.conv2d(weight).
  conv2dWeight: {
    args: ['tensor', 'ints', 'ints', 'ints'],
    shape: (s, a) => conv2dWeightShape(s, shapeOf(a[0]), pair(a[1], 'kernel size', 1), pair(a[2], 'stride', 1), pair(a[3], 'padding', 0)),
    remote: true,
    // Each weight element sums over the batch and the output plane.
    macs: (_s, a, out) => { const g = shapeOf(a[0]); return sizeOf(out) * (g[0] ?? 1) * sizeOf(g.slice(2)); },
  },
  maxPool2d: { args: ['ints', 'ints', 'ints'], shape: (s, a) => pool2dShape(s, win(a), 'maxPool2d'), remote: true, macs: (_s, a, out) => sizeOf(out) * kernelArea(a[0]) },
  // x.maxPool2dBackward(grad, kernel, stride, padding): d(loss)/dx of x.maxPool2d(...).
  maxPool2dBackward: {
    args: ['tensor', 'ints', 'ints', 'ints'],
    shape: (s, a) => {
      const out = pool2dShape(s, win(a, 1), 'maxPool2dBackward');
      if (!sameShape(out, shapeOf(a[0]))) throw new ShapeError(`maxPool2dBackward: gradient ${formatShape(shapeOf(a[0]))} must be ${formatShape(out)}`);
      return s;
    },
    remote: true,
    macs: (_s, a) => sizeOf(shapeOf(a[0])) * kernelArea(a[1]),
  },
  avgPool2d: { args: ['ints', 'ints', 'ints'], shape: (s, a) => pool2dShape(s, win(a), 'avgPool2d'), remote: true, macs: (_s, a, out) => sizeOf(out) * kernelArea(a[0]) },
  // x.linear(weight, bias) = x @ weight^T + bias, PyTorch's F.linear.
  linear: { args: ['tensor', 'tensor?'], shape: linearShape, remote: true, macs: (s, _a, out) => sizeOf(out) * (s[s.length - 1] ?? 1) },

  // ---- classification ---------------------------------------------------------------------
  logSoftmax: { args: ['int'], shape: softmaxShape, remote: true },
  softmax: { args: ['int'], shape: softmaxShape, remote: true },
  // x.gather(dim, index), PyTorch's; the index is public (integers, or floats holding integers).
  gather: { args: ['int', 'tensor'], shape: (s, a) => gatherShape(s, a[0], shapeOf(a[1]), 'gather'), remote: true },
  // x.scatterAdd(dim, index, src): a copy of x with src added at index along dim (gather's adjoint).
  scatterAdd: {
    args: ['int', 'tensor', 'tensor'],
    shape: (s, a) => {
      const idx = gatherShape(s, a[0], shapeOf(a[1]), 'scatterAdd');
      if (!sameShape(idx, shapeOf(a[2]))) throw new ShapeError(`scatterAdd: source ${formatShape(shapeOf(a[2]))} must have the index's shape ${formatShape(idx)}`);
      return s;
    },
    remote: true,
  },
  // A dropout mask like x: 0 with probability p, else 1/(1-p), drawn from a seeded generator.
  dropoutMask: { args: ['number', 'int'], shape: dropoutShape, remote: true },
};

/** The spec of a remote op, or a clear error. */
export function opSpec(name: string): OpSpec {
  const s = Object.hasOwn(OPS, name) ? OPS[name] : undefined;
  if (!s) throw new ShapeError(`unknown op '${name}'`);
  return s;
}
