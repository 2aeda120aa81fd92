// The 8.9 KB frame that killed workers (a superjson envelope describing a 60-level DAG), and
// version 2 frames at and past every decoding limit, sent to a real worker process on every path
// a frame comes in: a client connection, a peer link, and a reply reaching an orchestrator. Each
// is refused with a clear error at once; the worker's CPU and memory stay bounded, it keeps
// serving a legitimate client, and the orchestrator's request rejects instead of hanging.
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { encodeObject } from '../../src/workers/codec.js';
import type { WireError } from '../../src/workers/messages.js';
import { encodeMessage } from '../../src/workers/serde.js';
import { randomHex, ticketKey } from '../../src/workers/websocket/auth.js';
import { WebsocketClientWorker, type WorkerProcess, startWorkerProcess } from '../../src/workers/websocket/index.js';
import { limitFrames, rawFrame, superjsonDagFrame } from '../workers/helpers/hostile-frames.js';
import { rawConnect } from './helpers/raw.js';
import { WsMitm } from './helpers/ws-mitm.js';

const TOKEN = randomHex(32);
const ID = 'dag_target';
let dir: string;
let proc: WorkerProcess;
let legit: WebsocketClientWorker;

// Peak resident memory of a process, in MB (Linux).
const peakRssMB = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

// A legitimate client on its own session is still answered, and correctly.
async function legitimateRoundTrip(): Promise<number> {
  const t0 = performance.now();
  const x = sy.tensor([1, 2, 3]).send(legit);
  expect((await x.add(x).get()).arraySync()).toEqual([2, 4, 6]);
  return performance.now() - t0;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'syft-dag-'));
  writeFileSync(join(dir, 'token'), TOKEN);
  proc = await startWorkerProcess({ id: ID, tokenFile: join(dir, 'token') });
  legit = await WebsocketClientWorker.connect(proc.url, { id: ID, token: TOKEN, timeoutMs: 10_000 });
  legit.post({ kind: 'store', id: 1001, obj: encodeObject(sy.tensor([[1, 2], [3, 4]]).child) }, sy.local);
  await legit.sync();
});

afterAll(async () => {
  await legit?.close().catch(() => {});
  await proc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a hostile frame reaching a worker process', () => {
  test('over a client connection: each frame is refused at once (or, within the limits, decoded), and the worker keeps serving', async () => {
    const frames = limitFrames();
    const conn = await rawConnect(proc.url, { key: TOKEN });
    expect(conn.welcome).toBeDefined();
    const cpuBefore = (await legit.workerStats()).process.cpuMs;
    const rssBefore = peakRssMB(proc.child.pid!);
    const latencies: number[] = [];
    for (const [i, f] of frames.entries()) {
      // A sync after each frame: every reply before its answer is this frame's.
      const seen = conn.replies.length;
      const syncReq = 1_000_000 + i;
      conn.send(f.frame);
      conn.send(encodeMessage({ kind: 'req', req: syncReq, op: 'sync', args: [] }));
      await conn.until(() => conn.replies.some((r) => r.req === syncReq), 10_000);
      const answers = conn.replies.slice(seen).filter((r) => r.req !== syncReq);
      if (f.expect === 'decodes') {
        // Decoded: a command on a fresh result fails quietly (recorded for get), a protocol
        // value from a client is refused; either way no WireFormatError.
        expect(answers.every((r) => !r.ok && r.error.name !== 'WireFormatError'), f.name).toBe(true);
      } else {
        expect(answers, f.name).toHaveLength(1);
        const r = answers[0]!;
        expect(r.ok, f.name).toBe(false);
        if (!r.ok) {
          expect(r.error.name, f.name).toBe('WireFormatError');
          expect(r.error.message, f.name).toMatch(f.expect);
        }
      }
      latencies.push(await legitimateRoundTrip());
    }
    expect(conn.closed).toBeUndefined();
    conn.close();
    expect(proc.child.exitCode).toBeNull();
    const cpuMs = (await legit.workerStats()).process.cpuMs - cpuBefore;
    const rssGrowth = peakRssMB(proc.child.pid!) - rssBefore;
    // Safety bounds, far from what a 2^60 walk needs, with room for a busy machine.
    expect(cpuMs).toBeLessThan(20_000);
    expect(rssGrowth).toBeLessThan(400);
    latencies.sort((a, b) => a - b);
    console.info(
      `client path: ${frames.length} hostile frames (${(frames.reduce((n, f) => n + f.frame.length, 0) / 2 ** 20).toFixed(1)} MB) cost the worker ` +
        `${cpuMs.toFixed(0)} ms of CPU and ${rssGrowth.toFixed(0)} MB of peak RSS; legitimate round trips median ${latencies[latencies.length >> 1]!.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
    );
  });

  test('over a peer link: the DAG frame and every refused frame get one clear error each, and the link stays up', async () => {
    const nonce = randomHex();
    const key = ticketKey(TOKEN, ID, 'mallory', nonce);
    const peer = await rawConnect(proc.url, { role: 'peer', id: 'mallory', ticket: nonce, key });
    expect(peer.welcome).toBeDefined();
    const refused = limitFrames().filter((f) => f.expect !== 'decodes');
    for (const f of refused) {
      const seen = peer.replies.length;
      peer.send(f.frame);
      await peer.until(() => peer.replies.length > seen, 10_000);
      const r = peer.replies[seen]!;
      expect(r.ok, f.name).toBe(false);
      if (!r.ok) {
        expect(r.error.name, f.name).toBe('WireFormatError');
        expect(r.error.message, f.name).toMatch(f.expect);
      }
    }
    expect(peer.replies).toHaveLength(refused.length);
    expect(peer.closed).toBeUndefined();
    peer.close();
    expect(proc.child.exitCode).toBeNull();
    await legitimateRoundTrip();
  });
});

describe('a hostile reply reaching an orchestrator', () => {
  let mitm: WsMitm;
  let orchestrator: WebsocketClientWorker;
  beforeAll(async () => {
    mitm = await new WsMitm(proc.url).start();
    orchestrator = await WebsocketClientWorker.connect(mitm.url, { id: ID, token: TOKEN, timeoutMs: 800 });
  });
  afterAll(async () => {
    await orchestrator?.close().catch(() => {});
    await mitm?.close();
  });

  const replies = [
    { name: 'the superjson DAG frame', frame: superjsonDagFrame(60), expect: /undecodable frame: wire format version 1/ },
    { name: 'a header of too many values', frame: limitFrames().find((f) => /values$/.test(f.name) && f.expect !== 'decodes')!.frame, expect: /more than \d+ values and keys/ },
    { name: 'a reply nested too deeply', frame: rawFrame(`{"kind":"reply","req":1,"ok":true,"value":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), expect: /nested too deeply/ },
    { name: 'a reply naming an unknown reserved key', frame: rawFrame('{"kind":"reply","req":1,"ok":true,"value":{"$ref":"value"}}'), expect: /unknown reserved key/ },
  ];

  test.each(replies)('$name: the request rejects with a clear error (no hang, no crash) and the orchestrator goes on', async ({ frame, expect: why }) => {
    const rejections: WireError[] = [];
    const stopListening = orchestrator.on('rejection', (e) => rejections.push(e));
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    try {
      mitm.replaceNext.push(frame);
      const t0 = performance.now();
      const err = await orchestrator.ping().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      const ms = performance.now() - t0;
      delay.disable();
      expect(err, 'the request resolved despite a hostile reply').toBeInstanceOf(Error);
      // The frame was refused at once, with a clear reason (the request itself rejects when its
      // timeout fires, since a refused frame cannot be matched to a request).
      expect(rejections).toHaveLength(1);
      expect(rejections[0]!.name).toBe('WireFormatError');
      expect(rejections[0]!.message).toMatch(new RegExp(`undecodable frame from worker '${ID}'`));
      expect(rejections[0]!.message).toMatch(why);
      expect(ms).toBeLessThan(800 + 3000);
      // The event loop was never blocked long (the old decoder never returned from the DAG).
      expect(delay.max / 1e6).toBeLessThan(1000);
    } finally {
      stopListening();
      delay.disable();
    }
    // The connection is still good: the next request is answered by the real worker.
    await orchestrator.ping();
    expect(proc.child.exitCode).toBeNull();
  });

  test('all hostile replies were delivered by the man in the middle', () => {
    expect(mitm.swapped).toBe(replies.length);
  });
});
