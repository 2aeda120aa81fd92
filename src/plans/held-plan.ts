/**
 * The plan a worker holds: one worker's program, the tensors kept with it, and the salts of the
 * runs it has served. It travels with the `plan` codec, which checks everything it decodes
 * (program.ts) before the worker stores it, so a worker never holds a plan it would not run.
 */
import { AbstractTensor } from '../layer/abstract.js';
import type { Shape } from '../shapes.js';
import { type Codec, bad, expectFields, expectString } from '../workers/codec.js';
import type { WireNode, WireValue } from '../workers/messages.js';
import { PlanError } from './errors.js';
import { PLAN_LIMITS } from './plan-ops.js';
import { type CheckedProgram, checkProgram, programData } from './program.js';
import { replayShapes, shapesKey } from './replay.js';

/** A worker's part of a plan, ready to run. */
export class PlanObject {
  readonly program: CheckedProgram;
  /** Tensors kept with the plan; actions that update them change them here, for the next run. */
  readonly state: object[];
  /** A name for printing (the plan's, or its function's). */
  readonly name: string;
  readonly #inline: Map<string, Shape>;
  readonly #salts = new Set<string>();
  #checked: string | undefined;

  constructor(program: CheckedProgram, state: object[], name: string, inline: Map<string, Shape>) {
    this.program = program;
    this.state = state;
    this.name = name;
    this.#inline = inline;
  }

  /** The shape of inline argument `j` of action `i`. */
  inlineShape(i: number, j: number): Shape | undefined {
    return this.#inline.get(`${i}:${j}`);
  }

  /** Refuses a salt this plan has already run with (a replay of a run's sessions). */
  useSalt(salt: string | undefined): void {
    if (salt === undefined) return;
    if (this.#salts.has(salt)) throw new PlanError('this run reuses the salt of an earlier run: every run needs a fresh one');
    if (this.#salts.size >= PLAN_LIMITS.salts) this.#salts.delete(this.#salts.values().next().value!);
    this.#salts.add(salt);
  }

  /**
   * Checks, before anything runs, that every action fits the shapes of these inputs, state and
   * externals and that no tensor would exceed the cap (remembered for the last shapes checked).
   */
  checkShapes(known: readonly Shape[]): void {
    const key = shapesKey(known);
    if (key === this.#checked) return;
    replayShapes(this.program, known, (i, j) => this.inlineShape(i, j));
    this.#checked = key;
  }

  toString(): string {
    return `<Plan ${this.name}: ${this.program.actions.length} action(s), ${this.program.inputs} input(s), ${this.program.outputs.length} output(s)>`;
  }
}

/** The shape of a tensor layer, or a PlanError saying what the value is. */
export function shapeOfValue(v: unknown, what: string): Shape {
  if (v instanceof AbstractTensor) return v.shape;
  throw new PlanError(`${what} is not a tensor`);
}

// Inline arguments ({obj: node}) are decoded once when the plan arrives, to check them and to
// know their shapes; each run decodes its own copy.
function inlineShapes(p: CheckedProgram, decode: (n: WireValue) => object): Map<string, Shape> {
  const out = new Map<string, Shape>();
  p.actions.forEach((a, i) =>
    a.args.forEach((v, j) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) return;
      const o = v as Record<string, WireValue>;
      if (Object.keys(o).length !== 1 || !('obj' in o)) return;
      const value = decode(o.obj!);
      if (value instanceof AbstractTensor) out.set(`${i}:${j}`, value.shape);
    }),
  );
  return out;
}

/** Builds the object a worker holds from checked parts (also used on the orchestrator's side). */
export function makePlanObject(data: unknown, state: object[], name: string, decode: (n: WireValue) => object): PlanObject {
  const program = checkProgram(data);
  if (state.length !== program.state) throw new PlanError(`the plan keeps ${program.state} state tensor(s) but brings ${state.length}`);
  return new PlanObject(program, state, name, inlineShapes(program, decode));
}

export const planCodec: Codec<PlanObject> = {
  type: 'plan',
  cls: PlanObject,
  encode: (p, child) => ({
    type: 'plan',
    name: p.name,
    program: programData(p.program) as unknown as WireValue,
    state: p.state.map((s) => child(s)),
  }),
  decode(node: WireNode, child) {
    expectFields(node, ['name', 'program', 'state']);
    const name = expectString('plan', node.name, 128);
    if (!Array.isArray(node.state) || node.state.length > PLAN_LIMITS.state) bad('plan', `state must be a list of at most ${PLAN_LIMITS.state} tensors`);
    const state = node.state.map((s) => child(s));
    try {
      return makePlanObject(node.program, state, name, child);
    } catch (e) {
      bad('plan', (e as Error).message);
    }
  },
};
