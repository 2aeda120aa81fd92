// Ring engine figures: matmul per engine against tfjs-wasm float32, elementwise ops, the kernels
// that differ per engine, and randomness. Targets are the floors from the ring brief (medians).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { allocUninit } from '../src/ring/alloc.js';
import { binaryFlat } from '../src/ring/kernels/elementwise.js';
import { Prg, RingTensor, initRing, randomRing, ringEngine, type RingEngineName } from '../src/ring/index.js';
import type { Harness } from './harness.js';

const ENGINES: readonly RingEngineName[] = ['simd', 'scalar', 'js'];
const MILLION = 1 << 20;

export async function run(h: Harness): Promise<void> {
  const original = ringEngine().engine;
  try {
    await matmul(h);
    await elementwise(h);
    await perEngineKernels(h);
    await randomness(h);
  } finally {
    await initRing({ engine: original });
  }
}

async function matmul(h: Harness): Promise<void> {
  const a = randomRing([64, 784]);
  const b = randomRing([784, 128]);
  const medians: Partial<Record<RingEngineName, number>> = {};
  for (const engine of ENGINES) {
    const { threads } = await initRing({ engine });
    const r = await h.time(`matmul 64x784 by 784x128 [${engine}${threads > 1 ? `, ${threads} threads` : ''}]`, () => a.matmul(b), {
      reps: engine === 'js' ? 15 : 200,
      warmup: engine === 'js' ? 3 : 20,
      target: engine === 'simd' ? 3 : undefined,
    });
    medians[engine] = r.median;
    if (threads > 1) {
      // The same product on one thread, for the pool's gain in this run.
      await initRing({ engine, threads: 1 });
      const one = await h.time(`matmul 64x784 by 784x128 [${engine}, 1 thread]`, () => a.matmul(b), { reps: 200, warmup: 20 });
      h.record(`matmul speed-up of ${threads} threads over 1 [${engine}]`, one.median / r.median, 'x');
      await initRing({ engine, threads });
    }
  }

  await tf.setBackend('wasm');
  await tf.ready();
  const fa = tf.randomNormal([64, 784]);
  const fb = tf.randomNormal([784, 128]);
  const float = await h.time(
    'matmul 64x784 by 784x128 float32 [tfjs-wasm]',
    () => tf.tidy(() => tf.matMul(fa, fb).dataSync()),
    { reps: 200, warmup: 20 },
  );
  tf.dispose([fa, fb]);
  const ratio = (medians.simd ?? NaN) / float.median;
  h.record('matmul ratio: simd ring / tfjs-wasm float32', ratio, 'x', { target: 6, pass: ratio <= 6 });
}

async function elementwise(h: Harness): Promise<void> {
  // Add, sub and mul run in wasm in chunks; the other ops are JS loops (src/ring/kernels/elementwise.ts).
  await initRing({ engine: 'simd' });
  const x = randomRing([MILLION]);
  const y = randomRing([MILLION]);
  await h.time('add 1M', () => x.add(y), { reps: 100, target: 3 });
  await h.time('mul 1M', () => x.mul(y), { reps: 100, target: 3 });
  await h.time('sub 1M', () => x.sub(y), { reps: 100 });
  await h.time('xor 1M', () => x.xor(y), { reps: 50 });
  await h.time('mul 1M by a bigint scalar', () => x.mul(1000n), { reps: 50 });
  const rows = x.reshape([1024, 1024]);
  const bias = randomRing([1024]);
  await h.time('add [1024,1024] + [1024] (broadcast)', () => rows.add(bias), { reps: 50 });

  // The JS loops that add and mul used before they moved to wasm (and still use on the js
  // engine and for short arrays), in the same run.
  for (const op of ['add', 'mul'] as const) {
    const js = await h.time(`${op} 1M [JS loop]`, () => binaryFlat(op, x.data, y.data, allocUninit(MILLION)), { reps: 50 });
    const wasm = await h.time(`${op} 1M [wasm, again]`, () => x[op](y), { reps: 50 });
    h.record(`${op} 1M: JS loop / wasm`, js.median / wasm.median, 'x');
  }
}

async function perEngineKernels(h: Harness): Promise<void> {
  const x = randomRing([MILLION]);
  for (const engine of ENGINES) {
    await initRing({ engine });
    await h.time(`sum 1M [${engine}]`, () => x.sum(), { reps: 50 });
    await h.time(`shiftRight(13) 1M [${engine}]`, () => x.shiftRight(13), { reps: 50 });
    await h.time(`divScalar(1000n) 1M [${engine}]`, () => x.divScalar(1000n), { reps: engine === 'js' ? 10 : 50 });
  }
  await initRing({ engine: 'simd' });
  const conv = randomRing([64, 1, 28, 28]);
  await h.time('im2col [64,1,28,28] 5x5 pad 2', () => conv.im2col(5, 5, { padding: 2 }), { reps: 20 });
  const m = randomRing([1024, 1024]);
  await h.time('transpose [1024,1024]', () => m.transpose(), { reps: 30 });
  const batched = randomRing([32, 64, 64]);
  const w = randomRing([32, 64, 64]);
  await h.time('matmul batched [32,64,64] x [32,64,64] [simd]', () => batched.matmul(w), { reps: 30 });
}

async function randomness(h: Harness): Promise<void> {
  await h.time('randomRing 1M (CSPRNG)', () => randomRing([MILLION]), { reps: 100, target: 3 });
  await h.time('randomRing 1M via getRandomValues (browser path)', () => {
    const out = allocUninit(MILLION);
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    for (let o = 0; o < bytes.length; o += 65536) crypto.getRandomValues(bytes.subarray(o, o + 65536) as Uint8Array<ArrayBuffer>);
    return new RingTensor([MILLION], out);
  }, { reps: 50 });
  const prg = new Prg(Prg.randomSeed());
  await h.time('Prg.ringSync 1M (ChaCha20, node:crypto)', () => prg.ringSync([MILLION]), { reps: 100, target: 6 });
  await h.time('Prg.ring 1M (async, node:crypto)', () => prg.ring([MILLION]), { reps: 50 });
  const web = new Prg(Prg.randomSeed(), { backend: 'wasm' });
  await h.time('Prg.ringSync 1M (wasm ChaCha20 backend, as in browsers)', () => web.ringSync([MILLION]), { reps: 30 });
}
