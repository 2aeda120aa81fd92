/**
 * Runs a checked program through the worker's own command dispatch: every action is the
 * allow-listed command it names, run with a context that resolves the plan's slots, so it checks
 * its arguments and shape rule exactly as it does when it arrives in a message of its own.
 *
 * Per run:
 * - intermediates live in the run's slots, never in the worker's store, and each is dropped
 *   after its last use (the program knows when);
 * - every recorded protocol session s becomes s XOR salt, where the salt is a fresh 128-bit
 *   random value each run message carries: every party (and the dealer) of the run derives the
 *   same sessions, and no two runs share one, so no protocol value of one run can be taken for
 *   another's. The dealer's seeds and the parties' refresh seeds are drawn afresh by the commands
 *   themselves, on every run;
 * - the results are stored by the worker under the ids the run message names, fresh each run.
 * Commands run one after another, as the worker runs a queue of messages; a protocol step waits
 * for its peers as it would op by op.
 */
import { ProtocolError, SyftError, WireFormatError } from '../errors.js';
import { decodeObject } from '../workers/codec.js';
import { type CommandContext, type CommandSpec, getCommand } from '../workers/commands.js';
import type { ObjectId, WireValue } from '../workers/messages.js';
import type { Worker } from '../workers/worker.js';
import { BundledChannel } from './bundle.js';
import { PlanError } from './errors.js';
import { type CheckedProgram, refOf, sessionRefOf } from './program.js';

/** What one run works with. */
export interface RunEnv {
  worker: Worker;
  /** Who asked for the run. */
  from: string;
  /** The inputs, resolved. */
  inputs: readonly object[];
  /** The plan's state: changed in place by the actions that update it (and kept for the next run). */
  state: object[];
  /** The worker's objects the plan refers to, resolved, and their ids in the worker's store. */
  externals: readonly object[];
  /** The command context of the run message, on a worker (absent when a plan runs locally). */
  outer?: CommandContext;
  /** 32 hex characters, fresh per run (required when the program has sessions). */
  salt?: string;
}

const HEX = '0123456789abcdef';

/** XOR a run's salt: the session of the run's bundles of protocol values (bundle.ts). */
const BUNDLE_SESSION = 'b0d1e5b0d1e5b0d1e5b0d1e5b0d1e5b0';

/** s XOR salt, both 32 hex characters. */
export function saltSession(s: string, salt: string): string {
  let out = '';
  for (let i = 0; i < 32; i++) out += HEX[parseInt(s[i]!, 16) ^ parseInt(salt[i]!, 16)]!;
  return out;
}

function noProtocols(): never {
  throw new ProtocolError('this plan runs a protocol step, which needs workers: send it (or build it over shared values) instead of running it here');
}

/** Prefixes an error with where in the plan it happened (errors carried from failed inputs stay as they are). */
function located(e: unknown, i: number, op: string): unknown {
  if (e instanceof SyftError && e.name === 'InputFailed') return e;
  if (e instanceof Error && !e.message.startsWith('plan action')) e.message = `plan action ${i} ('${op}'): ${e.message}`;
  return e;
}

/**
 * Runs `p`; returns its outputs (at once when every command is synchronous, else a promise).
 */
export function execute(p: CheckedProgram, env: RunEnv): object[] | Promise<object[]> {
  if (env.inputs.length !== p.inputs) throw new PlanError(`this plan takes ${p.inputs} input(s), got ${env.inputs.length}`);
  if (env.state.length !== p.state) throw new PlanError(`this plan keeps ${p.state} state tensor(s), got ${env.state.length}`);
  if (env.externals.length !== p.externals.length) throw new PlanError('the plan\'s objects on this worker were not all resolved');
  if (p.sessions.length > 0 && env.salt === undefined) throw new PlanError('this plan runs protocols: a run needs a fresh salt');
  const sessions = env.salt === undefined ? p.sessions : p.sessions.map((s) => saltSession(s, env.salt!));
  const values: (object | undefined)[] = new Array(p.slots);
  env.inputs.forEach((v, i) => (values[i] = v));
  env.state.forEach((v, i) => (values[p.inputs + i] = v));
  env.externals.forEach((v, i) => (values[p.inputs + p.state + i] = v));
  const stateEnd = p.inputs + p.state;
  const externalEnd = stateEnd + p.externals.length;
  const specs = p.actions.map((a) => getCommand(a.op));
  const { outer, worker } = env;
  // Protocol values go out bundled, one frame per peer per turn (bundle.ts), on every worker of a run.
  const channel = outer && env.salt !== undefined ? new BundledChannel(outer, saltSession(BUNDLE_SESSION, env.salt)) : outer;

  const read = (slot: number): object => {
    const v = values[slot];
    if (v === undefined) throw new PlanError(`slot ${slot} is read after it was dropped`);
    return v;
  };
  const arg = (v: WireValue | undefined): unknown => {
    const r = refOf(v);
    if (r !== undefined) return read(r);
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      const o = v as Record<string, WireValue>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === 'obj') return decodeObject(o.obj!, { worker });
    }
    return v;
  };
  const replace = (slot: ObjectId, value: object): void => {
    if (slot < p.inputs) throw new PlanError('a plan does not change its inputs in place');
    if (slot < stateEnd) env.state[slot - p.inputs] = value;
    else if (slot < externalEnd) {
      if (!outer) throw new PlanError('a plan run here has no worker objects to change');
      outer.replace(p.externals[slot - stateEnd]!, value);
    }
    read(slot);
    values[slot] = value;
  };
  const forget = (slot: ObjectId): void => {
    if (slot < p.firstLocal) throw new PlanError('a plan drops only the objects it made');
    values[slot] = undefined;
  };
  // Hands a local on (a command that passes it along); the run no longer holds it.
  const take = (slot: ObjectId): object => {
    if (slot < p.firstLocal) throw new PlanError('a plan hands on only the objects it made');
    const v = read(slot);
    values[slot] = undefined;
    return v;
  };
  const context = (self: number | undefined, ret: readonly number[]): CommandContext => ({
    worker,
    from: env.from,
    selfId: self,
    ret,
    limits: outer ? outer.limits : worker.limits,
    arg,
    replace,
    forget,
    take,
    grant: () => {
      throw new PlanError("a plan's objects live only in its run: it cannot share them with another identity");
    },
    grantPointers: outer ? outer.grantPointers : () => undefined,
    send: channel ? channel.send : noProtocols,
    recv: channel ? channel.recv : noProtocols,
    background: outer ? outer.background : (work) => void work.catch(() => undefined),
  });
  const argsOf = (i: number): WireValue[] => {
    const a = p.actions[i]!;
    const at = p.sessionArgs[i]!;
    if (at.length === 0) return a.args;
    const args = a.args.slice();
    for (const j of at) args[j] = sessions[sessionRefOf(args[j])!]!;
    return args;
  };
  const outputs = new Set(p.outputs);
  const uses = p.uses.slice();
  // Keeps a command's results; drops every local whose last read this was.
  const complete = (i: number, spec: CommandSpec, out: unknown): void => {
    const a = p.actions[i]!;
    if (spec.results > 0) {
      const list = spec.results === 1 ? [out] : (out as unknown[]);
      if (!Array.isArray(list) || list.length !== a.ret.length || !list.every((v) => v !== null && typeof v === 'object')) {
        throw new WireFormatError(`'${a.op}' produced no object to keep`);
      }
      a.ret.forEach((slot, k) => {
        if (uses[slot]! > 0 || outputs.has(slot)) values[slot] = list[k] as object;
      });
    }
    for (const s of p.reads[i]!) if (--uses[s]! === 0 && s >= p.firstLocal && !outputs.has(s)) values[s] = undefined;
  };

  // Dataflow: an action starts once the actions it waits for are done (program.ts says which), so
  // protocol steps that do not depend on each other (the two gradients of a layer) wait on their
  // peers at the same time. Among ready actions the earliest starts first; when every command is
  // synchronous this is the recorded order, and the result comes back at once.
  const n = p.actions.length;
  const waiting = p.after.map((d) => d.length);
  const started = new Uint8Array(n);
  let lowest = 0;
  let finished = 0;
  let failure: { error: unknown } | undefined;
  let settle: { resolve: (v: object[]) => void; reject: (e: unknown) => void } | undefined;
  const done = (i: number) => {
    finished++;
    for (const d of p.before[i]!) waiting[d]!--;
  };
  const fail = (e: unknown, i: number): void => {
    if (failure) return;
    failure = { error: located(e, i, p.actions[i]!.op) };
    settle?.reject(failure.error);
  };
  const pump = (): void => {
    while (lowest < n && started[lowest]) lowest++;
    for (let i = lowest; i < n && !failure; i++) {
      if (started[i] || waiting[i]! > 0) continue;
      started[i] = 1;
      const a = p.actions[i]!;
      const spec = specs[i];
      let out: unknown;
      try {
        if (!spec) throw new PlanError(`'${a.op}' is not registered in this process`);
        out = spec.run(context(a.self, a.ret), a.self === undefined ? undefined : read(a.self), argsOf(i));
        if (!(out instanceof Promise)) {
          complete(i, spec, out);
          done(i);
          continue;
        }
      } catch (e) {
        fail(e, i);
        return;
      }
      out.then(
        (v) => {
          if (failure) return;
          try {
            complete(i, spec!, v);
          } catch (e) {
            fail(e, i);
            return;
          }
          done(i);
          pump();
        },
        (e: unknown) => fail(e, i),
      );
    }
    if (!failure && finished === n) settle?.resolve(p.outputs.map(read));
  };
  pump();
  if (failure) throw failure.error;
  if (finished === n) return p.outputs.map(read);
  return new Promise<object[]>((resolve, reject) => {
    settle = { resolve, reject };
  });
}
