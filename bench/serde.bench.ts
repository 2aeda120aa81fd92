// Wire format figures: encoding and decoding (with validation) of realistic messages — a 64x784
// ring opening, a command with a few arguments, a reply of 100 numbers, a 100,000-id delete — and
// refusing hostile frames (the version 1 DAG frame, a header at the value budget).
// `npm run bench -- serde`. Version 1 (superjson) cannot be measured here any more: its
// comparison with version 2 was run interleaved in one process when version 2 landed.
import type { Message } from '../src/workers/messages.js';
import { decodeMessage, encodeMessage } from '../src/workers/serde.js';
import { limitFrames, superjsonDagFrame } from '../test/workers/helpers/hostile-frames.js';
import type { Harness } from './harness.js';

export async function run(h: Harness): Promise<void> {
  const ring = new BigInt64Array(64 * 784);
  for (let i = 0; i < ring.length; i += 8192) crypto.getRandomValues(ring.subarray(i, i + 8192));
  const messages: [string, Message, number][] = [
    ['ring opening 64x784', { kind: 'peer', session: 'ab'.repeat(16), tag: 'open.eps', payload: { shape: [64, 784], data: ring } }, 200],
    ['command with 4 args', { kind: 'cmd', op: 'matmul', self: 123456789012, args: [{ ref: 987654321 }, 3, null, 2n ** 62n + 5n], ret: [55555555] }, 2000],
    ['reply of 100 numbers', { kind: 'reply', req: 42, ok: true, value: Array.from({ length: 100 }, (_, i) => i * 1234567 + 0.5) }, 2000],
    ['delete of 100,000 ids', { kind: 'del', ids: Array.from({ length: 100_000 }, (_, i) => 2 ** 52 + i) }, 5],
  ];
  for (const [name, m, n] of messages) {
    const frame = encodeMessage(m);
    const per = (fn: () => unknown) => () => {
      for (let i = 0; i < n; i++) fn();
    };
    const enc = await h.time(`encode ${name} x${n}`, per(() => encodeMessage(m)), { reps: 30, warmup: 5 });
    const dec = await h.time(`decode ${name} x${n}`, per(() => decodeMessage(frame)), { reps: 30, warmup: 5 });
    h.record(`${name}: us per encode / decode`, (enc.median * 1000) / n, 'us', { decodeUs: Number(((dec.median * 1000) / n).toFixed(2)), bytes: frame.length });
  }
  const refuse = (f: Uint8Array) => () => {
    try {
      decodeMessage(f);
    } catch {
      // refused, as it must be
    }
  };
  await h.time('refuse the 60-level superjson DAG frame (SYF1)', refuse(superjsonDagFrame(60)), { reps: 50 });
  const atBudget = limitFrames().find((f) => f.expect === 'decodes' && /values$/.test(f.name))!;
  await h.time(`decode ${atBudget.name} (${(atBudget.frame.length / 1024).toFixed(0)} KB)`, refuse(atBudget.frame), { reps: 20 });
  const overBudget = limitFrames().find((f) => f.expect !== 'decodes' && /values$/.test(f.name))!;
  await h.time(`refuse ${overBudget.name} (${(overBudget.frame.length / 1024).toFixed(0)} KB)`, refuse(overBudget.frame), { reps: 20 });
}
