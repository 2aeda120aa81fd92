/**
 * The worker's side of running a plan: `plan.run<k>` on a held plan, with the run's inputs by
 * reference and a fresh salt, filling the k result ids of the message (one command per count of
 * results, as a command's result count is fixed; k is at most PLAN_LIMITS.outputs).
 *
 * Args: [[{ref: id}, ...inputs], salt | null]. The inputs and the plan's externals are looked
 * up in the worker's store as any command's arguments are (a failed input fails the run with its
 * own error), the whole plan is checked against their shapes before anything runs, and then its
 * actions run in order (execute.ts).
 */
import { AbstractTensor } from '../layer/abstract.js';
import type { CommandSpec } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';
import { PlanError } from './errors.js';
import { execute } from './execute.js';
import { PlanObject, shapeOfValue } from './held-plan.js';
import { PLAN_LIMITS } from './plan-ops.js';

/** The command that runs a plan returning `k` results. */
export function runCommandName(k: number): string {
  return `plan.run${k}`;
}

const SALT_RE = /^[0-9a-f]{32}$/;

function runSpec(k: number): CommandSpec {
  return {
    results: k,
    needsSelf: true,
    run(ctx, self, args) {
      if (!(self instanceof PlanObject)) throw new PlanError('the target of a plan run is not a plan: send the plan to this worker first');
      const p = self.program;
      if (p.outputs.length !== k) throw new PlanError(`this plan returns ${p.outputs.length} result(s), not ${k}`);
      if (args.length !== 2) throw new PlanError('a plan run takes its inputs and a salt');
      const refs = args[0];
      if (!Array.isArray(refs) || refs.length !== p.inputs) throw new PlanError(`this plan takes ${p.inputs} input(s)`);
      const salt = args[1];
      if (salt !== null && (typeof salt !== 'string' || !SALT_RE.test(salt))) throw new PlanError('the salt must be 32 hex characters');
      const inputs = refs.map((r, i) => {
        const v = ctx.arg(r);
        shapeOfValue(v, `input ${i}`);
        return v as object;
      });
      const externals = p.externals.map((id) => ctx.arg({ ref: id } as WireValue) as object);
      self.checkShapes([
        ...inputs.map((v, i) => shapeOfValue(v, `input ${i}`)),
        ...self.state.map((v, i) => shapeOfValue(v, `state tensor ${i}`)),
        ...externals.map((v, i) => (v instanceof AbstractTensor ? v.shape : shapeOfValue(v, `object ${p.externals[i]}`))),
      ]);
      self.useSalt(salt ?? undefined);
      const out = execute(p, { worker: ctx.worker, from: ctx.from, inputs, state: self.state, externals, outer: ctx, ...(salt === null ? {} : { salt }) });
      const shape = (o: object[]) => (k === 0 ? undefined : k === 1 ? o[0] : o);
      return out instanceof Promise ? out.then(shape) : shape(out);
    },
  };
}

/** The commands this folder adds to a worker's allow-list (registered by src/registry.ts). */
export const planCommands: Record<string, CommandSpec> = {};
for (let k = 0; k <= PLAN_LIMITS.outputs; k++) planCommands[runCommandName(k)] = runSpec(k);
