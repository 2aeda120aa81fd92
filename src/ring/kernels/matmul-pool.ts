// Matrix products split across threads (Node only).
//
// A secure matmul is several ring matmuls, and in one process (virtual workers) they run one
// after another on one core while the others idle. The pool instantiates the SIMD kernels on a
// shared WebAssembly.Memory in this thread and in `threads - 1` helper worker_threads; a product
// is split by rows of A, each thread runs the unchanged kernel on its rows, and they meet through
// Atomics on a small control block. Operands are copied into the shared memory once, so helpers
// need no messages at all: waking one costs a futex, not a postMessage.
//
// Browsers would need cross-origin isolation and module workers for this, so there the engine
// runs single-threaded (the pool is simply not started).

/** What the shared SIMD build exports (the same names as the single-threaded builds). */
interface SharedExports {
  scratchBase(): number;
  matmulBlock(a: number, b: number, c: number, m: number, k: number, n: number, ldb: number, ldc: number, scratch: number): void;
  matmulScratchBytes(m: number, k: number, n: number): number;
}

const PAGE = 65536;
// Columns per packed panel of the SIMD kernel (src/ring/assembly/matmul-simd.ts).
const PANEL = 6;

// Below this many multiply-adds a product runs on one thread. Waking a sleeping helper took
// 0.1-0.5 ms on the 2-vCPU VM we measure on (an idle vCPU halts), about what 2M multiply-adds
// take; smaller products gained nothing in the MNIST training step.
export const POOL_MIN_WORK = 1 << 21;

// Control block, one per helper (Int32 slots): the caller bumps SEQ to hand out work, the helper
// copies SEQ into DONE when finished (or into FAILED if the kernel trapped).
const SEQ = 0;
const DONE = 1;
const FAILED = 2;
const ARGS = 3; // a, b, c, m, k, n, ldb, ldc, scratch
const SLOTS = 16;
const STOP = -1;

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
const { module, memory, control, index } = workerData;
const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
const c = new Int32Array(control, index * ${SLOTS * 4}, ${SLOTS});
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(c, ${SEQ}, seen);
  seen = Atomics.load(c, ${SEQ});
  if (seen === ${STOP}) break;
  try {
    k.matmulBlock(c[${ARGS}], c[${ARGS + 1}], c[${ARGS + 2}], c[${ARGS + 3}], c[${ARGS + 4}], c[${ARGS + 5}], c[${ARGS + 6}], c[${ARGS + 7}], c[${ARGS + 8}]);
    Atomics.store(c, ${DONE}, seen);
  } catch (e) {
    Atomics.store(c, ${FAILED}, seen);
  }
  Atomics.notify(c, ${DONE});
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
    const control = new Int32Array(new SharedArrayBuffer(SLOTS * 4 * (threads - 1)));
    const helpers: import('node:worker_threads').Worker[] = [];
    for (let index = 0; index < threads - 1; index++) {
      // execArgv [] : the helper needs no loader or flag of the parent (--import tsx,
      // --input-type=module would even turn its CommonJS source into a module that fails).
      const w = new Worker(HELPER_SOURCE, { eval: true, execArgv: [], workerData: { module, memory, control: control.buffer, index } });
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
      instance.exports as unknown as SharedExports,
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
    if (this.retired || m * k * n < this.minWork || m < this.threads) return false;
    const base = this.x.scratchBase();
    // Split by columns when B is the larger operand (each thread then packs only its part of B),
    // else by rows. Column blocks are whole 6-column panels of the kernel.
    const byColumns = n >= m && n >= PANEL * 2 * this.threads;
    const blocks = splitEven(byColumns ? Math.ceil(n / PANEL) : m, this.threads).map(([s, e]) =>
      byColumns ? [s * PANEL, Math.min(e * PANEL, n)] : [s, e],
    );
    const widest = byColumns ? Math.max(...blocks.map(([s, e]) => e - s)) : n;
    const tallest = byColumns ? m : Math.max(...blocks.map(([s, e]) => e - s));
    // Layout: [A (all batches)] [B (all batches)] [C (one product)] [scratch per thread]
    const pa = base;
    const pb = pa + a.length * 8;
    const pc = pb + b.length * 8;
    const ps = align(pc + m * n * 8);
    const stride = align(this.x.matmulScratchBytes(tallest, k, widest));
    if (!this.reserve(ps + stride * this.threads)) return false;
    const mem = this.view;
    this.copyIn(a, pa);
    this.copyIn(b, pb);
    const size = m * n;
    for (let p = 0; p < aOffsets.length; p++) {
      const a0 = pa + aOffsets[p]! * 8;
      const b0 = pb + bOffsets[p]! * 8;
      const job = (t: number): number[] => {
        const [s, e] = blocks[t]!;
        return byColumns
          ? [a0, b0 + s * 8, pc + s * 8, m, k, e - s, n, n, ps + stride * t]
          : [a0 + s * k * 8, b0, pc + s * n * 8, e - s, k, n, n, n, ps + stride * t];
      };
      const seq = this.nextSeq();
      // Helpers take blocks 1.., this thread block 0.
      for (let t = 1; t < blocks.length; t++) this.post(t - 1, seq, job(t));
      const mine = job(0);
      this.x.matmulBlock(mine[0]!, mine[1]!, mine[2]!, mine[3]!, mine[4]!, mine[5]!, mine[6]!, mine[7]!, mine[8]!);
      for (let t = 1; t < blocks.length; t++) if (!this.waitFor(t - 1, seq)) return false;
      out.set(mem.subarray(pc / 8, pc / 8 + size), p * size);
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

  private post(h: number, seq: number, args: readonly number[]): void {
    const c = this.block(h);
    for (let i = 0; i < args.length; i++) c[ARGS + i] = args[i]!;
    Atomics.store(c, SEQ, seq);
    Atomics.notify(c, SEQ);
  }

  /** Waits for helper h to finish product `seq`; false (and the pool retired) if it cannot. */
  private waitFor(h: number, seq: number): boolean {
    const c = this.block(h);
    const started = performance.now();
    const deadline = started + HELPER_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(c, DONE);
      if (done === seq) return true;
      if (Atomics.load(c, FAILED) === seq) return this.fail('a helper thread trapped');
      const now = performance.now();
      const left = deadline - now;
      if (left <= 0) return this.fail(`a helper thread did not answer within ${HELPER_TIMEOUT_MS} ms`);
      // The helper usually finishes about when this thread does: poll briefly, and only sleep
      // (which costs a wake-up) if it runs long.
      if (now - started < SPIN_MS) continue;
      Atomics.wait(c, DONE, done, left);
    }
  }

  private fail(why: string): false {
    if (this.retired) return false;
    this.retire();
    const warn = (globalThis as { process?: { emitWarning?(msg: string): void } }).process?.emitWarning;
    warn?.(`ring matmul pool retired (${why}); products now run on one thread`);
    return false;
  }

  private block(h: number): Int32Array {
    return this.control.subarray(h * SLOTS, (h + 1) * SLOTS);
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
    for (let h = 0; h < this.helpers.length; h++) {
      const c = this.block(h);
      Atomics.store(c, SEQ, STOP);
      Atomics.notify(c, SEQ);
    }
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

/** [start, end) runs splitting `count` items into `parts` near-equal, non-empty pieces. */
function splitEven(count: number, parts: number): [number, number][] {
  const runs: [number, number][] = [];
  const n = Math.min(parts, count);
  for (let i = 0; i < n; i++) runs.push([Math.floor((count * i) / n), Math.floor((count * (i + 1)) / n)]);
  return runs;
}

function align(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}
