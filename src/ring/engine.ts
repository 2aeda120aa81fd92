// Engine selection: which kernels RingTensor calls. Until initRing() runs, the plain JavaScript
// kernels serve every call, so the ring works synchronously from the first import; initRing()
// swaps in WebAssembly when it is available and proves correct on this machine.
import { RingEngineError, RingValueError } from './errors.js';
import { jsKernels } from './kernels/js-kernels.js';
import { planeWords, type RingEngineName, type RingKernels } from './kernels/types.js';
import { MatmulPool, POOL_MIN_WORK } from './kernels/matmul-pool.js';
import { WasmKernels, decodeBase64 } from './kernels/wasm-kernels.js';
import { loadNodeCrypto } from './node-crypto.js';
import { envVar, loadNodeBuiltin } from '../util/node.js';

export type { RingEngineName } from './kernels/types.js';

/** Which engine runs the ring kernels, and why. */
export interface RingEngineInfo {
  /** 'simd' (wasm SIMD), 'scalar' (wasm without SIMD) or 'js' (plain BigInt JavaScript). */
  readonly engine: RingEngineName;
  /** Whether this runtime accepts the SIMD build (undefined until initRing has looked). */
  readonly simdSupported: boolean | undefined;
  /** Why this engine runs: forced, picked automatically, or which faster engine failed and how. */
  readonly reason: string;
  /**
   * Threads that share large matrix products (1: this thread alone). Only the SIMD engine in Node
   * splits products; see {@link RingInitOptions.threads}.
   */
  readonly threads: number;
}

/** Options of {@link initRing}. */
export interface RingInitOptions {
  /** Force an engine instead of picking the fastest that works here. */
  engine?: RingEngineName;
  /**
   * Threads for large matrix products, this one included. Default: in Node's main thread, the
   * number of cores (at most 4) or the `SYFT_RING_THREADS` environment variable; in worker
   * threads (ThreadWorker parties, which already run side by side) and browsers, 1. Products
   * under about 2^18 multiply-adds always run on one thread.
   */
  threads?: number;
}

// A cap, so a many-core machine does not start a crowd of helpers for products of this size
// (only 2 cores were measured: more may help, which initRing({ threads }) allows).
const MAX_DEFAULT_THREADS = 4;

const ENGINES: readonly RingEngineName[] = ['simd', 'scalar', 'js'];

let active: RingKernels = jsKernels;
let info: RingEngineInfo = {
  engine: 'js',
  simdSupported: undefined,
  reason: 'initRing() has not run yet, so the plain JavaScript kernels serve every call',
  threads: 1,
};
let initialized = false;
let queue: Promise<unknown> = Promise.resolve();
const wasmCache = new Map<'simd' | 'scalar', Promise<WasmKernels>>();

/** The kernels in use (internal: RingTensor calls this on every kernel operation). */
export function kernels(): RingKernels {
  return active;
}

/**
 * Which engine runs the ring kernels (for logs and benchmarks).
 *
 * @example
 * ```ts
 * await initRing();
 * console.log(ringEngine().engine); // 'simd' on any current Node or browser
 * ```
 */
export function ringEngine(): RingEngineInfo {
  return info;
}

/**
 * Selects the ring engine. Without options it picks wasm SIMD when the runtime validates the SIMD
 * module and a self-check against the JavaScript kernels passes, else scalar wasm, else plain
 * JavaScript. Idempotent: later calls without options keep the engine already chosen. Passing
 * `engine` forces that engine (throws {@link RingEngineError} if it cannot run here), which is
 * what tests and benchmarks use to compare engines. `threads` sets how many threads share large
 * matrix products (SIMD engine in Node only).
 *
 * @example
 * ```ts
 * const { engine, reason, threads } = await initRing();
 * await initRing({ engine: 'js' }); // force the BigInt fallback
 * await initRing({ engine: 'simd', threads: 1 }); // SIMD on this thread only
 * ```
 */
export function initRing(opts: RingInitOptions = {}): Promise<RingEngineInfo> {
  const forced = opts.engine;
  if (forced !== undefined && !ENGINES.includes(forced)) {
    return Promise.reject(
      new RingValueError(`initRing: unknown engine '${String(forced)}'; use one of ${ENGINES.join(', ')}`),
    );
  }
  const threads = opts.threads;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
    return Promise.reject(new RingValueError(`initRing: threads must be an integer from 1 to 64, got ${String(threads)}`));
  }
  // Calls run one after another, so concurrent initRing() calls never race on `active`.
  const next = queue.then(async () => {
    const chosen = await select(forced);
    return threads === undefined && poolDecided ? chosen : setThreads(threads);
  });
  queue = next.catch(() => undefined);
  return next;
}

let pool: MatmulPool | undefined;
let poolDecided = false;

/** Starts, replaces or stops the matmul pool of the SIMD engine, then reports the engine. */
async function setThreads(requested: number | undefined): Promise<RingEngineInfo> {
  poolDecided = true;
  const want = info.engine === 'simd' ? (requested ?? (await defaultThreads())) : 1;
  if ((pool?.threads ?? 1) !== want || (pool !== undefined && !pool.alive)) {
    const old = pool;
    pool = undefined;
    if (active instanceof WasmKernels) active.pool = undefined;
    await old?.close();
    if (want > 1) pool = await startPool(want);
  }
  if (active instanceof WasmKernels) active.pool = pool;
  info = Object.freeze({ ...info, threads: pool?.threads ?? 1 });
  return info;
}

async function startPool(threads: number): Promise<MatmulPool | undefined> {
  const mod = await import('./generated/ring-simd-threads.js').catch(() => undefined);
  if (mod === undefined) return undefined;
  const bytes = decodeBase64(mod.wasmBase64);
  if (!WebAssembly.validate(bytes)) return undefined;
  const p = await MatmulPool.start(bytes, mod.memoryPages, { threads, minWork: 0 });
  if (p === undefined) return undefined;
  // Checked like the engines themselves, with every product big enough for two blocks split
  // across the threads (minWork 0); the others go to the JavaScript kernels and match trivially.
  let split = 0;
  const check: RingKernels = {
    ...jsKernels,
    engine: 'simd',
    matmul(...args) {
      if (p.matmul(...args)) split++;
      else jsKernels.matmul(...args);
    },
  };
  const mismatch = selfCheck(check, true);
  if (mismatch !== undefined || split === 0 || !p.alive) {
    await p.close();
    const why = mismatch ?? (split === 0 ? 'no product was split' : 'a helper failed');
    (globalThis as { process?: { emitWarning?(m: string): void } }).process?.emitWarning?.(
      `ring matmul pool not used: self-check failed (${why}); products run on one thread`,
    );
    return undefined;
  }
  p.minWork = POOL_MIN_WORK;
  return p;
}

async function defaultThreads(): Promise<number> {
  const env = envVar('SYFT_RING_THREADS');
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!(Number.isInteger(n) && n >= 1 && n <= 64)) {
      throw new RingValueError(`SYFT_RING_THREADS must be an integer from 1 to 64, got '${env}'`);
    }
    return n;
  }
  const [threads, os] = await Promise.all([
    loadNodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads'),
    loadNodeBuiltin<typeof import('node:os')>('node:os'),
  ]);
  // Browsers (and worker threads, which already run side by side) multiply on one thread.
  if (threads === undefined || os === undefined || !threads.isMainThread) return 1;
  return Math.max(1, Math.min(MAX_DEFAULT_THREADS, os.availableParallelism?.() ?? os.cpus().length));
}

async function select(forced: RingEngineName | undefined): Promise<RingEngineInfo> {
  // Node < 20.16 has no synchronous way to reach node:crypto; load it here for Prg.ringSync.
  await loadNodeCrypto();
  if (initialized && (forced === undefined || forced === info.engine)) return info;
  if (forced === 'js') {
    return use(jsKernels, { engine: 'js', simdSupported: info.simdSupported, reason: 'forced by initRing({ engine: "js" })', threads: 1 });
  }
  if (forced !== undefined) {
    try {
      const k = await loadWasm(forced);
      return use(k, { engine: forced, simdSupported: await simdSupported(), reason: `forced by initRing({ engine: "${forced}" })`, threads: 1 });
    } catch (e) {
      throw new RingEngineError(
        `initRing: the ${forced} engine cannot run here: ${(e as Error).message}. ` +
          `Call initRing() without options to fall back automatically.`,
      );
    }
  }
  const failures: string[] = [];
  for (const engine of ['simd', 'scalar'] as const) {
    try {
      const k = await loadWasm(engine);
      const why = failures.length === 0 ? 'fastest engine available' : `fallback: ${failures.join('; ')}`;
      return use(k, { engine, simdSupported: await simdSupported(), reason: why, threads: 1 });
    } catch (e) {
      failures.push(`${engine}: ${(e as Error).message}`);
    }
  }
  return use(jsKernels, { engine: 'js', simdSupported: await simdSupported(), reason: `fallback: ${failures.join('; ')}`, threads: 1 });
}

function use(k: RingKernels, next: RingEngineInfo): RingEngineInfo {
  // A new engine starts without the pool; initRing then decides the threads again.
  if (active instanceof WasmKernels) active.pool = undefined;
  poolDecided = false;
  active = k;
  info = Object.freeze(next);
  initialized = true;
  return info;
}

async function wasmBytes(engine: 'simd' | 'scalar'): Promise<Uint8Array<ArrayBuffer>> {
  // Dynamic imports keep the scalar build out of memory when SIMD works.
  const mod =
    engine === 'simd' ? await import('./generated/ring-simd.js') : await import('./generated/ring-scalar.js');
  return decodeBase64(mod.wasmBase64);
}

async function simdSupported(): Promise<boolean> {
  if (typeof WebAssembly === 'undefined') return false;
  try {
    return WebAssembly.validate(await wasmBytes('simd'));
  } catch {
    return false;
  }
}

function loadWasm(engine: 'simd' | 'scalar'): Promise<WasmKernels> {
  let p = wasmCache.get(engine);
  if (p === undefined) {
    p = (async () => {
      if (typeof WebAssembly === 'undefined') throw new Error('this runtime has no WebAssembly');
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = await wasmBytes(engine);
      } catch (e) {
        throw new Error(`src/ring/generated is missing (${(e as Error).message}); run npm run build:wasm`);
      }
      if (!WebAssembly.validate(bytes)) {
        throw new Error(`WebAssembly.validate rejects the ${engine} build${engine === 'simd' ? ' (no wasm SIMD support)' : ''}`);
      }
      const k = await WasmKernels.instantiate(engine, bytes);
      const mismatch = selfCheck(k);
      if (mismatch !== undefined) throw new Error(`self-check failed: ${mismatch}`);
      return k;
    })();
    wasmCache.set(engine, p);
    // A failure is not cached as final: a later forced call retries (and reports) it again.
    p.catch(() => wasmCache.delete(engine));
  }
  return p;
}

/**
 * Compares a wasm engine with the JavaScript kernels on edge values and odd shapes that hit every
 * loop tail. Returns a description of the first mismatch, or undefined.
 */
function selfCheck(k: RingKernels, matmulOnly = false): string | undefined {
  const edge = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n)];
  // splitmix64: fixed, reproducible check data (not secret, so no CSPRNG needed).
  let state = 0x243f6a8885a308d3n;
  const next = (): bigint => {
    state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return BigInt.asIntN(64, z ^ (z >> 31n));
  };
  const data = (n: number): BigInt64Array => {
    const a = new BigInt64Array(n);
    for (let i = 0; i < n; i++) a[i] = i < edge.length ? edge[i] : next();
    return a;
  };
  const same = (x: BigInt64Array, y: BigInt64Array): boolean => x.length === y.length && x.every((v, i) => v === y[i]);

  for (const [m, kk, n] of [[1, 1, 1], [3, 5, 7], [7, 13, 9], [2, 3, 6], [5, 4, 13], [4, 17, 12], [13, 37, 14], [9, 20, 40], [40, 9, 7]]) {
    const a = data(m * kk);
    const b = data(kk * n);
    const want = new BigInt64Array(m * n);
    const got = new BigInt64Array(m * n);
    jsKernels.matmul(a, b, want, m, kk, n, [0], [0]);
    k.matmul(a, b, got, m, kk, n, [0], [0]);
    if (!same(want, got)) return `matmul ${m}x${kk} by ${kk}x${n}`;
  }
  if (matmulOnly) return undefined;
  // Long enough for the wasm path (chunks of 4096 and a tail), with edge values in both operands.
  const x = data(2 * 4096 + 37);
  const y = x.slice().reverse();
  for (const op of ['add', 'sub', 'mul'] as const) {
    const want = new BigInt64Array(x.length);
    const got = new BigInt64Array(x.length);
    jsKernels.binary(op, x, y, want);
    k.binary(op, x, y, got);
    if (!same(want, got)) return op;
  }
  for (const n of [1, 37, 64, 100, 129]) {
    const words = data(n);
    const want = new Uint32Array(64 * planeWords(n));
    const got = new Uint32Array(want.length).fill(0xdeadbeef);
    jsKernels.bitPlanes(words, want);
    k.bitPlanes(words, got);
    if (!want.every((v, i) => v === got[i])) return `bitPlanes of ${n}`;
  }
  const a = data(37);
  for (const bits of [0, 1, 31, 32, 33, 63]) {
    for (const op of ['shiftRight', 'shiftRightLogical', 'shiftLeft'] as const) {
      const want = new BigInt64Array(a.length);
      const got = new BigInt64Array(a.length);
      jsKernels[op](a, want, bits);
      k[op](a, got, bits);
      if (!same(want, got)) return `${op} by ${bits}`;
    }
  }
  for (const d of [1n, 3n, 10n, 1000n, 2n ** 62n + 1n]) {
    const want = new BigInt64Array(a.length);
    const got = new BigInt64Array(a.length);
    jsKernels.divFloor(a, want, d);
    k.divFloor(a, got, d);
    if (!same(want, got)) return `divFloor by ${d}`;
  }
  if (jsKernels.sum(a) !== k.sum(a)) return 'sum';
  return undefined;
}
