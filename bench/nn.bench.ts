// Plaintext training steps (forward, backward, optimizer step) of the two models of the
// federated-learning issue, each beside the same step written directly with tfjs's own ops and
// gradients (tf.variableGrads), interleaved round by round in this process so that both see the
// same machine, and reported as a ratio. Both tfjs backends syft-ts can pick are measured.
//
//   - MLP 784-128-64-10 (ReLU), batch 64, cross entropy, SGD        floor: 3 ms on the default backend
//   - PySyft's Part 6 CNN: Conv2d(1,20,5) > ReLU > MaxPool 2 > Conv2d(20,50,5) > ReLU > MaxPool 2
//     > Linear(800,500) > ReLU > Linear(500,10), log-softmax + NLL, batch 64, SGD   floor: 60 ms
//
// tfjs's gradients are not registered by @tensorflow/tfjs-core's Node entry; they are loaded here
// from its ES-module files (which need a resolver for their extensionless imports). The wasm
// backend has no Conv2DBackpropFilter kernel, so there the tfjs CNN's filter gradient is written
// with tfjs ops too (a convolution of the input by the output gradient, tf.customGrad); its input
// gradient is tfjs's own (conv2dTranspose). tfjs's CNN step on the cpu backend (30-45 s) runs only
// with BENCH_TFJS_CPU_CNN=1.
import { register } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import * as sy from '../src/index.js';
import { summarize, type Harness } from './harness.js';

const quick = process.env.BENCH_QUICK === '1';

async function loadTfGradients(): Promise<void> {
  const hook = `export async function resolve(s, c, next) {
    try { return await next(s, c); } catch (e) {
      if ((s.startsWith('./') || s.startsWith('../')) && c.parentURL && c.parentURL.includes('/@tensorflow/')) return next(s + '.js', c);
      throw e;
    }
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
}

type Step = () => void;

/**
 * Times `a` and `b` in alternating rounds (`perRound` calls of a, then `perRoundB` of b);
 * returns each one's per-step samples (ms).
 */
function interleaved(a: Step, b: Step, rounds: number, perRound: number, warmup: number, perRoundB = perRound, warmupB = warmup): [number[], number[]] {
  for (let i = 0; i < warmup; i++) a();
  for (let i = 0; i < warmupB; i++) b();
  const sa: number[] = [];
  const sb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [f, out, n] of [[a, sa, perRound], [b, sb, perRoundB]] as const) {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        f();
        out.push(performance.now() - t0);
      }
    }
  }
  return [sa, sb];
}

function record(h: Harness, name: string, samples: number[], extra: Record<string, unknown>, target?: number) {
  const s = summarize(samples);
  const e = { ...extra, ...(target === undefined ? {} : { target, pass: s.median <= target }) };
  return h.record({ name, unit: 'ms', reps: samples.length, ...s, extra: e });
}

const labels = Array.from({ length: 64 }, (_, i) => (i * 7) % 10);

function mlpSteps(): [Step, Step] {
  sy.manualSeed(1);
  const model = new sy.nn.Sequential(new sy.nn.Linear(784, 128), new sy.nn.ReLU(), new sy.nn.Linear(128, 64), new sy.nn.ReLU(), new sy.nn.Linear(64, 10));
  const opt = new sy.optim.SGD(model.parameters(), { lr: 0.01 });
  const x = sy.randn([64, 784]);
  const y = sy.tensor(labels, { dtype: 'int64' });
  const syft = () => {
    opt.zeroGrad();
    const loss = sy.nn.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
  };
  const ws = model.parameters().map((p) => {
    const t = p.toTf();
    const v = tf.variable(t.rank === 2 ? tf.transpose(t) : t);
    t.dispose();
    return v;
  });
  const tx = x.toTf();
  const ty = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
  const sgd = tf.train.sgd(0.01);
  const f = () => {
    const h1 = tf.relu(tf.add(tf.matMul(tx, ws[0]!), ws[1]!));
    const h2 = tf.relu(tf.add(tf.matMul(h1, ws[2]!), ws[3]!));
    const o = tf.add(tf.matMul(h2, ws[4]!), ws[5]!);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(o), ty), 1))) as tf.Scalar;
  };
  const tfjs = () => {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(f, ws);
      sgd.applyGradients(grads);
    });
  };
  return [syft, tfjs];
}

class Part6 extends sy.nn.Module {
  conv1 = new sy.nn.Conv2d(1, 20, 5);
  conv2 = new sy.nn.Conv2d(20, 50, 5);
  fc1 = new sy.nn.Linear(800, 500);
  fc2 = new sy.nn.Linear(500, 10);
  forward(x: sy.Tensor): sy.Tensor {
    const F = sy.nn.functional;
    let h = F.maxPool2d(F.relu(this.conv1.forward(x)), 2);
    h = F.maxPool2d(F.relu(this.conv2.forward(h)), 2);
    h = F.relu(this.fc1.forward(h.flatten(1)));
    return F.logSoftmax(this.fc2.forward(h), 1);
  }
}

function cnnSteps(): [Step, Step] {
  sy.manualSeed(2);
  const model = new Part6();
  const opt = new sy.optim.SGD(model.parameters(), { lr: 0.01 });
  const x = sy.randn([64, 1, 28, 28]);
  const y = sy.tensor(labels, { dtype: 'int64' });
  const syft = () => {
    opt.zeroGrad();
    const loss = sy.nn.nllLoss(model.forward(x), y);
    loss.backward();
    opt.step();
  };
  // The same network in tfjs's layout (NHWC, filters [kh, kw, in, out]).
  const v = (t: tf.Tensor) => tf.variable(t);
  const w1 = v(tf.randomUniform([5, 5, 1, 20], -0.2, 0.2));
  const b1 = v(tf.zeros([20]));
  const w2 = v(tf.randomUniform([5, 5, 20, 50], -0.04, 0.04));
  const b2 = v(tf.zeros([50]));
  const w3 = v(tf.randomUniform([800, 500], -0.035, 0.035));
  const b3 = v(tf.zeros([500]));
  const w4 = v(tf.randomUniform([500, 10], -0.045, 0.045));
  const b4 = v(tf.zeros([10]));
  const tx = tf.reshape(x.toTf(), [64, 28, 28, 1]) as tf.Tensor4D;
  const ty = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
  const hasFilterGrad = tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
  // Where the backend lacks the filter-gradient kernel: dW[a, b, c, o] = sum x[n, i+a, j+b, c] dy[n, i, j, o],
  // a convolution of the input (images as channels) by the output gradient.
  const conv = tf.customGrad(((xs: tf.Tensor, ws: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xs, ws]);
    return {
      value: tf.conv2d(xs as tf.Tensor4D, ws as tf.Tensor4D, 1, 'valid'),
      gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => {
        const dx = tf.conv2dTranspose(dy as tf.Tensor4D, sw as tf.Tensor4D, sx!.shape as [number, number, number, number], 1, 'valid');
        const xt = tf.transpose(sx!, [3, 1, 2, 0]) as tf.Tensor4D; // [C, H, W, N]
        const dyt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [oh, ow, N, O]
        const dw = tf.transpose(tf.conv2d(xt, dyt, 1, 'valid'), [1, 2, 0, 3]); // [kh, kw, C, O]
        return [dx, dw];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor4D;
  const conv2d = (a: tf.Tensor4D, w: tf.Tensor4D) => (hasFilterGrad ? tf.conv2d(a, w, 1, 'valid') : conv(a, w));
  const f = () => {
    let h = tf.maxPool(tf.relu(tf.add(conv2d(tx, w1 as tf.Tensor4D), b1)) as tf.Tensor4D, 2, 2, 'valid');
    h = tf.maxPool(tf.relu(tf.add(conv2d(h, w2 as tf.Tensor4D), b2)) as tf.Tensor4D, 2, 2, 'valid');
    const f1 = tf.relu(tf.add(tf.matMul(tf.reshape(h, [64, 800]), w3), b3));
    const o = tf.add(tf.matMul(f1, w4), b4);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(o), ty), 1))) as tf.Scalar;
  };
  const sgd = tf.train.sgd(0.01);
  const vars = [w1, b1, w2, b2, w3, b3, w4, b4];
  const tfjs = () => {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(f, vars);
      sgd.applyGradients(grads);
    });
  };
  return [syft, tfjs];
}

export async function run(h: Harness): Promise<void> {
  await loadTfGradients();
  const chosen = (await sy.ready()).backend;
  h.record('tfjs backend sy.ready() picks', 0, '', {
    backend: chosen,
    simd: chosen === 'wasm' ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : 'n/a',
    threads: chosen === 'wasm' ? 1 : 'n/a', // tfjs-wasm runs no threads in Node
  });
  try {
    for (const backend of ['wasm', 'cpu'] as const) {
      await sy.ready({ backend });
      const dflt = backend === chosen;
      const mark = `${backend}${dflt ? ', default' : ''}`;
      const [mlpSy, mlpTf] = mlpSteps();
      const [a, b] = interleaved(mlpSy, mlpTf, quick ? 2 : backend === 'wasm' ? 10 : 3, quick ? 3 : 10, 10);
      const r = record(h, `MLP 784-128-64-10 step, batch 64 [${mark}]`, a, {}, dflt ? 3 : undefined);
      const t = record(h, `  same step in tfjs [${backend}]`, b, {});
      h.record(`  MLP step syft-ts / tfjs [${backend}]`, r.median / t.median, 'x', { syft: +r.median.toFixed(2), tfjs: +t.median.toFixed(2) });

      const [cnnSy, cnnTf] = cnnSteps();
      // tfjs's own CNN step on the cpu backend takes 30-45 s (its convolution gradients): only on request.
      const tfCpu = process.env.BENCH_TFJS_CPU_CNN === '1';
      if (backend === 'cpu' && !tfCpu) {
        const [c] = interleaved(cnnSy, () => {}, 1, quick ? 1 : 3, 1, 0, 0);
        record(h, `Part 6 CNN step, batch 64 [${mark}]`, c, {}, dflt ? 60 : undefined);
        h.record(`  same step in tfjs [${backend}]`, NaN, 'ms', { skipped: 'takes 30-45 s a step; BENCH_TFJS_CPU_CNN=1 runs it once' });
      } else {
        const [c, d] =
          backend === 'wasm' ? interleaved(cnnSy, cnnTf, quick ? 1 : 5, quick ? 2 : 4, 3) : interleaved(cnnSy, cnnTf, 1, quick ? 1 : 3, 1, 1, 0);
        const rc = record(h, `Part 6 CNN step, batch 64 [${mark}]`, c, {}, dflt ? 60 : undefined);
        const tc = record(h, `  same step in tfjs [${backend}]`, d, {
          filterGradient: tf.getKernel('Conv2DBackpropFilter', backend) ? 'tfjs kernel' : 'tfjs ops (no kernel on this backend)',
        });
        h.record(`  CNN step syft-ts / tfjs [${backend}]`, rc.median / tc.median, 'x', { syft: +rc.median.toFixed(1), tfjs: +tc.median.toFixed(1) });
      }
      tf.disposeVariables();
    }
  } finally {
    await sy.ready({ backend: chosen });
  }
}
