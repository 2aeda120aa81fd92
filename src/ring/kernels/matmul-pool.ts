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
// Browsers would need cross-origin isolation and module workers for this, so there the engine
// runs single-threaded (the pool is simply not started).

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

// The control block, 64 bytes at the start of the shared scratch (Int32 slots). Slots 0-11 are
// the job that matmulClaim reads (see matmul-shared.ts); JOB wakes the helpers, FAILED reports a
// helper whose kernel trapped.
const NEXT = 0;
const FINISHED = 1;
const ARGS = 2; // a, b, c, m, k, n, byColumns, block size, scratch base, scratch per thread
const JOB = 12;
const FAILED = 13;
const CONTROL_BYTES = 64;
const STOP = -1;
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
// same under tsx, vitest and compiled output, with no file path to resolve.
const HELPER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, ctl, thread } = workerData;
const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
const c = new Int32Array(memory.buffer, ctl, ${CONTROL_BYTES / 4});
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(c, ${JOB}, seen);
  seen = Atomics.load(c, ${JOB});
  if (seen === ${STOP}) break;
  try {
    k.matmulClaim(ctl, thread);
  } catch (e) {
    Atomics.store(c, ${FAILED}, 1);
  }
  // No block is left to claim and this thread's last one is counted: wake the caller if it sleeps.
  Atomics.notify(c, ${FINISHED});
}
`;

/** Options of {@link MatmulPool.start}. */
export interface MatmulPoolOptions {
  /** Threads in all, this one included (at least 2). */
  threads: number;
  /** Smallest m*k*n split across threads (default {@link POOL_MIN_WORK}). */
  minWork?: number;
}

/** The SIMD matmul kernel on a shared memory, run by this thread and its helpers together. */
export class MatmulPool {
  private view: BigInt64Array;
  private seq = 0;
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
    private readonly control: Int32Array,
    private readonly helpers: { terminate(): Promise<number> }[],
    readonly threads: number,
    /** Smallest m*k*n this pool splits; smaller products are declined (matmul returns false). */
    public minWork: number,
  ) {
    this.view = new BigInt64Array(memory.buffer);
  }

  /**
   * Starts `threads - 1` helpers. Resolves to undefined where threads cannot run (no
   * worker_threads, no shared WebAssembly memory): the caller then stays single-threaded.
   */
  static async start(bytes: Uint8Array<ArrayBuffer>, pages: { initial: number; maximum: number }, opts: MatmulPoolOptions): Promise<MatmulPool | undefined> {
    const threads = Math.floor(opts.threads);
    if (!(threads >= 2)) return undefined;
    if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return undefined;
    const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
    if (node === undefined) return undefined;
    let Worker: typeof import('node:worker_threads').Worker;
    try {
      ({ Worker } = await import('node:worker_threads'));
    } catch {
      return undefined;
    }
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: pages.initial, maximum: pages.maximum, shared: true });
    } catch {
      return undefined;
    }
    const module = await WebAssembly.compile(bytes);
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const exports = instance.exports as unknown as SharedExports;
    const ctl = align(exports.scratchBase(), 16);
    const control = new Int32Array(memory.buffer, ctl, CONTROL_BYTES / 4);
    const helpers: import('node:worker_threads').Worker[] = [];
    for (let thread = 1; thread < threads; thread++) {
      // execArgv [] : the helper needs no loader or flag of the parent (--import tsx,
      // --input-type=module would even turn its CommonJS source into a module that fails).
      const w = new Worker(HELPER_SOURCE, { eval: true, execArgv: [], workerData: { module, memory, ctl, thread } });
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
    const pool = new MatmulPool(
      exports,
      memory,
      pages.maximum * PAGE,
      control,
      helpers,
      threads,
      opts.minWork ?? POOL_MIN_WORK,
    );
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

  /**
   * Batched C = A B (the RingKernels.matmul contract). Returns false when the product is too
   * small to be worth splitting, does not fit the shared memory, or a helper failed: the caller
   * then computes the whole product itself (anything written to `out` is overwritten).
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
    // Column blocks when B is the larger operand (each block packs only its part of B), else
    // row blocks (even-sized: the kernel takes rows two at a time).
    const target = Math.min(MAX_BLOCKS, BLOCKS_PER_THREAD * this.threads);
    const panels = Math.ceil(n / PANEL);
    const byColumns = n >= m && panels >= 2;
    const size = byColumns ? Math.ceil(panels / target) : 2 * Math.ceil(m / (2 * target));
    const count = Math.ceil((byColumns ? panels : m) / size);
    if (count < 2 || count > MAX_BLOCKS) return false;
    // Scratch for the largest block; a narrower last column block may need room to pad its panel.
    const blockRows = byColumns ? m : size;
    const blockCols = byColumns ? Math.min(n, size * PANEL) : n;
    const lastCols = byColumns ? n - (count - 1) * size * PANEL : n;
    // Layout: [control] [A (all batches)] [B (all batches)] [C (one product)] [scratch per thread]
    const ctl = this.control.byteOffset;
    const pa = ctl + CONTROL_BYTES;
    const pb = pa + a.length * 8;
    const pc = pb + b.length * 8;
    const ps = align(pc + m * n * 8, 64);
    const stride = align(Math.max(this.x.matmulScratchBytes(blockRows, k, blockCols), this.x.matmulScratchBytes(blockRows, k, lastCols)), 64);
    if (!this.reserve(ps + stride * this.threads)) return false;
    this.copyIn(a, pa);
    this.copyIn(b, pb);
    const c = this.control;
    const size2 = m * n;
    for (let p = 0; p < aOffsets.length; p++) {
      const args = [pa + aOffsets[p]! * 8, pb + bOffsets[p]! * 8, pc, m, k, n, byColumns ? 1 : 0, size, ps, stride];
      for (let i = 0; i < args.length; i++) c[ARGS + i] = args[i]!;
      Atomics.store(c, FINISHED, 0);
      Atomics.store(c, FAILED, 0);
      const seq = this.nextSeq();
      // Publishing NEXT opens the blocks; then the helpers are woken, and this thread claims too.
      Atomics.store(c, NEXT, ((seq & 0x7fff) << 16) | count);
      Atomics.store(c, JOB, seq);
      Atomics.notify(c, JOB);
      this.x.matmulClaim(ctl, 0);
      if (!this.waitFinished(count)) return false;
      out.set(this.view.subarray(pc / 8, pc / 8 + size2), p * size2);
    }
    return true;
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

  /** Stops the helpers (tests and benchmarks; a process may also just exit). */
  async close(): Promise<void> {
    this.retire();
    await Promise.all(this.helpers.map((w) => w.terminate()));
  }

  private nextSeq(): number {
    // Sequence numbers stay positive (STOP is -1) and never equal the helper's last seen value.
    this.seq = this.seq >= 0x3fffffff ? 1 : this.seq + 1;
    return this.seq;
  }

  /** Waits until `count` blocks are finished (the last ones by helpers); false if it cannot. */
  private waitFinished(count: number): boolean {
    const c = this.control;
    const started = performance.now();
    const deadline = started + this.timeoutMs;
    for (;;) {
      const done = Atomics.load(c, FINISHED);
      if (done === count) return true;
      if (Atomics.load(c, FAILED) !== 0) return this.fail('a helper thread trapped');
      const now = performance.now();
      const left = deadline - now;
      if (left <= 0) return this.fail(`a helper thread did not finish its block within ${this.timeoutMs} ms`);
      // Only blocks already claimed are left, each a fraction of a millisecond: poll briefly,
      // and sleep only if a helper runs long.
      if (now - started < this.spinMs) continue;
      this.stats.sleeps++;
      if (Atomics.wait(c, FINISHED, done, Math.min(left, this.sliceMs)) === 'timed-out') this.stats.timedOut++;
    }
  }

  private fail(why: string): false {
    if (this.retired) return false;
    this.retire();
    const warn = (globalThis as { process?: { emitWarning?(msg: string): void } }).process?.emitWarning;
    warn?.(`ring matmul pool retired (${why}); products now run on one thread`);
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
    Atomics.store(this.control, JOB, STOP);
    Atomics.notify(this.control, JOB);
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
