/**
 * `DPFedAvg`: federated averaging with client-level differential privacy (McMahan, Ramage, Talwar
 * and Zhang 2018, "Learning differentially private recurrent language models"; Flower's
 * DP-FedAvg with fixed clipping). Each round:
 *
 *   1. every client joins with probability `clientSampleRate` (Poisson, drawn from the CSPRNG);
 *   2. a chosen client trains a copy of the global model on its own data and clips its update
 *      (local - global, over all parameters) to L2 norm `clipNorm` — on its own worker when it
 *      has one (then its update, norm and noise never leave that worker except as shares);
 *   3. the clipped updates are summed with Gaussian noise of std `noiseMultiplier * clipNorm`:
 *      - `aggregation: 'plain'`: the server adds them and the noise (a trusted server: it sees
 *        each update);
 *      - `aggregation: { parties }`: secure aggregation; each client adds its share of the noise
 *        (distributed discrete Gaussian, distributed-noise.ts) to its encoded update BEFORE
 *        secret-sharing it among the parties, so the only value ever reconstructed is the noisy
 *        sum;
 *   4. the global model moves by the noisy sum divided by the expected number of clients
 *      (clientSampleRate * clients: a fixed denominator, so one client's effect stays bounded);
 *   5. the accountant records one step of the subsampled Gaussian mechanism at the client
 *      sampling rate: the epsilon is per client (all of a client's data at once).
 *
 * As with Poisson sampling in DP-SGD, the amplification by sampling assumes the set of chosen
 * clients is secret from whoever is modelled as the adversary observing the released models.
 */
import { ValueError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { nllLoss } from '../nn/losses.js';
import { SGD } from '../optim/sgd.js';
import type { Tensor } from '../tensor.js';
import { noGrad } from '../tensors/autograd.js';
import { FloatTensor } from '../tensors/float.js';
import type { PointerTensor } from '../tensors/pointer.js';
import { tidy } from '../tensors/scope.js';
import { Tensor as TensorClass } from '../tensor.js';
import type { RemoteWorker } from '../workers/worker.js';
import type { AccountantMechanism, PrivacyAccountant } from './accountants/accountant.js';
import { createAccountant } from './accountants/registry.js';
import { addSquaredNorms, checkMaxGradNorm } from './clip.js';
import { DISTRIBUTED_NOISE_SCALE, noisyShare, revealSum } from './distributed-noise.js';
import { addGaussianNoise } from './gaussian.js';
import { RandomWords, type RandomFill } from './random-bits.js';

/**
 * A client: its batches (data and int64 targets). With a `worker`, the client lives there: its
 * batches are sent once, it trains, clips, draws its noise and shares its update on that worker,
 * and nothing but shares leaves it (needs secure aggregation). Without one, the client's code runs
 * here (a simulation, or a trusted server).
 */
export interface DPFedAvgClient {
  readonly id: string;
  readonly batches: readonly (readonly [Tensor, Tensor])[];
  readonly worker?: RemoteWorker;
}

/** Secure aggregation among these parties (at least two). */
export interface SecureAggregationOptions {
  readonly parties: readonly RemoteWorker[];
  /** Integer units per real unit of the encoding (default 2^20). */
  readonly scale?: number;
}

/** Options of {@link DPFedAvg}. */
export interface DPFedAvgOptions {
  /** The global model (local); it is updated in place every round. */
  model: Module;
  clients: readonly DPFedAvgClient[];
  /** Probability that a client takes part in a round. */
  clientSampleRate: number;
  /** Noise std / clipNorm. */
  noiseMultiplier: number;
  /** Every client's update is clipped to this L2 norm. */
  clipNorm: number;
  /** Client learning rate (default 0.1) and local passes over its batches (default 1). */
  lr?: number;
  localEpochs?: number;
  /** Loss of the local training; default nllLoss (the model outputs log-probabilities). */
  loss?: (output: Tensor, target: Tensor) => Tensor;
  /** 'plain' (default: a trusted server adds the noise) or secure aggregation with distributed noise. */
  aggregation?: 'plain' | SecureAggregationOptions;
  /** 'rdp' (default) or 'gdp'. */
  accountant?: AccountantMechanism;
  /** Random bytes for sampling and noise; default the CSPRNG. */
  random?: RandomFill;
}

/** What one round did. */
export interface DPRoundReport {
  round: number;
  /** The clients that took part. */
  clients: string[];
  /** The update norms before clipping of the local clients that took part (remote clients keep theirs). */
  updateNorms: number[];
  /** The fraction of those that were clipped (null when no local client took part). */
  clippedFraction: number | null;
  /** Epsilon spent so far needs a delta: call getEpsilon(delta). */
  steps: number;
}

function flatValues(t: Tensor): Float32Array {
  const leaf = t.child.dataLayer();
  if (!(leaf instanceof FloatTensor)) throw new ValueError('DPFedAvg trains local float models');
  return leaf.values;
}

/**
 * @example
 * ```ts
 * const fl = new sy.dp.DPFedAvg({ model, clients, clientSampleRate: 0.5, noiseMultiplier: 1, clipNorm: 0.5, aggregation: { parties: [alice, bob] } });
 * for (let r = 0; r < 20; r++) await fl.round();
 * console.log(fl.getEpsilon(1e-5));
 * ```
 */
export class DPFedAvg {
  readonly model: Module;
  readonly clients: readonly DPFedAvgClient[];
  readonly clientSampleRate: number;
  readonly noiseMultiplier: number;
  readonly clipNorm: number;
  readonly accountant: PrivacyAccountant;
  readonly #o: DPFedAvgOptions;
  readonly #words: RandomWords;
  readonly #remoteBatches = new Map<DPFedAvgClient, [Tensor, Tensor][]>();
  #round = 0;

  constructor(opts: DPFedAvgOptions) {
    if (!opts || typeof opts.model?.parameters !== 'function') throw new ValueError('DPFedAvg needs { model: a sy.nn.Module, clients, ... }');
    if (!Array.isArray(opts.clients) || opts.clients.length === 0) throw new ValueError('DPFedAvg needs at least one client');
    const q = opts.clientSampleRate;
    if (typeof q !== 'number' || !(q > 0 && q <= 1)) throw new ValueError(`clientSampleRate must be in (0, 1], got ${String(q)}`);
    if (typeof opts.noiseMultiplier !== 'number' || !(opts.noiseMultiplier >= 0) || !Number.isFinite(opts.noiseMultiplier)) {
      throw new ValueError(`noiseMultiplier must be a finite number >= 0, got ${String(opts.noiseMultiplier)}`);
    }
    checkMaxGradNorm(opts.clipNorm);
    const agg = opts.aggregation ?? 'plain';
    if (agg !== 'plain' && (!agg || !Array.isArray(agg.parties) || agg.parties.length < 2)) {
      throw new ValueError("aggregation must be 'plain' or { parties: [at least two workers] }");
    }
    this.model = opts.model;
    this.clients = opts.clients;
    this.clientSampleRate = q;
    this.noiseMultiplier = opts.noiseMultiplier;
    this.clipNorm = opts.clipNorm;
    this.accountant = createAccountant(opts.accountant ?? 'rdp');
    this.#o = opts;
    this.#words = new RandomWords(opts.random);
    for (const c of opts.clients as readonly DPFedAvgClient[]) {
      if (!c.worker) continue;
      if (agg === 'plain') throw new ValueError(`client '${c.id}' is on a worker: give aggregation: { parties } (its update leaves it only as shares)`);
      this.#remoteBatches.set(c, c.batches.map(([x, y]): [Tensor, Tensor] => [x.send(c.worker!), y.send(c.worker!)]));
    }
  }

  /** The epsilon spent so far (per client) at `delta`. */
  getEpsilon(delta: number): number {
    return this.accountant.getEpsilon(delta);
  }

  /** A client's clipped update (flattened over the parameters), and its norm before clipping. */
  clientUpdate(client: DPFedAvgClient): { update: Float64Array; norm: number } {
    const global = this.model.parameters();
    const local = this.model.copy();
    const opt = new SGD(local.parameters(), { lr: this.#o.lr ?? 0.1 });
    const loss = this.#o.loss ?? ((out: Tensor, y: Tensor) => nllLoss(out, y));
    for (let e = 0; e < (this.#o.localEpochs ?? 1); e++) {
      for (const [x, y] of client.batches) {
        tidy(() => {
          opt.zeroGrad();
          loss(local.forward(x), y).backward();
          opt.step();
        });
      }
    }
    const sizes = global.map((p) => p.numel());
    const update = new Float64Array(sizes.reduce((a, b) => a + b, 0));
    let off = 0;
    local.parameters().forEach((p, i) => {
      const a = flatValues(p);
      const b = flatValues(global[i]!);
      for (let j = 0; j < a.length; j++) update[off + j] = a[j]! - b[j]!;
      off += a.length;
    });
    const n2 = new Float64Array(1);
    addSquaredNorms(n2, Float32Array.from(update), update.length);
    const norm = Math.sqrt(n2[0]!);
    if (!Number.isFinite(norm)) {
      throw new ValueError(`the update of client '${client.id}' is not finite: local training diverged; lower lr, or the noise (noiseMultiplier / clipNorm against the expected clients)`);
    }
    const f = Math.min(1, this.clipNorm / (norm + 1e-6));
    for (let j = 0; j < update.length; j++) update[j]! *= f;
    return { update, norm };
  }

  /**
   * A remote client's round, all on its worker: train a copy of the global model, clip the update
   * (norm and factor computed there), encode it with its own noise (`dp.noisyEncode`), and share
   * each parameter's part among the parties from the worker. Returns the shared parts.
   */
  private remoteParts(client: DPFedAvgClient, stdEach: number, agg: SecureAggregationOptions): Tensor[] {
    const worker = client.worker!;
    const model = this.model.copy().send(worker);
    const start = this.model.parameters().map((p) => p.data.copy().send(worker));
    const opt = new SGD(model.parameters(), { lr: this.#o.lr ?? 0.1 });
    const loss = this.#o.loss ?? ((out: Tensor, y: Tensor) => nllLoss(out, y));
    for (let e = 0; e < (this.#o.localEpochs ?? 1); e++) {
      for (const [x, y] of this.#remoteBatches.get(client)!) {
        tidy(() => {
          opt.zeroGrad();
          loss(model.forward(x), y).backward();
          opt.step();
        });
      }
    }
    const scale = agg.scale ?? DISTRIBUTED_NOISE_SCALE;
    const parts = tidy(() =>
      noGrad(() => {
        const update = model.parameters().map((p, i) => p.data.sub(start[i]!).reshape([p.numel()]));
        let norm2 = update[0]!.pow(2).sum();
        for (const u of update.slice(1)) norm2 = norm2.add(u.pow(2).sum());
        // factor = min(1, clip / (norm + 1e-6)), on the worker: r < 1 ? r : 1.
        const r = norm2.sqrt().add(1e-6).pow(-1).mul(this.clipNorm);
        const factor = r.lt(1).mul(r.sub(1)).add(1);
        return update.map((u) => {
          const clipped = u.mul(factor);
          const encoded = (clipped.child as PointerTensor).command('dp.noisyEncode', [stdEach, scale], [clipped.shape])[0]!;
          return new TensorClass(encoded).share(...agg.parties);
        });
      }),
    );
    model.dispose();
    for (const t of start) t.dispose();
    return parts;
  }

  /** The clients of one round: each joins with probability clientSampleRate. */
  sampleClients(): DPFedAvgClient[] {
    const t = this.clientSampleRate * 2 ** 53;
    return this.clients.filter(() => this.#words.below(2 ** 53) < t);
  }

  /** One round (see the file header). */
  async round(): Promise<DPRoundReport> {
    const chosen = this.sampleClients();
    const std = this.noiseMultiplier * this.clipNorm;
    const params = this.model.parameters();
    const total = params.reduce((s, p) => s + p.numel(), 0);
    const sizes = params.map((p) => p.numel());
    const local = chosen.filter((c) => !c.worker);
    const updates = local.map((c) => this.clientUpdate(c));
    const agg = this.#o.aggregation ?? 'plain';
    let noisy: Float64Array;
    if (agg === 'plain' || chosen.length === 0) {
      // A trusted server; also the round nobody joined: it still releases noise, never nothing.
      const sum = new Float64Array(total);
      for (const { update } of updates) for (let j = 0; j < total; j++) sum[j]! += update[j]!;
      noisy = std > 0 ? addGaussianNoise(sum, { std, random: this.#o.random }) : sum;
    } else {
      // One shared part per client and parameter (flat), each with the client's share of the noise.
      const m = chosen.length;
      const parts: Tensor[][] = updates.map(({ update }) => {
        let off = 0;
        return sizes.map((n) => {
          const slice = update.subarray(off, (off += n));
          return noisyShare(slice, { std, contributors: m, parties: agg.parties, scale: agg.scale, random: this.#o.random });
        });
      });
      for (const c of chosen) if (c.worker) parts.push(this.remoteParts(c, std / Math.sqrt(m), agg));
      noisy = new Float64Array(total);
      let off = 0;
      for (let k = 0; k < sizes.length; k++) {
        noisy.set(await revealSum(parts.map((p) => p[k]!), agg.scale), off);
        off += sizes[k]!;
      }
      for (const p of parts) for (const t of p) t.dispose();
    }
    const expected = this.clientSampleRate * this.clients.length;
    let off = 0;
    noGrad(() => {
      for (const p of params) {
        const n = p.numel();
        const cur = flatValues(p);
        const next = new Float32Array(n);
        for (let j = 0; j < n; j++) next[j] = cur[j]! + noisy[off + j]! / expected;
        p.data = new TensorClass(new FloatTensor(p.shape, next));
        off += n;
      }
    });
    this.accountant.step({ noiseMultiplier: this.noiseMultiplier, sampleRate: this.clientSampleRate });
    this.#round++;
    const norms = updates.map((u) => u.norm);
    return {
      round: this.#round,
      clients: chosen.map((c) => c.id),
      updateNorms: norms,
      clippedFraction: norms.length ? norms.filter((n) => n > this.clipNorm).length / norms.length : null,
      steps: this.accountant.steps,
    };
  }
}
