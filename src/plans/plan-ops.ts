/**
 * The commands a plan may hold, with the shape of each one's result.
 *
 * A plan is data: a list of commands of the worker's allow-list. Not every registered command
 * may appear in one, only those listed here: the ops of the op table (src/layer/ops.ts, whose
 * shape rules are reused as they are), the autograd and fixed-precision hooks, and the parties'
 * and dealer's steps of the protocols. Each has a shape rule, so a worker can compute the shape
 * of every tensor a plan would make, from its inputs alone, before it runs anything, and refuse
 * a plan that would allocate more than {@link PLAN_LIMITS}.maxElements for one tensor.
 * Everything else (moving objects away, Paillier, FedAvg, running another plan) is refused:
 * a plan cannot call a plan, itself included.
 */
import { ShapeError } from '../errors.js';
import { OPS, type OpArg } from '../layer/ops.js';
import { type Shape, broadcastShapes, matmulShape, sizeOf } from '../shapes.js';
import { type TensorArgReader, argInt, argInts, argString, decodeOpArg } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';
import { PlanError } from './errors.js';

/** Caps on what one plan may hold or cause. */
export const PLAN_LIMITS = {
  /** Commands in one worker's part of a plan. */
  actions: 50_000,
  /** Tensors kept with the plan (its state and the constants it was traced with). */
  state: 4_096,
  /** Objects of the worker the plan refers to by id (the parameters of a shared model). */
  externals: 10_000,
  /** Protocol sessions of one run. */
  sessions: 50_000,
  /** Arguments and results of one run. */
  inputs: 64,
  outputs: 16,
  /** Elements of any one tensor a plan makes. */
  maxElements: 2 ** 24,
  /** Salts a plan remembers, to refuse a run that reuses one. */
  salts: 65_536,
} as const;

/** An argument as a shape rule sees it: a tensor is only its shape. */
export type ShapeArg = { shape: Shape } | WireValue | undefined;

/** What an argument's shape is, given how a plan refers to it. */
export type ArgShapeOf = (v: WireValue | undefined) => Shape | undefined;

interface PlanRule {
  /** Result shapes (one per result) from the target's shape and the arguments. */
  shapes(self: Shape | undefined, args: readonly WireValue[], shapeOf: ArgShapeOf): Shape[];
  /** Whether the command changes its target (refused on a plan's inputs). */
  mutates?: boolean;
  /** The target's shape after the command, for those that change it. */
  selfAfter?(self: Shape, args: readonly WireValue[], shapeOf: ArgShapeOf): Shape;
}

function tensorShape(v: WireValue | undefined, shapeOf: ArgShapeOf, what: string): Shape {
  const s = shapeOf(v);
  if (!s) throw new ShapeError(`${what} must be a tensor`);
  return s;
}

// An op-table argument is decoded as the worker's allow-list decodes it, with tensors as shapes.
function shapeReader(shapeOf: ArgShapeOf): TensorArgReader {
  const tensor = (v: WireValue | undefined, what: string) => ({ shape: tensorShape(v, shapeOf, what) }) as unknown as OpArg;
  return { tensor, operand: (v, what) => (typeof v === 'number' || typeof v === 'bigint' ? v : tensor(v, what)) };
}

const same: PlanRule = { shapes: (self) => [self!] };
const effect: PlanRule = { shapes: () => [] };

function dealParams(args: readonly WireValue[]): void {
  // Every shape a deal is asked for is capped like the tensors a plan makes.
  for (const a of args.slice(3)) {
    if (Array.isArray(a) && a.every((d) => typeof d === 'number')) capped(a as number[], 'dealer material');
  }
}

const RULES: Record<string, PlanRule> = {
  copy: same,
  data: same,
  grad: same,
  fixPrecision: same,
  floatPrecision: same,
  backward: effect,
  setGrad: { ...effect, mutates: true },
  requiresGrad_: { ...effect, mutates: true, selfAfter: (s) => s },
  assign_: { ...effect, mutates: true, selfAfter: (_s, a, shapeOf) => tensorShape(a[0], shapeOf, 'the source of assign_') },
  'mpc.beaver': {
    shapes(self, args, shapeOf) {
      const y = tensorShape(args[0], shapeOf, 'the second factor');
      const kind = argString(args[1], 'kind', 8);
      if (kind === 'mul') return [broadcastShapes(self!, y)];
      if (kind === 'matmul') return [matmulShape(self!, y)];
      throw new PlanError(`unknown product '${kind}'`);
    },
  },
  'mpc.truncLocal': same,
  'mpc.trunc': same,
  'mpc.msb': same,
  'mpc.relu': { shapes: (self) => [self!, self!] }, // relu and its mask
  'mpc.argmax': {
    shapes(self, args) {
      const k = argInt(args[3], 'width');
      const n = self!.reduce((a, b) => a * b, 1);
      const pairs = (k * (k - 1)) / 2;
      if (k < 2 || n % pairs !== 0) throw new ShapeError(`argmax over width ${k} needs a multiple of ${pairs} pairwise differences`);
      return [[n / pairs]];
    },
  },
  'mpc.refresh': same,
  'mpc.shareSplit': same,
  'mpc.shareOut': effect,
  'mpc.shareIn': {
    shapes(_self, args) {
      const s = argInts(args[2], 'shape');
      if (!s.every((d) => d >= 0)) throw new ShapeError('a shape has non-negative entries');
      return [s];
    },
  },
  'mpc.deal': { shapes: (_s, args) => (dealParams(args), []) },
};

/** Whether `op` may appear in a plan. */
export function isPlannable(op: string): boolean {
  return Object.hasOwn(RULES, op) || (Object.hasOwn(OPS, op) && OPS[op]!.remote);
}

/** Refuses a command that may not appear in a plan, with what is allowed instead. */
export function checkPlannable(op: string): void {
  if (!isPlannable(op)) {
    throw new PlanError(
      `'${op}' cannot be part of a plan: plans hold tensor ops, autograd and fixed-precision hooks and the steps ` +
        'of the secure protocols (run other commands, and other plans, outside of it)',
    );
  }
}

/** Whether `op` changes its target in place. */
export function mutatesTarget(op: string): boolean {
  return RULES[op]?.mutates === true;
}

/** Throws when a tensor of `shape` is larger than a plan may make. */
export function capped(shape: Shape, what: string): Shape {
  const n = sizeOf(shape);
  if (!(n <= PLAN_LIMITS.maxElements)) {
    throw new PlanError(`${what} would have ${n} elements; a plan makes tensors of at most ${PLAN_LIMITS.maxElements}`);
  }
  return shape;
}

/**
 * The shapes of a command's results, and of its target afterwards; throws for arguments that do
 * not fit (the op table's own rules) and for tensors over the cap.
 */
export function resultShapes(
  op: string,
  self: Shape | undefined,
  args: readonly WireValue[],
  shapeOf: ArgShapeOf,
): { results: Shape[]; selfAfter?: Shape } {
  const rule = RULES[op];
  let results: Shape[];
  let selfAfter: Shape | undefined;
  if (rule) {
    results = rule.shapes(self, args, shapeOf);
    if (rule.selfAfter && self) selfAfter = rule.selfAfter(self, args, shapeOf);
  } else {
    const spec = OPS[op]!;
    if (args.length > spec.args.length) throw new PlanError(`'${op}' takes ${spec.args.length} argument(s), got ${args.length}`);
    const reader = shapeReader(shapeOf);
    const decoded = spec.args.map((k, i) => decodeOpArg(k, args[i], `argument ${i + 1} of '${op}'`, reader));
    results = [spec.shape(self!, decoded)];
  }
  for (const r of results) capped(r, `the result of '${op}'`);
  return selfAfter ? { results, selfAfter } : { results };
}
