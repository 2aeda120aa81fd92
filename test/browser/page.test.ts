// syft-ts in real headless Chromium (`npm run test:browser`): the package bundled for the web
// through its `exports` (by esbuild, and by webpack 5 in one test), ready() on wasm, SMPC and Paillier inside a page, a page as a WebSocket
// client of a Node worker (WebCrypto handshake), pages as computing parties and as crypto
// provider behind a Coordinator, and a reconnect after a page's sockets drop.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { SeededRandom } from '../../src/util/seeded.js';
import { type Browser as Chromium, type Page, Browser, findChromium } from './helpers/chromium.js';
import { type Site, serveSite } from './helpers/site.js';
import { webpackBundle } from '../web/helpers/bundle.js';

const TOKEN = 'browser-party-token-0e7d9c';
const binary = findChromium();
if (!binary) console.warn('test/browser: no Chromium on this machine (apt-get install chromium, or set CHROMIUM): the browser tests are skipped');

const flat = (v: unknown): number[] => [v].flat(Infinity as 1) as number[];
function close(got: unknown, want: unknown, tol: number): void {
  const [g, w] = [flat(got), flat(want)];
  expect(g.length).toBe(w.length);
  g.forEach((x, i) => expect(Math.abs(x - w[i]!)).toBeLessThanOrEqual(tol));
}
const rows = (rng: SeededRandom, r: number, c: number) => Array.from({ length: r }, () => Array.from({ length: c }, () => Math.round(rng.uniform(-3, 3) * 100) / 100));

describe.skipIf(!binary)('in headless Chromium', () => {
  let browser: Chromium;
  let site: Site;
  let page: Page;
  const open = async (): Promise<Page> => {
    const p = await browser.newPage(`${site.origin}/`);
    await p.evaluate("new Promise((r) => { const t = setInterval(() => { if (globalThis.syLoaded) { clearInterval(t); r(true); } }, 10); })");
    await p.evaluate("sy.ready({ wasmPaths: '/wasm/' })");
    return p;
  };

  beforeAll(async () => {
    site = await serveSite();
    browser = await Browser.launch(binary!);
    page = await open();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  test('the bundle loads without shims, and sy.ready() runs float kernels on wasm and the ring on SIMD', async () => {
    const info = await page.evaluate<{ backend: string; ring: string; fallback?: string }>("sy.ready({ wasmPaths: '/wasm/' })");
    expect(info).toEqual({ backend: 'wasm', ring: 'simd' });
    expect(await page.evaluate("sy.tensor([[1, 2], [3, 4]]).matmul(sy.tensor([[1], [-1]])).arraySync()")).toEqual([[-1], [-1]]);
    expect(page.logs.filter((l) => /\[(error|warning)\]|uncaught/.test(l))).toEqual([]);
  });

  test("the page's seeded PRG (wasm ChaCha20) draws the same stream as Node's (node:crypto) from the same seed", async () => {
    const seed = sy.ring.Prg.randomSeed();
    const n = 64 * 784 * 8 + 5;
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const node = new sy.ring.Prg(seed);
    const want = hex(node.bytesSync(n)) + hex(node.bytesSync(100));
    const got = await page.evaluate<{ backend: string; hex: string }>(`(async () => {
      const p = new sy.ring.Prg(Uint8Array.from(${JSON.stringify(Array.from(seed))}));
      const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      return { backend: p.backend, hex: hex(await p.bytes(${n})) + hex(p.bytesSync(100)) };
    })()`);
    expect(got.backend).toBe('wasm');
    expect(got.hex.length).toBe(want.length);
    expect(got.hex === want).toBe(true);
    // The SIMD kernel passed its self-check: no fallback warning.
    expect(page.logs.filter((l) => /seeded PRG/.test(l))).toEqual([]);
  });

  test('a webpack 5 bundle of the package runs in a page: wasm kernels, and a private matmul among in-page workers', async () => {
    const w = await webpackBundle("import * as sy from 'syft-ts';\nglobalThis.sy = sy;\nglobalThis.syLoaded = true;\n", '/wp/');
    expect(w.errors).toEqual([]);
    const routes: Record<string, [string, string]> = { '/webpack.html': ['text/html; charset=utf-8', '<!doctype html><script src="/wp/main.js"></script>'] };
    for (const [name, code] of Object.entries(w.files)) routes[`/wp/${name}`] = ['text/javascript; charset=utf-8', code];
    const wpSite = await serveSite(routes);
    try {
      const p = await browser.newPage(`${wpSite.origin}/webpack.html`);
      await p.evaluate("new Promise((r) => { const t = setInterval(() => { if (globalThis.syLoaded) { clearInterval(t); r(true); } }, 10); })");
      const info = await p.evaluate<{ backend: string }>("sy.ready({ wasmPaths: '/wasm/' })");
      expect(info.backend).toBe('wasm');
      const got = await p.evaluate<number[][]>(`(async () => {
        const [a, b, c] = ['alice', 'bob', 'cp'].map((id) => new sy.VirtualWorker({ id }));
        const x = sy.tensor([[1.5, -2], [0.25, 3]]).fixPrecision().share(a, b, { cryptoProvider: c });
        const y = sy.tensor([[2], [-1]]).fixPrecision().share(a, b, { cryptoProvider: c });
        return (await x.matmul(y).get()).floatPrecision().arraySync();
      })()`);
      close(got, [[5], [-2.5]], 1e-2);
      expect(p.logs.filter((l) => /\[error\]|uncaught/.test(l))).toEqual([]);
    } finally {
      await wpSite.close();
    }
  }, 120_000);

  test('without its .wasm files where it was told, ready() falls back to cpu and says so in the console', async () => {
    const p = await browser.newPage(`${site.origin}/`);
    try {
      await p.evaluate("new Promise((r) => { const t = setInterval(() => { if (globalThis.syLoaded) { clearInterval(t); r(true); } }, 10); })");
      const info = await p.evaluate<{ backend: string; fallback?: string }>("sy.ready({ wasmPaths: '/nowhere/' })");
      expect(info.backend).toBe('cpu');
      expect(info.fallback).toMatch(/wasm backend failed to start.*\/nowhere\/.*wasmPaths/);
      expect(p.logs.some((l) => /^\[warning\] syft-ts: the tfjs wasm backend failed to start/.test(l))).toBe(true);
    } finally {
      await p.close();
    }
  });

  test('SMPC among in-page virtual workers: private matmul and ReLU match plaintext', async () => {
    const rng = new SeededRandom(17);
    const [x, w] = [rows(rng, 4, 6), rows(rng, 6, 3)];
    const got = await page.evaluate<{ mm: number[][]; relu: number[][] }>(`(async () => {
      const [alice, bob, cp] = ['alice', 'bob', 'cp'].map((id) => new sy.VirtualWorker({ id }));
      const share = (t) => t.fixPrecision().share(alice, bob, { cryptoProvider: cp });
      const X = share(sy.tensor(${JSON.stringify(x)})), W = share(sy.tensor(${JSON.stringify(w)}));
      const mm = (await X.matmul(W).get()).floatPrecision().arraySync();
      const relu = (await X.matmul(W).relu().get()).floatPrecision().arraySync();
      return { mm, relu };
    })()`);
    const want = sy.tensor(x).matmul(sy.tensor(w));
    close(got.mm, want.arraySync(), 2e-2);
    close(got.relu, want.relu().arraySync(), 2e-2);
  });

  test('Paillier in the page: keys, encryption, sums and products by plaintext, decryption', async () => {
    const got = await page.evaluate<number[]>(`(async () => {
      const { publicKey, privateKey } = await sy.paillier.keygen({ bits: 1024 });
      const x = sy.tensor([1.5, -2, 3.25]).encrypt({ protocol: 'paillier', publicKey });
      return Array.from(x.add(x).mul(0.5).add(sy.tensor([1, 1, 1])).decrypt(privateKey).arraySync());
    })()`);
    close(got, [2.5, -1, 4.25], 1e-3);
  });

  test("a page is a WebSocket client of a Node worker: the same handshake and token, proved with WebCrypto", async () => {
    const bob = await sy.WebsocketServerWorker.start({ id: 'bob', token: TOKEN, allowOrigins: [site.origin] });
    try {
      const got = await page.evaluate<{ sum: number[]; refused: string }>(`(async () => {
        const bob = await sy.WebsocketClientWorker.connect(${JSON.stringify(bob.url)}, { id: 'bob', token: ${JSON.stringify(TOKEN)} });
        const x = sy.tensor([1, 2, 3]).send(bob);
        const sum = Array.from((await x.add(x).get()).arraySync());
        await bob.close();
        const refused = await sy.WebsocketClientWorker.connect(${JSON.stringify(bob.url)}, { id: 'bob', token: 'wrong-token-1234', reconnect: false }).then(() => 'connected', (e) => e.name + ': ' + e.message);
        return { sum, refused };
      })()`);
      expect(got.sum).toEqual([2, 4, 6]);
      expect(got.refused).toMatch(/^AuthenticationError: .*token/);
      expect(bob.authFailures).toBe(1);
    } finally {
      await bob.close();
    }
  });

  describe('pages as computing parties behind a coordinator', () => {
    let coordinator: sy.Coordinator;
    const tabs: Page[] = [];
    const join = async (id: string): Promise<Page> => {
      const p = await open();
      tabs.push(p);
      await p.evaluate(`sy.OutboundWorker.join(${JSON.stringify(coordinator.joinUrl)}, { id: '${id}', token: ${JSON.stringify(TOKEN)} }).then((w) => { globalThis.worker = w; return w.id; })`);
      await coordinator.waitFor(id);
      return p;
    };
    const connect = (url: string, id: string) => sy.WebsocketClientWorker.connect(url, { id, token: TOKEN });

    beforeAll(async () => {
      coordinator = await sy.Coordinator.start({ allowOrigins: [site.origin] });
    });
    afterAll(async () => {
      for (const t of tabs) await t.close().catch(() => {});
      await coordinator?.close();
    });

    test('two pages are the parties, a Node worker the crypto provider: private matmul and ReLU, and a reconnect after the pages drop their sockets', async () => {
      const [alicePage, bobPage] = [await join('alice'), await join('bob')];
      const cpServer = await sy.WebsocketServerWorker.start({ id: 'crypto_provider', token: TOKEN });
      const [alice, bob, cp] = await Promise.all([connect(coordinator.url('alice'), 'alice'), connect(coordinator.url('bob'), 'bob'), connect(cpServer.url, 'crypto_provider')]);
      try {
        const rng = new SeededRandom(29);
        const [x, w] = [sy.tensor(rows(rng, 5, 8)), sy.tensor(rows(rng, 8, 4))];
        const share = (t: sy.Tensor) => t.fixPrecision().share(alice, bob, { cryptoProvider: cp });
        const [X, W] = [share(x), share(w)];
        close((await X.matmul(W).get()).floatPrecision().arraySync(), x.matmul(w).arraySync(), 3e-2);
        close((await X.matmul(W).relu().get()).floatPrecision().arraySync(), x.matmul(w).relu().arraySync(), 3e-2);
        // The pages really hold the shares, and sent values to each other (through the relay).
        const inPage = await alicePage.evaluate<{ objects: number; peers: string[]; rejected: number }>(
          '({ objects: worker.objectCount, peers: worker.linkedPeers, rejected: worker.rejected })',
        );
        expect(inPage.objects).toBeGreaterThanOrEqual(2);
        expect(inPage.peers).toContain('bob');
        expect(inPage.rejected).toBe(0);

        // Both pages lose their connections at once; the orchestrator resumes and goes on.
        const resumed = Promise.all([alice, bob].map((c) => new Promise<{ resumed: boolean }>((r) => c.on('reconnect', r))));
        await Promise.all([alicePage, bobPage].map((p) => p.evaluate('worker.dropConnections()')));
        expect((await resumed).map((r) => r.resumed)).toEqual([true, true]);
        close((await X.matmul(W).relu().get()).floatPrecision().arraySync(), x.matmul(w).relu().arraySync(), 3e-2);
      } finally {
        await Promise.all([alice, bob, cp].map((c) => c.close().catch(() => {})));
        await cpServer.close();
      }
    });

    test("a training step with two pages as the parties gives the plaintext twin's losses and weights", async () => {
      await Promise.all([join('erin'), join('frank')]);
      const cpServer = await sy.WebsocketServerWorker.start({ id: 'dealer2', token: TOKEN });
      const [erin, frank, cp] = await Promise.all([connect(coordinator.url('erin'), 'erin'), connect(coordinator.url('frank'), 'frank'), connect(cpServer.url, 'dealer2')]);
      try {
        const rng = new SeededRandom(37);
        const [x, y] = [sy.tensor(rows(rng, 8, 10)), sy.tensor(rows(rng, 8, 2))];
        const opts = { cryptoProvider: cp };
        const [X, Y] = [x.fixPrecision().share(erin, frank, opts), y.fixPrecision().share(erin, frank, opts)];
        sy.manualSeed(3);
        const model = new sy.nn.Sequential(new sy.nn.Linear(10, 4), new sy.nn.ReLU(), new sy.nn.Linear(4, 2));
        const twin = model.copy();
        model.fixPrecision().share(erin, frank, { cryptoProvider: cp, requiresGrad: true });
        const optimizer = new sy.optim.SGD(model.parameters(), { lr: 0.05 }).fixPrecision();
        const plainOpt = new sy.optim.SGD(twin.parameters(), { lr: 0.05 });
        for (let step = 0; step < 2; step++) {
          const loss = sy.tidy(() => {
            optimizer.zeroGrad();
            const l = model.forward(X).sub(Y).pow(2).sum().refresh().div(8);
            l.backward();
            optimizer.step();
            return l;
          });
          const got = (await loss.get()).floatPrecision().item();
          plainOpt.zeroGrad();
          const want = twin.forward(x).sub(y).pow(2).sum().div(8);
          want.backward();
          plainOpt.step();
          expect(Math.abs(got - want.item())).toBeLessThan(0.05);
        }
        await model.get();
        model.floatPrecision();
        for (const [i, p] of model.parameters().entries()) close(p.arraySync(), twin.parameters()[i]!.arraySync(), 0.02);
      } finally {
        await Promise.all([erin, frank, cp].map((c) => c.close().catch(() => {})));
        await cpServer.close();
      }
    });

    test('a page is the crypto provider of two Node workers', async () => {
      await join('dealer');
      // The page dials the parties' peer links itself: they must allow its origin.
      const servers = await Promise.all(['carol', 'dave'].map((id) => sy.WebsocketServerWorker.start({ id, token: TOKEN, allowOrigins: [site.origin] })));
      const [carol, dave] = await Promise.all(servers.map((s) => connect(s.url, s.id)));
      const dealer = await connect(coordinator.url('dealer'), 'dealer');
      try {
        const rng = new SeededRandom(31);
        const [x, w] = [sy.tensor(rows(rng, 3, 5)), sy.tensor(rows(rng, 5, 2))];
        const share = (t: sy.Tensor) => t.fixPrecision().share(carol!, dave!, { cryptoProvider: dealer });
        close((await share(x).matmul(share(w)).get()).floatPrecision().arraySync(), x.matmul(w).arraySync(), 3e-2);
        expect(coordinator.traffic('dealer').fromWorker).toBeGreaterThan(0);
      } finally {
        await Promise.all([carol!, dave!, dealer].map((c) => c.close().catch(() => {})));
        await Promise.all(servers.map((s) => s.close()));
      }
    });
  });
});
