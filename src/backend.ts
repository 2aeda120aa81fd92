/**
 * Start-up: picks the tfjs backend that runs float kernels and loads everything else that needs
 * loading (the ring engine's WebAssembly). Call `await sy.ready()` once before using tensors.
 * In Node tfjs finds its .wasm files itself; a page must serve them and say where (`wasmPaths`).
 * The ring's WebAssembly is inside the package's code, so nothing else needs serving. A fallback
 * to a slower engine is never silent: it is announced through `warn` and named in the result.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { StateError, ValueError } from './errors.js';
import { initRing, ringEngine, warmPrg } from './ring/index.js';
import { envVar } from './util/node.js';

export type BackendName = 'wasm' | 'cpu';

export interface ReadyInfo {
  /** The tfjs backend running float kernels. */
  backend: BackendName;
  /** The ring engine running Z_2^64 kernels (`simd`, `scalar` or `js`). */
  ring: string;
  /** Why a slower engine runs than the one wanted (also sent to `warn`); absent when none did. */
  fallback?: string;
}

/** The tfjs wasm files a page serves (the one used depends on the browser's SIMD and threads). */
export type WasmFile = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

export interface ReadyOptions {
  /** Force a tfjs backend. Default: `SYFT_BACKEND` from the environment, else wasm with cpu as fallback. */
  backend?: BackendName;
  /**
   * Where the app serves tfjs's .wasm files (copy them from `@tensorflow/tfjs-backend-wasm/dist/`):
   * a URL prefix ending in `/`, or a URL per file. Default: tfjs's own guess, beside the script
   * (in Node, the package's files).
   */
  wasmPaths?: string | Partial<Record<WasmFile, string>>;
  /** Where a fallback is announced. Default `console.warn`. */
  warn?: (message: string) => void;
}

let readyInfo: ReadyInfo | undefined;
let pending: Promise<ReadyInfo> | undefined;

function envBackend(): BackendName | undefined {
  const v = envVar('SYFT_BACKEND');
  if (v === undefined || v === '') return undefined;
  if (v !== 'wasm' && v !== 'cpu') throw new ValueError(`SYFT_BACKEND must be 'wasm' or 'cpu', got '${v}'`);
  return v;
}

type ProcessEvent = 'uncaughtException' | 'unhandledRejection';
const EVENTS: ProcessEvent[] = ['uncaughtException', 'unhandledRejection'];

// The tfjs wasm backend (Emscripten output) installs process handlers that rethrow every
// uncaught error, which turns any failure into a dump of its minified source. Node's own
// handling says more; keep it.
type Listener = (...args: unknown[]) => void;

async function withoutProcessHandlers<T>(f: () => Promise<T>): Promise<T> {
  const proc = typeof process !== 'undefined' && typeof process.listeners === 'function' ? process : undefined;
  const listeners = (e: ProcessEvent): Listener[] => (proc ? (proc.listeners(e as 'uncaughtException') as Listener[]) : []);
  const before = new Map(EVENTS.map((e) => [e, new Set(listeners(e))]));
  try {
    return await f();
  } finally {
    for (const e of EVENTS) {
      for (const l of listeners(e)) if (!before.get(e)!.has(l)) proc!.removeListener(e as 'uncaughtException', l);
    }
  }
}

function checkWasmPaths(p: ReadyOptions['wasmPaths']): void {
  if (p === undefined) return;
  if (typeof p === 'string') {
    if (!p.endsWith('/')) throw new ValueError(`wasmPaths must be a URL prefix ending in '/' (got '${p.slice(0, 100)}'), or a URL per .wasm file`);
    return;
  }
  const files = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
  for (const [k, v] of Object.entries(p)) {
    if (!files.includes(k)) throw new ValueError(`wasmPaths: unknown file '${k}'; the files are ${files.join(', ')}`);
    if (typeof v !== 'string') throw new ValueError(`wasmPaths['${k}'] must be a URL string`);
  }
}

async function init(opts: ReadyOptions): Promise<ReadyInfo> {
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const wanted = opts.backend ?? envBackend();
  let backend: BackendName = wanted ?? 'wasm';
  let ok = false;
  let why = 'it reported failure';
  if (backend === 'wasm' && opts.wasmPaths !== undefined) setWasmPaths(opts.wasmPaths as Parameters<typeof setWasmPaths>[0]);
  try {
    ok = await withoutProcessHandlers(() => tf.setBackend(backend));
  } catch (e) {
    ok = false;
    why = (e as Error)?.message ?? String(e);
  }
  let fallback: string | undefined;
  if (!ok) {
    const where = opts.wasmPaths === undefined ? "tfjs's default location, beside the script" : JSON.stringify(opts.wasmPaths);
    const help =
      `the tfjs wasm backend failed to start (${why}; its .wasm files were looked for at ${where}). ` +
      "In a page, serve the files of @tensorflow/tfjs-backend-wasm/dist/*.wasm and say where: sy.ready({ wasmPaths: '/wasm/' })";
    if (wanted === 'wasm') throw new StateError(`${help}; or use the cpu backend (SYFT_BACKEND=cpu, or ready({ backend: 'cpu' }))`);
    backend = 'cpu';
    await tf.setBackend('cpu');
    fallback = `${help}. Float kernels run on tfjs's slower cpu backend instead.`;
    warn(`syft-ts: ${fallback}`);
  }
  await tf.ready();
  await initRing();
  // Browsers: the seeded PRG's wasm kernel is self-checked and tiered up here, not in the first protocol.
  warmPrg();
  const { engine: ring, reason } = ringEngine();
  if (ring === 'js' && reason.startsWith('fallback')) {
    const note = `the ring's WebAssembly did not start (${reason}): ring kernels run in plain JavaScript (BigInt), many times slower`;
    warn(`syft-ts: ${note}`);
    fallback = fallback ? `${fallback} ${note}.` : `${note}.`;
  }
  return { backend, ring, ...(fallback ? { fallback } : {}) };
}

/**
 * Initialises syft-ts: the tfjs backend (wasm by default, cpu as fallback, announced loudly;
 * `SYFT_BACKEND=cpu` forces cpu) and the ring engine. Safe to call more than once. In a page,
 * pass `wasmPaths`: where the app serves tfjs's .wasm files.
 *
 * @example
 * ```ts
 * import * as sy from 'syft-ts';
 * const info = await sy.ready();   // { backend: 'wasm', ring: 'simd' }
 * // in a page: await sy.ready({ wasmPaths: '/wasm/' });
 * ```
 */
export function ready(opts: ReadyOptions = {}): Promise<ReadyInfo> {
  try {
    checkWasmPaths(opts.wasmPaths);
  } catch (e) {
    return Promise.reject(e as Error);
  }
  if (readyInfo && (!opts.backend || opts.backend === readyInfo.backend)) return Promise.resolve(readyInfo);
  if (!pending || opts.backend) {
    pending = init(opts).then(
      (info) => (readyInfo = info),
      (e: unknown) => {
        pending = undefined;
        throw e;
      },
    );
  }
  return pending;
}

/** Throws a clear error when a float kernel runs before `ready()` resolved. */
export function assertReady(): void {
  if (!readyInfo) {
    throw new StateError('syft-ts is not initialised: call `await sy.ready()` once before using tensors');
  }
}

export { tf };
