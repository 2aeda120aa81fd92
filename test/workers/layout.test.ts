// The shape of src/workers/, checked from the sources so it stays true: the WebSocket transport
// in files of at most 300 lines, its client and server halves importing nothing of each other,
// one place that maps a remote failure to a RemoteError, the workers importing nothing from the
// tensor API above them at run time, and the Node-only modules kept to files of their own.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const src = join(root, 'src');
const workers = join(src, 'workers');
const websocket = join(workers, 'websocket');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const code = (file: string) => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

/** What `file` imports at run time: relative modules as resolved paths, packages by name. */
function runtimeImports(file: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of code(file).matchAll(re)) {
    if (m[1]) continue;
    const names = m[2]?.trim();
    if (names && /^\{[^}]*\}$/.test(names) && names.slice(1, -1).split(',').every((s) => !s.trim() || /^\s*type\s/.test(s))) continue;
    const spec = (m[3] ?? m[4] ?? m[5])!;
    out.push(spec.startsWith('.') ? resolve(dirname(file), spec.replace(/\.js$/, '.ts')) : spec);
  }
  return out;
}

/** Every source file `file` reaches through run-time imports, itself included. */
function closure(file: string): Set<string> {
  const seen = new Set<string>();
  const walk = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const i of runtimeImports(f)) if (i.startsWith(src)) walk(i);
  };
  walk(file);
  return seen;
}

const rel = (f: string) => relative(root, f);

describe('the layout of src/workers', () => {
  test('no file of the WebSocket transport is over 300 lines', () => {
    const long = tsFiles(websocket)
      .map((f) => [rel(f), readFileSync(f, 'utf8').split('\n').length - 1] as const)
      .filter(([, n]) => n > 300);
    expect(long).toEqual([]);
  });

  test('the client and the server import nothing of each other (shared modules only)', () => {
    const client = closure(join(websocket, 'client.ts'));
    const server = closure(join(websocket, 'server.ts'));
    const serverOnly = ['server.ts', 'serving.ts', 'sessions.ts', 'session.ts', 'listener.ts', 'stats.ts'].map((n) => join(websocket, n));
    expect([...client].filter((f) => serverOnly.includes(f)).map(rel)).toEqual([]);
    expect(server.has(join(websocket, 'client.ts'))).toBe(false);
  });

  test('a remote failure becomes a RemoteError in one place only', () => {
    const sites = tsFiles(workers).flatMap((f) => (code(f).match(/new RemoteError\(/g) ?? []).map(() => rel(f)));
    expect(sites).toEqual(['src/workers/caller.ts']);
  });

  test('the workers import nothing of the tensor API above them (src/tensor.ts, src/index.ts) at run time', () => {
    const above = [join(src, 'tensor.ts'), join(src, 'index.ts')];
    const bad = tsFiles(workers).flatMap((f) => runtimeImports(f).filter((i) => above.includes(i)).map((i) => `${rel(f)} -> ${rel(i)}`));
    expect(bad).toEqual([]);
  });

  test('Node-only modules (ws, http, crypto, perf_hooks) stay in files of their own', () => {
    const nodeOnly = /^(ws|node:(http|https|net|crypto|perf_hooks|fs|child_process))$/;
    const users = tsFiles(websocket)
      .filter((f) => runtimeImports(f).some((i) => nodeOnly.test(i)))
      .map((f) => relative(websocket, f))
      .sort();
    expect(users).toEqual(['listener.ts', 'node-socket.ts', 'process.ts', 'stats.ts', 'token-file.ts', 'tokens-file.ts']);
    // What pages run — the browser transport, the client, a dialled-out serving worker, the
    // handshake's proofs (WebCrypto there) — reaches none of them.
    const portable = ['channel.ts', 'session.ts', 'socket.ts', 'protocol.ts', 'traffic.ts', 'auth.ts', 'hmac.ts', 'seal.ts'];
    for (const f of [...portable, 'client.ts', 'outbound.ts', 'serving.ts', 'browser-socket.ts', 'dial.ts', 'handshake.ts', 'handshake-dial.ts']) {
      const reached = [...closure(join(websocket, f))].filter((g) => runtimeImports(g).some((i) => nodeOnly.test(i)));
      expect(reached.map(rel), f).toEqual([]);
    }
  });
});
