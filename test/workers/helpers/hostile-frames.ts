// Hostile frames built by hand, byte by byte, as an attacker would: the superjson "DAG" frame of
// wire format version 1 (SYF1), and version 2 (SYF2) frames that push every decoding limit.
import { LIMITS } from '../../../src/workers/messages.js';

const MAGIC_V1 = 0x31465953; // "SYF1"
const MAGIC_V2 = 0x32465953; // "SYF2"

export interface RawBlob {
  /** 0 float32, 1 float64, 2 bigint64, 3 int32, 4 uint8 (the serde table's kinds). */
  kind: number;
  bytes: Uint8Array;
}

const pad = (n: number, to: number) => (n + to - 1) & ~(to - 1);

/**
 * A frame from its parts: magic, header text, blob table and blobs, laid out as serde.ts does.
 * `headerLength` overrides the length field (to lie about it).
 */
export function rawFrame(header: string | Uint8Array, blobs: RawBlob[] = [], opts: { magic?: number; headerLength?: number } = {}): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const tableStart = pad(8 + h.length, 4);
  const dataStart = pad(tableStart + 4 + blobs.length * 8, 8);
  const total = blobs.reduce((n, b) => n + pad(b.bytes.length, 8), dataStart);
  const f = new Uint8Array(total);
  const dv = new DataView(f.buffer);
  dv.setUint32(0, opts.magic ?? MAGIC_V2, true);
  dv.setUint32(4, opts.headerLength ?? h.length, true);
  f.set(h, 8);
  dv.setUint32(tableStart, blobs.length, true);
  let at = dataStart;
  blobs.forEach((b, i) => {
    dv.setUint32(tableStart + 4 + i * 8, b.kind, true);
    dv.setUint32(tableStart + 8 + i * 8, b.bytes.length, true);
    f.set(b.bytes, at);
    at += pad(b.bytes.length, 8);
  });
  return f;
}

/**
 * The attack on version 1: a superjson envelope whose `referentialEqualities` say that, at each
 * of `levels` levels of a chain of objects, field `b` is the same object as field `a`. The JSON
 * is a chain of `levels` objects; the value it describes has 2^levels paths, and a decoder that
 * walks it without a visited set doubles its time and memory per level. 60 levels take 8.9 KB.
 */
export function superjsonDagFrame(levels = 60): Uint8Array {
  let chain: Record<string, unknown> = {};
  for (let i = 0; i < levels; i++) chain = { a: chain };
  const refs: Record<string, string[]> = {};
  for (let i = 0; i < levels; i++) {
    const at = `args.0${'.a'.repeat(i)}`;
    refs[`${at}.a`] = [`${at}.b`];
  }
  const envelope = { json: { kind: 'cmd', op: 'add', self: 1001, args: [chain], ret: [4242] }, meta: { referentialEqualities: refs, v: 1 } };
  return rawFrame(JSON.stringify(envelope), [], { magic: MAGIC_V1 });
}

/** The same attack's header sent as a version 2 frame: only data there, and not a message. */
export function superjsonDagHeaderAsV2(levels = 60): Uint8Array {
  const v1 = superjsonDagFrame(levels);
  const length = new DataView(v1.buffer).getUint32(4, true);
  return rawFrame(v1.subarray(8, 8 + length));
}

/** A copy of `f` whose blob table claims `count` blobs. */
export function withBlobCount(f: Uint8Array, count: number): Uint8Array {
  const c = f.slice();
  const dv = new DataView(c.buffer);
  dv.setUint32(pad(8 + dv.getUint32(4, true), 4), count, true);
  return c;
}

const cmd = (argsJson: string) => `{"kind":"cmd","op":"add","self":1001,"args":[${argsJson}],"ret":[4242]}`;
const peer = (payloadJson: string) => `{"kind":"peer","session":"${'ab'.repeat(16)}","tag":"share","payload":${payloadJson}}`;
const list = (n: number, item: (i: number) => string) => Array.from({ length: n }, (_, i) => item(i)).join(',');

export interface HostileFrame {
  name: string;
  frame: Uint8Array;
  /** What decodeMessage must say: a refusal matching this, or 'decodes'. */
  expect: RegExp | 'decodes';
}

/** Version 2 frames at and just past every limit of the decoder. */
export function limitFrames(): HostileFrame[] {
  const budget = LIMITS.headerNodes;
  const zeros = (n: number) => `[${'0,'.repeat(n - 1)}0]`;
  const emptyBlob = (): RawBlob => ({ kind: 4, bytes: new Uint8Array(0) });
  return [
    { name: 'superjson DAG (SYF1, 60 levels)', frame: superjsonDagFrame(60), expect: /version 1/ },
    { name: 'superjson DAG header in an SYF2 frame', frame: superjsonDagHeaderAsV2(60), expect: /malformed message: unknown kind/ },
    { name: 'unknown version SYF9', frame: rawFrame(cmd('1'), [], { magic: 0x39465953 }), expect: /unknown wire format version "9"/ },
    { name: `header of ${budget - 100} values`, frame: rawFrame(cmd(zeros(budget - 100))), expect: 'decodes' },
    { name: `header of ${budget + 10} values`, frame: rawFrame(cmd(zeros(budget + 10))), expect: /more than \d+ values and keys/ },
    { name: 'header of 200,000 nested arrays', frame: rawFrame(cmd(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)), expect: /nested too deeply/ },
    { name: 'header of 100,000 nested objects', frame: rawFrame(cmd(`${'{"a":'.repeat(100_000)}0${'}'.repeat(100_000)}`)), expect: /nested too deeply/ },
    { name: '120,000 keys in one object', frame: rawFrame(cmd(`{${list(120_000, (i) => `"k${i}":${i}`)}}`)), expect: 'decodes' },
    { name: '120,000 duplicate keys', frame: rawFrame(cmd(`{${list(120_000, () => '"k":1')}}`)), expect: 'decodes' },
    {
      name: 'a header longer than the limit',
      frame: rawFrame(`${cmd(`"${'x'.repeat(LIMITS.headerBytes)}"`)}`),
      expect: /a header of \d+ bytes \(at most/,
    },
    { name: 'a header length field of 2^32-16', frame: rawFrame(cmd('1'), [], { headerLength: 0xfffffff0 }), expect: /a header of \d+ bytes \(at most/ },
    { name: 'a header length field past the frame', frame: rawFrame(cmd('1'), [], { headerLength: 4096 }), expect: /header longer than the frame/ },
    { name: 'a string at the limit', frame: rawFrame(cmd(`"${'s'.repeat(LIMITS.stringLength)}"`)), expect: 'decodes' },
    { name: 'a string past the limit', frame: rawFrame(cmd(`"${'s'.repeat(LIMITS.stringLength + 1)}"`)), expect: /a string of \d+ characters/ },
    { name: 'a key past the limit', frame: rawFrame(cmd(`{"${'k'.repeat(LIMITS.stringLength + 1)}":1}`)), expect: /a key of \d+ characters/ },
    {
      name: '60 bigints of 16,384 hex digits',
      frame: rawFrame(cmd(`[${list(60, () => `{"$big":"${'f'.repeat(LIMITS.bigintHexDigits)}"}`)}]`)),
      expect: 'decodes',
    },
    { name: 'a bigint past the limit', frame: rawFrame(cmd(`{"$big":"${'f'.repeat(LIMITS.bigintHexDigits + 1)}"}`)), expect: /bigint must be canonical/ },
    { name: 'a bigint in exponent form', frame: rawFrame(cmd('{"$big":"1e+999999"}')), expect: /bigint must be canonical/ },
    { name: 'a number of 400 digits', frame: rawFrame(cmd(`1${'0'.repeat(400)}`)), expect: 'decodes' },
    {
      name: `${LIMITS.blobCount} empty blobs`,
      frame: rawFrame(peer(`[${list(LIMITS.blobCount, (i) => `{"$blob":${i}}`)}]`), Array.from({ length: LIMITS.blobCount }, emptyBlob)),
      expect: 'decodes',
    },
    {
      name: `${LIMITS.blobCount + 1} empty blobs`,
      frame: rawFrame(peer(`[${list(LIMITS.blobCount + 1, (i) => `{"$blob":${i}}`)}]`), Array.from({ length: LIMITS.blobCount + 1 }, emptyBlob)),
      expect: /blobs \(at most/,
    },
    { name: 'a blob table claiming 2^32-1 blobs', frame: withBlobCount(rawFrame(peer('1')), 0xffffffff), expect: /blobs \(at most/ },
    { name: 'a blob table claiming 60,000 blobs in a short frame', frame: withBlobCount(rawFrame(peer('1')), 60_000), expect: /blob table longer than the frame/ },
    { name: 'one blob referenced twice', frame: rawFrame(peer('[{"$blob":0},{"$blob":0}]'), [emptyBlob()]), expect: /bad blob reference/ },
    { name: 'an unreferenced blob', frame: rawFrame(peer('1'), [emptyBlob()]), expect: /not referenced/ },
    { name: 'an unknown reserved key', frame: rawFrame(cmd('{"$ref":"args.0"}')), expect: /unknown reserved key "\$ref"/ },
    { name: '$obj holding two keys', frame: rawFrame(cmd('{"$obj":{"$a":1,"$b":2}}')), expect: /\$obj must hold/ },
    { name: '$obj nested 10,000 deep', frame: rawFrame(cmd(`${'{"$obj":{"$a":'.repeat(10_000)}0${'}}'.repeat(10_000)}`)), expect: /nested too deeply/ },
    { name: 'a __proto__ key', frame: rawFrame(cmd('{"__proto__":{"polluted":1}}')), expect: /forbidden key '__proto__'/ },
    { name: 'a constructor key at the top', frame: rawFrame('{"kind":"clear","constructor":1}'), expect: /forbidden key 'constructor'/ },
  ];
}
