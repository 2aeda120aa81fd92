/**
 * The next step's noise, drawn on a worker thread while this step computes (Node).
 *
 * A DP-SGD step draws one exact discrete Gaussian sample per parameter (gaussian.ts): about 30 ns
 * each, 3 ms for the MNIST MLP's 109,386 parameters, more than the plain step's own work. The
 * noise does not depend on the data, so it can be drawn before it is needed: once a request
 * (sigma, count) has come three times, a thread keeps one array of it drawn ahead, from its own
 * CSPRNG, and {@link NoiseAhead.take} hands it over synchronously (`receiveMessageOnPort`, so a
 * training loop that never yields still gets it). Each array is transferred, used once and never
 * kept; when none is ready the caller draws on its own thread, as without this. Where threads
 * cannot run (browsers, a bundle without the thread file) every draw is the caller's.
 */
import { loadNodeBuiltin } from '../util/node.js';
import { moduleThreadFactory } from '../util/threads.js';

type WorkerThreads = typeof import('node:worker_threads');
type Port = import('node:worker_threads').MessagePort;

// A request becomes worth drawing ahead once it has repeated this often (a training loop).
const REPEATS_BEFORE_AHEAD = 3;
// Distinct (sigma, count) requests drawn ahead at once; others are drawn by the caller.
const MAX_KEYS = 64;

interface Slot {
  seen: number;
  inFlight: boolean;
  ready: Float64Array | undefined;
}

/** Noise drawn ahead on a thread. One per process: {@link noiseAhead}. @internal */
export class NoiseAhead {
  readonly #slots = new Map<string, Slot>();
  #wt: WorkerThreads | undefined;
  #port: Port | undefined;
  #terminate: (() => Promise<number>) | undefined;
  #state: 'idle' | 'starting' | 'running' | 'off' = 'idle';
  /** Arrays handed over drawn ahead, and requests the caller had to draw itself. */
  readonly stats = { ahead: 0, drawnByCaller: 0 };

  /** `count` samples of the discrete Gaussian of parameter `sigma` drawn ahead, if one is ready. */
  take(sigma: number, count: number): Float64Array | undefined {
    const key = `${sigma}:${count}`;
    let slot = this.#slots.get(key);
    if (slot === undefined && this.#slots.size < MAX_KEYS) this.#slots.set(key, (slot = { seen: 0, inFlight: false, ready: undefined }));
    if (slot === undefined || this.#state === 'off') return this.#miss();
    slot.seen++;
    if (this.#state === 'idle' && slot.seen >= REPEATS_BEFORE_AHEAD) this.#start();
    if (this.#state !== 'running') return this.#miss();
    this.#drain();
    const z = slot.ready;
    slot.ready = undefined;
    if (!slot.inFlight) {
      slot.inFlight = true;
      this.#port!.postMessage({ sigma, count });
    }
    if (z === undefined) return this.#miss();
    this.stats.ahead++;
    return z;
  }

  /** Stops the thread; later draws are the caller's. */
  async close(): Promise<void> {
    this.#state = 'off';
    this.#port?.close();
    await this.#terminate?.();
    this.#slots.clear();
  }

  #miss(): undefined {
    this.stats.drawnByCaller++;
    return undefined;
  }

  // Takes in every array the thread has finished.
  #drain(): void {
    for (let m = this.#wt!.receiveMessageOnPort(this.#port!); m !== undefined; m = this.#wt!.receiveMessageOnPort(this.#port!)) {
      const { sigma, count, z } = m.message as { sigma: number; count: number; z: unknown };
      const slot = this.#slots.get(`${sigma}:${count}`);
      if (slot === undefined || !(z instanceof Float64Array) || z.length !== count) continue;
      slot.inFlight = false;
      slot.ready = z;
    }
  }

  #start(): void {
    this.#state = 'starting';
    void (async () => {
      const wt = await loadNodeBuiltin<WorkerThreads>('node:worker_threads');
      const spawn = wt === undefined ? undefined : await moduleThreadFactory(new URL(/* webpackIgnore: true */ './noise-thread', import.meta.url));
      if (wt === undefined || spawn === undefined || this.#state !== 'starting') return void (this.#state = 'off');
      const worker = spawn();
      const { port1, port2 } = new wt.MessageChannel();
      worker.postMessage({ port: port2 }, [port2]);
      worker.on('error', () => void this.close());
      worker.unref();
      port1.unref();
      [this.#wt, this.#port, this.#terminate] = [wt, port1, () => worker.terminate()];
      this.#state = 'running';
    })().catch(() => {
      this.#state = 'off';
    });
  }
}

let shared: NoiseAhead | undefined;

/** The process's {@link NoiseAhead} (made on first use). @internal */
export function noiseAhead(): NoiseAhead {
  return (shared ??= new NoiseAhead());
}
