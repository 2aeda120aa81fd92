#!/usr/bin/env node
/**
 * The `syft-ts` command.
 *
 *     syft-ts worker --id alice --port 8778 [--host 127.0.0.1] [--tokens-file F | --token-file F]
 *                    [--tls-cert C --tls-key K] [--tls-ca F] [--insecure] [--allow-peer H:P]...
 *                    [--timeout-ms N] [--max-message-bytes N] [--session-grace-ms N]
 *                    [--allow-origin O]... [--<limit> N]... [--quiet]
 *     syft-ts worker --new-token NAME [--tokens-file F]
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
import { limitFlagsHelp, limitOptions, limitParseOptions } from './workers/limits-flags.js';
import { ClientIdentities, newToken } from './workers/websocket/identities.js';
import { readTokenFile } from './workers/websocket/token-file.js';
import { certFingerprint, isLoopback } from './workers/websocket/tls.js';
import { appendTokenLine } from './workers/websocket/tokens-file.js';
import type { WebsocketServerWorkerOptions } from './workers/websocket/server.js';

/** A command line that cannot be run as given. */
export class UsageError extends SyftError {
  override name = 'UsageError';
}

export const USAGE = `usage: syft-ts worker --id ID --port PORT [options]

Starts a syft-ts worker that other processes reach over WebSockets.

  --id ID                    the worker's name (letters, digits, _.:-), as clients and peers call it
  --port PORT                TCP port to listen on (0 picks a free one; the chosen URL is printed)
  --host HOST                interface to listen on (default 127.0.0.1: this machine only)
  --tokens-file FILE         a token per client: lines 'name:token' (or a JSON object); a client logs
                             in with its name and token, and that name is its identity here
  --token-file FILE          one token shared by every client (who then name themselves)
  --new-token NAME           print 'NAME:TOKEN' with a fresh 256-bit token and exit; with
                             --tokens-file, also append it to that file (created mode 600)
  --tls-cert FILE            serve wss:// with this certificate (PEM); needs --tls-key. Its
                             SHA-256 fingerprint is printed at start (clients may pin it)
  --tls-key FILE             the certificate's private key (PEM)
  --tls-ca FILE              certificates (PEM) to trust when connecting to peers over wss://
  --insecure                 allow a non-loopback --host without TLS (refused otherwise)
  --allow-peer HOST:PORT     peers this worker may be told to connect to (repeatable; '*' for
                             any). Default: any on a loopback --host, none beyond it
  --timeout-ms N             how long a protocol step waits for a peer (default 60000)
  --max-message-bytes N      largest message accepted (default 67108864)
  --session-grace-ms N       how long a dropped client's objects are kept for it (default 30000)
  --allow-origin ORIGIN      let web pages from ORIGIN connect (repeatable; default none)
  --quiet                    do not log connection events to stderr
  -h, --help                 show this help
${limitFlagsHelp()}
A party of an SMPC protocol collects garbage less often, and computes faster, when Node starts
with a larger first old-generation limit: node --initial-old-space-size=128 $(which syft-ts) worker ...
(startWorkerProcess passes it already).`;

function readText(path: string, flag: string): string {
  return readPem(path, flag);
}

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
        'tokens-file': { type: 'string' },
        insecure: { type: 'boolean' },
        'allow-peer': { type: 'string', multiple: true },
        quiet: { type: 'boolean' },
        ...limitParseOptions(),
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
  if (values['token-file'] !== undefined && values['tokens-file'] !== undefined) {
    throw new UsageError('give --tokens-file (a token per client) or --token-file (one shared token), not both');
  }
  let token: string | undefined;
  let clients: ClientIdentities | undefined;
  try {
    if (values['token-file'] !== undefined) token = readTokenFile(values['token-file']);
    if (values['tokens-file'] !== undefined) clients = ClientIdentities.parse(readText(values['tokens-file'], '--tokens-file'), `the tokens file '${values['tokens-file']}'`);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const options: WebsocketServerWorkerOptions = { id: values.id, port, host };
  if (token !== undefined) options.token = token;
  if (clients !== undefined) options.clients = clients;
  if (values.insecure) options.insecure = true;
  if (values['allow-peer']) options.allowPeers = values['allow-peer'];
  try {
    Object.assign(options, limitOptions(values));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
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
  const file = values['token-file'] ?? values['tokens-file'];
  if (file !== undefined && process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    warnings.push(`the token file '${file}' can be read by other users: chmod 600 it`);
  }
  if (!isLoopback(host)) {
    if (token === undefined && clients === undefined) warnings.push(`listening on ${host} without --tokens-file: anyone who can reach this port controls the worker`);
    if (!options.tls && !values.insecure) throw new UsageError(`listening on ${host} needs TLS (--tls-cert and --tls-key), or --insecure to send the data in the clear`);
    if (!options.tls) warnings.push(`listening on ${host} without TLS (--insecure): the data travels unencrypted (the token does not)`);
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
  if (options.tls) log(`TLS certificate SHA-256 fingerprint ${certFingerprint(options.tls.cert)} (clients may pin it: { fingerprint })`);
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

/** `--new-token NAME [--tokens-file F]`: prints a fresh `NAME:TOKEN` line, and appends it to F when given. */
function printNewToken(argv: readonly string[]): number {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, options: { 'new-token': { type: 'string' }, 'tokens-file': { type: 'string' } } }));
  } catch (e) {
    throw new UsageError(`--new-token NAME takes only --tokens-file FILE besides: ${(e as Error).message}`);
  }
  const name = values['new-token']!;
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(name) || name.includes(':')) throw new UsageError(`--new-token takes a client name of 1-64 letters, digits or _.- characters, got '${name}'`);
  const line = `${name}:${newToken()}`;
  if (values['tokens-file'] !== undefined) {
    try {
      appendTokenLine(values['tokens-file'], line);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    process.stderr.write(`syft-ts: added '${name}' to ${values['tokens-file']}; give the client the token below (connect(url, { name: '${name}', token }))\n`);
  }
  process.stdout.write(`${line}\n`);
  return 0;
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
    if (rest.includes('--new-token')) return printNewToken(rest);
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
