// Differential privacy figures: the exact discrete Gaussian noise (floats on the fixed grid, and
// integers at a fixed-point scale) per 100K samples and per DP-SGD step of the MNIST MLP (109,386
// parameters), with samples per second; a naive floating-point Box-Muller from Math.random beside
// it (NOT safe for DP, only a yardstick); and the RDP accountant: epsilon over Opacus's 151 orders
// (fresh, and cached as during training) and the noise-multiplier search. Target from the brief:
// noise for 100K parameters well under a training step, < 20 ms.
//
// DP-SGD steps against the plain step, interleaved in one process (plain, DP-SGD, DP-SGD with
// materialised per-sample gradients, one after another each round; the per-round ratio's median,
// min and max are recorded): the MNIST MLP 784-128-64-10 on real digits, batch 64 and 256, and a
// small CNN at batch 64; the DP step with its noise drawn on the calling thread (noiseAhead: false)
// against the default, whose next noise a thread draws during the step (src/dp/noise-ahead.ts);
// and the DP step with sigma 0 (not private) to show what the exact noise costs. A DP step is the
// whole of it: forward with captures, backward, per-sample
// clipping, exact noise on every parameter, the SGD update and the accountant step. Aim from the
// issue: no worse than Opacus's ~2x on small models.
import * as sy from '../src/index.js';
import { RDPAccountant, discreteGaussian, discreteGaussianNoise, gaussianNoise, getNoiseMultiplier } from '../src/dp/index.js';
import { noiseAhead } from '../src/dp/noise-ahead.js';
import { cnn, mlp } from '../tutorials/12-differential-privacy.js';
import { type Harness, summarize } from './harness.js';

const quick = process.env.BENCH_QUICK === '1';

/** Times the functions round-robin, `rounds` times; records each one's times and each one's ratio to the first. */
async function interleaved(h: Harness, label: string, fns: [string, () => void][], rounds: number): Promise<void> {
  for (let w = 0; w < 3; w++) for (const [, f] of fns) f();
  const times = fns.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    fns.forEach(([, f], i) => {
      const t0 = performance.now();
      f();
      times[i]!.push(performance.now() - t0);
    });
  }
  fns.forEach(([name], i) => h.record({ name: `${label}: ${name}`, unit: 'ms', reps: rounds, ...summarize(times[i]!) }));
  for (let i = 1; i < fns.length; i++) {
    const ratios = times[i]!.map((t, r) => t / times[0]![r]!);
    const s = summarize(ratios);
    h.record({ name: `${label}: ${fns[i]![0]} / ${fns[0]![0]}, per round`, unit: 'x', reps: rounds, median: s.median, min: s.min, p90: s.p90, extra: { max: Math.max(...ratios) } });
  }
}

/** Plain step, DP-SGD step and DP-SGD step with materialised per-sample gradients on one batch. */
async function dpSteps(h: Harness, label: string, make: () => sy.nn.Module, train: sy.BaseDataset, batch: number): Promise<void> {
  sy.manualSeed(1);
  const plainModel = make();
  const dpModel = plainModel.copy();
  const matModel = plainModel.copy();
  const [x, y] = train.batch(Array.from({ length: batch }, (_, i) => i));
  const loader = new sy.DataLoader(train, { batchSize: batch });
  const plainOpt = new sy.optim.SGD(plainModel.parameters(), { lr: 0.05 });
  const engine = new sy.dp.PrivacyEngine();
  const dp = engine.makePrivate({ module: dpModel, optimizer: new sy.optim.SGD(dpModel.parameters(), { lr: 0.05 }), dataLoader: loader, noiseMultiplier: 1.1, maxGradNorm: 1 });
  const callerModel = plainModel.copy();
  const caller = new sy.dp.PrivacyEngine().makePrivate({ module: callerModel, optimizer: new sy.optim.SGD(callerModel.parameters(), { lr: 0.05 }), dataLoader: loader, noiseMultiplier: 1.1, maxGradNorm: 1, noiseAhead: false });
  const quietModel = plainModel.copy();
  const quiet = new sy.dp.PrivacyEngine().makePrivate({ module: quietModel, optimizer: new sy.optim.SGD(quietModel.parameters(), { lr: 0.05 }), dataLoader: loader, noiseMultiplier: 0, maxGradNorm: 1 });
  const gs = new sy.dp.GradSampleModule(matModel);
  const matOpt = new sy.optim.SGD(matModel.parameters(), { lr: 0.05 });
  const params = matModel.parameters();
  const sizes = params.map((p) => p.numel());
  const plain = () =>
    sy.tidy(() => {
      plainOpt.zeroGrad();
      sy.nn.nllLoss(plainModel.forward(x), y).backward();
      plainOpt.step();
    });
  const privateStep = () =>
    sy.tidy(() => {
      dp.optimizer.zeroGrad();
      sy.nn.nllLoss(dp.module.forward(x), y).backward();
      dp.optimizer.step();
    });
  const callerStep = () =>
    sy.tidy(() => {
      caller.optimizer.zeroGrad();
      sy.nn.nllLoss(caller.module.forward(x), y).backward();
      caller.optimizer.step();
    });
  const noNoise = () =>
    sy.tidy(() => {
      quiet.optimizer.zeroGrad();
      sy.nn.nllLoss(quiet.module.forward(x), y).backward();
      quiet.optimizer.step();
    });
  const materialised = () =>
    sy.tidy(() => {
      matOpt.zeroGrad();
      gs.clear();
      sy.nn.nllLoss(gs.forward(x), y).backward();
      const per = gs.perSampleGradients();
      const { sums } = sy.dp.clipAndSum(params.map((p) => per.get(p)!), sizes, batch, 1, batch);
      params.forEach((p, i) => {
        const noisy = sy.dp.addGaussianNoise(sums[i]!, { std: 1.1 });
        p.grad = sy.tensor(Float32Array.from(noisy, (v) => v / batch), { shape: p.shape });
      });
      matOpt.step();
    });
  // The noise thread starts after a request repeats and takes a moment to boot: warm it up first.
  for (let i = 0; i < 100 && noiseAhead().stats.ahead === 0; i++) {
    privateStep();
    await new Promise((r) => setTimeout(r, 50));
  }
  await interleaved(h, label, [['plain step', plain], ['DP-SGD step', privateStep], ['DP-SGD step, noise drawn on the caller (noiseAhead: false)', callerStep], ['DP-SGD step without noise (sigma 0: the noise\'s share)', noNoise], ['DP-SGD step, per-sample gradients materialised', materialised]], quick ? 5 : 20);
}

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
  await sy.ready();
  const flat = await sy.datasets.mnist({ split: 'train', count: 256, normalize: true, flatten: true });
  const images = await sy.datasets.mnist({ split: 'train', count: 256, normalize: true });
  await dpSteps(h, 'MNIST MLP (109,386 params), batch 64', mlp, flat, 64);
  await dpSteps(h, 'MNIST MLP, batch 256', mlp, flat, 256);
  await dpSteps(h, 'MNIST CNN (Conv2d 1-8 5x5/2, pool, 288-32-10), batch 64', cnn, images, 64);

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
