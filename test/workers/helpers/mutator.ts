// A seeded, structure-aware mutator of valid frames for the wire fuzz test. It takes real
// messages, encodes them, and then changes what an attacker controls: the header's JSON tree
// (hostile values, reserved `$` forms, deep nesting, huge numbers and bigints, unknown, missing and
// duplicate keys), the serialized objects in it (pointers aimed at the receiving worker itself,
// huge shapes, shared tensors with many shares, chains of fixed-precision and autograd layers),
// the header's bytes, and the blob table. Every frame replays from the seed.
//
// Pointers it makes aim only at objects that are not pointers, and stores and results go to fresh
// ids: a cycle of pointers (a pointer stored under the id it points to) loops a worker by design
// of issue 19's second item, which this fuzz does not cover.
import type { Message } from '../../../src/workers/messages.js';
import { encodeMessage } from '../../../src/workers/serde.js';
import { SeededRandom } from '../../../src/util/seeded.js';
import { type RawBlob, rawFrame } from './hostile-frames.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface MutatorOptions {
  /** The receiving worker's id (pointers aimed at it are the interesting ones). */
  selfId: string;
  /** Ids of objects the worker holds that are not pointers: pointers may aim at them. */
  tensorIds: number[];
  /** Ids of every object the worker holds (targets of commands and requests). */
  liveIds: number[];
  /** Valid messages to start from. */
  templates: Message[];
}

export interface Mutant {
  frame: Uint8Array;
  /** Names of the mutations applied, in order. */
  mutations: string[];
}

const pad = (n: number, to: number) => (n + to - 1) & ~(to - 1);

// Ops whose cost does not depend on their arguments' values (no shapes to allocate, no waiting
// on peers): the fuzz checks decoding and dispatch, not the quotas of issue 19's third item.
export const FUZZ_OPS = ['add', 'sub', 'mul', 'neg', 'relu', 'abs', 'sigmoid', 'matmul', 'sum', 'mean', 'copy', 'clone', 'transpose', 'eq', 'gt'];

export class FrameMutator {
  private readonly r: SeededRandom;
  /** How often each mutation was applied. */
  readonly counts: Record<string, number> = {};

  constructor(
    seed: number,
    private readonly o: MutatorOptions,
  ) {
    this.r = new SeededRandom(seed);
  }

  int(n: number): number {
    return Math.floor(this.r.next() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  chance(p: number): boolean {
    return this.r.next() < p;
  }

  /** A fresh id, from a space so large that no two draws meet. */
  freshId(): number {
    return 2 ** 32 + this.int(2 ** 20) * 2 ** 20 + this.int(2 ** 20);
  }

  // ---- the pieces of a frame -------------------------------------------------------------

  private split(m: Message): { header: Json; blobs: RawBlob[] } {
    const f = encodeMessage(m);
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    const hl = dv.getUint32(4, true);
    const header = JSON.parse(new TextDecoder().decode(f.subarray(8, 8 + hl))) as Json;
    const tableStart = pad(8 + hl, 4);
    const count = dv.getUint32(tableStart, true);
    let at = pad(tableStart + 4 + count * 8, 8);
    const blobs: RawBlob[] = [];
    for (let i = 0; i < count; i++) {
      const kind = dv.getUint32(tableStart + 4 + i * 8, true);
      const length = dv.getUint32(tableStart + 8 + i * 8, true);
      blobs.push({ kind, bytes: f.slice(at, at + length) });
      at += pad(length, 8);
    }
    return { header, blobs };
  }

  /** A mutated frame: a template, then one to three mutations. */
  next(): Mutant {
    const template = this.pick(this.o.templates);
    const { header, blobs } = this.split(this.freshen(template));
    const mutations: string[] = [];
    const note = (name: string) => {
      mutations.push(name);
      this.counts[name] = (this.counts[name] ?? 0) + 1;
    };
    let root: Json = header;
    const n = 1 + this.int(3);
    for (let i = 0; i < n; i++) {
      const which = this.int(100);
      if (which < 14) {
        note('hostile value');
        root = this.replaceSomewhere(root, () => this.hostile(0, blobs));
      } else if (which < 24) {
        note('reserved form');
        root = this.replaceSomewhere(root, () => this.reservedForm(blobs));
      } else if (which < 40) {
        note('serialized object');
        root = this.replaceObjectNode(root, blobs);
      } else if (which < 46) {
        note('deep nesting');
        root = this.replaceSomewhere(root, (v) => this.nest(v, 55 + this.int(25)));
      } else if (which < 53) {
        note('huge number');
        root = this.replaceNumber(root, () => this.pick([1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 2 ** 64, -(2 ** 63), 5e-324, 1.5, -1, 0]));
      } else if (which < 59) {
        note('bigint');
        root = this.replaceNumber(root, () => ({ $big: this.hex(this.pick([1, 16, 17, 64, 2000])) }));
      } else if (which < 67) {
        note('ids');
        root = this.replaceNumber(root, () => this.pick([...this.o.liveIds, this.freshId(), 0, -1, 2 ** 53 - 1]));
      } else if (which < 74) {
        note('unknown or missing key');
        root = this.editKeys(root);
      } else if (which < 79) {
        note('op');
        if (root !== null && typeof root === 'object' && !Array.isArray(root) && 'op' in root) {
          root.op = this.pick([...FUZZ_OPS, 'eval', 'constructor', '__proto__', 'toString', '', 'a'.repeat(65), 'recvFromX']);
        }
      } else if (which < 85) {
        note('kind');
        if (root !== null && typeof root === 'object' && !Array.isArray(root)) root.kind = this.pick(['cmd', 'store', 'del', 'clear', 'peer', 'req', 'reply', 'x']);
      } else {
        note('blob table');
        this.mutateBlobs(blobs);
      }
    }
    let text = JSON.stringify(root);
    if (this.chance(0.12)) {
      note('duplicate key');
      text = this.duplicateKey(text);
    }
    if (this.chance(0.08)) {
      note('header bytes');
      text = this.scramble(text);
    }
    let frame = rawFrame(text, blobs);
    if (this.chance(0.05)) {
      note('lengths');
      frame = this.lieAboutLengths(frame, blobs.length);
    }
    return { frame, mutations };
  }

  // A template with fresh result ids, so that stores never land on an object the worker holds.
  private freshen(m: Message): Message {
    if (m.kind === 'store') return { ...m, id: this.freshId() };
    if (m.kind === 'cmd') return { ...m, ret: m.ret.map(() => this.freshId()) };
    if (m.kind === 'req') return { ...m, req: this.int(1_000_000) };
    return m;
  }

  // ---- tree edits ------------------------------------------------------------------------

  private slots(root: Json): { parent: Json[] | Record<string, Json>; key: number | string }[] {
    const out: { parent: Json[] | Record<string, Json>; key: number | string }[] = [];
    const walk = (v: Json, depth: number) => {
      if (v === null || typeof v !== 'object' || depth > 80 || out.length > 2000) return;
      if (Array.isArray(v)) {
        v.forEach((x, i) => {
          out.push({ parent: v, key: i });
          walk(x, depth + 1);
        });
      } else {
        for (const k of Object.keys(v)) {
          out.push({ parent: v, key: k });
          walk(v[k]!, depth + 1);
        }
      }
    };
    walk(root, 0);
    return out;
  }

  private get(s: { parent: Json[] | Record<string, Json>; key: number | string }): Json {
    return (s.parent as Record<string, Json>)[s.key as string]!;
  }

  private set(s: { parent: Json[] | Record<string, Json>; key: number | string }, v: Json): void {
    (s.parent as Record<string, Json>)[s.key as string] = v;
  }

  // Replaces a random node (or, rarely, the root) with make(old).
  private replaceSomewhere(root: Json, make: (old: Json) => Json): Json {
    const slots = this.slots(root);
    if (slots.length === 0 || this.chance(0.03)) return make(root);
    const s = this.pick(slots);
    this.set(s, make(this.get(s)));
    return root;
  }

  private replaceNumber(root: Json, make: () => Json): Json {
    const slots = this.slots(root).filter((s) => typeof this.get(s) === 'number');
    if (slots.length === 0) return this.replaceSomewhere(root, make);
    this.set(this.pick(slots), make());
    return root;
  }

  // Replaces a serialized object (a node with a `type`), or the obj of an argument, or any node.
  private replaceObjectNode(root: Json, blobs: RawBlob[]): Json {
    const slots = this.slots(root);
    const typed = slots.filter((s) => {
      const v = this.get(s);
      return v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.type === 'string';
    });
    const target = typed.length > 0 && this.chance(0.8) ? this.pick(typed) : slots.length > 0 ? this.pick(slots) : undefined;
    if (!target) return this.objectNode(0, blobs);
    this.set(target, this.objectNode(0, blobs));
    return root;
  }

  private editKeys(root: Json): Json {
    const objects = this.slots(root).map((s) => this.get(s)).filter((v) => v !== null && typeof v === 'object' && !Array.isArray(v)) as Record<string, Json>[];
    const o = objects.length > 0 && this.chance(0.6) ? this.pick(objects) : root;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return root;
    const keys = Object.keys(o);
    if (keys.length > 0 && this.chance(0.4)) delete o[this.pick(keys)];
    else o[this.pick(['junk', 'type', 'kind', 'self', 'ret', 'args', 'shape', 'child', 'shares', 'provider', '$blob', '$big', '$obj', '$x', 'constructor', 'prototype'])] = this.hostile(2, []);
    return root;
  }

  // ---- values ----------------------------------------------------------------------------

  hex(digits: number): string {
    let s = (1 + this.int(15)).toString(16);
    for (let i = 1; i < digits; i++) s += this.int(16).toString(16);
    return this.chance(0.3) ? `-${s}` : s;
  }

  private reservedForm(blobs: RawBlob[]): Json {
    switch (this.int(9)) {
      case 0:
        return { $blob: this.pick([0, 1, blobs.length, blobs.length - 1, -1, 1.5, 'x', null]) };
      case 1:
        return { $big: this.pick([this.hex(1 + this.int(40)), '00', '-0', 'FF', '0x10', '', '1e+5', this.hex(16_385)]) };
      case 2:
        return { $num: this.pick(['NaN', 'Infinity', '-Infinity', '-0', 'nan', '1', 1]) };
      case 3:
        return { $obj: this.pick<Json>([{ $a: 1 }, { $blob: 0 }, { a: 1 }, { $a: 1, $b: 2 }, [1], 1]) };
      case 4:
        return { $ref: 'args.0' };
      case 5:
        return { $: this.hostile(2, blobs) };
      case 6:
        return { $blob: 0, extra: 1 };
      case 7: {
        // A new blob, referenced correctly: a typed array where something else was expected.
        const i = this.newBlob(blobs, this.int(5), this.int(9));
        return { $blob: i };
      }
      default:
        return { referentialEqualities: { 'args.0.a': ['args.0.b'] }, v: 1 };
    }
  }

  hostile(depth: number, blobs: RawBlob[]): Json {
    switch (this.int(depth > 2 ? 6 : 11)) {
      case 0:
        return this.pick([null, true, false]);
      case 1:
        return this.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 5e-324, ...this.o.liveIds, this.freshId()]);
      case 2:
        return this.pick(['', 'x', this.o.selfId, 'a'.repeat(300), '__proto__', 'constructor', '$blob', '\u0000\ud800', 'eval', 'ab'.repeat(16)]);
      case 3:
        return this.reservedForm(blobs);
      case 4:
        return { ref: this.pick([...this.o.liveIds, this.freshId(), 0]) };
      case 5:
        return { obj: this.objectNode(depth + 1, blobs) };
      case 6:
        return Array.from({ length: this.int(5) }, () => this.hostile(depth + 1, blobs));
      case 7: {
        const o: Record<string, Json> = {};
        for (let n = this.int(4); n > 0; n--) o[this.pick(['type', 'ref', 'obj', 'shape', 'k', 'child', 'id'])] = this.hostile(depth + 1, blobs);
        return o;
      }
      case 8:
        return this.nest(1, 55 + this.int(25));
      case 9:
        return this.objectNode(depth + 1, blobs);
      default:
        return this.hostile(depth + 1, blobs);
    }
  }

  private nest(inner: Json, levels: number): Json {
    const how = this.int(3);
    let v = inner;
    for (let i = 0; i < levels; i++) v = how === 0 ? [v] : how === 1 ? { a: v } : { $obj: { $a: v } };
    return v;
  }

  private shape(): Json {
    return this.pick<Json>([[2, 2], [3], [], [0], [4, 1], [2 ** 31], [65_536, 65_536], [2 ** 31, 2 ** 31], Array(17).fill(1), [-1], [1.5], 'x', [2 ** 53], null]);
  }

  private newBlob(blobs: RawBlob[], kind: number, elements: number): number {
    const size = [4, 8, 8, 4, 1][kind] ?? 1;
    const bytes = new Uint8Array(elements * size);
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.int(256);
    blobs.push({ kind, bytes });
    return blobs.length - 1;
  }

  private pointer(): Record<string, Json> {
    const p: Record<string, Json> = {
      type: 'pointer',
      location: this.chance(0.6) ? this.o.selfId : this.pick<Json>(['nobody', '', 'x'.repeat(70), 42, null]),
      id: this.chance(0.7) ? this.pick(this.o.tensorIds) : this.pick<Json>([this.freshId(), 0, -5, 1.5, 2 ** 53, '1001']),
      shape: this.chance(0.6) ? [2, 2] : this.shape(),
    };
    if (this.chance(0.05)) delete p[this.pick(['location', 'id', 'shape'])];
    if (this.chance(0.05)) p.extra = 1;
    return p;
  }

  objectNode(depth: number, blobs: RawBlob[]): Json {
    if (depth > 40) return this.pointer();
    switch (this.int(10)) {
      case 0:
      case 1:
        return this.pointer();
      case 2: {
        const n = this.pick([0, 1, 2, 3, 16, 64, 65]);
        return { type: 'ast', shares: Array.from({ length: n }, () => this.pointer()), provider: this.pick<Json>([null, this.o.selfId, 'nobody', 5]) };
      }
      case 3:
        return { type: 'fpt', base: this.pick([10, 2, 1, 2 ** 16, 2 ** 17, -1]), precision: this.pick([3, 0, 62, 63]), child: this.objectNode(depth + 1, blobs) };
      case 4:
        return { type: 'autograd', requiresGrad: this.pick<Json>([true, false, 'yes']), child: this.objectNode(depth + 1, blobs) };
      case 5: {
        // A chain of layers, 10 to 45 deep, alternating autograd and fixed precision.
        let v: Json = this.chance(0.5) ? { type: 'ast', shares: [this.pointer(), this.pointer()], provider: null } : this.ringNode(blobs);
        const levels = 10 + this.int(36);
        for (let i = 0; i < levels; i++) {
          v = i % 2 === 0 ? { type: 'fpt', base: 10, precision: 3, child: v } : { type: 'autograd', requiresGrad: false, child: v };
        }
        return v;
      }
      case 6:
        return this.floatNode(blobs);
      case 7:
        return this.ringNode(blobs);
      case 8:
        return { type: this.pick(['nope', 'paillier-private-key', 'paillier-public-key', 'receipt', 'Function', '__proto__', 'float']), child: this.hostile(depth + 1, blobs) };
      default:
        return { type: 'ast', shares: Array.from({ length: 2 + this.int(3) }, () => this.pointer()), provider: null };
    }
  }

  private floatNode(blobs: RawBlob[]): Json {
    const elements = this.pick([4, 3, 0, 5]);
    return { type: 'float', shape: this.chance(0.7) ? [2, 2] : this.shape(), values: { $blob: this.newBlob(blobs, this.chance(0.85) ? 0 : this.int(5), elements) } };
  }

  private ringNode(blobs: RawBlob[]): Json {
    const elements = this.pick([4, 3, 0]);
    return { type: 'ring', shape: this.chance(0.7) ? [2, 2] : this.shape(), data: { $blob: this.newBlob(blobs, this.chance(0.85) ? 2 : this.int(5), elements) } };
  }

  // ---- text and table edits --------------------------------------------------------------

  private duplicateKey(text: string): string {
    const dup = this.pick(['"kind":"cmd"', '"kind":"req"', '"op":"eval"', '"op":"add"', '"type":"pointer"', '"id":1', '"args":[]', '"ret":[1]', '"req":1', '"$blob":0', '"__proto__":{}']);
    const opens = [...text.matchAll(/\{/g)].map((m) => m.index!);
    if (opens.length === 0) return text;
    const at = this.pick(opens) + 1;
    const body = text[at] === '}' ? dup : `${dup},`;
    if (this.chance(0.5)) return text.slice(0, at) + body + text.slice(at);
    // Or just before the object's end, where the duplicate wins.
    const end = text.indexOf('}', at);
    return end < 0 ? text : `${text.slice(0, end)}${text[end - 1] === '{' ? '' : ','}${dup}${text.slice(end)}`;
  }

  private scramble(text: string): string {
    const chars = [...text];
    switch (this.int(3)) {
      case 0:
        for (let k = 1 + this.int(3); k > 0 && chars.length > 0; k--) chars[this.int(chars.length)] = String.fromCharCode(this.int(128));
        return chars.join('');
      case 1:
        return text.slice(0, this.int(text.length));
      default: {
        const at = this.int(text.length + 1);
        return text.slice(0, at) + this.pick(['[', ']', '{', '}', ',', ':', '"', '\\', '1e400', '-', 'null', '\u00e9', '\ud83d\ude00']) + text.slice(at);
      }
    }
  }

  private mutateBlobs(blobs: RawBlob[]): void {
    switch (this.int(6)) {
      case 0:
        if (blobs.length > 0) this.pick(blobs).kind = this.int(7);
        return;
      case 1:
        if (blobs.length > 0) {
          const b = this.pick(blobs);
          b.bytes = b.bytes.subarray(0, this.int(b.bytes.length + 1));
        }
        return;
      case 2:
        if (blobs.length > 0) blobs.splice(this.int(blobs.length), 1);
        return;
      case 3:
        this.newBlob(blobs, this.int(5), this.int(5));
        return;
      case 4:
        if (blobs.length > 1) blobs.reverse();
        return;
      default:
        if (blobs.length > 0) {
          const b = this.pick(blobs);
          const grown = new Uint8Array(b.bytes.length + this.pick([1, 4, 8]));
          grown.set(b.bytes);
          b.bytes = grown;
        }
    }
  }

  // Rewrites the header length or one blob-table field with a lie.
  private lieAboutLengths(frame: Uint8Array, blobCount: number): Uint8Array {
    const f = frame.slice();
    const dv = new DataView(f.buffer);
    const tableStart = pad(8 + dv.getUint32(4, true), 4);
    const lie = this.pick([0, 1, 7, 255, 0xffffffff, 0x7fffffff, this.int(2 ** 32), this.int(f.length)]);
    const field = this.int(3 + 2 * blobCount);
    if (field === 0) dv.setUint32(4, lie, true);
    else if (field === 1) dv.setUint32(tableStart, lie, true);
    else if (tableStart + 4 * field + 4 <= f.length) dv.setUint32(tableStart + 4 * field, lie, true);
    return f;
  }
}
