// Differential privacy figures: the exact discrete Gaussian noise (floats on the fixed grid, and
// integers at a fixed-point scale) per 100K samples and per DP-SGD step of the MNIST MLP (109,386
// parameters), with samples per second; a naive floating-point Box-Muller from Math.random beside
// it (NOT safe for DP, only a yardstick); and the RDP accountant: epsilon over Opacus's 151 orders
// (fresh, and cached as during training) and the noise-multiplier search. Target from the brief:
// noise for 100K parameters well under a training step, < 20 ms.
import { RDPAccountant, discreteGaussian, discreteGaussianNoise, gaussianNoise, getNoiseMultiplier } from '../src/dp/index.js';
import type { Harness } from './harness.js';

const N = 100_000;
const MLP_PARAMS = 109_386;

function boxMuller(count: number, std: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - Math.random()));
    const a = 2 * Math.PI * Math.random();
    out[i] = std * r * Math.cos(a);
    if (i + 1 < count) out[i + 1] = std * r * Math.sin(a);
  }
  return out;
}

async function perSecond(h: Harness, name: string, count: number, fn: () => unknown, target?: number): Promise<number> {
  const r = await h.time(name, fn, { reps: 30, warmup: 5, target });
  h.record(`${name}: samples per second`, count / (r.median / 1000), 'samples/s');
  return r.median;
}

export async function run(h: Harness): Promise<void> {
  const exact = await perSecond(h, 'gaussianNoise float32 100K, std 1 (exact, CSPRNG)', N, () => gaussianNoise({ std: 1, count: N }), 20);
  await perSecond(h, 'gaussianNoise float32 100K, std 5 (exact, CSPRNG)', N, () => gaussianNoise({ std: 5, count: N }), 20);
  await perSecond(h, `gaussianNoise float32 ${MLP_PARAMS} (MLP step, std 1.1)`, MLP_PARAMS, () => gaussianNoise({ std: 1.1, count: MLP_PARAMS }), 20);
  await perSecond(h, 'discreteGaussianNoise BigInt64 100K, std 1 at scale 1000', N, () => discreteGaussianNoise({ std: 1, scale: 1000, count: N }), 20);
  await perSecond(h, 'discreteGaussian BigInt64 100K, sigma 3', N, () => discreteGaussian({ sigma: 3, count: N }), 20);
  const naive = await perSecond(h, 'naive Box-Muller float32 100K (Math.random; not DP-safe)', N, () => boxMuller(N, 1));
  h.record('exact CSPRNG noise / naive float noise (100K, std 1)', exact / naive, 'x');

  const spend = (): number => {
    const a = new RDPAccountant();
    a.history = [{ noiseMultiplier: 1.1, sampleRate: 256 / 60000, steps: 4680 }];
    return a.getEpsilon(1e-5);
  };
  await h.time('RDP getEpsilon, 151 orders (sigma 1.1, q 256/60000)', spend, { reps: 20, warmup: 3 });
  const cached = new RDPAccountant();
  for (let i = 0; i < 100; i++) cached.step({ noiseMultiplier: 1.1, sampleRate: 256 / 60000 });
  cached.getEpsilon(1e-5);
  await h.time('RDP getEpsilon, cached per-step RDP (during training)', () => cached.getEpsilon(1e-5), { reps: 50, warmup: 5 });
  await h.time(
    'getNoiseMultiplier eps 3, delta 1e-5, q 256/60000, 20 epochs',
    () => getNoiseMultiplier({ targetEpsilon: 3, targetDelta: 1e-5, sampleRate: 256 / 60000, epochs: 20 }),
    { reps: 5, warmup: 1, target: 1000 },
  );
}
