/**
 * `GradSampleModule`: per-sample gradients of a model in one forward and one backward pass, as
 * Opacus's GradSampleModule. Each parametrised layer's forward is wrapped (on the instance, the
 * model's class is untouched): it keeps the layer's input, and puts a pass-through node after the
 * output whose backward keeps the gradient of the output. From the pair, the layer's rule
 * (grad-sample-layers.ts) computes every sample's gradient in one batched contraction.
 *
 * Layers that mix samples of a batch (BatchNorm) have no per-sample gradient and are refused, as
 * Opacus's ModuleValidator does. Layers with parameters but no rule are refused too.
 *
 * @example
 * ```ts
 * const gs = new sy.dp.GradSampleModule(model);
 * nllLoss(gs.forward(x), y, { reduction: 'sum' }).backward();
 * const perSample = gs.perSampleGradients();   // Map param -> Float32Array [B, ...param.shape]
 * ```
 */
import { UnsupportedOperationError, ValueError } from '../errors.js';
import type { AbstractTensor } from '../layer/abstract.js';
import { Module } from '../nn/module.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/normalization.js';
import { Tensor } from '../tensor.js';
import { AutogradTensor, isGradEnabled } from '../tensors/autograd.js';
import { FloatTensor } from '../tensors/float.js';
import { GradFunc } from '../tensors/gradients.js';
import { addSquaredNorms, clipFactors, weightedRowSum } from './clip.js';
import { type GradSampleRule, type LayerGradSample, SUPPORTED_LAYERS, localFloat, ruleOf } from './grad-sample-layers.js';

/** One forward call of a layer: its input (as the rule keeps it) and, after backward, its output's gradient. */
interface Capture {
  activation: Float32Array;
  batch: number;
  backprop?: Float32Array;
  backpropShape?: readonly number[];
}

interface Hooked {
  name: string;
  layer: Module;
  rule: GradSampleRule;
  weight?: Tensor;
  bias?: Tensor;
  captures: Capture[];
}

/** A pass-through node: hands the gradient on unchanged and keeps a copy. */
class CaptureBackward extends GradFunc {
  constructor(
    input: AutogradTensor,
    private readonly onGrad: (g: FloatTensor) => void,
  ) {
    super([input]);
  }

  get name(): string {
    return 'CaptureBackward';
  }

  backward(grad: AbstractTensor): (AbstractTensor | undefined)[] {
    if (!(grad instanceof FloatTensor)) throw new ValueError('per-sample gradients need float gradients (a local float model)');
    this.onGrad(grad);
    return [grad.clone()];
  }
}

/** Why a layer cannot be used with DP-SGD, or undefined when it can. */
function refusal(layer: Module, name: string): string | undefined {
  if (layer instanceof BatchNorm1d || layer instanceof BatchNorm2d) {
    return `${name} (${layer.constructor.name}) normalises each sample by statistics of the whole batch, so one sample's ` +
      'gradient depends on the others and cannot be clipped on its own: BatchNorm is not compatible with DP-SGD. ' +
      'Remove it, or normalise per sample (GroupNorm / LayerNorm), as Opacus advises';
  }
  return undefined;
}

function ownParameters(m: Module): [string, Tensor][] {
  return Object.entries(m).filter((e): e is [string, Tensor] => e[1] instanceof Tensor && e[1].isParameter);
}

function walk(m: Module, prefix: string, out: [string, Module][]): void {
  out.push([prefix || '(root)', m]);
  for (const [k, c] of m.namedChildren()) walk(c, prefix ? `${prefix}.${k}` : k, out);
}

export class GradSampleModule extends Module {
  /** The wrapped model (its parameters are this module's, under `module.`). */
  readonly module: Module;
  readonly #hooked: Hooked[] = [];
  #attached = true;

  constructor(module: Module) {
    super();
    if (!(module instanceof Module)) {
      throw new ValueError('GradSampleModule wraps a sy.nn.Module');
    }
    this.module = module;
    const all: [string, Module][] = [];
    walk(module, '', all);
    for (const [name, layer] of all) {
      const own = ownParameters(layer);
      const why = refusal(layer, name);
      if (why) throw new UnsupportedOperationError(why);
      if (own.length === 0) continue;
      const rule = ruleOf(layer);
      if (!rule) {
        throw new UnsupportedOperationError(
          `${name} (${layer.constructor.name}) has parameters but no per-sample gradient rule; DP-SGD supports ` +
            `${SUPPORTED_LAYERS.join(', ')} (freeze or remove the others)`,
        );
      }
      const byName = new Map(own);
      const h: Hooked = { name, layer, rule, weight: byName.get('weight'), bias: byName.get('bias'), captures: [] };
      this.#hooked.push(h);
      this.#install(h);
    }
    if (this.#hooked.length === 0) throw new ValueError('GradSampleModule: the model has no parameters to train');
  }

  #install(h: Hooked): void {
    const layer = h.layer as Module & { forward(x: Tensor): Tensor };
    const original = Object.getPrototypeOf(layer).forward as (x: Tensor) => Tensor;
    Object.defineProperty(layer, 'forward', {
      configurable: true,
      enumerable: false,
      writable: true,
      value: (x: Tensor): Tensor => {
        const y = original.call(layer, x);
        if (!this.#attached || !isGradEnabled() || !(y.child instanceof AutogradTensor) || !y.child.requiresGrad) return y;
        const capture: Capture = { activation: h.rule.activation(layer, localFloat(x, h.name)), batch: x.shape[0] ?? 1 };
        h.captures.push(capture);
        const out = y.child;
        const node = new AutogradTensor(out.child, {
          gradFn: new CaptureBackward(out, (g) => {
            const v = g.values;
            if (capture.backprop) for (let i = 0; i < v.length; i++) capture.backprop[i]! += v[i]!;
            else capture.backprop = v.slice();
            capture.backpropShape = g.shape;
          }),
        });
        return new Tensor(node);
      },
    });
  }

  /** Runs the model (capturing what per-sample gradients need when gradients are recorded). */
  override forward(x: Tensor): Tensor {
    return this.module.forward(x);
  }

  /**
   * The batch size of the captured pass: every layer must have seen the same one. 0 when nothing
   * was captured (no backward since the last {@link clear}).
   */
  get batchSize(): number {
    const sizes = new Set(this.#hooked.flatMap((h) => h.captures.filter((c) => c.backprop).map((c) => c.batch)));
    if (sizes.size > 1) throw new ValueError(`the layers saw different batch sizes (${[...sizes].join(', ')}): call clear() between batches`);
    return sizes.size ? [...sizes][0]! : 0;
  }

  /**
   * Every sample's gradient of every parameter, `[B, ...param.shape]` row-major, summed over the
   * layer's calls in the pass (a layer used twice). The gradient is of whatever the backward pass
   * differentiated: with a mean loss, each row is 1/B of the sample's own gradient.
   */
  perSampleGradients(): Map<Tensor, Float32Array> {
    const batch = this.batchSize;
    const out = new Map<Tensor, Float32Array>();
    if (batch === 0) return out;
    for (const h of this.#hooked) {
      for (const c of h.captures) {
        if (!c.backprop) continue;
        const g = h.rule.compute(h.layer, c.activation, new FloatTensor(c.backpropShape!, c.backprop), batch);
        for (const [p, v] of [[h.weight, g.weight], [h.bias, g.bias]] as const) {
          if (!p || !v) continue;
          const acc = out.get(p);
          if (acc) for (let i = 0; i < v.length; i++) acc[i]! += v[i]!;
          else out.set(p, v);
        }
      }
    }
    return out;
  }

  /**
   * Clips every sample's gradient (over all parameters) to `maxGradNorm` and sums over the batch,
   * as {@link clipAndSum} on {@link perSampleGradients} gives, but without materialising the
   * per-sample gradients where a layer allows (Linear on 2-D input: ghost clipping).
   *
   * @param scale multiplies each per-sample gradient first (the batch size, for a mean loss)
   */
  clipAndSum(maxGradNorm: number, scale = 1): { sums: Map<Tensor, Float64Array>; norms: Float64Array; factors: Float64Array; batch: number } {
    const batch = this.batchSize;
    const norms2 = new Float64Array(batch);
    type Plan = { h: Hooked; ghost: true; x: Float32Array; g: FloatTensor } | { h: Hooked; ghost: false; grads: LayerGradSample };
    const plans: Plan[] = [];
    for (const h of batch ? this.#hooked : []) {
      const caps = h.captures.filter((c) => c.backprop);
      if (caps.length === 0) continue;
      const ghost = h.rule.ghost;
      if (caps.length === 1 && ghost) {
        const c = caps[0]!;
        const g = new FloatTensor(c.backpropShape!, c.backprop!);
        if (ghost.applies(h.layer, g, batch)) {
          const n2 = ghost.norms2(h.layer, c.activation, g, batch);
          for (let b = 0; b < batch; b++) norms2[b]! += n2[b]!;
          plans.push({ h, ghost: true, x: c.activation, g });
          continue;
        }
      }
      const grads: LayerGradSample = {};
      for (const c of caps) {
        const one = h.rule.compute(h.layer, c.activation, new FloatTensor(c.backpropShape!, c.backprop!), batch);
        for (const k of ['weight', 'bias'] as const) {
          const v = one[k];
          if (!v) continue;
          const acc = grads[k];
          if (acc) for (let i = 0; i < v.length; i++) acc[i]! += v[i]!;
          else grads[k] = v;
        }
      }
      if (grads.weight) addSquaredNorms(norms2, grads.weight, h.weight!.numel());
      if (grads.bias) addSquaredNorms(norms2, grads.bias, h.bias!.numel());
      plans.push({ h, ghost: false, grads });
    }
    const { norms, factors } = clipFactors(norms2, maxGradNorm, scale);
    const coef = factors.map((f) => f * scale);
    const sums = new Map<Tensor, Float64Array>();
    for (const p of plans) {
      const { h } = p;
      if (p.ghost) {
        const s = h.rule.ghost!.weightedSum(h.layer, p.x, p.g, batch, coef);
        sums.set(h.weight!, s.weight);
        if (h.bias && s.bias) sums.set(h.bias, s.bias);
      } else {
        if (p.grads.weight) sums.set(h.weight!, weightedRowSum(p.grads.weight, h.weight!.numel(), coef));
        if (p.grads.bias) sums.set(h.bias!, weightedRowSum(p.grads.bias, h.bias!.numel(), coef));
      }
    }
    return { sums, norms, factors, batch };
  }

  /** Forgets the captured activations and gradients (call between batches). */
  clear(): void {
    for (const h of this.#hooked) h.captures = [];
  }

  /** A wrapped deep copy of the model (new parameters, its own captures). */
  override copy(): this {
    return new GradSampleModule(this.module.copy()) as this;
  }

  /** Stops capturing and restores the layers' own forward. */
  detach(): void {
    this.#attached = false;
    for (const h of this.#hooked) delete (h.layer as unknown as Record<string, unknown>).forward;
    this.clear();
  }
}
