/**
 * The tensor ops a worker runs for others. Every op of the table (src/layer/ops.ts) marked
 * `remote` is registered from the table: its arguments are decoded by their declared kinds and
 * its shape rule runs before the op, so a command whose arguments do not fit is refused before
 * anything is computed or allocated. Below them, the autograd hooks a pointer forwards.
 */
import { ValueError } from '../errors.js';
import type { AbstractTensor } from '../layer/abstract.js';
import { type ArgKind, MAX_INDEX_COUNT, OPS, type OpArg, isUnaryOp } from '../layer/ops.js';
import {
  type CommandContext,
  argBool,
  argDims,
  argInt,
  argInts,
  argLayer,
  argNumber,
  argOperand,
  argOptInt,
  type CommandSpec,
  selfLayer,
} from '../workers/commands.js';
import { within } from '../workers/limits.js';
import type { WireValue } from '../workers/messages.js';
import { formatShape, sizeOf } from '../shapes.js';
import { AutogradTensor, copyLayer } from './autograd.js';
import { forwardToPointee } from './chains.js';

function decodeArg(kind: ArgKind, v: WireValue | undefined, ctx: CommandContext, what: string): OpArg {
  switch (kind) {
    case 'operand': return argOperand(ctx, v);
    case 'tensor': return argLayer(ctx, v, what);
    case 'tensor?': return v === null || v === undefined ? undefined : argLayer(ctx, v, what);
    case 'number': return argNumber(v, what);
    case 'int': return argInt(v, what);
    case 'int?': return argOptInt(v, what);
    case 'bool': return argBool(v, what);
    case 'ints': return argInts(v, what);
    case 'ints?': return v === null || v === undefined ? undefined : argInts(v, what);
    case 'dims': return argDims(v);
    case 'index': return argIndex(v, what);
  }
}

// Indices travel as an Int32Array; their range is the op's shape rule's to check.
function argIndex(v: WireValue | undefined, what: string): Int32Array {
  if (!(v instanceof Int32Array)) throw new ValueError(`${what} must be an Int32Array of indices`);
  if (v.length > MAX_INDEX_COUNT) throw new ValueError(`${what} holds ${v.length} indices, more than ${MAX_INDEX_COUNT}`);
  return v;
}

/** Runs a table op on a layer by name. */
export function callOp(t: AbstractTensor, op: string, args: readonly OpArg[]): AbstractTensor {
  if (isUnaryOp(op)) return t.unary(op);
  const method = (t as unknown as Record<string, (...a: OpArg[]) => AbstractTensor>)[op];
  return method.apply(t, args.map((a) => (a === null ? undefined : a)));
}

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const tensorCommands: Record<string, CommandSpec> = {};

for (const [name, spec] of Object.entries(OPS)) {
  if (!spec.remote) continue;
  tensorCommands[name] = {
    results: 1,
    needsSelf: true,
    run(ctx, self, wire) {
      const t = selfLayer(self);
      if (wire.length > spec.args.length) throw new ValueError(`'${name}' takes ${spec.args.length} argument(s), got ${wire.length}`);
      const args = spec.args.map((kind, i) => decodeArg(kind, wire[i], ctx, `argument ${i + 1} of '${name}'`));
      // The shape rule checks the arguments and sizes the result before anything is allocated.
      const out = spec.shape(t.shape, args);
      within(ctx.limits, 'maxElementsPerOp', sizeOf(out), `the ${formatShape(out)} result of '${name}'`);
      if (spec.macs) within(ctx.limits, 'maxMacsPerOp', spec.macs(t.shape, args, out), `the multiply-adds of '${name}'`);
      return callOp(t, name, args);
    },
  };
}

// ---- copies and autograd ---------------------------------------------------------------------

type Run = (t: AbstractTensor, args: readonly WireValue[], ctx: CommandContext) => AbstractTensor;

function op(name: string, run: Run): void {
  tensorCommands[name] = { results: 1, needsSelf: true, run: (ctx, self, args) => run(selfLayer(self), args, ctx) };
}

function effect(name: string, run: (t: AbstractTensor, args: readonly WireValue[], ctx: CommandContext) => void): void {
  tensorCommands[name] = { results: 0, needsSelf: true, run: (ctx, self, args) => run(selfLayer(self), args, ctx) };
}

op('copy', (t) => copyLayer(t));
effect('backward', (t, a, ctx) => t.backward(a[0] === null ? undefined : argLayer(ctx, a[0], 'gradient')));
op('grad', (t) => {
  const g = t.gradLayer();
  if (!g) throw new ValueError('this tensor has no gradient yet: call backward() on a result computed from it first');
  return g;
});
effect('setGrad', (t, a, ctx) => t.setGradLayer(a[0] === null ? undefined : argLayer(ctx, a[0], 'gradient')));
op('data', (t) => t.dataLayer());
effect('assign_', (t, a, ctx) => {
  const src = argLayer(ctx, a[0], 'source');
  try {
    t.assign_(src);
  } catch (e) {
    // Leaves without a mutable slot (ring shares) are replaced in the store: same id, new value.
    if (src.constructor !== t.constructor) throw e;
    ctx.replace(ctx.selfId!, src);
  }
});
effect('requiresGrad_', (t, a, ctx) => {
  const on = argBool(a[0], 'requiresGrad');
  if (forwardToPointee(t, 'requiresGrad_', [on], 0) === null) return; // a chain: where the data is
  if (t instanceof AutogradTensor) t.requiresGrad = on;
  else if (on) ctx.replace(ctx.selfId!, new AutogradTensor(t, { requiresGrad: true }));
});
