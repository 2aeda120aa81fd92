/**
 * Messages as bytes: a small JSON header plus the raw bytes of every typed array, so tensors
 * travel as binary rather than as JSON numbers.
 *
 *     "SYF2" | u32 headerLength | header (UTF-8 JSON) | pad to 4
 *     u32 blobCount | blobCount x (u32 kind, u32 byteLength) | pad to 8
 *     blob bytes, each padded to 8
 *
 * All integers little-endian. The header is the message as plain JSON, in which an object whose
 * only key starts with `$` stands for what JSON cannot say:
 *
 *     {"$blob": 3}       the typed array at index 3 of the blob table (each is used exactly once)
 *     {"$big": "-1f"}    a bigint, in hexadecimal (linear in its length to write and to read)
 *     {"$num": "NaN"}    NaN, Infinity, -Infinity or -0
 *     {"$obj": {...}}    an object of the message whose only key starts with `$`, kept as it is
 *
 * Any other lone `$` key is refused. Version 1 ("SYF1") wrapped the header in a superjson
 * envelope, whose reference annotations let 9 KB describe a value of 2^60 paths; this format has
 * no references, so a decoded message is a tree no larger than its text.
 *
 * Decoding costs time and memory linear in the frame, and bounds both before it allocates: the
 * header's length; its count of values and keys, in one pass over its bytes (outside strings);
 * the blob table, checked whole against the frame. Then JSON.parse, and one walk with a depth
 * limit that checks strings and bigints and copies each referenced blob into its own aligned
 * buffer. The message then goes to {@link validateMessage}. The limits are in {@link LIMITS}.
 */
import { WireFormatError } from '../errors.js';
import { allocUninit } from '../ring/alloc.js';
import { LIMITS, type Message, type WireValue, validateMessage } from './messages.js';

const MAGIC = 0x32465953; // "SYF2" read as a little-endian u32
const FAMILY = 0x465953; // "SYF", the low three bytes of every version's magic number

type Typed = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
const KINDS: { ctor: new (b: ArrayBuffer) => Typed; bytes: number }[] = [
  { ctor: Float32Array, bytes: 4 },
  { ctor: Float64Array, bytes: 8 },
  { ctor: BigInt64Array, bytes: 8 },
  { ctor: Int32Array, bytes: 4 },
  { ctor: Uint8Array, bytes: 1 },
];

function kindOf(v: unknown): number {
  for (let i = 0; i < KINDS.length; i++) if (v instanceof KINDS[i]!.ctor) return i;
  return -1;
}

const pad = (n: number, to: number) => (n + to - 1) & ~(to - 1);

const DOLLAR = 0x24;
// Deeper than validateMessage accepts (a value sits up to three levels inside its message).
const MAX_DEPTH = LIMITS.depth + 3;
const BIG_RE = /^-?(?:0|[1-9a-f][0-9a-f]*)$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function unencodable(v: unknown, why?: string): never {
  const what = v === null || typeof v !== 'object' ? typeof v : ((v as object).constructor?.name ?? 'object');
  throw new WireFormatError(`a value of type ${what} cannot travel${why ? `: ${why}` : ''} (send numbers, strings, bigints, typed arrays, arrays and plain objects)`);
}

interface Encoding {
  blobs: Typed[];
  /** The count {@link checkHeaderShape} will make of the header: 1 + array slots + 2 per key - 1 per object. */
  nodes: number;
}

// The message as header JSON: typed arrays become blob references, and what JSON cannot hold
// becomes a reserved single-key object.
function encodeValue(v: unknown, e: Encoding, depth: number): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (Number.isFinite(v) && !Object.is(v, -0)) return v;
      e.nodes++;
      return { $num: Object.is(v, -0) ? '-0' : String(v) };
    case 'bigint':
      e.nodes++;
      return { $big: v.toString(16) };
    case 'object':
      break;
    default:
      return unencodable(v);
  }
  if (v === null) return null;
  if (depth > MAX_DEPTH) throw new WireFormatError(`a message nested more than ${LIMITS.depth} levels deep (or a cyclic one) cannot travel`);
  if (ArrayBuffer.isView(v)) {
    const kind = kindOf(v);
    if (kind < 0) unencodable(v);
    e.blobs.push(v as Typed);
    e.nodes++;
    return { $blob: e.blobs.length - 1 };
  }
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    e.nodes += Math.max(v.length, 1);
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (x === undefined) unencodable(x, 'an array holds undefined');
      out[i] = encodeValue(x, e, depth + 1);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) unencodable(v);
  const out: Record<string, unknown> = {};
  let n = 0;
  let last = '';
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined) continue; // as JSON does: an optional field left out
    const value = encodeValue(x, e, depth + 1);
    // An own '__proto__' key stays a key, so that the receiver sees it and refuses the message.
    if (k === '__proto__') Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
    else out[k] = value;
    n++;
    last = k;
  }
  if (n > 0) e.nodes += 2 * n - 1;
  if (n === 1 && last.charCodeAt(0) === DOLLAR) {
    e.nodes++;
    return { $obj: out };
  }
  return out;
}

/**
 * Encodes a message (already made of wire values) into one binary frame. Throws a
 * {@link WireFormatError} for a value that cannot travel, or a message larger than any worker
 * decodes (a header over `LIMITS.headerBytes`, more than `LIMITS.blobCount` typed arrays).
 *
 * @example
 * ```ts
 * const frame = sy.encodeMessage({ kind: 'req', req: 1, op: 'get', args: [42, true] });
 * sy.decodeMessage(frame); // { kind: 'req', req: 1, op: 'get', args: [42, true] }
 * ```
 */
export function encodeMessage(msg: Message): Uint8Array {
  const e: Encoding = { blobs: [], nodes: 1 };
  const header = new TextEncoder().encode(JSON.stringify(encodeValue(msg, e, 0)));
  const { blobs } = e;
  if (header.length > LIMITS.headerBytes) {
    throw new WireFormatError(
      `a '${msg.kind}' message whose header takes ${header.length} bytes (at most ${LIMITS.headerBytes}): send bulk numbers as typed arrays, or in several messages`,
    );
  }
  if (blobs.length > LIMITS.blobCount) {
    throw new WireFormatError(`a '${msg.kind}' message with ${blobs.length} typed arrays (at most ${LIMITS.blobCount}): send it in several messages`);
  }
  if (e.nodes > LIMITS.headerNodes) {
    throw new WireFormatError(`a '${msg.kind}' message of ${e.nodes} values and keys (at most ${LIMITS.headerNodes}): send bulk numbers as typed arrays, or in several messages`);
  }
  const tableStart = pad(8 + header.length, 4);
  const dataStart = pad(tableStart + 4 + blobs.length * 8, 8);
  let total = dataStart;
  for (const b of blobs) total += pad(b.byteLength, 8);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, header.length, true);
  out.set(header, 8);
  dv.setUint32(tableStart, blobs.length, true);
  let at = dataStart;
  blobs.forEach((b, i) => {
    dv.setUint32(tableStart + 4 + i * 8, kindOf(b), true);
    dv.setUint32(tableStart + 8 + i * 8, b.byteLength, true);
    out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), at);
    at += pad(b.byteLength, 8);
  });
  return out;
}

function bad(why: string): never {
  throw new WireFormatError(`undecodable frame: ${why}`);
}

/**
 * Refuses a header that would make JSON.parse build more than `LIMITS.headerNodes` values and
 * keys, or nest deeper than the walk accepts, before it is parsed. An upper bound on values and
 * keys: every value but the first follows a `[`, `,` or `:`, and every key but an object's first
 * follows a `,`. Bytes inside strings are skipped.
 */
function checkHeaderShape(b: Uint8Array, start: number, end: number): void {
  let nodes = 1;
  let depth = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 0x22) {
      for (i++; i < end; i++) {
        const s = b[i]!;
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x2c || c === 0x3a) nodes++;
    else if (c === 0x5b || c === 0x7b) {
      if (c === 0x5b) nodes++;
      // Reserved forms nest up to two JSON levels per level of the value: the walk checks exactly.
      if (++depth > 2 * MAX_DEPTH) bad('nested too deeply');
    } else if (c === 0x5d || c === 0x7d) depth--;
    if (nodes > LIMITS.headerNodes) bad(`a header of more than ${LIMITS.headerNodes} values and keys`);
  }
}

// The blobs of a frame being decoded, copied out only when the header references them.
interface Blobs {
  frame: Uint8Array;
  kinds: Uint8Array;
  offsets: Float64Array;
  lengths: Float64Array;
  used: Uint8Array;
  usedCount: number;
}

function takeBlob(i: unknown, b: Blobs): Typed {
  if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= b.used.length || b.used[i] === 1) bad('bad blob reference');
  b.used[i] = 1;
  b.usedCount++;
  const { frame } = b;
  const start = frame.byteOffset + b.offsets[i]!;
  // Copy into a fresh buffer: aligned for the typed array, and independent of the frame.
  return new KINDS[b.kinds[i]!]!.ctor(frame.buffer.slice(start, start + b.lengths[i]!) as ArrayBuffer);
}

function checkKey(k: string): void {
  if (k === '__proto__' || k === 'constructor' || k === 'prototype') bad(`forbidden key '${k}'`);
  if (k.length > LIMITS.stringLength) bad(`a key of ${k.length} characters (at most ${LIMITS.stringLength})`);
}

// What a reserved single-key object stands for.
function reserved(key: string, v: unknown, b: Blobs, depth: number): unknown {
  switch (key) {
    case '$blob':
      return takeBlob(v, b);
    case '$big': {
      const digits = typeof v === 'string' ? v.length - (v.charCodeAt(0) === 0x2d ? 1 : 0) : Infinity;
      if (typeof v !== 'string' || digits > LIMITS.bigintHexDigits || !BIG_RE.test(v) || v === '-0') {
        bad(`a bigint must be canonical hexadecimal of at most ${LIMITS.bigintHexDigits} digits`);
      }
      return v.charCodeAt(0) === 0x2d ? -BigInt(`0x${v.slice(1)}`) : BigInt(`0x${v}`);
    }
    case '$num':
      if (v === 'NaN') return Number.NaN;
      if (v === 'Infinity') return Number.POSITIVE_INFINITY;
      if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
      if (v === '-0') return -0;
      return bad('$num must be NaN, Infinity, -Infinity or -0');
    case '$obj': {
      const keys = v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
      if (keys.length !== 1 || keys[0]!.charCodeAt(0) !== DOLLAR) bad('$obj must hold an object whose only key starts with $');
      const o = v as Record<string, unknown>;
      const k = keys[0]!;
      checkKey(k);
      const x = o[k];
      const r = restore(x, b, depth + 1);
      if (r !== x) o[k] = r;
      return o;
    }
    default:
      return bad(`unknown reserved key ${JSON.stringify(key.slice(0, 32))}`);
  }
}

// One walk over the parsed header, in place: reserved objects become what they stand for.
function restore(v: unknown, b: Blobs, depth: number): unknown {
  if (typeof v === 'string') {
    if (v.length > LIMITS.stringLength) bad(`a string of ${v.length} characters (at most ${LIMITS.stringLength})`);
    return v;
  }
  if (v === null || typeof v !== 'object') return v;
  if (depth > MAX_DEPTH) bad('nested too deeply');
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'object' || typeof x === 'string') {
        const r = restore(x, b, depth + 1);
        if (r !== x) v[i] = r;
      }
    }
    return v;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0]!.charCodeAt(0) === DOLLAR) return reserved(keys[0]!, o[keys[0]!], b, depth);
  for (const k of keys) {
    checkKey(k);
    const x = o[k];
    if (typeof x === 'object' || typeof x === 'string') {
      const r = restore(x, b, depth + 1);
      if (r !== x) o[k] = r;
    }
  }
  return o;
}

/**
 * Decodes and validates one frame, in time and memory linear in its length. Throws
 * {@link WireFormatError} on anything malformed, over a limit, or of another version.
 *
 * @example
 * ```ts
 * const m = sy.decodeMessage(sy.encodeMessage({ kind: 'peer', session: 'ab'.repeat(16), tag: 't', payload: 5n }));
 * m.kind; // 'peer' (its payload is 5n again)
 * sy.decodeMessage(new Uint8Array(12)); // throws WireFormatError: undecodable frame: wrong magic number ...
 * ```
 */
export function decodeMessage(frame: Uint8Array): Message {
  if (!(frame instanceof Uint8Array)) bad('not bytes');
  if (frame.length < 12) bad('too short');
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const magic = dv.getUint32(0, true);
  if (magic !== MAGIC) {
    if ((magic & 0xffffff) !== FAMILY) bad('wrong magic number (not a syft-ts message)');
    const version = String.fromCharCode(frame[3]!);
    bad(
      version === '1'
        ? 'wire format version 1 (SYF1, a superjson header), which this side no longer reads: run the same syft-ts release on both ends'
        : `unknown wire format version ${JSON.stringify(version)}: this side reads version 2 (SYF2); run the same syft-ts release on both ends`,
    );
  }
  const headerLength = dv.getUint32(4, true);
  if (headerLength > LIMITS.headerBytes) bad(`a header of ${headerLength} bytes (at most ${LIMITS.headerBytes})`);
  const tableStart = pad(8 + headerLength, 4);
  if (tableStart + 4 > frame.length) bad('header longer than the frame');
  const count = dv.getUint32(tableStart, true);
  if (count > LIMITS.blobCount) bad(`${count} blobs (at most ${LIMITS.blobCount})`);
  const dataStart = pad(tableStart + 4 + count * 8, 8);
  if (dataStart > frame.length) bad('blob table longer than the frame');
  // The whole table against the frame first: nothing is copied from a frame that is refused.
  const blobs: Blobs = {
    frame,
    kinds: new Uint8Array(count),
    offsets: new Float64Array(count),
    lengths: new Float64Array(count),
    used: new Uint8Array(count),
    usedCount: 0,
  };
  let at = dataStart;
  for (let i = 0; i < count; i++) {
    const kind = dv.getUint32(tableStart + 4 + i * 8, true);
    const length = dv.getUint32(tableStart + 8 + i * 8, true);
    const k = KINDS[kind];
    if (!k) bad(`unknown blob kind ${kind}`);
    if (length % k.bytes !== 0) bad('blob length not a whole number of elements');
    if (at + length > frame.length) bad('blob runs past the end of the frame');
    blobs.kinds[i] = kind;
    blobs.offsets[i] = at;
    blobs.lengths[i] = length;
    at += pad(length, 8);
  }
  if (at !== frame.length) bad('trailing bytes after the last blob');
  // Each value or key takes at least a byte: a shorter header cannot exceed the budget, and its
  // depth is checked by the walk (JSON.parse itself does not recurse).
  if (headerLength >= LIMITS.headerNodes) checkHeaderShape(frame, 8, 8 + headerLength);

  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(frame.subarray(8, 8 + headerLength)));
  } catch (e) {
    bad(`header: ${(e as Error).message.slice(0, 200)}`);
  }
  const msg = restore(parsed, blobs, 0);
  if (blobs.usedCount !== count) bad('blob not referenced by the header');
  return validateMessage(msg);
}

/**
 * A deep copy of a message for in-process delivery: typed arrays get new buffers of their own
 * (never shared memory). Ring data is copied into uninitialized memory, which took 0.6x the time
 * of structuredClone for a 1.2 MB opening. Anything that is not a wire value is left to
 * structuredClone, for validateMessage to refuse.
 */
export function cloneMessage<T extends Message>(msg: T): T {
  return copyValue(msg, 0) as T;
}

// Deeper than validateMessage accepts: copied by structuredClone (which also survives cycles).
const COPY_DEPTH = 80;

function copyValue(v: unknown, depth: number): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (depth > COPY_DEPTH) return structuredClone(v);
  if (v instanceof BigInt64Array) {
    const copy = allocUninit(v.length);
    copy.set(v);
    return copy;
  }
  // Not slice() on bytes: a Node Buffer's slice() is a view of the same memory.
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return (v as Typed).slice();
  if (Array.isArray(v)) return v.map((x) => copyValue(x, depth + 1));
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const value = copyValue((v as Record<string, unknown>)[k], depth + 1);
    // An own '__proto__' key stays a key (assigning it would set the copy's prototype), so that
    // validation sees it and refuses the message.
    if (k === '__proto__') Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
    else out[k] = value;
  }
  return out;
}
