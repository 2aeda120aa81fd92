// Decodes hostile frames in a child process with a small heap, so that a decoder that blows up
// takes down only this process (and the test that started it sees a crash or a time-out, not a
// hung test run). Reads frames from the file named by argv[2] (u32 name length | name | u32 frame
// length | frame, repeated); prints one JSON line per frame, then the peak RSS.
import { readFileSync } from 'node:fs';
import { decodeMessage } from '../../../src/workers/serde.js';

const file = readFileSync(process.argv[2]!);
const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
const gc = (globalThis as { gc?: () => void }).gc;
const peakRssKb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
let at = 0;
console.log(JSON.stringify({ start: true, peakRssKb: peakRssKb() }));
while (at < file.length) {
  const nameLength = dv.getUint32(at, true);
  const name = file.subarray(at + 4, at + 4 + nameLength).toString('utf8');
  at += 4 + nameLength;
  const length = dv.getUint32(at, true);
  const frame = file.subarray(at + 4, at + 4 + length);
  at += 4 + length;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let outcome: { ok: true; kind: string } | { ok: false; error: string; message: string };
  try {
    outcome = { ok: true, kind: decodeMessage(frame).kind };
  } catch (e) {
    outcome = { ok: false, error: (e as Error).constructor.name, message: (e as Error).message.slice(0, 300) };
  }
  const ms = performance.now() - t0;
  const retainedMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  console.log(JSON.stringify({ name, bytes: length, ms, retainedMB, ...outcome }));
}
console.log(JSON.stringify({ end: true, peakRssKb: peakRssKb() }));
