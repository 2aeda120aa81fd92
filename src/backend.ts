/**
 * Start-up: picks the tfjs backend that runs float kernels and loads everything else that needs
 * loading (the ring engine's WebAssembly). Call `await sy.ready()` once before using tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { StateError, ValueError } from './errors.js';
import { initRing, ringEngine } from './ring/index.js';
import { envVar } from './util/node.js';

export type BackendName = 'wasm' | 'cpu';

export interface ReadyInfo {
  /** The tfjs backend running float kernels. */
  backend: BackendName;
  /** The ring engine running Z_2^64 kernels (`simd`, `scalar` or `js`). */
  ring: string;
}

export interface ReadyOptions {
  /** Force a tfjs backend. Default: `SYFT_BACKEND` from the environment, else wasm with cpu as fallback. */
  backend?: BackendName;
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

async function init(opts: ReadyOptions): Promise<ReadyInfo> {
  const wanted = opts.backend ?? envBackend();
  let backend: BackendName = wanted ?? 'wasm';
  let ok = false;
  try {
    ok = await withoutProcessHandlers(() => tf.setBackend(backend));
  } catch {
    ok = false;
  }
  if (!ok) {
    if (wanted === 'wasm') throw new StateError('the tfjs wasm backend failed to start; use SYFT_BACKEND=cpu');
    backend = 'cpu';
    await tf.setBackend('cpu');
  }
  await tf.ready();
  await initRing();
  return { backend, ring: ringEngine().engine };
}

/**
 * Initialises syft-ts: the tfjs backend (wasm by default in Node, cpu as fallback;
 * `SYFT_BACKEND=cpu` forces cpu) and the ring engine. Safe to call more than once.
 *
 * @example
 * ```ts
 * import * as sy from 'syft-ts';
 * const info = await sy.ready();   // { backend: 'wasm', ring: 'simd' }
 * ```
 */
export function ready(opts: ReadyOptions = {}): Promise<ReadyInfo> {
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
