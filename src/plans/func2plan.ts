/**
 * `sy.func2plan`: a plan of a function, or of an `nn` module (PySyft 0.2's `func2plan`).
 */
import { ValueError } from '../errors.js';
import { Module } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import { Plan, type PlanOptions, attachFunction } from './plan.js';

/**
 * Makes a plan of a function (PySyft's `func2plan`), or of a module (its parameters are the
 * plan's state). With `argShapes` the plan is built at once.
 *
 * @example
 * ```ts
 * const planAbs = sy.func2plan((x: sy.Tensor, state: sy.PlanState) => {
 *   const [bias] = state.read();
 *   return x.abs().add(bias!);
 * }, { argShapes: [[1]], state: [sy.tensor([1])] });
 * planAbs(sy.tensor([-1, 0]));   // tensor([2., 1.])
 * ```
 */
export function func2plan(fn: ((...args: never[]) => unknown) | Module, opts: PlanOptions = {}): Plan {
  if (opts === null || typeof opts !== 'object') throw new ValueError('func2plan options must be an object');
  for (const k of Object.keys(opts)) {
    if (!['argShapes', 'state', 'name'].includes(k)) throw new ValueError(`func2plan: unknown option '${k}' (use argShapes, state or name)`);
  }
  let plan: Plan;
  if (fn instanceof Module) {
    if (opts.state) throw new ValueError('func2plan(module): the module\'s parameters are the state; do not pass state');
    const model = fn;
    plan = new Plan({ name: opts.name ?? model.constructor.name });
    attachFunction(plan, ((x: Tensor) => model.forward(x)) as (...args: never[]) => unknown);
    Object.defineProperty(plan, 'model', { value: model, enumerable: true });
  } else {
    if (typeof fn !== 'function') throw new ValueError('func2plan needs a function or an nn module');
    plan = new Plan({ name: opts.name ?? (fn.name || 'plan'), ...(opts.state ? { state: opts.state } : {}) });
    attachFunction(plan, fn);
  }
  if (opts.argShapes !== undefined) plan.buildFromShapes(opts.argShapes);
  return plan;
}
