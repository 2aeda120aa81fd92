/**
 * The shape of every slot of a program, computed from the shapes of its inputs, state and
 * externals with each command's shape rule (plan-ops.ts), without running anything.
 *
 * A worker replays a plan before each run (cached for inputs of the same shapes) and refuses it
 * when a rule fails or a tensor would exceed the cap; the orchestrator replays it to know the
 * shapes of the results of a plan called with inputs of other shapes than it was built with.
 */
import type { Shape } from '../shapes.js';
import type { WireValue } from '../workers/messages.js';
import { PlanError } from './errors.js';
import { capped, resultShapes } from './plan-ops.js';
import { type CheckedProgram, refOf } from './program.js';

/** The shape of an inline argument (`{obj: node}`) of action `i`, argument `j`. */
export type InlineShape = (i: number, j: number) => Shape | undefined;

/** Shapes of every slot, in slot order. Throws a PlanError naming the action that does not fit. */
export function replayShapes(p: CheckedProgram, known: readonly Shape[], inline: InlineShape): Shape[] {
  const base = p.inputs + p.state + p.externals.length;
  if (known.length !== base) throw new PlanError(`replaying a plan needs ${base} shapes, got ${known.length}`);
  const shapes: Shape[] = known.map((s, i) => capped(s, `input slot ${i}`));
  p.actions.forEach((a, i) => {
    const shapeOf = (v: WireValue | undefined): Shape | undefined => {
      const r = refOf(v);
      if (r !== undefined) return shapes[r];
      const j = a.args.indexOf(v as WireValue);
      return j >= 0 ? inline(i, j) : undefined;
    };
    let out: ReturnType<typeof resultShapes>;
    try {
      out = resultShapes(a.op, a.self === undefined ? undefined : shapes[a.self], a.args, shapeOf);
    } catch (e) {
      throw new PlanError(`plan action ${i} ('${a.op}') does not fit its inputs: ${(e as Error).message}`);
    }
    if (out.results.length !== a.ret.length) throw new PlanError(`plan action ${i} ('${a.op}') has ${a.ret.length} result(s), its rule ${out.results.length}`);
    a.ret.forEach((slot, k) => (shapes[slot] = out.results[k]!));
    if (out.selfAfter && a.self !== undefined) shapes[a.self] = out.selfAfter;
  });
  return shapes;
}

/** A key for a list of shapes (to cache replays). */
export function shapesKey(shapes: readonly Shape[]): string {
  return shapes.map((s) => s.join(',')).join(';');
}
