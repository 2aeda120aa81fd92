/**
 * A small pool of `node:worker_threads` workers for the expensive Paillier exponentiations
 * (r^n factors and decryptions), with an on-thread fallback where workers are unavailable
 * (browsers, bundles without the worker file) or unwanted (`threads: 0`).
 *
 * Workers start lazily, are shared by every key and pool in the process, and are unref'd while
 * idle so they never keep a program alive. `shutdownThreads()` stops them explicitly.
 */
import { StateError, ValueError } from '../../errors.js';
import { loadNodeBuiltin } from '../../util/node.js';
import { moduleThreadFactory } from '../../util/threads.js';
import { executeJob } from './jobs.js';
import type { Job } from './jobs.js';

/** How a batch of work may be spread over threads. */
export interface ThreadOptions {
  /**
   * Worker threads to use: 0 runs everything on the calling thread. Default: the number of
   * available cores.
   */
  readonly threads?: number;
}

// Structural slice of node:worker_threads' Worker that we use (keeps browser type-checks simple).
interface WorkerLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (value: Reply) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'exit', listener: (code: number) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

interface Reply {
  readonly id: number;
  readonly values?: bigint[];
  readonly error?: string;
}

interface Task {
  readonly job: Job;
  readonly resolve: (values: bigint[]) => void;
  readonly reject: (error: Error) => void;
}

interface NodeSupport {
  readonly spawn: () => WorkerLike;
  readonly cores: number;
}

let support: Promise<NodeSupport | undefined> | undefined;

/** Finds out once whether worker threads can run here, and how to start one. */
function nodeSupport(): Promise<NodeSupport | undefined> {
  support ??= (async () => {
    try {
      const os = await loadNodeBuiltin<typeof import('node:os')>('node:os');
      if (os === undefined) return undefined;
      const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
      const factory = await moduleThreadFactory(new URL(/* webpackIgnore: true */ './rn-worker', import.meta.url));
      return factory ? { cores, spawn: () => factory() as unknown as WorkerLike } : undefined;
    } catch {
      return undefined;
    }
  })();
  return support;
}

/** Cores available to worker threads (1 where workers cannot run). */
export async function availableThreads(): Promise<number> {
  return (await nodeSupport())?.cores ?? 1;
}

/** A fixed number of workers taking tasks from one queue. @internal (exported for tests) */
export class ThreadPool {
  private readonly idle: WorkerLike[] = [];
  private readonly busy = new Map<WorkerLike, Task>();
  private readonly queue: Task[] = [];
  private started = 0;
  private nextId = 0;
  /** Set when a worker failed or the pool was closed: a new pool takes over. */
  broken = false;
  /** Set when a worker could not even start: workers cannot run here, use the calling thread. */
  failedToStart = false;
  private closing = false;

  constructor(
    private readonly size: number,
    private readonly spawn: () => WorkerLike,
  ) {}

  run(job: Job): Promise<bigint[]> {
    return new Promise<bigint[]>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let worker = this.idle.pop();
      if (worker === undefined && this.started < this.size && !this.broken) worker = this.start();
      if (worker === undefined) {
        // No worker will take it (the pool failed): finish the queue on this thread.
        if (this.broken) for (const task of this.queue.splice(0)) runHere(task);
        return;
      }
      const task = this.queue.shift()!;
      this.busy.set(worker, task);
      worker.ref();
      worker.postMessage({ id: this.nextId++, job: task.job });
    }
  }

  private start(): WorkerLike | undefined {
    let worker: WorkerLike;
    try {
      worker = this.spawn();
    } catch {
      this.broken = true;
      this.failedToStart = true;
      return undefined;
    }
    this.started++;
    let replied = false;
    worker.on('message', (reply: Reply) => {
      replied = true;
      const task = this.busy.get(worker);
      if (task === undefined) return;
      this.busy.delete(worker);
      worker.unref();
      if (this.broken) void worker.terminate();
      else this.idle.push(worker);
      if (reply.error !== undefined) task.reject(new Error(reply.error));
      else {
        threadStats.inWorkers++;
        task.resolve(reply.values!);
      }
      this.pump();
    });
    const fail = (): void => {
      if (this.closing) return;
      // A worker that cannot load, or dies: finish its work on this thread and retire the pool.
      // One that never answered at all means workers cannot run here: stop trying.
      if (!replied) this.failedToStart = true;
      this.broken = true;
      const task = this.busy.get(worker);
      this.busy.delete(worker);
      if (task !== undefined) runHere(task);
      for (const queued of this.queue.splice(0)) runHere(queued);
      for (const idle of this.idle.splice(0)) void idle.terminate();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    return worker;
  }

  async close(): Promise<void> {
    this.closing = true;
    const workers = [...this.idle, ...this.busy.keys()];
    const cut = [...this.busy.values(), ...this.queue.splice(0)];
    this.idle.length = 0;
    this.busy.clear();
    this.broken = true;
    for (const task of cut) task.reject(new StateError('shutdownThreads() stopped the worker threads while this work was running'));
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function runHere(task: Task): void {
  setTimeout(() => {
    try {
      const values = executeJob(task.job);
      threadStats.onCallingThread++;
      task.resolve(values);
    } catch (e) {
      task.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }, 0);
}

const pools = new Map<number, ThreadPool>();

/** Jobs run so far, by where they ran (for tests and diagnostics). */
export const threadStats = { inWorkers: 0, onCallingThread: 0 };

/**
 * Runs jobs, spread over worker threads when possible, otherwise one after another on this thread
 * (yielding to the event loop between jobs). Results come back in job order.
 */
export async function runJobs(jobs: readonly Job[], options: ThreadOptions = {}): Promise<bigint[][]> {
  checkThreads(options.threads);
  const node = options.threads === 0 ? undefined : await nodeSupport();
  const threads = options.threads ?? node?.cores ?? 0;
  let pool = pools.get(threads);
  if (node === undefined || threads === 0 || pool?.failedToStart === true) {
    return Promise.all(jobs.map((job) => new Promise<bigint[]>((resolve, reject) => runHere({ job, resolve, reject }))));
  }
  if (pool === undefined || pool.broken) {
    pool = new ThreadPool(threads, node.spawn);
    pools.set(threads, pool);
  }
  const active = pool;
  return Promise.all(jobs.map((job) => active.run(job)));
}

/** Throws a ValueError unless `threads` is undefined or a non-negative integer. */
export function checkThreads(threads: number | undefined): void {
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 0 || threads > 1024)) {
    throw new ValueError(`threads must be an integer in [0, 1024] (0 = on the calling thread), got ${threads}`);
  }
}

/** Splits `count` items into about `4 × threads` chunks (at least one item each) for load balance. */
export function chunkSizes(count: number, threads: number): number[] {
  const chunks = Math.max(1, Math.min(count, 4 * Math.max(1, threads)));
  const sizes: number[] = [];
  for (let i = 0; i < chunks; i++) {
    const size = Math.floor(((i + 1) * count) / chunks) - Math.floor((i * count) / chunks);
    if (size > 0) sizes.push(size);
  }
  return sizes;
}

/**
 * Stops every worker thread the library started. Later work starts new ones.
 *
 * @example
 * ```ts
 * afterAll(() => shutdownThreads());
 * ```
 */
export async function shutdownThreads(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}
