// Paillier figures: modPow (the WebAssembly kernel vs the BigInt one it replaced, bigint-crypto-utils
// and the BigInt reductions we did not pick), BigInt <-> kernel-word conversions, single r^n and
// decryptions on the kernel vs on BigInt, and one round of federated averaging with encrypted
// gradients — 2048-bit keys, the MNIST MLP 784-128-64-10 (109,386 parameters), 10 clients, packed
// 56 values per ciphertext. The gradients are real: each client's gradient of the cross-entropy
// loss of the MLP on 64 MNIST digits of its own.
//
// Targets (issue 20): modPow with a 2048-bit modulus and 1024-bit exponent within 2x of GMP's
// ~1.3 ms; the round end to end — the slowest client filling its r^n pool and encrypting, the
// server adding, the key holder decrypting — at most 8 s on the 2 cores. The round with pools
// filled beforehand is reported too (earlier targets: 60 s, at most 1.2 MB uploaded per client).
//
// Every client fills its own r^n pool with fresh randomness (no shortcuts), so the suite takes
// about a minute on 2 cores. BENCH_QUICK=1 (or PAILLIER_BENCH_PARAMS=<n>) shrinks the model;
// PAILLIER_BENCH_PART=modpow (or ops, round) runs one part.
import { modPow as bcuModPow } from 'bigint-crypto-utils';
// The package entry registers the codecs a worker message needs (the upload as a PaillierTensor).
import '../src/index.js';
import { ready } from '../src/backend.js';
import { IMAGE_SIZE, loadMnist, oneHot } from '../src/data/datasets.js';
import { crossEntropy, Linear, ReLU, Sequential } from '../src/nn/index.js';
import { Tensor } from '../src/tensor.js';
import { PaillierTensor } from '../src/tensors/paillier.js';
import { FloatTensor } from '../src/tensors/float.js';
import { manualSeed } from '../src/util/seeded.js';
import { encodeObject } from '../src/workers/codec.js';
import { encodeMessage } from '../src/workers/serde.js';
import { FixedPointEncoding } from '../src/he/encoding.js';
import { keygen } from '../src/he/paillier/keys.js';
import { crtDecrypt, crtParams, crtRandomNthResidue } from '../src/he/paillier/crt.js';
import { modPow, modPowBigint, modPowEngine } from '../src/he/paillier/modpow.js';
import { randomBelow } from '../src/he/paillier/random.js';
import { loadModPowKernel } from '../src/he/paillier/wasm-modpow.js';
import { RnPool } from '../src/he/paillier/rn-pool.js';
import { availableThreads, shutdownThreads } from '../src/he/paillier/threads.js';
import { EncryptedVector } from '../src/he/vector.js';
import { decodeWire, encodeWire } from '../src/he/wire.js';
import { summarize } from './harness.js';
import type { BenchResult, Harness } from './harness.js';

const FULL_PARAMS = 109_386;
const PARAMS = Number(process.env['PAILLIER_BENCH_PARAMS'] ?? (process.env['BENCH_QUICK'] === '1' ? 5_600 : FULL_PARAMS));
const CLIENTS = 10;
const KEY_BITS = 2048;
const ROUND_TARGET_MS = 8_000;
const PREFILLED_ROUND_TARGET_MS = 60_000;
const UPLOAD_TARGET_BYTES = 1_200_000;
/** GMP's mpz_powm for a 2048-bit modulus and 1024-bit exponent, as measured for issue 20. */
const GMP_MODPOW_MS = 1.3;
const PART = process.env['PAILLIER_BENCH_PART'];

/** The brief's target for a figure, judged only for the full-size model. */
function target(limit: number, value: number): Record<string, unknown> {
  return PARAMS === FULL_PARAMS ? { target: limit, pass: value <= limit } : { note: 'model shrunk: target not judged' };
}

/** CPU time of the whole process (every thread) so far, in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** A figure from samples the suite took itself. */
function fromSamples(name: string, unit: string, samples: readonly number[], extra?: Record<string, unknown>): Omit<BenchResult, 'suite'> {
  return { name, unit, reps: samples.length, ...summarize(samples), ...(extra === undefined ? {} : { extra }) };
}

// ---- BigInt modPow variants we measured before settling on `%` (src/he/paillier/modpow-bigint.ts) ----

function slidingWindow(base: bigint, exp: bigint, reduce: (x: bigint) => bigint, one: bigint, toDomain: (x: bigint) => bigint): bigint {
  const bits = exp.toString(2);
  const w = bits.length > 1792 ? 7 : bits.length > 672 ? 6 : 5;
  const b = toDomain(base);
  const table = [b];
  const sq = reduce(b * b);
  for (let i = 1; i < 1 << (w - 1); i++) table.push(reduce(table[i - 1]! * sq));
  let acc = one;
  let i = 0;
  while (i < bits.length) {
    if (bits[i] === '0') {
      acc = reduce(acc * acc);
      i++;
      continue;
    }
    let j = Math.min(i + w, bits.length) - 1;
    while (bits[j] === '0') j--;
    for (let k = i; k <= j; k++) acc = reduce(acc * acc);
    acc = reduce(acc * table[(parseInt(bits.slice(i, j + 1), 2) - 1) >> 1]!);
    i = j + 1;
  }
  return acc;
}

/** Montgomery: REDC with R = 2^k (k a multiple of 64), all in BigInt. */
function modPowMontgomery(base: bigint, exp: bigint, mod: bigint): bigint {
  const k = BigInt(Math.ceil(mod.toString(2).length / 64) * 64);
  const R = 1n << k;
  const mask = R - 1n;
  let inv = 1n; // -mod^-1 mod R by Newton iteration
  for (let i = 0; i < 12; i++) inv = (inv * (2n - mod * inv)) & mask;
  const nPrime = (R - inv) & mask;
  const redc = (t: bigint): bigint => {
    const u = (t + (((t & mask) * nPrime) & mask) * mod) >> k;
    return u >= mod ? u - mod : u;
  };
  return redc(slidingWindow(base, exp, redc, R % mod, (x) => (x * R) % mod));
}

/** Barrett: quotient estimate from a precomputed 2^(2k) / mod. */
function modPowBarrett(base: bigint, exp: bigint, mod: bigint): bigint {
  const k = BigInt(mod.toString(2).length);
  const mu = (1n << (2n * k)) / mod;
  const reduce = (t: bigint): bigint => {
    let r = t - (((t >> (k - 1n)) * mu) >> (k + 1n)) * mod;
    while (r >= mod) r -= mod;
    return r;
  };
  return slidingWindow(base, exp, reduce, 1n, (x) => x % mod);
}

const DIGITS_PER_CLIENT = 64;

/**
 * Each client's gradient of the MNIST MLP's cross-entropy loss on 64 digits of its own (the same
 * model for all, as at the start of a round), flattened parameter by parameter.
 */
async function mnistGradients(clients: number): Promise<Float64Array[]> {
  await ready();
  const { train } = await loadMnist({ train: clients * DIGITS_PER_CLIENT, test: 0, seed: 8 });
  const targets = oneHot(train.labels);
  manualSeed(8);
  const model = new Sequential(new Linear(IMAGE_SIZE, 128), new ReLU(), new Linear(128, 64), new ReLU(), new Linear(64, 10));
  return Array.from({ length: clients }, (_, c) => {
    const rows = (from: Float32Array, width: number) => from.slice(c * DIGITS_PER_CLIENT * width, (c + 1) * DIGITS_PER_CLIENT * width);
    model.zeroGrad();
    const x = new Tensor(new FloatTensor([DIGITS_PER_CLIENT, IMAGE_SIZE], rows(train.images, IMAGE_SIZE)));
    const y = new Tensor(new FloatTensor([DIGITS_PER_CLIENT, 10], rows(targets, 10)));
    crossEntropy(model.forward(x), y).backward();
    const flat = model.parameters().flatMap((p) => [p.grad!.arraySync()].flat(3) as number[]);
    if (flat.length !== FULL_PARAMS) throw new Error(`the MLP has ${flat.length} parameters, expected ${FULL_PARAMS}`);
    return Float64Array.from(flat.slice(0, PARAMS));
  });
}

/** The suite: see the top of this file. */
export async function run(h: Harness): Promise<void> {
  const threads = await availableThreads();
  const engine = modPowEngine();
  h.record('modPow engine', engine.engine === 'bigint' ? 0 : 1, '', { engine: engine.engine, reason: engine.reason });
  try {
    if (PART === undefined || PART === 'modpow') {
      await modPowFigures(h);
      conversionFigures(h);
    }
    if (PART === undefined || PART === 'ops' || PART === 'round') await roundFigures(h, threads);
  } finally {
    await shutdownThreads();
  }
}

/** Interleaved samples of several variants (noise from other processes hits all alike). */
function interleaved(variants: ReadonlyArray<readonly [string, () => unknown]>, reps: number): number[][] {
  const samples = variants.map((): number[] => []);
  for (let rep = -1; rep < reps; rep++) {
    variants.forEach(([, fn], i) => {
      const start = performance.now();
      fn();
      if (rep >= 0) samples[i]!.push(performance.now() - start); // rep -1 warms up
    });
  }
  return samples;
}

async function modPowFigures(h: Harness): Promise<void> {
  const scalar = loadModPowKernel('scalar');
  for (const [modBits, expBits, label] of [
    [2048, 1024, '2048b mod, 1024b exp'],
    [4096, 2048, '4096b mod, 2048b exp'],
  ] as const) {
    const mod = randomBelow(1n << BigInt(modBits)) | (1n << BigInt(modBits - 1)) | 1n;
    const exp = randomBelow(1n << BigInt(expBits)) | (1n << BigInt(expBits - 1));
    const base = randomBelow(mod);
    const scalarConstants = scalar.constants(mod);
    const want = modPowBigint(base, exp, mod);
    if (
      modPow(base, exp, mod) !== want ||
      scalar.pow(scalarConstants, base, exp) !== want ||
      bcuModPow(base, exp, mod) !== want ||
      modPowMontgomery(base, exp, mod) !== want ||
      modPowBarrett(base, exp, mod) !== want
    ) {
      throw new Error('modPow variants disagree');
    }
    const variants: Array<[string, () => bigint]> = [
      [`wasm ${modPowEngine().engine} kernel (modPow)`, () => modPow(base, exp, mod)],
      ['BigInt (window, %)', () => modPowBigint(base, exp, mod)],
      ['wasm scalar kernel (fallback)', () => scalar.pow(scalarConstants, base, exp)],
      ['bigint-crypto-utils', () => bcuModPow(base, exp, mod)],
      ['BigInt Montgomery variant', () => modPowMontgomery(base, exp, mod)],
      ['BigInt Barrett variant', () => modPowBarrett(base, exp, mod)],
    ];
    const reps = process.env['BENCH_QUICK'] === '1' ? 5 : modBits === 2048 ? 40 : 12;
    const samples = interleaved(variants, reps);
    const ours = summarize(samples[0]!).median;
    variants.forEach(([name], i) => {
      const median = summarize(samples[i]!).median;
      const extra: Record<string, unknown> =
        i === 0 ? (modBits === 2048 ? { target: 2 * GMP_MODPOW_MS, pass: median <= 2 * GMP_MODPOW_MS, vsGmp: `${(median / GMP_MODPOW_MS).toFixed(2)}x` } : {}) : { vsWasm: `${(median / ours).toFixed(2)}x` };
      h.record(fromSamples(`modPow ${name}, ${label}`, 'ms', samples[i]!, extra));
    });
    // The ratio per interleaved pair, so a noisy moment shows as a range, not a wrong median.
    const ratios = samples[1]!.map((b, r) => b / samples[0]![r]!);
    h.record(fromSamples(`modPow speed-up BigInt / wasm, ${label}`, 'x', ratios));
  }
}

/** BigInt <-> 64-bit words (what the kernel host does) against hex strings, per 2048-bit value. */
function conversionFigures(h: Harness): void {
  const values = Array.from({ length: 200 }, () => randomBelow(1n << 2048n));
  const words = new BigUint64Array(32);
  const u8 = new Uint8Array(words.buffer);
  const mask = (1n << 64n) - 1n;
  const hexByte = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
  const toWordsShift = (x: bigint): void => {
    for (let i = 0; i < 32; i++) {
      words[i] = x & mask;
      x >>= 64n;
    }
  };
  const toWordsHex = (x: bigint): void => {
    const hex = x.toString(16).padStart(512, '0');
    for (let i = 0; i < 32; i++) words[31 - i] = BigInt('0x' + hex.slice(16 * i, 16 * i + 16));
  };
  const fromWordsShift = (): bigint => {
    let r = 0n;
    for (let i = 31; i >= 0; i--) r = (r << 64n) | words[i]!;
    return r;
  };
  const fromWordsHex = (): bigint => {
    let hex = '0x';
    for (let i = 255; i >= 0; i--) hex += hexByte[u8[i]!];
    return BigInt(hex);
  };
  toWordsShift(values[0]!);
  if (fromWordsHex() !== values[0] || fromWordsShift() !== values[0]) throw new Error('conversions disagree');
  const perValue = (fn: () => void): (() => void) => () => {
    for (let k = 0; k < 20; k++) fn();
  };
  const variants: Array<[string, () => void]> = [
    ['bigint -> words, 64-bit shifts (used)', perValue(() => values.forEach(toWordsShift))],
    ['bigint -> words, hex string', perValue(() => values.forEach(toWordsHex))],
    ['words -> bigint, 64-bit shifts (used)', perValue(() => values.forEach(fromWordsShift))],
    ['words -> bigint, hex string', perValue(() => values.forEach(fromWordsHex))],
  ];
  const samples = interleaved(variants, process.env['BENCH_QUICK'] === '1' ? 3 : 10);
  variants.forEach(([name], i) => {
    const us = samples[i]!.map((ms) => (ms * 1000) / (20 * values.length));
    h.record(fromSamples(`convert 2048-bit ${name}`, 'us', us));
  });
}

async function roundFigures(h: Harness, threads: number): Promise<void> {
  let t = performance.now();
  const { publicKey: pk, privateKey: sk } = await keygen({ bits: KEY_BITS });
  h.record(`keygen ${KEY_BITS}-bit (paillier-bigint)`, performance.now() - t, 'ms', { note: 'random prime search: varies a lot' });

  // ---- single operations, ours vs paillier-bigint ----
  const m = randomBelow(pk.n);
  const c = pk.encrypt(m);
  const refC = pk.reference.encrypt(m);
  const pool = new RnPool(pk, { privateKey: sk, threads: 0 });
  await pool.fill(40);
  const encRef = await h.time('encrypt 1 (paillier-bigint)', () => pk.reference.encrypt(m), { reps: 8, warmup: 1 });
  const encOurs = await h.time('encrypt 1 (ours, public key only)', () => pk.encrypt(m), { reps: 12, warmup: 1 });
  const rnCrt = await h.time('r^n 1 (ours, CRT with the private key)', () => sk.nthResidue(), { reps: 20, warmup: 2 });
  await h.time('encrypt 1 (ours, r^n from a filled pool)', () => pk.encrypt(m, { pool }), { reps: 30, warmup: 5 });
  const decRef = await h.time('decrypt 1 (paillier-bigint)', () => sk.reference.decrypt(refC), { reps: 10, warmup: 1 });
  const decOurs = await h.time('decrypt 1 (ours, CRT)', () => sk.decrypt(c), { reps: 20, warmup: 2 });
  await h.time('add 2 ciphertexts', () => pk.add(c, refC), { reps: 200, warmup: 20 });
  h.record('speed-up encrypt: paillier-bigint / ours (CRT r^n)', encRef.median / rnCrt.median, 'x', {
    publicKeyOnly: `${(encRef.median / encOurs.median).toFixed(2)}x`,
  });
  h.record('speed-up decrypt: paillier-bigint / ours', decRef.median / decOurs.median, 'x');

  // ---- the CRT exponentiations on the wasm kernel vs on BigInt (one thread, interleaved) ----
  const fast = crtParams(sk.p, sk.q);
  const slow = crtParams(sk.p, sk.q, 'bigint');
  const crtVariants: Array<[string, () => unknown]> = [
    ['r^n 1, CRT (wasm kernel)', () => crtRandomNthResidue(fast)],
    ['r^n 1, CRT (BigInt)', () => crtRandomNthResidue(slow)],
    ['decrypt 1, CRT (wasm kernel)', () => crtDecrypt(fast, c)],
    ['decrypt 1, CRT (BigInt)', () => crtDecrypt(slow, c)],
  ];
  if (crtDecrypt(fast, c) !== m || crtDecrypt(slow, c) !== m) throw new Error('CRT decryptions disagree');
  const crtSamples = interleaved(crtVariants, process.env['BENCH_QUICK'] === '1' ? 5 : 30);
  crtVariants.forEach(([name], i) => {
    const median = summarize(crtSamples[i]!).median;
    h.record(fromSamples(name, 'ms', crtSamples[i]!, i % 2 === 0 ? { perSecond: Math.round(1000 / median) } : {}));
  });
  for (const [i, what] of [[0, 'r^n'], [2, 'decrypt']] as const) {
    h.record(fromSamples(`speed-up ${what}: BigInt / wasm (CRT)`, 'x', crtSamples[i + 1]!.map((b, r) => b / crtSamples[i]![r]!)));
  }
  if (PART === 'ops') return;

  // ---- one federated-averaging round ----
  // The federated manager's encoding: 20 fractional bits, 32 value bits (56 slots of 36 bits).
  const encoding = new FixedPointEncoding({ fractionalBits: 20, valueBits: 32 });
  const pack = { additions: CLIENTS };
  const count = EncryptedVector.ciphertextsNeeded(PARAMS, pk, { encoding, pack });
  const gradients = await mnistGradients(CLIENTS);
  const largest = Math.max(...gradients.map((g) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
  const model = { params: PARAMS, clients: CLIENTS, ciphertexts: count, threads, gradients: `MNIST MLP, ${DIGITS_PER_CLIENT} digits per client` };
  h.record('gradient: largest |value| over the clients', largest, '', { digitsPerClient: DIGITS_PER_CLIENT });
  // Start the worker threads first: a client runs many rounds, so thread start-up (which under tsx
  // includes compiling the TypeScript sources) is not part of one.
  await new RnPool(pk, { privateKey: sk }).fill(threads);
  const uploads: Uint8Array[] = [];
  const fills: number[] = [];
  const encrypts: number[] = [];
  let emptyPool = 0;
  let emptyPoolFill = 0;
  let emptyPoolCpu = 0;
  for (let client = 0; client < CLIENTS; client++) {
    const clientPool = new RnPool(pk, { privateKey: sk });
    let vector: EncryptedVector;
    if (client === 0) {
      // Client 0 starts with an empty pool and fills it during the round (what encryptAsync does:
      // ensure the pool on worker threads, then encrypt), timed in its two parts.
      t = performance.now();
      const cpu = cpuMs();
      await clientPool.ensure(count);
      emptyPoolFill = performance.now() - t;
      vector = EncryptedVector.encrypt(gradients[client]!, pk, { encoding, pack, pool: clientPool });
      emptyPool = performance.now() - t;
      emptyPoolCpu = cpuMs() - cpu;
    } else {
      t = performance.now();
      await clientPool.fill(count);
      fills.push(performance.now() - t);
      t = performance.now();
      vector = EncryptedVector.encrypt(gradients[client]!, pk, { encoding, pack, pool: clientPool });
      encrypts.push(performance.now() - t);
    }
    uploads.push(encodeWire(vector.toWire()));
  }
  h.record(fromSamples('client: fill r^n pool (CRT, worker threads)', 'ms', fills, model));
  h.record(fromSamples('r^n per second (CRT, worker threads, pool fills)', '/s', fills.map((ms) => (1000 * count) / ms), { threads }));
  const encryptPrefilled = fromSamples('client: encrypt gradient, pool pre-filled', 'ms', encrypts, model);
  h.record(encryptPrefilled);
  h.record('client: encrypt gradient, empty pool', emptyPool, 'ms', { ...model, fill: Math.round(emptyPoolFill), note: 'pool filled during the round' });
  h.record('client: upload (framed wire bytes)', uploads[0]!.length, 'B', {
    ...target(UPLOAD_TARGET_BYTES, uploads[0]!.length),
    ciphertextBytes: count * pk.ciphertextBytes,
  });
  // The same upload as a worker message: a PaillierTensor in syft-ts's wire format.
  const tensor = new PaillierTensor(EncryptedVector.fromWire(decodeWire(uploads[0]!), { publicKey: pk }), [PARAMS]);
  const frame = encodeMessage({ kind: 'store', id: 1, obj: encodeObject(tensor) });
  h.record('client: upload as a worker message (PaillierTensor)', frame.length, 'B', target(UPLOAD_TARGET_BYTES, frame.length));

  await h.time('server: decode 10 uploads (fromWire)', () => uploads.map((u) => EncryptedVector.fromWire(decodeWire(u), { publicKey: pk })), {
    reps: 3,
    warmup: 1,
  });
  const vectors = uploads.map((u) => EncryptedVector.fromWire(decodeWire(u), { publicKey: pk }));
  let total: EncryptedVector | undefined;
  const add = await h.time(`server: add ${CLIENTS} clients`, () => (total = EncryptedVector.addMany(vectors)), { reps: 5, warmup: 1, extra: model });

  t = performance.now();
  const decryptCpu0 = cpuMs();
  const sums = await total!.decryptAsync(sk);
  const decrypt = performance.now() - t;
  const decryptCpu = cpuMs() - decryptCpu0;
  h.record('decrypt the aggregate (worker threads)', decrypt, 'ms', model);
  // The round must also be right: compare with the exact sum of what the clients encoded.
  for (let i = 0; i < PARAMS; i++) {
    let exact = 0n;
    for (const g of gradients) exact += encoding.encode(g[i]!);
    if (sums[i] !== encoding.decode(exact)) throw new Error(`aggregate value ${i} is wrong: ${sums[i]} vs ${encoding.decode(exact)}`);
  }

  // End to end: the client fills its pool and encrypts, the server adds, the key holder decrypts.
  const endToEnd = emptyPool + add.median + decrypt;
  h.record('round end to end: fill pool + encrypt + add + decrypt', endToEnd, 'ms', {
    ...target(ROUND_TARGET_MS, endToEnd),
    fill: Math.round(emptyPoolFill),
    encrypt: Math.round(emptyPool - emptyPoolFill),
    add: Math.round(add.median),
    decrypt: Math.round(decrypt),
    ...model,
  });
  // CPU time of every thread of the process over the same steps: on a machine shared with other
  // work, the wall time above stretches while this does not. CPU time / threads is the round's
  // wall time on otherwise idle cores.
  const cpu = emptyPoolCpu + add.median + decryptCpu;
  h.record('round end to end, CPU time of all threads', cpu, 'ms', {
    perThread: Math.round(cpu / threads),
    fillAndEncrypt: Math.round(emptyPoolCpu),
    decrypt: Math.round(decryptCpu),
    threads,
  });
  const prefilled = Math.max(...encrypts) + add.median + decrypt;
  h.record('round, pools filled beforehand: encrypt + add + decrypt', prefilled, 'ms', { ...target(PREFILLED_ROUND_TARGET_MS, prefilled), ...model });

  // Unpacked rounds, extrapolated from the single-ciphertext medians above.
  const unpacked = FULL_PARAMS;
  h.record('round unpacked, ours (extrapolated)', ((rnCrt.median + decOurs.median) * unpacked) / threads, 'ms', {
    how: `(CRT r^n + decrypt) x ${unpacked} / ${threads} threads`,
  });
  h.record('round unpacked, paillier-bigint (extrapolated)', (encRef.median + decRef.median) * unpacked, 'ms', {
    how: `(encrypt + decrypt) x ${unpacked}, one thread, as shipped`,
  });
}
