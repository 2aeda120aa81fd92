/**
 * The messages workers exchange, and their validation.
 *
 * Every message that reaches a worker passes {@link validateMessage} first: a message of the
 * wrong shape is refused whole before anything in the worker changes.
 *
 * - `cmd`   run an allow-listed operation; results are stored under ids the sender chose.
 * - `store` keep an object under an id (`x.send(bob)`).
 * - `del`   forget objects; `clear` forget all of them.
 * - `peer`  a value for a running protocol, delivered to the receiver's mailbox.
 * - `req`   a request that gets a `reply` (`get`, `sync`, `ping`, ...).
 */
import { WireFormatError } from '../errors.js';

export type ObjectId = number;

/** Values that travel: JSON values, bigints, and typed arrays for tensor payloads. */
export type WireValue =
  | null
  | boolean
  | number
  | string
  | bigint
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Uint8Array
  | WireValue[]
  | { [key: string]: WireValue };

/** A serialized object (a tensor layer, a key): `type` names its codec. */
export interface WireNode {
  type: string;
  [key: string]: WireValue;
}

export interface CommandMessage {
  kind: 'cmd';
  op: string;
  self?: ObjectId;
  args: WireValue[];
  ret: ObjectId[];
  /** How many pointers this command was forwarded through (absent: sent by the orchestrator). */
  hops?: number;
}

export interface StoreMessage {
  kind: 'store';
  id: ObjectId;
  obj: WireNode;
}

export interface DeleteMessage {
  kind: 'del';
  ids: ObjectId[];
}

export interface ClearMessage {
  kind: 'clear';
}

export interface PeerMessage {
  kind: 'peer';
  session: string;
  tag: string;
  payload: WireValue;
}

export interface RequestMessage {
  kind: 'req';
  req: number;
  op: string;
  args: WireValue[];
}

export interface WireError {
  name: string;
  message: string;
  op: string;
}

export type ReplyMessage =
  | { kind: 'reply'; req: number; ok: true; value: WireValue }
  | { kind: 'reply'; req: number; ok: false; error: WireError };

export type PostMessage = CommandMessage | StoreMessage | DeleteMessage | ClearMessage | PeerMessage;
export type Message = PostMessage | RequestMessage | ReplyMessage;

// Limits that keep a hostile message from costing much before it is refused. The frame limits
// (header bytes, header nodes, blobs, bigint digits) are checked by serde.ts before it allocates;
// the others here, for messages from any transport.
export const LIMITS = {
  opLength: 64,
  tagLength: 128,
  argCount: 64,
  retCount: 64,
  idsPerDelete: 100_000,
  errorTextLength: 4096,
  /** Nesting of a value inside a message (args, payloads, reply values, serialized objects). */
  depth: 64,
  /** UTF-16 code units in one string (or key) of a message. */
  stringLength: 1 << 20,
  /** Bytes of a frame's JSON header (a 100,000-id `del` takes 1.7 MB). */
  headerBytes: 4 << 20,
  /** Values and keys in a frame's header, counted before it is parsed. */
  headerNodes: 1 << 18,
  /** Typed arrays in one frame. */
  blobCount: 1 << 16,
  /** Hexadecimal digits of one bigint in a frame (65,536 bits: a 16,384-bit Paillier n² fits). */
  bigintHexDigits: 1 << 14,
} as const;

const SESSION_RE = /^[0-9a-f]{32}$/;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;

function fail(why: string): never {
  throw new WireFormatError(`malformed message: ${why}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

export function isObjectId(v: unknown): v is ObjectId {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function expectKeys(m: Record<string, unknown>, required: string[], optional: string[] = []): void {
  for (const k of required) if (!(k in m)) fail(`'${m.kind}' message without '${k}'`);
  for (const k of Object.keys(m)) {
    if (!required.includes(k) && !optional.includes(k)) fail(`'${m.kind}' message with unexpected field '${k}'`);
  }
}

function expectName(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || !NAME_RE.test(v)) {
    fail(`${what} must be a short identifier`);
  }
  return v;
}

function expectIds(v: unknown, what: string, max: number): ObjectId[] {
  if (!Array.isArray(v) || v.length > max || !v.every(isObjectId)) fail(`${what} must be an array of at most ${max} object ids`);
  return v as ObjectId[];
}

function expectArgs(v: unknown): WireValue[] {
  if (!Array.isArray(v) || v.length > LIMITS.argCount) fail(`args must be an array of at most ${LIMITS.argCount} values`);
  for (const a of v) checkWireValue(a, 0);
  return v as WireValue[];
}

const TYPED = [Float32Array, Float64Array, BigInt64Array, Int32Array, Uint8Array];

/** Checks that a value is made only of things that may travel, and is not absurdly deep. */
export function checkWireValue(v: unknown, depth: number): asserts v is WireValue {
  if (depth > LIMITS.depth) fail('value nested too deeply');
  if (typeof v === 'string') {
    if (v.length > LIMITS.stringLength) fail(`a string of ${v.length} characters (at most ${LIMITS.stringLength})`);
    return;
  }
  if (v === null || typeof v === 'boolean' || typeof v === 'bigint' || typeof v === 'number') return;
  if (TYPED.some((T) => v instanceof T)) return;
  if (Array.isArray(v)) {
    for (const x of v) checkWireValue(x, depth + 1);
    return;
  }
  if (isPlainObject(v)) {
    for (const k of Object.keys(v)) {
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') fail(`forbidden key '${k}'`);
      if (k.length > LIMITS.stringLength) fail(`a key of ${k.length} characters (at most ${LIMITS.stringLength})`);
      checkWireValue(v[k], depth + 1);
    }
    return;
  }
  fail(`a value of type ${typeof v === 'object' ? (v as object).constructor?.name ?? 'object' : typeof v} cannot travel`);
}

export function expectWireNode(v: unknown, what = 'object'): WireNode {
  if (!isPlainObject(v) || typeof v.type !== 'string') fail(`${what} must be a serialized object with a type`);
  checkWireValue(v, 1);
  return v as WireNode;
}

/** Validates an untrusted message. Throws {@link WireFormatError}; returns it typed. */
export function validateMessage(raw: unknown): Message {
  if (!isPlainObject(raw)) fail('not an object');
  const m = raw;
  switch (m.kind) {
    case 'cmd':
      expectKeys(m, ['kind', 'op', 'args', 'ret'], ['self', 'hops']);
      expectName(m.op, 'op', LIMITS.opLength);
      if (m.self !== undefined && !isObjectId(m.self)) fail('self must be an object id');
      if (m.hops !== undefined && (!Number.isSafeInteger(m.hops) || (m.hops as number) < 1 || (m.hops as number) > 255)) {
        fail('hops must be an integer from 1 to 255');
      }
      expectArgs(m.args);
      expectIds(m.ret, 'ret', LIMITS.retCount);
      return m as unknown as CommandMessage;
    case 'store':
      expectKeys(m, ['kind', 'id', 'obj']);
      if (!isObjectId(m.id)) fail('id must be an object id');
      expectWireNode(m.obj);
      return m as unknown as StoreMessage;
    case 'del':
      expectKeys(m, ['kind', 'ids']);
      expectIds(m.ids, 'ids', LIMITS.idsPerDelete);
      return m as unknown as DeleteMessage;
    case 'clear':
      expectKeys(m, ['kind']);
      return m as unknown as ClearMessage;
    case 'peer':
      expectKeys(m, ['kind', 'session', 'tag', 'payload']);
      if (typeof m.session !== 'string' || !SESSION_RE.test(m.session)) fail('session must be 32 hex characters');
      expectName(m.tag, 'tag', LIMITS.tagLength);
      checkWireValue(m.payload, 1);
      return m as unknown as PeerMessage;
    case 'req':
      expectKeys(m, ['kind', 'req', 'op', 'args']);
      if (!Number.isSafeInteger(m.req) || (m.req as number) < 0) fail('req must be a non-negative integer');
      expectName(m.op, 'op', LIMITS.opLength);
      expectArgs(m.args);
      return m as unknown as RequestMessage;
    case 'reply': {
      if (!Number.isSafeInteger(m.req) || (m.req as number) < 0) fail('req must be a non-negative integer');
      if (m.ok === true) {
        expectKeys(m, ['kind', 'req', 'ok', 'value']);
        checkWireValue(m.value, 1);
      } else if (m.ok === false) {
        expectKeys(m, ['kind', 'req', 'ok', 'error']);
        const e = m.error;
        if (!isPlainObject(e) || typeof e.name !== 'string' || typeof e.message !== 'string' || typeof e.op !== 'string') {
          fail('error must have name, message and op');
        }
        if (e.message.length > LIMITS.errorTextLength) e.message = e.message.slice(0, LIMITS.errorTextLength);
      } else fail('ok must be true or false');
      return m as unknown as ReplyMessage;
    }
    default:
      return fail(`unknown kind ${JSON.stringify(String(m.kind)).slice(0, 40)}`);
  }
}
