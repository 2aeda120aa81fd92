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
 * - `FloatTensor` runs a unary op with the tfjs kernel named by `tf`;
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
  matmulShape,
  padShape,
  reduceDims,
  reduceShape,
  resolveReshape,
  sizeOf,
  sliceShape,
} from '../shapes.js';
import type { AbstractTensor, Operand } from './abstract.js';

// ---- elementwise ops ------------------------------------------------------------------------

/** What a unary op's gradient sees: the input's value and the output, both below autograd. */
export interface UnarySaved {
  x: AbstractTensor;
  out: AbstractTensor;
}

export interface UnarySpec {
  /** The tfjs kernel a float tensor runs (a function name of @tensorflow/tfjs-core). */
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
  neg: { tf: 'neg', grad: (g) => g.neg(), saves: 'none', doc: '-x' },
  exp: { tf: 'exp', grad: (g, s) => g.mul(s.out), saves: 'out', doc: 'e^x' },
  log: { tf: 'log', grad: (g, s) => g.div(s.x), saves: 'x', doc: 'natural logarithm' },
  sqrt: { tf: 'sqrt', grad: (g, s) => g.div(s.out.mul(2)), saves: 'out', doc: 'square root' },
  abs: { tf: 'abs', composite: (x) => x.mul(sign(x)), grad: (g, s) => g.mul(sign(s.x)), saves: 'x', doc: '|x|' },
  sign: { tf: 'sign', composite: sign, doc: '-1 where x < 0, 0 where x = 0, 1 where x > 0' },
  relu: { tf: 'relu', composite: (x) => x.mul(x.gt(0)), grad: (g, s) => g.mul(s.x.gt(0)), saves: 'x', doc: 'max(x, 0)' },
  sigmoid: { tf: 'sigmoid', grad: (g, s) => g.mul(s.out).mul(s.out.neg().add(1)), saves: 'out', doc: '1 / (1 + e^-x)' },
  tanh: { tf: 'tanh', grad: (g, s) => g.mul(s.out.mul(s.out).neg().add(1)), saves: 'out', doc: 'hyperbolic tangent' },
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
  /** The tfjs kernel a float tensor runs. */
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
  add: { tf: 'add', da: (g) => g, db: (g) => g, saves: 'none', doc: 'a + b' },
  sub: { tf: 'sub', da: (g) => g, db: (g) => g.neg(), saves: 'none', doc: 'a - b' },
  mul: { tf: 'mul', da: (g, _a, b) => g.mul(b), db: (g, a) => g.mul(a), saves: 'both', doc: 'a * b' },
  // d(a/b)/db = -a / b^2 (b is a tensor whenever it records gradients).
  div: { tf: 'div', da: (g, _a, b) => g.div(b), db: (g, a, b) => g.mul(a).div((b as AbstractTensor).mul(b)).neg(), saves: 'both', doc: 'a / b' },
  eq: { tf: 'equal', doc: '1 where a = b' },
  gt: { tf: 'greater', doc: '1 where a > b' },
  lt: { tf: 'less', doc: '1 where a < b' },
  ge: { tf: 'greaterEqual', doc: '1 where a >= b' },
  le: { tf: 'lessEqual', doc: '1 where a <= b' },
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
 * - `int?`: an integer or null (omitted);
 * - `ints`: up to 16 integers (a shape, a permutation); `ints?`: that or null;
 * - `dims`: an integer, up to 16 integers, or null (all dims);
 * - `index`: a list of up to {@link MAX_INDEX_COUNT} indices, sent as an Int32Array (the op's
 *   shape rule checks each is in range).
 */
export type ArgKind = 'operand' | 'tensor' | 'number' | 'int' | 'int?' | 'bool' | 'ints' | 'ints?' | 'dims' | 'index';

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

function fromTable<T extends Record<string, unknown>>(table: T, spec: Omit<OpSpec, 'remote'> & { remote?: boolean }): Record<keyof T, OpSpec> {
  return Object.fromEntries(Object.keys(table).map((k) => [k, { remote: true, ...spec }])) as Record<keyof T, OpSpec>;
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
};

/** The spec of a remote op, or a clear error. */
export function opSpec(name: string): OpSpec {
  const s = Object.hasOwn(OPS, name) ? OPS[name] : undefined;
  if (!s) throw new ShapeError(`unknown op '${name}'`);
  return s;
}
