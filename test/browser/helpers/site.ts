// The site the browser tests load: one page, the package bundled for the browser (through its
// `exports`, test/web/helpers/bundle.ts), and tfjs's .wasm files under /wasm/, served by a
// small static server on 127.0.0.1 (a secure context, so WebCrypto is there).
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROOT, bundle } from '../../web/helpers/bundle.js';

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>syft-ts test page</title></head>
<body><h1>syft-ts</h1><pre id="log"></pre><script type="module" src="/syft.js"></script></body></html>`;

export interface Site {
  origin: string;
  /** Bytes of the bundle served. */
  bundleBytes: number;
  close(): Promise<void>;
}

let code: Promise<string> | undefined;

/**
 * The page's script: the package bundled for the browser, exposed as `window.sy`. Not minified,
 * so that stack traces from the page read as the sources do; note that esbuild's keepNames breaks paillier-bigint's prime search in pages (it ships function sources to Web
 * Workers, where the helper keepNames inserts is undefined).
 */
export function pageBundle(): Promise<string> {
  code ??= bundle("import * as sy from 'syft-ts';\n(globalThis as any).sy = sy;\n(globalThis as any).syLoaded = true;\n", 'browser').then((b) => {
    if (b.errors.length > 0) throw new Error(`bundling failed: ${b.errors.map((e) => e.text).join('; ')}`);
    return b.code;
  });
  return code;
}

/** Serves the test site; extra routes (path -> [content type, body]) may be given. */
export async function serveSite(extra: Record<string, [string, string | Buffer]> = {}): Promise<Site> {
  const js = await pageBundle();
  const wasmDir = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (type: string, body: string | Buffer) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/' || path === '/index.html') return send('text/html; charset=utf-8', PAGE);
    if (path === '/syft.js') return send('text/javascript; charset=utf-8', js);
    const wasm = /^\/wasm\/(tfjs-backend-wasm(-simd|-threaded-simd)?\.wasm)$/.exec(path);
    if (wasm) return send('application/wasm', readFileSync(join(wasmDir, wasm[1]!)));
    const e = extra[path];
    if (e) return send(e[0], e[1]);
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    bundleBytes: Buffer.byteLength(js),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
