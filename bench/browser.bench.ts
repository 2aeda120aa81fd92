// In the page against in Node, in one run: the same code timed in headless Chromium (the package
// bundled for the browser, test/browser/helpers) and in this process, interleaved round by round
// so the machine's swings hit both. Figures: ring matmul 64x784 by 784x128; private matmul of
// that shape among 2 virtual parties and a dealer; the fresh-randomness generator
// (crypto.getRandomValues) and the seeded PRG (ChaCha20: the wasm kernel in the page, node:crypto
// in Node) for a 64x784 ring tensor, with the wasm kernel on both sides and WebCrypto AES-CTR (the
// PRG's previous browser path) for comparison. Ratios are page / Node medians, with their range
// over rounds.
// Needs Chromium (CHROMIUM=... or chromium on PATH); says so and records nothing without it.
import * as sy from '../src/index.js';
import { Browser, findChromium } from '../test/browser/helpers/chromium.js';
import { serveSite } from '../test/browser/helpers/site.js';
import { wasmBase64 as kernelBase64 } from '../src/ring/generated/ring-chacha-simd.js';
import type { Harness } from './harness.js';

const quick = process.env.BENCH_QUICK === '1';
const FLOOR = 1.5;

// One body for both sides: given sy, returns the ms of `reps` timed runs of each case.
const BODY = `
  const ring = sy.ring;
  const A = ring.randomRing([64, 784]), B = ring.randomRing([784, 128]);
  const [p0, p1, dealer] = ['bp0', 'bp1', 'bdealer'].map((id) => new sy.VirtualWorker({ id: id + '-' + crypto.randomUUID().slice(0, 8) }));
  const share = (t) => t.fixPrecision().share(p0, p1, { cryptoProvider: dealer });
  const X = share(sy.randn([64, 784])), W = share(sy.randn([784, 128]).mul(0.05));
  const sync = () => Promise.all([p0, p1, dealer].map((w) => w.sync()));
  await sync();
  const seed = ring.Prg.randomSeed();
  const kbin = atob(kernelBase64), kbytes = new Uint8Array(kbin.length);
  for (let i = 0; i < kbin.length; i++) kbytes[i] = kbin.charCodeAt(i);
  const kx = new WebAssembly.Instance(new WebAssembly.Module(kbytes), {}).exports;
  const BYTES = 64 * 784 * 8, SRC = new Uint8Array(BYTES).fill(7), REUSED = new Uint8Array(BYTES);
  const cases = {
    'ring matmul': () => A.matmul(B),
    'private matmul': async () => { const r = X.matmul(W); await sync(); r.dispose(); },
    'fresh random 64x784': () => ring.randomRing([64, 784]),
    'seeded PRG 64x784': () => new ring.Prg(seed).ring([64, 784]),
    'wasm ChaCha20 PRG 64x784': () => new ring.Prg(seed, { backend: 'wasm' }).ringSync([64, 784]),
    // What the PRG draw above is made of: the wasm kernel alone (its own instance, output left in
    // wasm memory), and a fresh 64x784-element buffer written once (the draw's output array).
    'wasm ChaCha20 kernel alone 64x784': () => { kx.keystream(0, 0, 4096); kx.keystream(4096, 0, 2176); },
    'fresh 401 KB buffer written 64x784': () => new Uint8Array(BYTES).set(SRC),
    'reused 401 KB buffer written 64x784': () => REUSED.set(SRC),
    'WebCrypto AES-CTR 64x784': async () => {
      const key = await crypto.subtle.importKey('raw', seed, 'AES-CTR', false, ['encrypt']);
      return crypto.subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 128 }, key, new Uint8Array(64 * 784 * 8));
    },
  };
  const out = {};
  for (const [name, f] of Object.entries(cases)) {
    for (let i = 0; i < warmup; i++) await f();
    const ms = [];
    // A page's clock is coarsened (100 us without cross-origin isolation): time the sub-ms cases
    // 20 calls at a time.
    const inner = name.includes('64x784') ? 20 : 1;
    for (let i = 0; i < reps; i++) { const t = performance.now(); for (let j = 0; j < inner; j++) await f(); ms.push((performance.now() - t) / inner); }
    out[name] = ms;
  }
  X.dispose(); W.dispose();
  return out;
`;

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function run(h: Harness): Promise<void> {
  const binary = findChromium();
  if (!binary) {
    console.log('  (no Chromium here: apt-get install chromium, or set CHROMIUM; nothing measured)');
    return;
  }
  const site = await serveSite();
  const browser = await Browser.launch(binary);
  try {
    const page = await browser.newPage(`${site.origin}/`);
    await page.evaluate("new Promise((r) => { const t = setInterval(() => { if (globalThis.syLoaded) { clearInterval(t); r(true); } }, 10); })");
    const info = await page.evaluate<{ backend: string; ring: string }>("sy.ready({ wasmPaths: '/wasm/' })");
    const reps = quick ? 3 : 10;
    const warmup = quick ? 1 : 3;
    const rounds = quick ? 2 : 4;
    await sy.ready();
    // The Node side runs the ring on one thread, as the page does (no helper threads there).
    const threads = sy.ring.ringEngine().threads;
    await sy.ring.initRing({ threads: 1 });
    const inNode = new Function('sy', 'reps', 'warmup', 'kernelBase64', `return (async () => {${BODY}})();`) as (s: typeof sy, r: number, w: number, k: string) => Promise<Record<string, number[]>>;
    const page1: Record<string, number[]>[] = [];
    const node1: Record<string, number[]>[] = [];
    for (let r = 0; r < rounds; r++) {
      page1.push(await page.evaluate(`(async (reps, warmup, kernelBase64) => {${BODY}})(${reps}, ${warmup}, ${JSON.stringify(kernelBase64)})`));
      node1.push(await inNode(sy, reps, warmup, kernelBase64));
    }
    await sy.ring.initRing({ threads });
    for (const name of Object.keys(page1[0]!)) {
      const p = page1.map((x) => median(x[name]!));
      const n = node1.map((x) => median(x[name]!));
      const ratios = p.map((v, i) => v / n[i]!);
      const extra = { pageBackend: info.backend, pageRing: info.ring, nodeRingThreads: 1, rounds, reps, ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios) };
      h.record(`${name}: page (Chromium)`, median(p), 'ms', extra);
      h.record(`${name}: Node`, median(n), 'ms', extra);
      h.record(`${name}: page / Node`, median(ratios), 'x', extra);
      // Issue 17's floor: the private matmul in the page within 1.5x of Node.
      const verdict = name === 'private matmul' ? `  ${median(ratios) <= FLOOR ? 'PASS' : 'MISS'} (floor page / Node <= ${FLOOR})` : '';
      console.log(`  ${name}: page ${median(p).toFixed(2)} ms, Node ${median(n).toFixed(2)} ms, ratio ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})${verdict}`);
    }
  } finally {
    await browser.close();
    await site.close();
  }
}
