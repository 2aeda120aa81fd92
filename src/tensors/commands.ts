/**
 * The tensor ops a worker runs for others. Every op of the table (src/layer/ops.ts) marked
 * `remote` is registered from the table: its arguments are decoded by their declared kinds and
 * its shape rule runs before the op, so a command whose arguments do not fit is refused before
 * anything is computed or allocated. Below them, the autograd hooks a pointer forwards.
 */
import { ValueError } from '../errors.js';
import type { AbstractTensor } from '../layer/abstract.js';
import { OPS, type OpArg, isUnaryOp } from '../layer/ops.js';
import {
  type CommandContext,
  argBool,
  argLayer,
  argOperand,
  type CommandSpec,
  decodeOpArg,
  selfLayer,
} from '../workers/commands.js';
import { within } from '../workers/limits.js';
import type { WireValue } from '../workers/messages.js';
import { formatShape, sizeOf } from '../shapes.js';
import { AutogradTensor, copyLayer } from './autograd.js';
import { forwardToPointee } from './chains.js';

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
      const reader = { tensor: (v: WireValue | undefined, what: string) => argLayer(ctx, v, what), operand: (v: WireValue | undefined) => argOperand(ctx, v) };
      const args = spec.args.map((kind, i) => decodeOpArg(kind, wire[i], `argument ${i + 1} of '${name}'`, reader));
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
