// Matrix products split across threads (Node only).
//
// A secure matmul is several ring matmuls, and in one process (virtual workers) they run one
// after another on one core while the others idle. The pool instantiates the SIMD kernels on a
// shared WebAssembly.Memory in this thread and in `threads - 1` helper worker_threads. A product
// is cut into small blocks (column panels when B is the larger operand, so each block packs only
// its part of B; rows otherwise), and every thread claims blocks with an atomic counter until
// none is left (src/ring/assembly/matmul-shared.ts). A helper that wakes late claims fewer
// blocks; nobody waits on it. Operands are copied into the shared memory once, and helpers need
// no messages: waking one costs a futex, not a postMessage.
//
// Products are queued jobs. A synchronous product is queued and then finished at once, this
// thread claiming blocks beside the helpers. An asynchronous one (matmulAsync) only starts the
// helpers: this thread goes on with its own work (a protocol's other steps, the dealer's draws)
// and joins in when it is next idle, so the helpers' cores are busy while it does other things.
//
// Browsers would need cross-origin isolation and module workers for this, so there the engine
// runs single-threaded (the pool is simply not started).

import { loadNodeBuiltin } from '../../util/node.js';

/** What the shared SIMD build exports (src/ring/assembly/simd-threads.ts). */
interface SharedExports {
  scratchBase(): number;
  matmulClaim(ctl: number, thread: number): number;
  matmulScratchBytes(m: number, k: number, n: number): number;
}

const PAGE = 65536;
// Columns per packed panel of the SIMD kernel (src/ring/assembly/matmul-simd.ts).
const PANEL = 6;

// Below this many multiply-adds a product runs on one thread. Waking a sleeping helper took
// 0.04-0.5 ms on the 2-vCPU VM we measure on (an idle vCPU halts), a good part of what 2M
// multiply-adds take; smaller products gained nothing in the MNIST training step.
export const POOL_MIN_WORK = 1 << 21;

// Shared memory layout, from the module's scratch base:
//   [queue: 64 bytes] [SLOTS job control blocks of 64 bytes] [job regions, allocated in turn]
// The queue holds TAIL, the number of jobs published so far (mod 2^32), and STOPPED. Job j's
// control block is slot j mod SLOTS: fixed addresses, so a helper that runs late only ever reads
// a control block, never memory reused for data. A slot is reused only after its job finished.
const TAIL = 0;
const STOPPED = 1;
const QUEUE_BYTES = 64;
const SLOTS = 32;
// A job's control block (Int32 slots). 0-11 are what matmulClaim reads (see matmul-shared.ts);
// FAILED reports a helper whose kernel trapped.
const NEXT = 0;
const FINISHED = 1;
const FAILED = 13;
const CONTROL_BYTES = 64;
const CONTROL_INTS = CONTROL_BYTES / 4;
// Blocks per product: enough that a late helper costs little, few enough that each block keeps
// the kernel efficient. matmulClaim counts blocks in 8 bits.
const BLOCKS_PER_THREAD = 8;
const MAX_BLOCKS = 255;

// A helper that does not answer within this time is taken as dead; the pool then retires (with a
// process warning) and the product is recomputed on one thread, so a stuck helper can slow a run
// but never hang it or corrupt a result.
const HELPER_TIMEOUT_MS = 10_000;
// How long the calling thread polls for a helper's result before it sleeps. Helpers themselves
// sleep at once between products: a helper that polled would take the core that the garbage
// collector and other workers need (measured: polling for 1-20 ms made training slower).
const SPIN_MS = 2;

// The helper's program. It is plain CommonJS passed as a string (`eval: true`), so it runs the
// same under tsx, vitest and compiled output, with no file path to resolve. It works through
// the published jobs in order; a job whose blocks are all claimed already costs it one load.
const HELPER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, queue, slots, thread } = workerData;
const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
const q = new Int32Array(memory.buffer, queue, 2);
const c = new Int32Array(memory.buffer, slots, ${SLOTS * CONTROL_INTS});
parentPort.postMessage('ready');
let next = 0;
for (;;) {
  Atomics.wait(q, ${TAIL}, next);
  if (Atomics.load(q, ${STOPPED}) !== 0) break;
  const tail = Atomics.load(q, ${TAIL});
  // A helper that fell more than a queue behind skips the jobs whose slots were reused.
  if (((tail - next) | 0) > ${SLOTS}) next = (tail - ${SLOTS}) | 0;
  while (next !== tail) {
    const slot = next & ${SLOTS - 1};
    try {
      k.matmulClaim(slots + slot * ${CONTROL_BYTES}, thread);
    } catch (e) {
      Atomics.store(c, slot * ${CONTROL_INTS} + ${FAILED}, 1);
    }
    // No block is left to claim and this thread's last one is counted: wake the caller if it sleeps.
    Atomics.notify(c, slot * ${CONTROL_INTS} + ${FINISHED});
    next = (next + 1) | 0;
  }
}
`;

/** Options of {@link MatmulPool.start}. */
export interface MatmulPoolOptions {
  /** Threads in all, this one included (at least 2). */
  threads: number;
  /** Smallest m*k*n split across threads (default {@link POOL_MIN_WORK}). */
  minWork?: number;
}

/** Computes a product on one thread from copies of its operands (when the pool cannot). */
export type SingleThreadMatmul = (a: BigInt64Array, b: BigInt64Array) => void;

/** One queued product: its control slot, its region of the shared memory, where C goes. */
interface Job {
  slot: number;
  count: number;
  pa: number;
  pb: number;
  pc: number;
  aWords: number;
  bWords: number;
  out: BigInt64Array;
  outAt: number;
  cWords: number;
  fallback: SingleThreadMatmul;
  settle?: { resolve: () => void; reject: (e: unknown) => void };
}

/** The SIMD matmul kernel on a shared memory, run by this thread and its helpers together. */
export class MatmulPool {
  private view: BigInt64Array;
  private readonly queue: Int32Array;
  private readonly slots: Int32Array;
  private readonly regionBase: number;
  /** Jobs published and not yet finished here, oldest first. */
  private readonly jobs: Job[] = [];
  private tail = 0;
  private regionEnd: number;
  private helpScheduled = false;
  private retired = false;
  /** How long the caller polls for the helpers' last blocks before it sleeps (ms). */
  spinMs = SPIN_MS;
  /** How long the caller waits for the helpers' last blocks before it retires the pool (ms). */
  timeoutMs = HELPER_TIMEOUT_MS;
  /**
   * The longest single sleep of the caller (ms). Helpers wake it when they finish; the slice only
   * bounds what a lost wake-up could cost.
   */
  sliceMs = 1;
  /** Sleeps of the caller, and those that ended by their slice rather than by a helper's wake-up. */
  readonly stats = { sleeps: 0, timedOut: 0 };

  private constructor(
    private readonly x: SharedExports,
    private readonly memory: WebAssembly.Memory,
    private readonly maxBytes: number,
    base: number,
    private readonly helpers: { terminate(): Promise<number> }[],
    readonly threads: number,
    /** Smallest m*k*n this pool splits; smaller products are declined (matmul returns false). */
    public minWork: number,
  ) {
    this.view = new BigInt64Array(memory.buffer);
    this.queue = new Int32Array(memory.buffer, base, QUEUE_BYTES / 4);
    this.slots = new Int32Array(memory.buffer, base + QUEUE_BYTES, SLOTS * CONTROL_INTS);
    this.regionBase = base + QUEUE_BYTES + SLOTS * CONTROL_BYTES;
    this.regionEnd = this.regionBase;
  }

  /**
   * Starts `threads - 1` helpers. Resolves to undefined where threads cannot run (no
   * worker_threads, no shared WebAssembly memory): the caller then stays single-threaded.
   */
  static async start(bytes: Uint8Array<ArrayBuffer>, pages: { initial: number; maximum: number }, opts: MatmulPoolOptions): Promise<MatmulPool | undefined> {
    const threads = Math.floor(opts.threads);
    if (!(threads >= 2)) return undefined;
    if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return undefined;
    const Worker = (await loadNodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads'))?.Worker;
    if (Worker === undefined) return undefined;
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: pages.initial, maximum: pages.maximum, shared: true });
    } catch {
      return undefined;
    }
    const module = await WebAssembly.compile(bytes);
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const exports = instance.exports as unknown as SharedExports;
    const base = align(exports.scratchBase(), 64);
    const helpers: import('node:worker_threads').Worker[] = [];
    for (let thread = 1; thread < threads; thread++) {
      // execArgv [] : the helper needs no loader or flag of the parent (--import tsx,
      // --input-type=module would even turn its CommonJS source into a module that fails).
      const workerData = { module, memory, queue: base, slots: base + QUEUE_BYTES, thread };
      const w = new Worker(HELPER_SOURCE, { eval: true, execArgv: [], workerData });
      // Helpers sleep in Atomics.wait between products; they must not keep the process alive.
      w.unref();
      helpers.push(w);
    }
    // Every helper must report ready before the pool is used: a helper that cannot start shows
    // up here, not as a product that waits for it.
    const ready = await Promise.all(helpers.map((w) => readyOrNot(w)));
    if (!ready.every(Boolean)) {
      await Promise.all(helpers.map((w) => w.terminate()));
      return undefined;
    }
    const pool = new MatmulPool(exports, memory, pages.maximum * PAGE, base, helpers, threads, opts.minWork ?? POOL_MIN_WORK);
    for (const w of helpers) {
      w.on('error', (e) => pool.fail(`a helper thread died: ${e.message}`));
      w.on('exit', () => pool.fail('a helper thread exited'));
    }
    return pool;
  }

  /** False once a helper failed: every later product then runs single-threaded. */
  get alive(): boolean {
    return !this.retired;
  }

  /** Products queued and not yet finished. */
  get pending(): number {
    return this.jobs.length;
  }

  /**
   * Batched C = A B (the RingKernels.matmul contract), finished before it returns. Returns false
   * when the product is too small to be worth splitting, does not fit the shared memory, or a
   * helper failed: the caller then computes the whole product itself (anything written to `out`
   * is overwritten).
   */
  matmul(
    a: BigInt64Array,
    b: BigInt64Array,
    out: BigInt64Array,
    m: number,
    k: number,
    n: number,
    aOffsets: readonly number[],
    bOffsets: readonly number[],
  ): boolean {
    if (this.retired || m * k * n < this.minWork) return false;
    // A product that a helper failed is left to the caller, which recomputes all of `out`.
    let failed = false;
    const giveUp = () => {
      failed = true;
    };
    let last: Job | undefined;
    for (let p = 0; p < aOffsets.length; p++) {
      const a1 = a.subarray(aOffsets[p]!, aOffsets[p]! + m * k);
      const b1 = b.subarray(bOffsets[p]!, bOffsets[p]! + k * n);
      const job = this.submit(a1, b1, out, p * m * n, m, k, n, giveUp);
      if (job === undefined) {
        if (last !== undefined) this.finishThrough(last);
        return false;
      }
      last = job;
    }
    this.finishThrough(last!);
    return !failed;
  }

  /**
   * C = A B (m x k by k x n) into `out`, without waiting: the helpers start at once and this
   * thread joins in when it is next idle (a macrotask turn later), or when a synchronous product
   * needs the pool. A and B are copied before this returns, so the caller may reuse them. Returns
   * undefined when the pool declines the product (see {@link matmul}); the caller computes it.
   * If a helper fails, `fallback` computes the product on this thread from copies of A and B.
   */
  matmulAsync(a: BigInt64Array, b: BigInt64Array, out: BigInt64Array, m: number, k: number, n: number, fallback: SingleThreadMatmul): Promise<void> | undefined {
    if (this.retired || m * k * n < this.minWork) return undefined;
    const job = this.submit(a, b, out, 0, m, k, n, fallback);
    if (job === undefined) return undefined;
    const done = new Promise<void>((resolve, reject) => (job.settle = { resolve, reject }));
    this.scheduleHelp();
    return done;
  }

  /** Finishes every queued product (tests, and before the pool is replaced). */
  drain(): void {
    const last = this.jobs[this.jobs.length - 1];
    if (last !== undefined) this.finishThrough(last);
  }

  /** Stops the helpers (tests and benchmarks; a process may also just exit). */
  async close(): Promise<void> {
    this.drain();
    this.retire();
    await Promise.all(this.helpers.map((w) => w.terminate()));
  }

  /** Copies A and B into a region of the shared memory and publishes the job to the helpers. */
  private submit(a: BigInt64Array, b: BigInt64Array, out: BigInt64Array, outAt: number, m: number, k: number, n: number, fallback: SingleThreadMatmul): Job | undefined {
    // Column blocks when B is the larger operand (each block packs only its part of B), else
    // row blocks (even-sized: the kernel takes rows two at a time).
    const target = Math.min(MAX_BLOCKS, BLOCKS_PER_THREAD * this.threads);
    const panels = Math.ceil(n / PANEL);
    const byColumns = n >= m && panels >= 2;
    const size = byColumns ? Math.ceil(panels / target) : 2 * Math.ceil(m / (2 * target));
    const count = Math.ceil((byColumns ? panels : m) / size);
    if (count < 2 || count > MAX_BLOCKS) return undefined;
    // Scratch for the largest block; a narrower last column block may need room to pad its panel.
    const blockRows = byColumns ? m : size;
    const blockCols = byColumns ? Math.min(n, size * PANEL) : n;
    const lastCols = byColumns ? n - (count - 1) * size * PANEL : n;
    const stride = align(Math.max(this.x.matmulScratchBytes(blockRows, k, blockCols), this.x.matmulScratchBytes(blockRows, k, lastCols)), 64);
    // Region: [A] [B] [C] [scratch per thread]
    const bytes = align(a.length * 8, 64) + align(b.length * 8, 64) + align(m * n * 8, 64) + stride * this.threads;
    if (this.jobs.length === SLOTS) this.finishThrough(this.jobs[0]!);
    if (this.jobs.length === 0) this.regionEnd = this.regionBase;
    if (this.regionEnd + bytes > this.maxBytes && this.jobs.length > 0) {
      // Make room by finishing what is queued; the regions then start over.
      this.drain();
      this.regionEnd = this.regionBase;
    }
    if (this.retired || !this.reserve(this.regionEnd + bytes)) return undefined;
    const pa = this.regionEnd;
    const pb = pa + align(a.length * 8, 64);
    const pc = pb + align(b.length * 8, 64);
    const ps = pc + align(m * n * 8, 64);
    this.regionEnd += bytes;
    this.copyIn(a, pa);
    this.copyIn(b, pb);
    const seq = this.tail;
    const slot = seq & (SLOTS - 1);
    const c = this.slots;
    const at = slot * CONTROL_INTS;
    const args = [pa, pb, pc, m, k, n, byColumns ? 1 : 0, size, ps, stride];
    for (let i = 0; i < args.length; i++) c[at + 2 + i] = args[i]!;
    Atomics.store(c, at + FINISHED, 0);
    Atomics.store(c, at + FAILED, 0);
    // Publishing NEXT opens the blocks; the sequence number in it tells this job from the slot's
    // earlier ones. Then the helpers are woken.
    Atomics.store(c, at + NEXT, ((seq & 0x7fff) << 16) | count);
    this.tail = (seq + 1) | 0;
    Atomics.store(this.queue, TAIL, this.tail);
    Atomics.notify(this.queue, TAIL);
    const job: Job = { slot, count, pa, pb, pc, aWords: a.length, bWords: b.length, out, outAt, cWords: m * n, fallback };
    this.jobs.push(job);
    return job;
  }

  /**
   * Finishes the queued jobs up to and including `last`. This thread first claims blocks of each
   * in turn, beside the helpers, and only then waits for the blocks they still run: it never
   * idles on one job's last block while a later job has blocks left.
   */
  private finishThrough(last: Job): void {
    const through = this.jobs.indexOf(last);
    for (let i = 0; i <= through && !this.retired; i++) {
      try {
        this.x.matmulClaim(this.slots.byteOffset + this.jobs[i]!.slot * CONTROL_BYTES, 0);
      } catch (e) {
        this.fail(`this thread's kernel trapped: ${(e as Error).message}`);
      }
    }
    for (let i = 0; i <= through; i++) {
      const job = this.jobs.shift()!;
      const ok = !this.retired && this.waitFinished(job.slot * CONTROL_INTS, job.count);
      try {
        if (ok) job.out.set(this.view.subarray(job.pc / 8, job.pc / 8 + job.cWords), job.outAt);
        else job.fallback(this.view.slice(job.pa / 8, job.pa / 8 + job.aWords), this.view.slice(job.pb / 8, job.pb / 8 + job.bWords));
        job.settle?.resolve();
      } catch (e) {
        if (job.settle === undefined) throw e;
        job.settle.reject(e);
      }
    }
  }

  private scheduleHelp(): void {
    if (this.helpScheduled) return;
    this.helpScheduled = true;
    setImmediate(() => {
      this.helpScheduled = false;
      this.drain();
    });
  }

  /**
   * Copies words into the shared memory at byte `at`. Through Int32 views: V8 copies into a
   * SharedArrayBuffer element by element, and 32-bit elements went about 1.7x faster than
   * 64-bit ones (150k words: 141 vs 245 us).
   */
  private copyIn(src: BigInt64Array, at: number): void {
    const words = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
    new Int32Array(this.view.buffer, at, src.length * 2).set(words);
  }

  /** Waits until the job at control index `at` has `count` blocks finished; false if it cannot. */
  private waitFinished(at: number, count: number): boolean {
    const c = this.slots;
    const started = performance.now();
    const deadline = started + this.timeoutMs;
    for (;;) {
      const done = Atomics.load(c, at + FINISHED);
      if (done === count) return true;
      if (Atomics.load(c, at + FAILED) !== 0) return this.fail('a helper thread trapped');
      if (this.retired) return false;
      const now = performance.now();
      const left = deadline - now;
      if (left <= 0) return this.fail(`a helper thread did not finish its block within ${this.timeoutMs} ms`);
      // Only blocks already claimed are left, each a fraction of a millisecond: poll briefly,
      // and sleep only if a helper runs long.
      if (now - started < this.spinMs) continue;
      this.stats.sleeps++;
      if (Atomics.wait(c, at + FINISHED, done, Math.min(left, this.sliceMs)) === 'timed-out') this.stats.timedOut++;
    }
  }

  private fail(why: string): false {
    if (this.retired) return false;
    this.retire();
    const warn = (globalThis as { process?: { emitWarning?(msg: string): void } }).process?.emitWarning;
    warn?.(`ring matmul pool retired (${why}); products now run on one thread`);
    // Queued products still finish, on this thread, when their callers next need them.
    if (this.jobs.length > 0) this.scheduleHelp();
    return false;
  }

  /** Grows the shared memory to hold `bytes`; false if that passes its maximum. */
  private reserve(bytes: number): boolean {
    if (bytes > this.maxBytes) return false;
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    // A shared memory's buffer object is replaced (not detached) when it grows.
    if (this.view.buffer.byteLength !== this.memory.buffer.byteLength) this.view = new BigInt64Array(this.memory.buffer);
    return true;
  }

  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    Atomics.store(this.queue, STOPPED, 1);
    Atomics.store(this.queue, TAIL, (this.tail + 1) | 0);
    Atomics.notify(this.queue, TAIL);
  }
}

/** Resolves true when the helper reports ready, false if it fails, exits or stays silent. */
function readyOrNot(w: import('node:worker_threads').Worker): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      w.off('message', onMessage).off('error', onFail).off('exit', onFail);
      resolve(ok);
    };
    const onMessage = (m: unknown) => done(m === 'ready');
    const onFail = () => done(false);
    const timer = setTimeout(onFail, HELPER_TIMEOUT_MS);
    w.on('message', onMessage).on('error', onFail).on('exit', onFail);
  });
}

function align(bytes: number, to: number): number {
  return Math.ceil(bytes / to) * to;
}
