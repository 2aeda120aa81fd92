import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { type Message, validateMessage } from '../../src/workers/messages.js';
import { cloneMessage } from '../../src/workers/serde.js';

describe('wire format', () => {
  const msg: Message = {
    kind: 'cmd',
    op: 'add',
    self: 12345,
    args: [
      { obj: { type: 'float', shape: [2, 2], values: new Float32Array([1, 2, 3.5, -4]) } },
      { obj: { type: 'ring', shape: [3], data: new BigInt64Array([1n, -1n, 2n ** 63n - 1n]) } },
      2n ** 70n,
      Number.NaN,
      [1, 2, 3],
    ],
    ret: [99],
  };

  test('round trip keeps typed arrays, bigints and NaN', () => {
    const bytes = sy.encodeMessage(msg);
    const back = sy.decodeMessage(bytes) as typeof msg;
    expect(back.kind).toBe('cmd');
    const [a, b, big, nan, list] = back.args as [any, any, bigint, number, number[]];
    expect(a.obj.values).toBeInstanceOf(Float32Array);
    expect([...a.obj.values]).toEqual([1, 2, 3.5, -4]);
    expect([...b.obj.data]).toEqual([1n, -1n, 2n ** 63n - 1n]);
    expect(big).toBe(2n ** 70n);
    expect(nan).toBeNaN();
    expect(list).toEqual([1, 2, 3]);
    // tensor bytes travel raw, not as JSON numbers
    expect(bytes.length).toBeLessThan(400);
  });

  test('every truncation of a frame is refused with a WireFormatError', () => {
    const bytes = sy.encodeMessage(msg);
    for (let n = 0; n < bytes.length; n += 3) {
      expect(() => sy.decodeMessage(bytes.subarray(0, n))).toThrow(sy.WireFormatError);
    }
  });

  test('corrupted frames are refused', () => {
    const bytes = sy.encodeMessage(msg);
    const wrongMagic = bytes.slice();
    wrongMagic[0] = 0;
    expect(() => sy.decodeMessage(wrongMagic)).toThrow(/magic/);
    const trailing = new Uint8Array(bytes.length + 8);
    trailing.set(bytes);
    expect(() => sy.decodeMessage(trailing)).toThrow(/trailing/);
    const text = new TextEncoder().encode(JSON.stringify({ kind: 'del', ids: [{ $blob: 0 }] }));
    const frame = new Uint8Array((((8 + text.length + 3) & ~3) + 4 + 7) & ~7);
    new DataView(frame.buffer).setUint32(0, 0x32465953, true);
    new DataView(frame.buffer).setUint32(4, text.length, true);
    frame.set(text, 8);
    expect(() => sy.decodeMessage(frame)).toThrow(/bad blob reference/);
  });

  test('messages with unknown kinds, extra fields or bad ids are refused', () => {
    const bad = [
      { kind: 'cmd', op: 'add', args: [], ret: [0] },
      { kind: 'cmd', op: 'a b', args: [], ret: [] },
      { kind: 'get', id: 1 },
      { kind: 'peer', session: 'short', tag: 'x', payload: 1 },
      { kind: 'del', ids: [1.5] },
      { kind: 'clear', more: 1 },
    ];
    for (const m of bad) expect(() => sy.decodeMessage(sy.encodeMessage(m as Message))).toThrow(sy.WireFormatError);
  });

  test('in-process delivery copies: own buffers, only the viewed words, never shared memory', () => {
    const copy = cloneMessage(msg);
    expect(copy).toEqual(msg);
    const ring = (msg.args[1] as { obj: { data: BigInt64Array } }).obj.data;
    const ringCopy = (copy.args[1] as { obj: { data: BigInt64Array } }).obj.data;
    expect(ringCopy.buffer).not.toBe(ring.buffer);
    ring[0] = 42n;
    expect(ringCopy[0]).toBe(1n);
    ring[0] = 1n;
    // A view into a larger buffer travels as its own words only.
    const big = new BigInt64Array(5000).map((_, i) => BigInt(i));
    const shared = new BigInt64Array(new SharedArrayBuffer(16)).fill(7n);
    const view = cloneMessage({ kind: 'peer', session: 'a'.repeat(32), tag: 't', payload: { data: big.subarray(1000, 3000), s: shared } } as Message);
    const { data, s } = (view as unknown as { payload: { data: BigInt64Array; s: BigInt64Array } }).payload;
    expect(data.length).toBe(2000);
    expect(data.buffer.byteLength).toBeLessThan(5000 * 8);
    expect([data[0], data[1999]]).toEqual([1000n, 2999n]);
    expect(s.buffer).toBeInstanceOf(ArrayBuffer);
    expect([...s]).toEqual([7n, 7n]);
    // A Node Buffer travels as a copy too (its slice() would share memory).
    const buf = Buffer.from([1, 2, 3]);
    const bytes = (cloneMessage({ kind: 'peer', session: 'a'.repeat(32), tag: 't', payload: buf } as Message) as { payload: Uint8Array }).payload;
    buf[0] = 9;
    expect([...bytes]).toEqual([1, 2, 3]);
  });

  test('in-process delivery keeps what validation must refuse', () => {
    // An own "__proto__" key (as JSON.parse makes) stays a key, so the copy is refused too.
    const proto = JSON.parse('{"kind":"cmd","op":"add","args":[{"__proto__":{"x":1}}],"ret":[]}') as Message;
    expect(() => validateMessage(proto)).toThrow(/forbidden key '__proto__'/);
    expect(() => validateMessage(cloneMessage(proto))).toThrow(/forbidden key '__proto__'/);
    // Values that cannot travel are still refused after the copy.
    const withMap = { kind: 'cmd', op: 'add', args: [new Map([[1, 2]])], ret: [] } as unknown as Message;
    expect(() => validateMessage(cloneMessage(withMap))).toThrow(/cannot travel/);
    // Absurd nesting is copied without a stack overflow, and refused.
    let deep: unknown = 1;
    for (let i = 0; i < 500; i++) deep = [deep];
    expect(() => validateMessage(cloneMessage({ kind: 'cmd', op: 'add', args: [deep], ret: [] } as unknown as Message))).toThrow(/nested too deeply/);
  });
});
