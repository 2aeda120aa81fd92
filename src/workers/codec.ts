/**
 * Objects <-> wire nodes. Each kind of object that may travel registers a codec here (a tensor
 * layer, a key); decoding accepts only registered types and checks every field, so a message
 * can never make a worker build anything else.
 */
import { WireFormatError } from '../errors.js';
import { type Shape, sizeOf } from '../shapes.js';
import type { WireNode, WireValue } from './messages.js';
import { attachMeta, readMeta, writeMeta } from './tags.js';
import type { Worker } from './worker.js';

/** What decoding needs from the receiving side. */
export interface DecodeContext {
  /** The worker that will own decoded objects (and the pointers inside them). */
  worker: Worker;
}

export interface Codec<T extends object> {
  /** Short, stable name written into the `type` field. */
  type: string;
  /** The class whose instances this codec writes. */
  cls: abstract new (...args: never[]) => T;
  encode(value: T, encodeChild: (v: object) => WireNode): WireNode;
  decode(node: WireNode, decodeChild: (n: WireValue) => object, ctx: DecodeContext): T;
}

const byType = new Map<string, Codec<object>>();
const byClass = new Map<unknown, Codec<object>>();

/** Lets objects of `codec.cls` travel (src/registry.ts registers the library's codecs). */
export function registerCodec<T extends object>(codec: Codec<T>): void {
  byType.set(codec.type, codec as unknown as Codec<object>);
  byClass.set(codec.cls, codec as unknown as Codec<object>);
}

export function registerCodecs(codecs: readonly Codec<never>[]): void {
  for (const c of codecs) registerCodec(c as unknown as Codec<object>);
}

const NOTHING_REGISTERED =
  'this process registered no codecs; import the package entry (src/index.ts, \'syft-ts\'), which calls registerAll() from src/registry.ts';

/** Encodes an object with its registered codec. */
export function encodeObject(value: object): WireNode {
  const codec = byClass.get(value.constructor);
  if (!codec) throw new WireFormatError(`a ${value.constructor.name} cannot be sent: ${byType.size === 0 ? NOTHING_REGISTERED : 'no codec is registered for it'}`);
  // An object's tags and description travel with it (tags.ts).
  return writeMeta(value, codec.encode(value, encodeObject));
}

/** Decodes an untrusted wire node. Throws {@link WireFormatError} for anything unexpected. */
export function decodeObject(node: WireValue, ctx: DecodeContext, depth = 0): object {
  if (depth > 32) throw new WireFormatError('object nested too deeply');
  if (node === null || typeof node !== 'object' || Array.isArray(node) || ArrayBuffer.isView(node)) {
    throw new WireFormatError('expected a serialized object');
  }
  const type = (node as WireNode).type;
  const codec = typeof type === 'string' ? byType.get(type) : undefined;
  if (!codec) throw new WireFormatError(`unknown object type ${JSON.stringify(type)}${byType.size === 0 ? `: ${NOTHING_REGISTERED}` : ''}`);
  const { node: own, meta } = readMeta(node as WireNode);
  const obj = codec.decode(own, (n) => decodeObject(n, ctx, depth + 1), ctx);
  attachMeta(obj, meta);
  return obj;
}

// ---- field checks for codecs -------------------------------------------------------------

export function bad(type: string, why: string): never {
  throw new WireFormatError(`bad '${type}' object: ${why}`);
}

export function expectFields(node: WireNode, fields: string[], optional: string[] = []): void {
  for (const f of fields) if (!(f in node)) bad(node.type, `missing '${f}'`);
  for (const k of Object.keys(node)) {
    if (k !== 'type' && !fields.includes(k) && !optional.includes(k)) bad(node.type, `unexpected field '${k}'`);
  }
}

export function expectShape(type: string, v: WireValue | undefined, maxElements = 2 ** 31): Shape {
  if (!Array.isArray(v) || v.length > 16 || !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    bad(type, 'shape must be an array of at most 16 non-negative integers');
  }
  const shape = v as number[];
  if (sizeOf(shape) > maxElements) bad(type, 'shape too large');
  return shape;
}

export function expectTyped<T extends ArrayBufferView>(
  type: string,
  v: WireValue | undefined,
  ctor: abstract new (...a: never[]) => T,
  length: number,
): T {
  if (!(v instanceof ctor)) bad(type, `expected a ${ctor.name}`);
  if ((v as unknown as { length: number }).length !== length) bad(type, `expected ${length} elements`);
  return v as T;
}

export function expectInt(type: string, v: WireValue | undefined, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(type, `expected an integer in [${min}, ${max}]`);
  return v;
}

export function expectString(type: string, v: WireValue | undefined, max = 256): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) bad(type, 'expected a short string');
  return v;
}

export function expectBool(type: string, v: WireValue | undefined): boolean {
  if (typeof v !== 'boolean') bad(type, 'expected a boolean');
  return v;
}
