/**
 * A plan as lines a person can read (PySyft's `readable_plan`): each action as
 * `%result = %target.op(arguments)`, slots by number, sessions by index, inline tensors elided.
 */
import type { PlanObject } from './held-plan.js';
import { refOf, sessionRefOf } from './program.js';

function describeArg(v: unknown): string {
  const r = refOf(v as never);
  if (r !== undefined) return `%${r}`;
  const s = sessionRefOf(v as never);
  if (s !== undefined) return `session#${s}`;
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'obj' in (v as object)) return '<tensor>';
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

export function describeProgram(obj: PlanObject): string[] {
  const p = obj.program;
  const lines = p.actions.map((a) => {
    const target = a.self === undefined ? '' : `%${a.self}.`;
    const lhs = a.ret.length ? `${a.ret.map((r) => `%${r}`).join(', ')} = ` : '';
    return `${lhs}${target}${a.op}(${a.args.map(describeArg).join(', ')})`;
  });
  return [`inputs %0..%${p.inputs - 1}, state ${p.state}, worker objects ${p.externals.length}`, ...lines, `return ${p.outputs.map((o) => `%${o}`).join(', ')}`];
}

