// A hostile network against real worker processes, for test/websocket/attacks.test.ts and
// bench/attacks.bench.ts: three `syft-ts worker` processes on loopback (two parties and a crypto
// provider) with a token per client, a legitimate orchestrator ("orch") running private matrix
// products on them, and attacks that run until stopped — unauthenticated (floods before the
// hello, slowloris, idle connections, wrong tokens, plain HTTP) and authenticated as another
// client ("mallory": garbage frames, reaching for orch's objects, heavy and over-limit commands,
// replies never acknowledged).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import * as sy from '../../../src/index.js';
import { encodeObject } from '../../../src/workers/codec.js';
import type { WireValue } from '../../../src/workers/messages.js';
import { encodeMessage } from '../../../src/workers/serde.js';
import { newToken } from '../../../src/workers/websocket/identities.js';
import { WebsocketClientWorker, type WorkerProcess, startWorkerProcess } from '../../../src/workers/websocket/index.js';
import { rawConnect } from './raw.js';

export const WORKER_ARGS = ['--handshake-timeout-ms', '1000', '--max-unauthenticated', '64', '--login-burst', '5', '--max-unacked-bytes', '1MiB'];

/** What an attack needs: where the workers listen (bob first), and mallory's token. */
export interface Target {
  urls: string[];
  mallory: string;
}

export interface Cluster extends Target {
  procs: WorkerProcess[];
  bob: WebsocketClientWorker;
  alice: WebsocketClientWorker;
  dealer: WebsocketClientWorker;
  mallory: string;
  close(): Promise<void>;
}

/** Starts bob, alice and a crypto provider in their own processes, each listing orch and mallory; orch connects to all three. */
export async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'syft-attacks-'));
  const orch = newToken();
  const mallory = newToken();
  const file = join(dir, 'clients.tokens');
  writeFileSync(file, `orch:${orch}\nmallory:${mallory}\n`, { mode: 0o600 });
  const procs = await Promise.all(
    ['bob', 'alice', 'crypto_provider'].map((id) => startWorkerProcess({ id, tokensFile: file, timeoutMs: 20_000, args: WORKER_ARGS })),
  );
  const [bob, alice, dealer] = await Promise.all(procs.map((p) => WebsocketClientWorker.connect(p.url, { id: p.id, name: 'orch', token: orch })));
  return {
    procs,
    urls: procs.map((p) => p.url),
    bob: bob!,
    alice: alice!,
    dealer: dealer!,
    mallory,
    async close() {
      await Promise.all([bob, alice, dealer].map((c) => c!.close().catch(() => {})));
      await Promise.all(procs.map((p) => p.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One private product of orch's: X (4x8) and W (8x3) shared between bob and alice. Returns the largest error and the time taken. */
export async function privateMatmul(c: Cluster): Promise<{ maxError: number; ms: number }> {
  const t0 = performance.now();
  const x = sy.randn([4, 8]);
  const w = sy.randn([8, 3]);
  const share = (t: sy.Tensor) => t.fixPrecision().share(c.bob, c.alice, { cryptoProvider: c.dealer });
  const got = (await share(x).matmul(share(w)).get()).floatPrecision().arraySync() as number[][];
  const want = x.matmul(w).arraySync() as number[][];
  const maxError = Math.max(...got.flat().map((v, i) => Math.abs(v - want.flat()[i]!)));
  return { maxError, ms: performance.now() - t0 };
}

/** The peak resident memory of a worker process so far, in MB (Linux: /proc; undefined elsewhere). */
export function peakRssMb(p: WorkerProcess): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** An attack that runs until `stop()`; `stop` resolves with what it counted. */
export interface Running {
  /** What it counted so far. */
  readonly counts: Readonly<Record<string, number>>;
  stop(): Promise<Record<string, number>>;
}
export type Attack = (c: Target) => Running;

const port = (url: string) => Number(new URL(url).port);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Runs `body` over and over (with a breather) until stopped; counts what it returns.
function loop(body: (n: Record<string, number>) => Promise<void>): Running {
  const n: Record<string, number> = { rounds: 0 };
  let running = true;
  const done = (async () => {
    while (running) {
      await body(n).catch(() => (n.errors = (n.errors ?? 0) + 1));
      n.rounds!++;
      await pause(5);
    }
  })();
  return {
    counts: n,
    async stop() {
      running = false;
      await done;
      return n;
    },
  };
}

function ws(url: string, localAddress = '127.0.0.1'): WebSocket {
  const s = new WebSocket(url, { perMessageDeflate: false, localAddress });
  s.on('error', () => {});
  return s;
}
const closedWs = (s: WebSocket) => new Promise<void>((r) => (s.readyState === WebSocket.CLOSED ? r() : s.once('close', () => r())));

/** Ten connections at a time to bob, each sending an 8 MB frame before any hello. */
export const preHelloFlood: Attack = (c) => {
  const frame = new Uint8Array(8 * 2 ** 20);
  return loop(async (n) => {
    const socks = Array.from({ length: 10 }, () => ws(c.urls[0]!));
    await Promise.all(socks.map((s) => new Promise<void>((r) => s.once('open', () => (s.send(frame), r())).once('close', () => r()))));
    await Promise.all(socks.map(closedWs));
    n.frames = (n.frames ?? 0) + socks.length;
  });
};

/** Fifty TCP connections to bob, each dribbling an HTTP upgrade request a byte at a time. */
export const slowloris: Attack = (c) =>
  loop(async (n) => {
    const head = `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`;
    const socks = Array.from({ length: 50 }, () => tcpConnect({ host: '127.0.0.1', port: port(c.urls[0]!) }).on('error', () => {}));
    for (let i = 0; i < head.length && socks.some((s) => !s.destroyed); i++) {
      for (const s of socks) if (!s.destroyed) s.write(head[i]!);
      await pause(100);
    }
    n.closedByWorker = (n.closedByWorker ?? 0) + socks.filter((s) => s.destroyed || s.readyState === 'closed').length;
    for (const s of socks) s.destroy();
  });

/** Six hundred idle TCP connections to bob, reopened as the worker closes them. */
export const idleFlood: Attack = (c) => {
  const open = new Set<Socket>();
  const fill = (n: Record<string, number>) => {
    while (open.size < 600) {
      const s = tcpConnect({ host: '127.0.0.1', port: port(c.urls[0]!) }).on('error', () => {});
      open.add(s);
      s.once('close', () => {
        open.delete(s);
        n.closedByWorker = (n.closedByWorker ?? 0) + 1;
      });
    }
  };
  const l = loop(async (n) => {
    fill(n);
    await pause(50);
  });
  return {
    counts: l.counts,
    async stop() {
      const n = await l.stop();
      for (const s of open) s.destroy();
      return n;
    },
  };
};

/** Wrong tokens from 127.0.0.2 (and plain HTTP GETs): refused, then made to wait. */
export const unauthProbes: Attack = (c) =>
  loop(async (n) => {
    const conn = await rawConnect(c.urls[0]!, { id: 'orch', key: newToken(), localAddress: '127.0.0.2' }).catch((e: Error) => {
      if (/HTTP 429/.test(e.message)) n.waited = (n.waited ?? 0) + 1;
      return undefined;
    });
    if (conn?.refused) n.refused = (n.refused ?? 0) + 1;
    conn?.close();
    const status = await new Promise<number>((r) => {
      const req = request({ host: '127.0.0.1', port: port(c.urls[0]!), path: '/' }, (res) => (res.resume(), r(res.statusCode!)));
      req.on('error', () => r(0));
      req.end();
    });
    if (status === 426) n.http426 = (n.http426 ?? 0) + 1;
  });

async function malloryOn(c: Target, i = 0) {
  return rawConnect(c.urls[i]!, { id: 'mallory', key: c.mallory });
}

/** Mallory, logged in, sends frames of random bytes and random mutations of a valid command. */
export const garbage: Attack = (c) => {
  let conn: Awaited<ReturnType<typeof malloryOn>> | undefined;
  const valid = encodeMessage({ kind: 'cmd', op: 'add', self: 1, args: [{ ref: 1 } as unknown as WireValue], ret: [2] });
  return loop(async (n) => {
    if (!conn || conn.closed) conn = await malloryOn(c);
    for (let i = 0; i < 50; i++) {
      const f = i % 2 ? crypto.getRandomValues(new Uint8Array(1 + (i * 37) % 600)) : valid.slice();
      if (i % 2 === 0) for (let k = 0; k < 4; k++) f[(i * 13 + k * 7) % f.length] ^= 1 + k;
      conn.send(f);
    }
    n.frames = (n.frames ?? 0) + 50;
    await pause(20);
  });
};

/** Mallory asks bob for, and tries to delete, objects by the ids orch's pointers name. */
export function crossIdentity(ids: () => number[]): Attack {
  return (c) => {
    let conn: Awaited<ReturnType<typeof malloryOn>> | undefined;
    let req = 1;
    const gets = new Set<number>();
    return loop(async (n) => {
      if (!conn || conn.closed) conn = await malloryOn(c);
      for (const id of ids()) {
        gets.add(req);
        conn.send(encodeMessage({ kind: 'req', req: req++, op: 'get', args: [id, true] }));
        conn.send(encodeMessage({ kind: 'del', ids: [id] }));
      }
      conn.send(encodeMessage({ kind: 'req', req: req++, op: 'ids', args: [] }));
      await pause(50);
      n.replies = conn.replies.length;
      n.okGets = conn.replies.filter((r) => r.ok && gets.has(r.req)).length;
      // Listings show mallory's own objects only, never the ids she reaches for.
      const theirs = new Set(ids());
      n.listedTheirs = conn.replies.filter((r) => r.ok && !gets.has(r.req) && (r.value as number[]).some((v) => theirs.has(v))).length;
    });
  };
}

/** Mallory keeps bob busy with allowed heavy products (512x512 floats) and over-limit ones (refused). */
export const cpuBomb: Attack = (c) => {
  let conn: Awaited<ReturnType<typeof malloryOn>> | undefined;
  let req = 1;
  return loop(async (n) => {
    if (!conn || conn.closed) {
      conn = await malloryOn(c);
      conn.send(encodeMessage({ kind: 'store', id: 9001, obj: encodeObject(sy.randn([512, 512]).child) }));
      conn.send(encodeMessage({ kind: 'store', id: 9002, obj: encodeObject(sy.randn([1, 1]).child) }));
    }
    conn.send(encodeMessage({ kind: 'cmd', op: 'matmul', self: 9001, args: [{ ref: 9001 } as unknown as WireValue], ret: [9003] }));
    conn.send(encodeMessage({ kind: 'cmd', op: 'broadcastTo', self: 9002, args: [[65536, 65536]], ret: [9004] }));
    conn.send(encodeMessage({ kind: 'req', req: req++, op: 'get', args: [9004, false] }));
    await pause(30);
    n.quotaErrors = conn.replies.filter((r) => !r.ok && /QuotaError/.test(r.error?.name ?? '')).length;
  });
};

/** Mallory never acknowledges, and asks for a 256 KB tensor again and again. */
export const unackedReplies: Attack = (c) => {
  let conn: Awaited<ReturnType<typeof malloryOn>> | undefined;
  let req = 1;
  return loop(async (n) => {
    if (!conn || conn.closed) {
      if (conn?.closed) n.sessionsEnded = (n.sessionsEnded ?? 0) + 1;
      conn = await malloryOn(c);
      conn.send(encodeMessage({ kind: 'store', id: 8001, obj: encodeObject(sy.randn([256, 256]).child) }));
    }
    for (let i = 0; i < 20; i++) conn.send(encodeMessage({ kind: 'req', req: req++, op: 'get', args: [8001, true] }));
    await pause(20);
    n.quotaErrors = (n.quotaErrors ?? 0) + conn.replies.splice(0).filter((r) => !r.ok && /maxUnackedBytes/.test(r.error?.message ?? '')).length;
  });
};

export const ATTACKS: Record<string, Attack> = { preHelloFlood, slowloris, idleFlood, unauthProbes, garbage, cpuBomb, unackedReplies };
