/**
 * What a plan keeps and is built on: its state (func2plan's `state`, or the tensors and the
 * modules' parameters in a class plan's fields) and the argument shapes func2plan builds from.
 */
import { ValueError } from '../errors.js';
import { Module } from '../nn/module.js';
import type { Shape } from '../shapes.js';
import { Tensor } from '../tensor.js';

/** The tensors kept with a plan (PySyft's `plan.state`). */
export class PlanState {
  constructor(readonly tensors: readonly Tensor[]) {}

  /** The state tensors, in order (PySyft's `state.read()`). */
  read(): Tensor[] {
    return [...this.tensors];
  }
}

/** Checks func2plan's `argShapes` (positive sizes, -1 for any) and gives the shapes to build on. */
export function checkArgShapes(shapes: readonly (readonly number[])[]): Shape[] {
  if (!Array.isArray(shapes)) throw new ValueError('argShapes must be a list of shapes, one per argument');
  return shapes.map((s, i) => {
    if (!Array.isArray(s) || s.length > 16 || !s.every((d) => Number.isSafeInteger(d) && (d >= 1 || d === -1))) {
      throw new ValueError(`argShapes[${i}] must be a list of positive sizes (or -1 for any size), got ${JSON.stringify(s)}`);
    }
    return s.map((d) => (d === -1 ? 1 : d));
  });
}

/** Collects the tensors in a plan's field value: tensors, modules' parameters, arrays of them. */
export function tensorsIn(v: unknown, out: Tensor[], seen: Set<unknown>): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (v instanceof Tensor) {
    if (!out.includes(v)) out.push(v);
  } else if (v instanceof Module) {
    for (const p of v.parameters()) if (!out.includes(p)) out.push(p);
  } else if (Array.isArray(v)) {
    for (const x of v) tensorsIn(x, out, seen);
  }
}

