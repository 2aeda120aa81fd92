// Deterministic generators of hostile frames for the fuzz test (seeded, so a failure replays).
import { commandNames, getCommand } from '../../../src/workers/commands.js';
import type { Message, WireNode } from '../../../src/workers/messages.js';
import { decodeMessage, encodeMessage } from '../../../src/workers/serde.js';
import { SeededRandom } from '../../../src/util/seeded.js';

export class FrameFuzzer {
  private readonly r: SeededRandom;
  /** Frames generated then thrown away because, by chance, they decoded. */
  discarded = 0;

  constructor(
    seed: number,
    /** Ids the worker really holds: refused messages aim at them too. */
    private readonly liveIds: number[],
    /** Well-formed frames to truncate and corrupt. */
    private readonly templates: Uint8Array[],
  ) {
    this.r = new SeededRandom(seed);
  }

  int(n: number): number {
    return Math.floor(this.r.next() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  /** A fresh id no object has (well below 2^53, from the seeded generator). */
  freshId(): number {
    return 1 + this.int(2 ** 30) * 4096 + this.int(4096);
  }

  someId(): number {
    return this.int(3) === 0 ? this.pick(this.liveIds) : this.freshId();
  }

  // ---- frames that must not decode -------------------------------------------------------

  /** A frame `decodeMessage` refuses; whatever it is, the worker must refuse it. */
  undecodable(): Uint8Array {
    for (;;) {
      const f = this.undecodableCandidate();
      try {
        decodeMessage(f);
      } catch {
        return f;
      }
      this.discarded++;
    }
  }

  private undecodableCandidate(): Uint8Array {
    switch (this.int(7)) {
      case 0:
        return this.bytes(this.int(64));
      case 1: {
        // The right magic number, then noise.
        const f = this.bytes(8 + this.int(200));
        f.set([0x53, 0x59, 0x46, 0x32]);
        return f;
      }
      case 2: {
        const t = this.pick(this.templates);
        return t.slice(0, this.int(t.length));
      }
      case 3: {
        // Flip a few bytes of the header region (lengths, JSON).
        const f = this.pick(this.templates).slice();
        const span = Math.min(f.length, 8 + new DataView(f.buffer).getUint32(4, true));
        for (let k = 1 + this.int(3); k > 0; k--) f[this.int(span)] = this.int(256);
        return f;
      }
      case 4: {
        // Corrupt the blob table: counts, kinds, lengths.
        const f = this.pick(this.templates).slice();
        const dv = new DataView(f.buffer);
        const tableStart = (8 + dv.getUint32(4, true) + 3) & ~3;
        const at = tableStart + 4 * this.int(3);
        if (at + 4 <= f.length) dv.setUint32(at, this.pick([0, 1, 7, 255, 0xffffffff, this.int(2 ** 32)]), true);
        return f;
      }
      case 5: {
        // Extra bytes after a valid frame.
        const t = this.pick(this.templates);
        const f = new Uint8Array(t.length + 1 + this.int(16));
        f.set(t);
        return f;
      }
      default:
        // A well-framed envelope around a message of the wrong shape or types.
        return this.wrongTyped();
    }
  }

  private wrongTyped(): Uint8Array {
    const kinds = ['cmd', 'store', 'del', 'clear', 'peer', 'req', 'reply', 'eval', '', 'CMD', 42, null];
    const keys = ['kind', 'op', 'args', 'ret', 'self', 'id', 'obj', 'ids', 'req', 'session', 'tag', 'payload', 'value', 'ok', 'error', 'junk'];
    const m: Record<string, unknown> = {};
    if (this.int(8) > 0) m.kind = this.pick(kinds);
    for (let n = this.int(6); n > 0; n--) m[this.pick(keys)] = this.value(0);
    if (this.int(10) === 0) Object.defineProperty(m, '__proto__', { value: { polluted: true }, enumerable: true });
    return this.encode(m as unknown as Message);
  }

  /**
   * Encodes like the library does; for what its encoder will not write (keys such as
   * `constructor`), writes the frame by hand: the JSON as the header, no blobs.
   */
  encode(m: Message): Uint8Array {
    try {
      return encodeMessage(m);
    } catch {
      const header = new TextEncoder().encode(
        JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : ArrayBuffer.isView(v) ? [] : v)),
      );
      const tableStart = (8 + header.length + 3) & ~3;
      const total = (tableStart + 4 + 7) & ~7;
      const f = new Uint8Array(total);
      const dv = new DataView(f.buffer);
      dv.setUint32(0, 0x32465953, true);
      dv.setUint32(4, header.length, true);
      f.set(header, 8);
      return f;
    }
  }

  value(depth: number): unknown {
    switch (this.int(depth > 3 ? 9 : 12)) {
      case 0: return null;
      case 1: return this.pick([true, false]);
      case 2: return this.pick([0, -1, 1.5, -0, 2 ** 53, 2 ** 60, Number.NaN, Number.POSITIVE_INFINITY, this.someId()]);
      case 3: return this.pick(['', 'x', 'add', 'eval', '__proto__', 'a'.repeat(300), 'a'.repeat(32), '../../etc/passwd', 'process.exit()']);
      case 4: return BigInt(this.int(1000)) - 500n;
      case 5: return new Float32Array(this.int(4));
      case 6: return new BigInt64Array(this.int(3));
      case 7: return new Uint8Array(this.int(5));
      case 8: return this.someId();
      case 9: return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
      case 10: {
        const o: Record<string, unknown> = {};
        for (let n = this.int(4); n > 0; n--) o[this.pick(['type', 'ref', 'obj', 'shape', 'values', 'constructor', 'k'])] = this.value(depth + 1);
        return o;
      }
      default: {
        // Deep nesting, beyond the decoder's limit.
        let v: unknown = 1;
        for (let i = 0; i < 70 + this.int(10); i++) v = [v];
        return v;
      }
    }
  }

  // ---- frames that decode, but that the worker must refuse -------------------------------

  /** A well-formed message the worker refuses (counted in `worker.rejected`). */
  refusable(): Message {
    const known = commandNames();
    switch (this.int(5)) {
      case 0: {
        let op: string;
        do op = this.pick(['eval', 'require', 'import', 'Function', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'exec', `op_${this.int(1e6)}`]);
        while (getCommand(op));
        return { kind: 'cmd', op, self: this.someId(), args: [this.value(2) as never], ret: [this.freshId()] };
      }
      case 1: {
        // A known op with the wrong number of result ids.
        const op = this.pick(known.filter((n) => getCommand(n)!.results === 1));
        return { kind: 'cmd', op, self: this.pick(this.liveIds), args: [1], ret: this.int(2) ? [] : [this.freshId(), this.freshId()] };
      }
      case 2: {
        const op = this.pick(known.filter((n) => getCommand(n)!.needsSelf && getCommand(n)!.results === 1));
        return { kind: 'cmd', op, args: [], ret: [this.freshId()] };
      }
      case 3:
        return this.int(2)
          ? { kind: 'reply', req: this.int(100), ok: true, value: 1 }
          : { kind: 'reply', req: this.int(100), ok: false, error: { name: 'E', message: 'forged', op: 'get' } };
      default:
        // Protocol values on a client connection.
        return { kind: 'peer', session: 'ab'.repeat(16), tag: 'move', payload: this.value(1) as never };
    }
  }

  /** A well-formed request that fails on the worker (an error reply, not a refusal). `req` is set by the caller. */
  failingRequest(req: number): Message {
    switch (this.int(4)) {
      case 0:
        return { kind: 'req', req, op: this.pick(['eval', 'exec', 'shutdown', 'objects', 'keys', `r_${this.int(1e6)}`]), args: [] };
      case 1:
        return { kind: 'req', req, op: 'get', args: [this.freshId(), this.pick([true, false])] };
      case 2:
        return { kind: 'req', req, op: 'get', args: [this.simple()] };
      default:
        return { kind: 'req', req, op: 'connectPeer', args: [this.simple(), this.pick(['ws://127.0.0.1:1', 'file:///etc/passwd', 'x']), 'zz', 'q'] as never };
    }
  }

  /** A command or store that is well-formed but whose ids or payload are bad: it fails, recorded under `id`. */
  failingPost(id: number): Message {
    const badNode = this.pick<WireNode>([
      { type: 'float', shape: [3], values: new Float32Array(2) },
      { type: 'nope' },
      { type: 'pointer', location: 'nowhere', id: 5, shape: [1] },
      { type: 'float', shape: [-1], values: new Float32Array(0) },
    ]);
    switch (this.int(3)) {
      case 0:
        return { kind: 'store', id, obj: badNode };
      case 1:
        return { kind: 'cmd', op: this.pick(['add', 'relu', 'matmul', 'copy']), self: this.freshId(), args: [{ ref: this.freshId() }], ret: [id] };
      default:
        return { kind: 'cmd', op: 'add', self: this.pick(this.liveIds), args: [{ obj: badNode }], ret: [id] };
    }
  }

  /** A value that always travels, but is never an object id. */
  simple(): never {
    return this.pick([null, -1, 0, 1.5, 'x', true, [1], { a: 1 }]) as never;
  }

  private json(v: unknown): string {
    try {
      return JSON.stringify(v) ?? 'undefined';
    } catch {
      return 'null'; // bigints do not stringify
    }
  }

  controlGarbage(): string {
    switch (this.int(5)) {
      case 0: return '';
      case 1: return 'x'.repeat(this.int(5000));
      case 2: return this.json({ t: this.pick(['hello', 'challenge', 'welcome', 'nope', 'bye ']), n: this.value(1) });
      case 3: return JSON.stringify({ t: 'ack', n: this.pick([-1, 1e9, 1.5, 'x', 2 ** 53]) });
      default: return this.json(this.value(0));
    }
  }

  helloGarbage(challengeNonce: string): string | Uint8Array {
    switch (this.int(5)) {
      case 0: return this.bytes(this.int(40));
      case 1: return this.json(this.value(0));
      case 2: return JSON.stringify({ t: 'hello', v: 1, role: 'client', id: 'me', nonce: challengeNonce, received: 0, proof: '0'.repeat(64) });
      case 3: return JSON.stringify({ t: 'hello', v: this.pick([0, 2, 99]), role: 'client', id: 'me', nonce: challengeNonce, received: 0, proof: 'f'.repeat(64) });
      default: return JSON.stringify({ t: 'hello', v: 1, role: this.pick(['admin', 'peer', 'client']), id: this.pick(['me', 'x'.repeat(65), '', 'a b']), nonce: 'zz', received: -1, proof: 'short' });
    }
  }
}
