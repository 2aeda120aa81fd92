/**
 * The layer structure of a plan's arguments and results, with pointers as numbered leaves.
 *
 * A plan over shared values is called with other tensors of the same structure (fixed precision
 * over shares on the same workers, of the same shapes): each argument is matched against the
 * template of the argument it was built with, and its pointers give the run's inputs, worker by
 * worker. Results come back as the same chains they were traced as, with fresh pointers.
 */
import { AbstractTensor } from '../layer/abstract.js';
import { type Shape, sameShape } from '../shapes.js';
import { AdditiveSharingTensor } from '../tensors/additive-sharing.js';
import { AutogradTensor } from '../tensors/autograd.js';
import { FixedPrecisionTensor } from '../tensors/fixed-precision.js';
import { PointerTensor } from '../tensors/pointer.js';
import type { RemoteWorker } from '../workers/worker.js';
import { PlanError } from './errors.js';

export type Template =
  | { kind: 'pointer'; worker: string; index: number; shape: Shape; fixedPrecision?: { base: number; precisionFractional: number } }
  | { kind: 'fpt'; base: number; precision: number; child: Template }
  | { kind: 'ast'; provider: string | undefined; shares: Template[] }
  | { kind: 'autograd'; requiresGrad: boolean; child: Template };

/** The template of `t`; `leaf` numbers each pointer (its position in its worker's list). */
export function describe(t: AbstractTensor, leaf: (p: PointerTensor) => number, what: string): Template {
  if (t instanceof PointerTensor) {
    const out: Template = { kind: 'pointer', worker: t.location.id, index: leaf(t), shape: [...t.shape] };
    if (t.fixedPrecision) out.fixedPrecision = { ...t.fixedPrecision };
    return out;
  }
  if (t instanceof AutogradTensor) return { kind: 'autograd', requiresGrad: t.requiresGrad && t.isLeaf, child: describe(t.child, leaf, what) };
  if (t instanceof FixedPrecisionTensor) return { kind: 'fpt', base: t.base, precision: t.precisionFractional, child: describe(t.child, leaf, what) };
  if (t instanceof AdditiveSharingTensor) return { kind: 'ast', provider: t.cryptoProvider?.id, shares: t.shares.map((s) => describe(s, leaf, what)) };
  throw new PlanError(`${what} is a ${t.layerName} held here; a plan over workers takes remote or shared tensors`);
}

/** Every pointer leaf of a template, in order. */
export function leaves(t: Template): Extract<Template, { kind: 'pointer' }>[] {
  if (t.kind === 'pointer') return [t];
  if (t.kind === 'ast') return t.shares.flatMap(leaves);
  return leaves(t.child);
}

function shapeText(s: Shape): string {
  return `[${s.join(', ')}]`;
}

/**
 * Matches `t` against `tmpl` and calls `visit` with each pointer and its leaf. `where` maps a
 * template's worker to the worker the run expects (the same one, for plans over workers).
 */
export function match(
  tmpl: Template,
  t: AbstractTensor,
  visit: (leaf: Extract<Template, { kind: 'pointer' }>, p: PointerTensor) => void,
  what: string,
  where: (worker: string) => string = (w) => w,
): void {
  const wrong = (why: string): never => {
    throw new PlanError(`${what} does not match what the plan was built with: ${why}; build the plan again for it`);
  };
  switch (tmpl.kind) {
    case 'pointer':
      if (!(t instanceof PointerTensor)) return wrong(`a pointer was expected, got a ${t.layerName}`);
      if (t.location.id !== where(tmpl.worker)) return wrong(`it is on '${t.location.id}', the plan expects '${where(tmpl.worker)}'`);
      if (!sameShape(t.shape, tmpl.shape)) return wrong(`its shape is ${shapeText(t.shape)}, the plan was built for ${shapeText(tmpl.shape)}`);
      return visit(tmpl, t);
    case 'autograd':
      if (!(t instanceof AutogradTensor)) return match(tmpl.child, t, visit, what, where);
      return match(tmpl.child, t.child, visit, what, where);
    case 'fpt':
      if (!(t instanceof FixedPrecisionTensor)) return wrong('a fixed-precision tensor was expected');
      if (t.base !== tmpl.base || t.precisionFractional !== tmpl.precision) return wrong('its fixed-precision settings differ');
      return match(tmpl.child, t.child, visit, what, where);
    case 'ast':
      if (!(t instanceof AdditiveSharingTensor)) return wrong('a shared tensor was expected');
      if (t.shares.length !== tmpl.shares.length) return wrong(`it has ${t.shares.length} shares, the plan ${tmpl.shares.length}`);
      if ((t.cryptoProvider?.id ?? undefined) !== tmpl.provider) return wrong('its crypto provider differs');
      return tmpl.shares.forEach((s, i) => match(s, t.shares[i]!, visit, what, where));
  }
}

/** Rebuilds the chain of a template with `leaf` making each pointer. */
export function rebuild(
  tmpl: Template,
  leaf: (l: Extract<Template, { kind: 'pointer' }>) => PointerTensor,
  worker: (id: string) => RemoteWorker,
): AbstractTensor {
  switch (tmpl.kind) {
    case 'pointer': {
      const p = leaf(tmpl);
      if (tmpl.fixedPrecision) p.fixedPrecision = { ...tmpl.fixedPrecision };
      return p;
    }
    case 'autograd':
      return new AutogradTensor(rebuild(tmpl.child, leaf, worker), { requiresGrad: tmpl.requiresGrad });
    case 'fpt':
      return new FixedPrecisionTensor(rebuild(tmpl.child, leaf, worker), tmpl.base, tmpl.precision);
    case 'ast':
      return new AdditiveSharingTensor(
        tmpl.shares.map((s) => rebuild(s, leaf, worker) as PointerTensor),
        tmpl.provider === undefined ? undefined : worker(tmpl.provider),
      );
  }
}

/** Whether a layer chain holds no pointer (all its numbers are here). */
export function isLocalChain(t: AbstractTensor): boolean {
  for (const l of t.layers()) if (l instanceof PointerTensor || l.layerName === 'PaillierTensor') return false;
  return true;
}

export { AbstractTensor };
