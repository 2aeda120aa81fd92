// The command line's security options: tokens per client, --new-token, TLS required beyond
// loopback unless --insecure, the peer allow-list, and a flag for every limit (in --help too).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { USAGE, UsageError, parseWorkerArgs } from '../../src/cli.js';
import { DEFAULT_LIMITS } from '../../src/workers/limits.js';
import { LIMIT_FLAGS, parseAmount } from '../../src/workers/limits-flags.js';
import { newToken } from '../../src/workers/websocket/identities.js';

const dir = mkdtempSync(join(tmpdir(), 'syft-cli-sec-'));
const tsx = createRequire(import.meta.url).resolve('tsx');
const run = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', tsx, 'src/cli.ts', ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
const base = ['--id', 'bob', '--port', '0'];

describe('syft-ts worker: security flags', () => {
  test('--new-token prints a fresh strong token and appends it to a tokens file (mode 600), once per name', async () => {
    const file = join(dir, 'bob.tokens');
    const [a, b] = await Promise.all([run(['worker', '--new-token', 'carol', '--tokens-file', file]), run(['worker', '--new-token', 'dave'])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout).toMatch(/^carol:[0-9a-f]{64}\n$/);
    expect(b.stdout).toMatch(/^dave:[0-9a-f]{64}\n$/);
    expect(readFileSync(file, 'utf8')).toBe(a.stdout);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await run(['worker', '--new-token', 'carol', '--tokens-file', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already lists 'carol'/);
    const { options } = parseWorkerArgs([...base, '--tokens-file', file]);
    expect(options.clients?.tokenOf('carol')).toBe(a.stdout.trim().slice('carol:'.length));
  });

  test('weak tokens, two kinds of token file, and plain listening beyond loopback are refused', () => {
    const weak = join(dir, 'weak');
    writeFileSync(weak, 'hunter2\n', { mode: 0o600 });
    const lines = join(dir, 'weak.tokens');
    writeFileSync(lines, 'carol:abc\n', { mode: 0o600 });
    expect(() => parseWorkerArgs([...base, '--tokens-file', lines])).toThrow(/token of 'carol' is too weak/);
    expect(() => parseWorkerArgs([...base, '--tokens-file', lines, '--token-file', weak])).toThrow(/not both/);
    expect(() => parseWorkerArgs([...base, '--host', '0.0.0.0'])).toThrow(UsageError);
    expect(() => parseWorkerArgs([...base, '--host', '0.0.0.0'])).toThrow(/needs TLS.*--insecure/);
    const { options, warnings } = parseWorkerArgs([...base, '--host', '0.0.0.0', '--insecure', '--allow-peer', '10.0.0.2:8778']);
    expect(options.insecure).toBe(true);
    expect(options.allowPeers).toEqual(['10.0.0.2:8778']);
    expect(warnings.join('\n')).toMatch(/without TLS \(--insecure\)/);
  });

  test('every limit has a flag, shown in --help with its default, and reaches the options', () => {
    for (const k of Object.keys(DEFAULT_LIMITS)) expect(LIMIT_FLAGS.some((f) => f.key === k)).toBe(true);
    for (const f of LIMIT_FLAGS) expect(USAGE).toContain(f.flag);
    expect(USAGE).toMatch(/--max-bytes-per-session N\s+bytes of tensor data one client may hold \(default 4GiB\)/);
    const { options } = parseWorkerArgs([...base, '--max-bytes-per-session', '1GiB', '--max-key-bits', '2048', '--max-unauthenticated', '32', '--max-unacked-bytes', '64MiB']);
    expect(options.limits).toEqual({ maxBytesPerSession: 2 ** 30, maxKeyBits: 2048 });
    expect(options.admission).toEqual({ maxUnauthenticated: 32 });
    expect(options.sessionLimits).toEqual({ maxUnackedBytes: 64 * 2 ** 20 });
    expect(parseAmount('1M', '--x')).toBe(1e6);
    expect(() => parseWorkerArgs([...base, '--max-bytes', 'lots'])).toThrow(/--max-bytes takes a whole number/);
    expect(() => parseWorkerArgs([...base, '--max-sessions', '0'])).toThrow(/--max-sessions must be at least 1/);
    expect(newToken()).toHaveLength(64);
  });
});
