// Decoding costs time and memory linear in the frame. The frame that killed workers in wire
// format version 1 (a 9 KB superjson envelope whose reference annotations describe a value of
// 2^60 paths) is refused at once, and version 2 frames at and past every decoding limit are
// decided quickly in a child process with a small heap. Also: the reserved `$` forms of the
// header round-trip exactly and cannot be forged.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { LIMITS, type Message } from '../../src/workers/messages.js';
import { decodeMessage, encodeMessage } from '../../src/workers/serde.js';
import { type HostileFrame, limitFrames, rawFrame, superjsonDagFrame } from './helpers/hostile-frames.js';

interface ChildLine {
  name?: string;
  bytes?: number;
  ms?: number;
  retainedMB?: number;
  ok?: boolean;
  error?: string;
  message?: string;
  start?: boolean;
  end?: boolean;
  peakRssKb?: number;
}

// Runs decode-child.ts on the frames with a 96 MB heap; kills it after `deadlineMs`.
async function decodeInChild(frames: HostileFrame[], deadlineMs: number): Promise<{ lines: ChildLine[]; code: number | null; killed: boolean; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'syft-frames-'));
  try {
    const parts: Uint8Array[] = [];
    for (const f of frames) {
      const name = Buffer.from(f.name);
      const head = Buffer.alloc(4);
      head.writeUInt32LE(name.length);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(f.frame.length);
      parts.push(head, name, len, f.frame);
    }
    const file = join(dir, 'frames.bin');
    writeFileSync(file, Buffer.concat(parts));
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const script = fileURLToPath(new URL('./helpers/decode-child.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', tsx, '--max-old-space-size=96', '--expose-gc', script, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, deadlineMs);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(timer);
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ChildLine);
    return { lines, code, killed, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('decoding hostile frames', () => {
  test('a superjson DAG frame is refused as version 1, whatever its depth', () => {
    // 60 levels take 8.9 KB, as in the attack. Only a shallow one is decoded in this process (a
    // decoder that walked the DAG again would never return from 60 levels; the child below has those).
    expect(superjsonDagFrame(60).length).toBeGreaterThan(8_500);
    expect(superjsonDagFrame(60).length).toBeLessThan(9_500);
    expect(() => decodeMessage(superjsonDagFrame(8))).toThrow(/undecodable frame: wire format version 1 \(SYF1, a superjson header\).*same syft-ts release/);
  });

  test('every frame at or past a limit is decided within a small time and memory bound', async () => {
    const frames = limitFrames();
    const { lines, code, killed, stderr } = await decodeInChild(frames, 60_000);
    expect(killed, 'the child decoding hostile frames was killed after 60 s').toBe(false);
    expect(code, stderr).toBe(0);
    const results = lines.filter((l) => l.name !== undefined);
    expect(results.map((r) => r.name)).toEqual(frames.map((f) => f.name));
    for (const [i, f] of frames.entries()) {
      const r = results[i]!;
      if (f.expect === 'decodes') expect(r.ok, `${f.name}: ${r.message}`).toBe(true);
      else {
        expect(r.ok, f.name).toBe(false);
        expect(r.error, f.name).toBe('WireFormatError');
        expect(r.message, f.name).toMatch(f.expect);
      }
      // Generous safety bounds (the machine is shared): each takes milliseconds.
      expect(r.ms!, f.name).toBeLessThan(2000);
      expect(r.retainedMB!, f.name).toBeLessThan(8 + (32 * r.bytes!) / 2 ** 20);
    }
    const start = lines.find((l) => l.start)!.peakRssKb!;
    const end = lines.find((l) => l.end)!.peakRssKb!;
    expect((end - start) / 1024).toBeLessThan(256);
    if (process.env.SHOW_FRAMES) for (const r of results) console.info(`${r.name}: ${r.bytes} B ${r.ms!.toFixed(1)} ms ${r.retainedMB!.toFixed(1)} MB ${r.ok ? "decodes" : r.message}`);
    const slowest = [...results].sort((a, b) => b.ms! - a.ms!)[0]!;
    console.info(
      `decoded ${results.length} hostile frames (${(results.reduce((n, r) => n + r.bytes!, 0) / 2 ** 20).toFixed(1)} MB) in a 96 MB heap: ` +
        `slowest '${slowest.name}' ${slowest.ms!.toFixed(1)} ms; peak RSS grew ${((end - start) / 1024).toFixed(0)} MB`,
    );
  });
});

describe('the header format', () => {
  const roundTrip = (m: Message) => decodeMessage(encodeMessage(m));
  const peer = (payload: unknown): Message => ({ kind: 'peer', session: 'ab'.repeat(16), tag: 't', payload: payload as never });

  test('objects that look like reserved forms travel as themselves', () => {
    const tricky = [
      { $blob: 0 },
      { $big: 'ff' },
      { $num: 'NaN' },
      { $obj: { $blob: 1 } },
      { $unknown: [1, { $blob: 2 }] },
      { $: 5n },
      { $blob: 0, other: 1 },
      [{ $obj: { $obj: { $x: new Uint8Array([1, 2]) } } }],
    ];
    for (const v of tricky) {
      const back = roundTrip(peer(v)) as { payload: unknown };
      expect(back.payload).toEqual(v);
    }
  });

  test('bigints, NaN, infinities and -0 round-trip; bigints travel in hexadecimal', () => {
    const values = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n, -(2n ** 4000n) + 12345n, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1.5];
    const back = (roundTrip(peer(values)) as { payload: unknown[] }).payload;
    values.forEach((v, i) => expect(Object.is(back[i], v), String(v)).toBe(true));
    const header = new TextDecoder().decode(encodeMessage(peer([255n, -255n])));
    expect(header).toContain('[{"$big":"ff"},{"$big":"-ff"}]');
  });

  test('non-canonical reserved forms are refused', () => {
    const bad = ['{"$big":"00"}', '{"$big":"-0"}', '{"$big":"FF"}', '{"$big":"0x1"}', '{"$big":1}', '{"$big":""}', '{"$num":"nan"}', '{"$num":1}', '{"$obj":1}', '{"$obj":{"a":1}}', '{"$obj":[1]}'];
    for (const b of bad) {
      expect(() => decodeMessage(rawFrame(`{"kind":"peer","session":"${'ab'.repeat(16)}","tag":"t","payload":${b}}`)), b).toThrow(sy.WireFormatError);
    }
    for (const ref of ['{"$blob":1.5}', '{"$blob":-1}', '{"$blob":"0"}', '{"$blob":1}']) {
      const f = rawFrame(`{"kind":"peer","session":"${'ab'.repeat(16)}","tag":"t","payload":[${ref}]}`, [{ kind: 4, bytes: new Uint8Array(1) }]);
      expect(() => decodeMessage(f), ref).toThrow(/bad blob reference/);
    }
  });

  test('optional fields left undefined are left out; values that cannot travel are refused when encoding', () => {
    const m = { kind: 'cmd', op: 'add', self: undefined, args: [{ a: 1, b: undefined }], ret: [7] } as unknown as Message;
    const back = roundTrip(m) as { args: unknown[] };
    expect('self' in back).toBe(false);
    expect(back.args[0]).toEqual({ a: 1 });
    class Thing {
      x = 1;
    }
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const cannot: [unknown, RegExp][] = [
      [new Map(), /Map cannot travel/],
      [new Date(0), /Date cannot travel/],
      [new Thing(), /Thing cannot travel/],
      [[1, undefined], /an array holds undefined/],
      [new Uint16Array(2), /Uint16Array cannot travel/],
      [() => 1, /function cannot travel/],
      [Symbol('s'), /symbol cannot travel/],
      [cyclic, /nested more than 64 levels deep \(or a cyclic one\)/],
    ];
    for (const [v, re] of cannot) expect(() => encodeMessage(peer(v)), String(re)).toThrow(re);
  });

  test('an own __proto__ key is written, and refused by the receiver', () => {
    const o = {};
    Object.defineProperty(o, '__proto__', { value: { polluted: true }, enumerable: true });
    const frame = encodeMessage(peer(o));
    expect(new TextDecoder().decode(frame)).toContain('"__proto__":{"polluted":true}');
    expect(() => decodeMessage(frame)).toThrow(/forbidden key '__proto__'/);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  test('the encoder counts values and keys exactly as the decoder does: what it writes at the limit decodes', () => {
    // The decoder's count of a header: 1 + each '[', ',' and ':' outside strings.
    const scanCount = (frame: Uint8Array) => {
      const text = new TextDecoder().decode(frame.subarray(8, 8 + new DataView(frame.buffer).getUint32(4, true)));
      return 1 + (text.replace(/"(?:[^"\\]|\\.)*"/g, '').match(/[[,:]/g)?.length ?? 0);
    };
    const tricky = [{}, [], [[]], { $x: { $obj: 1 } }, 'a,b:[c]"d\\', 7n, Number.NaN, new Uint8Array(2), { k: [1, { j: null }] }];
    const make = (n: number) => peer([...tricky, ...new Array<number>(n).fill(0)]);
    let lo = 0;
    let hi = LIMITS.headerNodes;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      try {
        encodeMessage(make(mid));
        lo = mid;
      } catch {
        hi = mid - 1;
      }
    }
    const atLimit = encodeMessage(make(lo));
    expect(scanCount(atLimit)).toBe(LIMITS.headerNodes);
    expect((decodeMessage(atLimit) as { payload: unknown[] }).payload).toHaveLength(tricky.length + lo);
    expect(() => encodeMessage(make(lo + 1))).toThrow(/values and keys \(at most \d+\): send bulk numbers as typed arrays/);
  });

  test('messages past the header limits are refused when encoding, with what to do', () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => 2 ** 52 + i);
    expect(roundTrip({ kind: 'del', ids })).toEqual({ kind: 'del', ids });
    expect(() => encodeMessage(peer('x'.repeat(LIMITS.headerBytes)))).toThrow(/header takes \d+ bytes \(at most \d+\): send bulk numbers as typed arrays/);
    expect(() => encodeMessage(peer(Array.from({ length: (1 << 16) + 1 }, () => new Uint8Array(0))))).toThrow(/typed arrays \(at most 65536\)/);
  });
});
