/**
 * The allow-list of operations a worker runs on behalf of others. A `cmd` message names an op;
 * only ops registered here (by the library, at import time — never from a message) can run.
 * Each op checks its own arguments.
 */
import { ValueError } from '../errors.js';
import { AbstractTensor } from '../layer/abstract.js';
import { type ArgKind, MAX_INDEX_COUNT, type OpArg } from '../layer/ops.js';
import type { WorkerLimits } from './limits.js';
import type { ObjectId, WireValue } from './messages.js';
import type { Worker } from './worker.js';

/** What an op sees while it runs on a worker. */
export interface CommandContext {
  readonly worker: Worker;
  /** Id of the worker that sent the command (authenticated by the transport). */
  readonly from: string;
  /** Id under which `self` is stored, when the command has one. */
  readonly selfId: ObjectId | undefined;
  /** The ids the results will be stored under. */
  readonly ret: readonly ObjectId[];
  /** What one sender may cost the worker: ops check their allocations and work against it. */
  readonly limits: WorkerLimits;
  /** Resolves an argument: `{ref: id}` to the stored object, `{obj: node}` to a decoded copy. */
  arg(v: WireValue | undefined): unknown;
  /** Replaces a stored object in place (same id). */
  replace(id: ObjectId, value: object): void;
  /** Drops a stored object, freeing what it points to. */
  forget(id: ObjectId): void;
  /**
   * Takes a stored object out without freeing what it points to (the command hands it on), as the
   * sender may, or as identity `who` may (a peer whose pointer arrived here).
   */
  take(id: ObjectId, who?: string): object;
  /** Lets identity `to` use the stored object `id`, as the command's sender may (store.ts grants). */
  grant(id: ObjectId, to: string): void;
  /**
   * Lets `to` use what the pointers inside `value` name, at their locations; resolves once every
   * grant has landed (before `value` leaves for `to`, so the pointers work where they arrive);
   * undefined when `value` holds no pointers.
   */
  grantPointers(value: object, to: string): Promise<void> | undefined;
  /** Sends a protocol value to a peer. */
  send(to: string, session: string, tag: string, payload: WireValue): void;
  /** Waits for a protocol value from a peer (times out with a ProtocolError). */
  recv(from: string, session: string, tag: string): Promise<WireValue>;
  /**
   * Work that goes on after the command has returned (it must handle its own errors). The
   * worker does not count as idle until it settles, so a thread worker stays alive for it.
   */
  background(work: Promise<void>): void;
}

export interface CommandSpec {
  /** How many result ids the op fills (the message's `ret` must have exactly this many). */
  results: number;
  /** Whether the op runs on a stored object (`self`). */
  needsSelf: boolean;
  /** Returns the result (one), an array of results (several), or nothing (none). */
  run(ctx: CommandContext, self: unknown, args: readonly WireValue[]): unknown;
}

const commands = new Map<string, CommandSpec>();

/** Adds one op to the allow-list. Registering the same spec twice is a no-op; another spec under a taken name is refused. */
export function registerCommand(name: string, spec: CommandSpec): void {
  if (commands.get(name) === spec) return;
  if (commands.has(name)) throw new ValueError(`command '${name}' is registered twice`);
  commands.set(name, spec);
}

/** Adds a table of ops (src/registry.ts registers the library's). */
export function registerCommands(table: Readonly<Record<string, CommandSpec>>): void {
  for (const [name, spec] of Object.entries(table)) registerCommand(name, spec);
}

/** Why an op is unknown, for the refusal: an empty allow-list means the process registered nothing. */
export function unknownCommandMessage(name: string): string {
  return commands.size === 0
    ? `unknown operation '${name}': this process registered no worker operations; import the package entry ` +
        `(src/index.ts, 'syft-ts'), which calls registerAll() from src/registry.ts`
    : `unknown operation '${name}'`;
}

export function getCommand(name: string): CommandSpec | undefined {
  return commands.get(name);
}

export function commandNames(): string[] {
  return [...commands.keys()];
}

// ---- argument checks ---------------------------------------------------------------------

export function argLayer(ctx: CommandContext, v: WireValue | undefined, what = 'argument'): AbstractTensor {
  const x = ctx.arg(v);
  if (!(x instanceof AbstractTensor)) throw new ValueError(`${what} must be a tensor`);
  return x;
}

export function argOperand(ctx: CommandContext, v: WireValue | undefined): AbstractTensor | number | bigint {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  return argLayer(ctx, v, 'operand');
}

export function argNumber(v: WireValue | undefined, what = 'argument'): number {
  if (typeof v !== 'number') throw new ValueError(`${what} must be a number`);
  return v;
}

export function argInt(v: WireValue | undefined, what = 'argument'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ValueError(`${what} must be an integer`);
  return v;
}

export function argOptInt(v: WireValue | undefined, what = 'argument'): number | undefined {
  return v === null || v === undefined ? undefined : argInt(v, what);
}

export function argBool(v: WireValue | undefined, what = 'argument'): boolean {
  if (typeof v !== 'boolean') throw new ValueError(`${what} must be true or false`);
  return v;
}

export function argString(v: WireValue | undefined, what = 'argument', max = 256): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new ValueError(`${what} must be a short string`);
  return v;
}

export function argInts(v: WireValue | undefined, what = 'argument'): number[] {
  if (!Array.isArray(v) || v.length > 16 || !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d))) {
    throw new ValueError(`${what} must be an array of at most 16 integers`);
  }
  return v as number[];
}

export function argDims(v: WireValue | undefined): number | number[] | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'number' ? argInt(v, 'dims') : argInts(v, 'dims');
}

// Indices travel as an Int32Array; their range is the op's shape rule's to check.
function argIndex(v: WireValue | undefined, what: string): Int32Array {
  if (!(v instanceof Int32Array)) throw new ValueError(`${what} must be an Int32Array of indices`);
  if (v.length > MAX_INDEX_COUNT) throw new ValueError(`${what} holds ${v.length} indices, more than ${MAX_INDEX_COUNT}`);
  return v;
}

/** How an op's tensor arguments are read: as layers by a worker, as shapes by a plan's checker. */
export interface TensorArgReader {
  /** A tensor argument (an object id on the wire). */
  tensor(v: WireValue | undefined, what: string): OpArg;
  /** A tensor or a plain number. */
  operand(v: WireValue | undefined, what: string): OpArg;
}

/**
 * One op-table argument decoded by its declared kind (src/layer/ops.ts). The worker's allow-list
 * and the plan checker share this, so the two can never disagree on what an op accepts.
 */
export function decodeOpArg(kind: ArgKind, v: WireValue | undefined, what: string, tensors: TensorArgReader): OpArg {
  switch (kind) {
    case 'operand': return tensors.operand(v, what);
    case 'tensor': return tensors.tensor(v, what);
    case 'tensor?': return v === null || v === undefined ? undefined : tensors.tensor(v, what);
    case 'number': return argNumber(v, what);
    case 'int': return argInt(v, what);
    case 'int?': return argOptInt(v, what);
    case 'bool': return argBool(v, what);
    case 'ints': return argInts(v, what);
    case 'ints?': return v === null || v === undefined ? undefined : argInts(v, what);
    case 'dims': return argDims(v);
    case 'index': return argIndex(v, what);
  }
}

export function selfLayer(self: unknown): AbstractTensor {
  if (!(self instanceof AbstractTensor)) throw new ValueError('the target object is not a tensor');
  return self;
}
