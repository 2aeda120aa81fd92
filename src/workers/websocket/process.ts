/**
 * Starts a worker in a child process (the `syft-ts worker` command) and waits until it listens:
 * what a tutorial or a test needs to run parties as separate processes on one machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProtocolError, TimeoutError } from '../../errors.js';

export interface WorkerProcessOptions {
  id: string;
  /** Default 0: a free port, read back from `url`. */
  port?: number;
  host?: string;
  tokenFile?: string;
  /** A token per client (`--tokens-file`: lines `name:token`). */
  tokensFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  timeoutMs?: number;
  maxMessageBytes?: number;
  sessionGraceMs?: number;
  /** More command-line flags, as given (limits such as `--max-bytes-per-session 1GiB`, `--insecure`). */
  args?: readonly string[];
  /**
   * Flags for the worker's Node itself (before the script). Default {@link DEFAULT_WORKER_NODE_ARGS};
   * give `[]` for Node's defaults, or your own (e.g. `--max-old-space-size=4096`).
   */
  nodeArgs?: readonly string[];
  /** Log connection events to this process's stderr (default false). */
  verbose?: boolean;
  /** How long to wait for the worker to listen, in ms. Default 60 s. */
  startTimeoutMs?: number;
}

export interface WorkerProcess {
  readonly id: string;
  /** Where clients connect. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once the process ended. */
  readonly exited: Promise<number | null>;
  /** Asks the worker to shut down (SIGTERM), killing it if it has not after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * The Node flags a worker process starts with. A party receives megabytes of peer values per
 * step, and the heap's old generation then starts with so small a limit that the garbage
 * collector runs a full mark-compact about once per step (measured with `--trace-gc`: 38 in 40
 * encrypted training steps on one party, whose CPU per step fell from 46-61 ms to 31-36 ms with
 * this flag). The limit only moves the first full collections later; it reserves no memory.
 */
export const DEFAULT_WORKER_NODE_ARGS: readonly string[] = ['--initial-old-space-size=128'];

// The command to run: the compiled cli.js next to the compiled library, or cli.ts through tsx.
function command(): string[] {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  const cli = resolve(dirname(here), fromSource ? '../../cli.ts' : '../../cli.js');
  if (!fromSource) return [cli];
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return ['--import', pathToFileURL(tsx).href, cli];
}

/**
 * Starts `syft-ts worker` in a child process and resolves once it listens.
 *
 * @example
 * ```ts
 * const bob = await sy.startWorkerProcess({ id: 'bob', tokenFile: 'bob.token' });
 * const client = await sy.WebsocketClientWorker.connect(bob.url, { id: 'bob', token });
 * // ...
 * await client.close();
 * await bob.stop();
 * ```
 */
export function startWorkerProcess(opts: WorkerProcessOptions): Promise<WorkerProcess> {
  const args = [...command(), 'worker', '--id', opts.id, '--port', String(opts.port ?? 0)];
  const add = (flag: string, v: string | number | undefined, path = false) => {
    if (v !== undefined) args.push(flag, path ? resolve(String(v)) : String(v));
  };
  add('--host', opts.host);
  add('--token-file', opts.tokenFile, true);
  add('--tokens-file', opts.tokensFile, true);
  add('--tls-cert', opts.tlsCert, true);
  add('--tls-key', opts.tlsKey, true);
  add('--tls-ca', opts.tlsCa, true);
  add('--timeout-ms', opts.timeoutMs);
  add('--max-message-bytes', opts.maxMessageBytes);
  add('--session-grace-ms', opts.sessionGraceMs);
  args.push(...(opts.args ?? []));
  if (!opts.verbose) args.push('--quiet');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? DEFAULT_WORKER_NODE_ARGS), ...args], { stdio: ['ignore', 'pipe', opts.verbose ? 'inherit' : 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const stop = async (graceMs = 5000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  return new Promise((resolveStart, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      void stop(0);
      reject(new TimeoutError(`worker '${opts.id}' did not start listening within ${startTimeoutMs} ms: ${stderr.trim()}`));
    }, startTimeoutMs);
    lines.on('line', (line) => {
      const m = /listening on (wss?:\/\/\S+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolveStart({ id: opts.id, url: m[1]!, child, exited, stop });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new ProtocolError(`worker '${opts.id}' exited (code ${code}) before listening: ${stderr.trim() || 'no output'}`));
    });
  });
}
