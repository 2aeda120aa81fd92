// `npm run example:web`: serves the data owner's page (index.html, main.ts bundled for the browser
// with esbuild, tfjs's .wasm files) on localhost, starts a Coordinator for pages to join, and plays
// the model owner: waits for the page's party to join, finds its `#data` by search, computes column
// means on it by pointer, then trains a linear model on it by pointer (the last column predicted
// from the others) — only those aggregates and the losses leave the page. The site's `/progress`
// gives the page the losses, so the data owner watches the curve while it trains.
//   npm run example:web -- --port 8080 --coordinator-port 8777
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import * as sy from '../../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

export interface Example {
  /** The page's URL, with the coordinator, party id and token in its query. */
  pageUrl: string;
  origin: string;
  coordinator: sy.Coordinator;
  token: string;
  partyId: string;
  /** The model owner's training losses so far, one per step (the page plots them from `/progress`). */
  progress: { step: number; loss: number }[];
  stop(): Promise<void>;
}

/** Bundles the page's script and serves the site; starts a coordinator that allows the site's origin. */
export async function startExample(opts: { port?: number; coordinatorPort?: number; host?: string } = {}): Promise<Example> {
  const host = opts.host ?? '127.0.0.1';
  const bundled = await build({
    entryPoints: [join(here, 'main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
    // The package's browser entry, as `import * as sy from 'syft-ts'` finds it once installed.
    alias: { 'syft-ts': join(root, 'src', 'browser.ts') },
  });
  const js = bundled.outputFiles[0]!.text;
  const html = readFileSync(join(here, 'index.html'));
  const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  const progress: Example['progress'] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (type: string, body: string | Buffer) => res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    if (path === '/' || path === '/index.html') return send('text/html; charset=utf-8', html);
    if (path === '/main.js') return send('text/javascript; charset=utf-8', js);
    if (path === '/progress') return send('application/json', JSON.stringify(progress));
    const wasm = /^\/wasm\/(tfjs-backend-wasm(-simd|-threaded-simd)?\.wasm)$/.exec(path);
    if (wasm) return send('application/wasm', readFileSync(join(wasmDir, wasm[1]!)));
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, host, r));
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  const coordinator = await sy.Coordinator.start({ port: opts.coordinatorPort ?? 0, host, allowOrigins: [origin, origin.replace(host, 'localhost')] });
  const token = randomBytes(16).toString('hex');
  const partyId = 'data_owner';
  const q = new URLSearchParams({ coordinator: coordinator.joinUrl, id: partyId, token });
  return {
    pageUrl: `${origin}/?${q}`,
    origin,
    coordinator,
    token,
    partyId,
    progress,
    stop: async () => {
      await coordinator.close();
      await new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
    },
  };
}

/** The model owner's side: column means of the page's `#data`, computed where the data is. */
export async function columnMeans(ex: Example): Promise<{ client: sy.WebsocketClientWorker; means: number[] }> {
  const client = await sy.WebsocketClientWorker.connect(ex.coordinator.url(ex.partyId), { id: ex.partyId, token: ex.token });
  const [data] = await client.search('#data');
  if (!data) throw new Error(`the page published no #data`);
  const n = data.shape[0]!;
  const means = Array.from((await data.sum(0).div(n).get()).arraySync() as number[]);
  await client.sync();
  return { client, means };
}

/**
 * The model owner trains by pointer on the page's `#data`: a linear model predicts the last column
 * from the others (standardised with their mean and spread, computed where the data is), with SGD
 * on the mean squared error. The model lives on the page while it trains; each step's loss comes
 * back and goes into `ex.progress`. Returns the model owner's client and the losses.
 */
export async function trainLinear(ex: Example, opts: { steps?: number; lr?: number } = {}): Promise<{ client: sy.WebsocketClientWorker; losses: number[] }> {
  const client = await sy.WebsocketClientWorker.connect(ex.coordinator.url(ex.partyId), { id: ex.partyId, token: ex.token });
  const [data] = await client.search('#data');
  if (!data) throw new Error(`the page published no #data`);
  const d = data.shape[1]!;
  if (d < 2) throw new Error('training needs at least two columns: features, then the value to predict');
  const features = data.indexSelect(1, Array.from({ length: d - 1 }, (_, j) => j));
  const target = data.indexSelect(1, [d - 1]);
  const mean = features.mean(0, true);
  const spread = features.sub(mean).pow(2).mean(0, true).add(1e-6).sqrt();
  const x = features.sub(mean).div(spread);
  sy.manualSeed(7);
  const model = new sy.nn.Linear(d - 1, 1).send(client);
  const optimizer = new sy.optim.SGD(model.parameters(), { lr: opts.lr ?? 0.1 });
  ex.progress.length = 0;
  const losses: number[] = [];
  for (let step = 1; step <= (opts.steps ?? 40); step++) {
    optimizer.zeroGrad();
    const loss = model.forward(x).sub(target).pow(2).mean();
    loss.backward();
    optimizer.step();
    const value = (await loss.get()).item();
    losses.push(value);
    ex.progress.push({ step, loss: value });
  }
  await client.sync();
  return { client, losses };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, 'coordinator-port': { type: 'string', default: '8777' } } });
  await sy.ready();
  const ex = await startExample({ port: Number(values.port), coordinatorPort: Number(values['coordinator-port']) });
  console.log(`open ${ex.pageUrl}\npick a CSV of numbers, then press Join (Ctrl-C to stop)`);
  for (;;) {
    await ex.coordinator.waitFor(ex.partyId, 24 * 3600_000);
    try {
      const { client, means } = await columnMeans(ex);
      console.log(`column means of the data owner's rows: ${means.map((m) => m.toFixed(4)).join(', ')}`);
      console.log(`the page sent the model owner ${client.traffic.bytesReceived} bytes`);
      await client.close();
      const trained = await trainLinear(ex);
      const l = trained.losses;
      console.log(`trained a linear model on the page's rows, by pointer: loss ${l[0]!.toFixed(4)} -> ${l.at(-1)!.toFixed(4)} over ${l.length} steps`);
      await trained.client.close();
    } catch (e) {
      console.log(`model owner: ${(e as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 5000));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
