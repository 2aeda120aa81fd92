/**
 * The tensor ops a worker runs for others: every op of the layer interface, the autograd
 * hooks, and the two halves of `move()`. Each checks its arguments before it runs.
 */
import { ValueError } from '../errors.js';
import type { AbstractTensor } from '../tensors/abstract.js';
import { AutogradTensor, copyLayer } from '../tensors/autograd.js';
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
  argString,
  registerCommand,
  selfLayer,
} from './commands.js';
import { decodeObject, encodeObject } from './codec.js';
import type { WireValue } from './messages.js';
import { handOver } from './worker.js';

type Run = (t: AbstractTensor, args: readonly WireValue[], ctx: CommandContext) => AbstractTensor;

function op(name: string, run: Run): void {
  registerCommand(name, { results: 1, needsSelf: true, run: (ctx, self, args) => run(selfLayer(self), args, ctx) });
}

function effect(name: string, run: (t: AbstractTensor, args: readonly WireValue[], ctx: CommandContext) => void): void {
  registerCommand(name, { results: 0, needsSelf: true, run: (ctx, self, args) => run(selfLayer(self), args, ctx) });
}

for (const name of ['add', 'sub', 'mul', 'div', 'eq', 'gt', 'lt', 'ge', 'le'] as const) {
  op(name, (t, a, ctx) => t[name](argOperand(ctx, a[0])));
}
for (const name of ['neg', 'exp', 'log', 'sqrt', 'abs', 'relu', 'sigmoid', 'tanh', 'clone'] as const) {
  op(name, (t) => t[name]());
}
op('pow', (t, a) => t.pow(argNumber(a[0], 'exponent')));
op('matmul', (t, a, ctx) => t.matmul(argLayer(ctx, a[0])));
// A public left factor brought along by value: o @ self.
op('rmatmul', (t, a, ctx) => argLayer(ctx, a[0]).matmul(t));
op('sum', (t, a) => t.sum(argDims(a[0]), argBool(a[1], 'keepDim')));
op('mean', (t, a) => t.mean(argDims(a[0]), argBool(a[1], 'keepDim')));
op('max', (t, a) => t.max(argOptInt(a[0], 'dim'), argBool(a[1], 'keepDim')));
op('argmax', (t, a) => t.argmax(argOptInt(a[0], 'dim'), argBool(a[1], 'keepDim')));
op('reshape', (t, a) => t.reshape(argInts(a[0], 'shape')));
op('broadcastTo', (t, a) => t.broadcastTo(argInts(a[0], 'shape')));
op('transpose', (t, a) => t.transpose(a[0] === null ? undefined : argInts(a[0], 'perm')));
op('slice', (t, a) => t.slice(argInt(a[0], 'start'), argOptInt(a[1], 'end'), argInt(a[2], 'dim')));
op('pad', (t, a) => t.pad(argInt(a[0], 'dim'), argInt(a[1], 'before'), argInt(a[2], 'after')));
op('oneHot', (t, a) => t.oneHot(argInt(a[0], 'numClasses')));
op('fullLike', (t, a) => t.fullLike(argNumber(a[0], 'value')));
op('copy', (t) => copyLayer(t));

// ---- autograd -------------------------------------------------------------------------------

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
  if (t instanceof AutogradTensor) t.requiresGrad = on;
  else if (on) ctx.replace(ctx.selfId!, new AutogradTensor(t, { requiresGrad: true }));
});

// ---- move(): the source sends the object straight to the destination ------------------------

registerCommand('sendTo', {
  results: 0,
  needsSelf: true,
  run(ctx, self, args) {
    const to = argString(args[0], 'destination', 64);
    const session = argString(args[1], 'session', 32);
    const obj = self as object;
    const node = encodeObject(obj);
    ctx.send(to, session, 'move', node);
    ctx.forget(ctx.selfId!);
    handOver(obj);
  },
});

registerCommand('recvFrom', {
  results: 1,
  needsSelf: false,
  async run(ctx, _self, args) {
    const from = argString(args[0], 'source', 64);
    const session = argString(args[1], 'session', 32);
    const node = await ctx.recv(from, session, 'move');
    return decodeObject(node, { worker: ctx.worker });
  },
});
