// Per-sample gradient rules of the parametrised layers, from what the forward and backward passes
// already computed: a layer's input (the activation) and the gradient of its output (the
// backprop). Each rule is one batched contraction over the batch dimension, as Opacus's grad-sample
// functions are einsums:
//   Linear  x [B, T, in], g [B, T, out]:  dW_b = sum_t g_bt^T x_bt,       db_b = sum_t g_bt
//   Conv2d  cols = unfold(x) [B, CKK, L], g [B, O, L]:  dW_b = g_b cols_b^T,  db_b = sum_l g_b
// (T is every dim between the batch and the features, as Linear applies to the last dim.) The cost
// is the same order as the layer's own weight gradient; nothing is run once per sample.
import { ValueError } from '../errors.js';
import type { Pair } from '../layer/window.js';
import { Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import { FloatTensor } from '../tensors/float.js';

/** Per-sample gradients of one layer's parameters: `[B, ...param.shape]`, row-major. */
export interface LayerGradSample {
  weight?: Float32Array;
  bias?: Float32Array;
}

/**
 * Clipping without the per-sample gradients ("ghost clipping", Goodfellow 2015; Li et al. 2022),
 * for a Linear layer on 2-D input: sample b's weight gradient is the outer product g_b x_b^T, so
 * its squared norm is |g_b|^2 |x_b|^2 (plus |g_b|^2 for the bias), and the weighted sum
 * sum_b c_b g_b x_b^T is one matrix product (c * g)^T X. Memory stays O(B (in + out)).
 */
export interface GhostClipping {
  /** Whether the shortcut applies to this capture (Linear: one row per sample). */
  applies(layer: Module, backprop: FloatTensor, batch: number): boolean;
  /** Each sample's squared gradient norm over the layer's parameters. */
  norms2(layer: Module, activation: Float32Array, backprop: FloatTensor, batch: number): Float64Array;
  /** sum_b coef_b * (sample b's gradient), per parameter. */
  weightedSum(layer: Module, activation: Float32Array, backprop: FloatTensor, batch: number, coef: Float64Array): { weight: Float64Array; bias?: Float64Array };
}

/** A layer's rule: per-sample gradients from its input and the gradient of its output. */
export interface GradSampleRule {
  /** The layer's input as the rule wants it (unfolded for Conv2d), taken in the forward pass. */
  activation(layer: Module, input: FloatTensor): Float32Array;
  compute(layer: Module, activation: Float32Array, backprop: FloatTensor, batch: number): LayerGradSample;
  ghost?: GhostClipping;
}

const linearGhost: GhostClipping = {
  applies: (layer, g, batch) => g.values.length === batch * (layer as Linear).outFeatures,
  norms2(layer, x, g, batch) {
    const l = layer as Linear;
    const [inF, outF] = [l.inFeatures, l.outFeatures];
    const gv = g.values;
    const out = new Float64Array(batch);
    for (let b = 0; b < batch; b++) {
      let gg = 0;
      for (let o = b * outF; o < (b + 1) * outF; o++) gg += gv[o]! * gv[o]!;
      let xx = 0;
      for (let i = b * inF; i < (b + 1) * inF; i++) xx += x[i]! * x[i]!;
      out[b] = gg * xx + (l.bias ? gg : 0);
    }
    return out;
  },
  weightedSum(layer, x, g, batch, coef) {
    const l = layer as Linear;
    const [inF, outF] = [l.inFeatures, l.outFeatures];
    const gv = g.values;
    const cg = new Float32Array(batch * outF);
    for (let b = 0; b < batch; b++) for (let o = 0; o < outF; o++) cg[b * outF + o] = coef[b]! * gv[b * outF + o]!;
    // (c * g)^T X: [out, B] x [B, in], by the float kernels.
    const gt = new FloatTensor([batch, outF], cg).transpose([1, 0]);
    const weight = Float64Array.from((gt.matmul(new FloatTensor([batch, inF], x)) as FloatTensor).values);
    if (!l.bias) return { weight };
    const bias = new Float64Array(outF);
    for (let b = 0; b < batch; b++) for (let o = 0; o < outF; o++) bias[o]! += cg[b * outF + o]!;
    return { weight, bias };
  },
};

const linearRule: GradSampleRule = {
  activation: (_layer, input) => input.values.slice(),
  compute(layer, x, g, batch) {
    const l = layer as Linear;
    const [inF, outF] = [l.inFeatures, l.outFeatures];
    const gv = g.values;
    const rows = gv.length / outF; // B * T
    const t = rows / batch;
    const dW = new Float32Array(batch * outF * inF);
    const db = l.bias ? new Float32Array(batch * outF) : undefined;
    for (let b = 0; b < batch; b++) {
      const wOff = b * outF * inF;
      for (let r = b * t; r < (b + 1) * t; r++) {
        const xOff = r * inF;
        for (let o = 0; o < outF; o++) {
          const go = gv[r * outF + o]!;
          if (db) db[b * outF + o]! += go;
          if (go === 0) continue;
          const base = wOff + o * inF;
          for (let i = 0; i < inF; i++) dW[base + i]! += go * x[xOff + i]!;
        }
      }
    }
    return db ? { weight: dW, bias: db } : { weight: dW };
  },
  ghost: linearGhost,
};

/** Conv2d's explicit padding, as its forward resolves it. */
function convPadding(c: Conv2d): Pair {
  if (c.padding === 'valid') return [0, 0];
  if (c.padding === 'same') return [(c.kernelSize[0] - 1) / 2, (c.kernelSize[1] - 1) / 2];
  return c.padding;
}

const conv2dRule: GradSampleRule = {
  activation(layer, input) {
    const c = layer as Conv2d;
    return input.im2col(c.kernelSize, c.stride, convPadding(c)).values.slice();
  },
  compute(layer, cols, g, batch) {
    const c = layer as Conv2d;
    const o = c.outChannels;
    const k = c.inChannels * c.kernelSize[0] * c.kernelSize[1];
    const gv = g.values; // [B, O, OH, OW] = [B, O, L]
    const l = gv.length / (batch * o);
    if (cols.length !== batch * k * l) throw new ValueError('Conv2d per-sample gradient: the activation and backprop do not match');
    const dW = new Float32Array(batch * o * k);
    const db = c.bias ? new Float32Array(batch * o) : undefined;
    for (let b = 0; b < batch; b++) {
      const cOff = b * k * l;
      for (let oc = 0; oc < o; oc++) {
        const gOff = (b * o + oc) * l;
        const wOff = (b * o + oc) * k;
        if (db) {
          let s = 0;
          for (let p = 0; p < l; p++) s += gv[gOff + p]!;
          db[b * o + oc] = s;
        }
        for (let kk = 0; kk < k; kk++) {
          const r = cOff + kk * l;
          let s = 0;
          for (let p = 0; p < l; p++) s += gv[gOff + p]! * cols[r + p]!;
          dW[wOff + kk] = s;
        }
      }
    }
    return db ? { weight: dW, bias: db } : { weight: dW };
  },
};

/** The rule of a layer, or undefined when it has none. */
export function ruleOf(layer: Module): GradSampleRule | undefined {
  if (layer instanceof Linear) return linearRule;
  if (layer instanceof Conv2d) return conv2dRule;
  return undefined;
}

/** The layers the per-sample rules cover (for error messages). */
export const SUPPORTED_LAYERS = ['Linear', 'Conv2d'] as const;

/** `t`'s numbers as a local float tensor, or a clear error. */
export function localFloat(t: Tensor, what: string): FloatTensor {
  const leaf = t.child.dataLayer();
  if (!(leaf instanceof FloatTensor)) {
    throw new ValueError(`${what}: per-sample gradients need a local float model and data (got ${t.child.chainString()}); ` +
      'DP-SGD runs where the data is: use it on the data owner\'s side, or DP-FedAvg for remote clients');
  }
  return leaf;
}
