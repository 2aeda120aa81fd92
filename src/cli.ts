#!/usr/bin/env node
/**
 * The `syft-ts` command.
 *
 *     syft-ts worker --id alice --port 8778 [--host 127.0.0.1] [--token-file F]
 *                    [--tls-cert C --tls-key K] [--tls-ca F] [--timeout-ms N]
 *                    [--max-message-bytes N] [--session-grace-ms N] [--allow-origin O]... [--quiet]
 *
 * Starts a WebsocketServerWorker, prints one line to stdout once it listens
 * (`syft-ts worker 'alice' listening on ws://127.0.0.1:8778`, so a parent process can wait for
 * it), logs connection events to stderr, and shuts down cleanly on SIGINT or SIGTERM.
 * In this repository: `npm run worker -- --id alice --port 8778`.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SyftError, ValueError } from './errors.js';
import { readTokenFile } from './workers/websocket/token-file.js';
import type { WebsocketServerWorkerOptions } from './workers/websocket/server.js';

/** A command line that cannot be run as given. */
export class UsageError extends SyftError {}

export const USAGE = `usage: syft-ts worker --id ID --port PORT [options]

Starts a syft-ts worker that other processes reach over WebSockets.

  --id ID                    the worker's name (letters, digits, _.:-), as clients and peers call it
  --port PORT                TCP port to listen on (0 picks a free one; the chosen URL is printed)
  --host HOST                interface to listen on (default 127.0.0.1: this machine only)
  --token-file FILE          require clients to prove they know the secret in FILE
  --tls-cert FILE            serve wss:// with this certificate (PEM); needs --tls-key
  --tls-key FILE             the certificate's private key (PEM)
  --tls-ca FILE              certificates (PEM) to trust when connecting to peers over wss://
  --timeout-ms N             how long a protocol step waits for a peer (default 60000)
  --max-message-bytes N      largest message accepted (default 67108864)
  --session-grace-ms N       how long a dropped client's objects are kept for it (default 30000)
  --allow-origin ORIGIN      let web pages from ORIGIN connect (repeatable; default none)
  --quiet                    do not log connection events to stderr
  -h, --help                 show this help`;

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${flag} file '${path}': ${(e as Error).message}`);
  }
}

function count(v: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${flag} must be a whole number in ${min}..${max}, got '${v}'`);
  return Number(v);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Parsed `worker` options, plus warnings worth printing. */
export function parseWorkerArgs(argv: readonly string[]): { options: WebsocketServerWorkerOptions; quiet: boolean; warnings: string[] } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        id: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'token-file': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        'timeout-ms': { type: 'string' },
        'max-message-bytes': { type: 'string' },
        'session-grace-ms': { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        quiet: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.id === undefined) throw new UsageError('--id is required: the name clients and peers use for this worker');
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(values.id)) throw new UsageError(`--id must be 1-64 letters, digits or _.:- characters, got '${values.id}'`);
  if (values.port === undefined) throw new UsageError('--port is required (0 picks a free port)');
  const port = count(values.port, '--port', 0, 65535)!;
  const host = values.host ?? '127.0.0.1';
  if (host.length === 0) throw new UsageError('--host must not be empty');
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together: give both, or neither');
  }
  let token: string | undefined;
  if (values['token-file'] !== undefined) {
    try {
      token = readTokenFile(values['token-file']);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const options: WebsocketServerWorkerOptions = { id: values.id, port, host };
  if (token !== undefined) options.token = token;
  if (values['tls-cert'] !== undefined) {
    options.tls = { cert: readPem(values['tls-cert'], '--tls-cert'), key: readPem(values['tls-key']!, '--tls-key') };
  }
  if (values['tls-ca'] !== undefined) options.peerCa = readPem(values['tls-ca'], '--tls-ca');
  const timeoutMs = count(values['timeout-ms'], '--timeout-ms', 1);
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
  const maxMessageBytes = count(values['max-message-bytes'], '--max-message-bytes', 1024);
  if (maxMessageBytes !== undefined) options.maxMessageBytes = maxMessageBytes;
  const grace = count(values['session-grace-ms'], '--session-grace-ms', 1);
  if (grace !== undefined) options.sessionGraceMs = grace;
  if (values['allow-origin']) options.allowOrigins = values['allow-origin'];
  const warnings: string[] = [];
  if (values['token-file'] !== undefined && process.platform !== 'win32' && (statSync(values['token-file']).mode & 0o077) !== 0) {
    warnings.push(`the token file '${values['token-file']}' can be read by other users: chmod 600 it`);
  }
  if (!LOOPBACK.has(host)) {
    if (token === undefined) warnings.push(`listening on ${host} without --token-file: anyone who can reach this port controls the worker`);
    if (!options.tls) warnings.push(`listening on ${host} without TLS: the data travels unencrypted (the token does not)`);
  }
  return { options, quiet: values.quiet === true, warnings };
}

async function runWorker(argv: readonly string[]): Promise<void> {
  const { options, quiet, warnings } = parseWorkerArgs(argv);
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`${new Date().toISOString()} ${options.id}: ${line}\n`);
  };
  for (const w of warnings) process.stderr.write(`syft-ts: warning: ${w}\n`);
  // The library (tfjs, wasm, every registered command) loads only once the command line is good,
  // so a usage error answers at once.
  const [{ ready }, { WebsocketServerWorker }] = await Promise.all([
    import('./backend.js'),
    import('./workers/websocket/server.js'),
    import('./index.js'),
  ]);
  await ready();
  const worker = new WebsocketServerWorker({ ...options, log });
  try {
    await worker.listen();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new ValueError(`port ${options.port} on ${options.host} is already in use: pick another --port`);
    if (code === 'EADDRNOTAVAIL') throw new ValueError(`cannot listen on ${options.host}: no such address on this machine`);
    throw e;
  }
  process.stdout.write(`syft-ts worker '${worker.id}' listening on ${worker.url}\n`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130); // a second signal: stop now
    stopping = true;
    log(`${signal}: shutting down`);
    worker.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Runs the command line; returns the exit code for errors (a running worker exits on a signal). */
export async function main(argv: readonly string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  try {
    if (command !== 'worker') throw new UsageError(`unknown command '${command}': the command is 'worker'`);
    if (rest.includes('-h') || rest.includes('--help')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    await runWorker(rest);
    return undefined;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`syft-ts: ${e.message}\n(run 'syft-ts worker --help' for the options)\n`);
      return 2;
    }
    process.stderr.write(`syft-ts: ${e instanceof SyftError ? e.message : String((e as Error)?.stack ?? e)}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    // The bin is usually reached through a symlink (node_modules/.bin/syft-ts).
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exit(code);
}
