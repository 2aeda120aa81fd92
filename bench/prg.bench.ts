// The seeded PRG's keystream in Node, candidates interleaved call by call in one process (the
// machine's swings hit all alike): node:crypto ChaCha20 (what Prg uses) against node:crypto
// AES-128-CTR (what it used before), the wasm ChaCha20 kernel (what pages use) and WebCrypto
// AES-CTR, for a 64x784 ring tensor (401 KB) and 1M elements (8 MB). Ratios are per round, over
// the AES-128-CTR median of the same round; the range is over rounds.
import { createCipheriv, randomBytes } from 'node:crypto';
import { allocUninit } from '../src/ring/alloc.js';
import { Prg, RingTensor } from '../src/ring/index.js';
import type { Harness } from './harness.js';

const quick = process.env.BENCH_QUICK === '1';
const CHUNK = 256 * 1024;
const ZEROS = new Uint8Array(CHUNK);

// The previous Prg's Node path (the same allocation, chunking and tensor as Prg.ringSync), kept
// here only as the baseline.
function aesCtrRing(key: Uint8Array, elements: number): RingTensor {
  const data = allocUninit(elements);
  const out = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const c = createCipheriv('aes-128-ctr', key, new Uint8Array(16));
  for (let off = 0; off < out.length; off += CHUNK) out.set(c.update(ZEROS.subarray(0, Math.min(CHUNK, out.length - off))), off);
  return new RingTensor([elements], data);
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function run(h: Harness): Promise<void> {
  const rounds = quick ? 2 : 5;
  const reps = quick ? 10 : 40;
  const seed = Prg.randomSeed();
  const aesKey = randomBytes(16);
  const subtleKey = await crypto.subtle.importKey('raw', aesKey, 'AES-CTR', false, ['encrypt']);
  for (const [label, elements] of [['64x784', 64 * 784], ['1M', 1 << 20]] as const) {
    const bytes = elements * 8;
    const cases: Record<string, () => unknown> = {
      'node:crypto AES-128-CTR (previous Prg)': () => aesCtrRing(aesKey, elements),
      'node:crypto ChaCha20 (Prg, backend node)': () => new Prg(seed).ringSync([elements]),
      'wasm ChaCha20 (Prg, backend wasm)': () => new Prg(seed, { backend: 'wasm' }).ringSync([elements]),
      'WebCrypto AES-CTR (previous browser Prg)': () =>
        crypto.subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 128 }, subtleKey, new Uint8Array(bytes)),
    };
    const perRound: Record<string, number[]> = {};
    const names = Object.keys(cases);
    for (const f of Object.values(cases)) for (let i = 0; i < 3; i++) await f();
    for (let r = 0; r < rounds; r++) {
      // Case by case within each repetition, so a swing of the machine's speed hits all of them.
      const ms: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
      for (let i = 0; i < reps; i++) {
        for (const name of names) {
          const t = performance.now();
          await cases[name]!();
          ms[name]!.push(performance.now() - t);
        }
      }
      for (const name of names) (perRound[name] ??= []).push(median(ms[name]!));
    }
    const base = perRound['node:crypto AES-128-CTR (previous Prg)']!;
    for (const [name, ms] of Object.entries(perRound)) {
      const ratios = ms.map((v, i) => v / base[i]!);
      const extra = { rounds, reps, bytes, ratioToAes: median(ratios), ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios) };
      h.record(`${label}: ${name}`, median(ms), 'ms', extra);
      console.log(`  ${label}: ${name}: ${median(ms).toFixed(3)} ms, / AES-CTR ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`);
    }
  }
}
