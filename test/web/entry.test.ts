// The package's browser entry, seen from Node: it bundles for the web through the package's
// `exports` with no shim and no warning, keeps every portable name of the Node entry, and
// sy.ready() says loudly when it falls back from wasm.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, test } from 'vitest';
import * as browserEntry from '../../src/browser.js';
import * as nodeEntry from '../../src/index.js';
import { ROOT, bundle, viteBundle, webpackBundle } from './helpers/bundle.js';

/** What only Node can run: listening workers, worker processes, threads. */
const NODE_ONLY = ['ThreadWorker', 'WebsocketServerWorker', 'startWorkerProcess', 'Coordinator', 'readTokenFile', 'ClientIdentities', 'DEFAULT_COORDINATOR_LIMITS', 'DEFAULT_WORKER_NODE_ARGS'];

describe('the browser entry', () => {
  test("`import * as sy from 'syft-ts'` bundles for the browser with no error and no warning, and leaves Node out", async () => {
    const b = await bundle("import * as sy from 'syft-ts'; (globalThis as any).sy = sy;", 'browser');
    expect(b.errors.map((e) => e.text)).toEqual([]);
    expect(b.warnings.map((e) => e.text)).toEqual([]);
    // No static import of a Node built-in, and neither the ws package nor the Node-only classes.
    expect(b.code).not.toMatch(/from\s*["']node:/);
    // (esbuild writes `__require("x")` for a require it could not bundle; the thread helpers' own
    // sources, which mention node:worker_threads inside strings, only ever run in Node.)
    expect(b.code).not.toMatch(/__require\(["']/);
    expect(b.code).not.toMatch(/class _?WebsocketServerWorker\b/);
    expect(b.code).not.toMatch(/class _?ThreadWorker\b/);
    expect(b.code).not.toContain('WebSocketServer');
    expect(b.code).toMatch(/class _?WebsocketClientWorker\b/);
    expect(b.code).toMatch(/class _?OutboundWorker\b/);
    // The same import for Node picks the Node entry.
    const n = await bundle("import * as sy from 'syft-ts'; console.log(typeof sy.WebsocketServerWorker);", 'node');
    expect(n.errors).toEqual([]);
    expect(n.code).toMatch(/class _?WebsocketServerWorker\b/);
  });

  test('vite builds it for the web with no warning, from the browser entry', async () => {
    const v = await viteBundle("import * as sy from 'syft-ts';\nglobalThis.sy = sy;\n");
    expect(v.warnings).toEqual([]);
    expect(v.code).toMatch(/class _?OutboundWorker\b/);
    expect(v.code).not.toMatch(/class _?WebsocketServerWorker\b/);
    expect(v.code).not.toMatch(/from\s*["']node:/);
  });

  test('webpack 5 builds it for the web with no warning and no error, from the browser entry', async () => {
    const w = await webpackBundle("import * as sy from 'syft-ts';\nglobalThis.sy = sy;\n");
    expect(w.errors).toEqual([]);
    expect(w.warnings).toEqual([]);
    expect(w.code).toMatch(/class _?OutboundWorker\b/);
    expect(w.code).toMatch(/class _?AdditiveSharingTensor\b/);
    expect(w.code).not.toMatch(/class _?WebsocketServerWorker\b/);
    // webpack 5 shims no Node built-in: a static import of one would have been an error above.
    expect(w.code).not.toContain('webpackMissingModule');
  }, 120_000);

  test('a minified bundle keeps every error class name (names travel in remote errors)', async () => {
    const app =
      "import * as sy from 'syft-ts';\n" +
      'const wrong = [];\n' +
      'for (const [k, C] of Object.entries(sy)) {\n' +
      '  if (typeof C !== "function" || !(C.prototype instanceof Error)) continue;\n' +
      '  const e = new C("m", 1, "op", "n", "m");\n' +
      '  if (e.name !== k) wrong.push(k + " is named " + e.name);\n' +
      '}\n' +
      'console.log(JSON.stringify(wrong));\n';
    // The library minified (its dependencies left as imports), run from inside the repository so
    // that those imports resolve.
    const dir = mkdtempSync(join(ROOT, 'node_modules', '.syft-min-'));
    const file = join(dir, 'app.mjs');
    const b = await build({
      stdin: { contents: app.replace("'syft-ts'", JSON.stringify(join(ROOT, 'src', 'index.ts'))), resolveDir: ROOT, loader: 'ts' },
      bundle: true, minify: true, format: 'esm', platform: 'node', packages: 'external', outfile: file, logLevel: 'silent',
    });
    expect(b.errors).toEqual([]);
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    rmSync(dir, { recursive: true, force: true });
    expect(JSON.parse(out.split('\n').at(-1)!)).toEqual([]);
  });

  test('exports every name of the Node entry except the Node-only ones', () => {
    const missing = Object.keys(nodeEntry).filter((k) => !(k in browserEntry) && !NODE_ONLY.includes(k));
    expect(missing).toEqual([]);
    expect(Object.keys(browserEntry).filter((k) => NODE_ONLY.includes(k))).toEqual([]);
  });
});

describe('sy.ready()', () => {
  const run = (script: string): string =>
    execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

  test('falls back from wasm to cpu loudly when the .wasm files are not where it was told', () => {
    const out = run(
      "import('./src/index.ts').then(async (sy) => { const w = []; const info = await sy.ready({ wasmPaths: '/nowhere/', warn: (m) => w.push(m) }); console.log(JSON.stringify({ info, w })); })",
    );
    const { info, w } = JSON.parse(out.split('\n').at(-1)!) as { info: { backend: string; fallback?: string }; w: string[] };
    expect(info.backend).toBe('cpu');
    expect(info.fallback).toMatch(/wasm backend failed to start.*\/nowhere\/.*wasmPaths/);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^syft-ts: .*cpu backend instead/);
  });

  test('with the right wasmPaths it runs on wasm and says nothing', () => {
    const out = run(
      "import('./src/index.ts').then(async (sy) => { const w = []; const info = await sy.ready({ wasmPaths: './node_modules/@tensorflow/tfjs-backend-wasm/dist/', warn: (m) => w.push(m) }); console.log(JSON.stringify({ info, w })); })",
    );
    const { info, w } = JSON.parse(out.split('\n').at(-1)!) as { info: { backend: string; fallback?: string }; w: string[] };
    expect(info.backend).toBe('wasm');
    expect(info.fallback).toBeUndefined();
    expect(w).toEqual([]);
  });

  test('refuses a wasmPaths it cannot use, saying what it wants', async () => {
    await expect(nodeEntry.ready({ backend: 'wasm', wasmPaths: '/wasm' })).rejects.toThrow(/ending in '\/'/);
    await expect(nodeEntry.ready({ backend: 'wasm', wasmPaths: { 'x.wasm': '/x' } as never })).rejects.toThrow(/unknown file 'x.wasm'/);
  });
});
