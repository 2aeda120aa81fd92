/**
 * `DPDataLoader`: Poisson sampling of batches, which the accountants' analysis of the subsampled
 * Gaussian mechanism assumes (Opacus's DPDataLoader): each step, every example joins the batch on
 * its own with probability `sampleRate`, so batch sizes vary. Inclusion is drawn from the CSPRNG
 * (which examples took part is itself private). An epoch is round(1 / sampleRate) steps. A draw
 * can be empty; then no batch is yielded but `onEmpty` runs (the engine takes a noise-only step
 * there, so the number of steps never depends on the data).
 */
import { ValueError } from '../errors.js';
import type { BaseDataset, Sample } from '../data/dataset.js';
import { tidy } from '../tensors/scope.js';
import { RandomWords, type RandomFill } from './random-bits.js';

/** Options of a {@link DPDataLoader}. */
export interface DPDataLoaderOptions {
  /** Probability that an example joins a batch. */
  sampleRate: number;
  /** Steps per epoch; default round(1 / sampleRate). */
  steps?: number;
  /** Random bytes for the draws; default the CSPRNG. */
  random?: RandomFill;
  /** Runs for a step whose draw is empty. */
  onEmpty?: () => void;
}

/**
 * @example
 * ```ts
 * const loader = new sy.dp.DPDataLoader(dataset, { sampleRate: 256 / dataset.length });
 * for (const [data, target] of loader) { ... }   // about 256 examples a batch
 * ```
 */
export class DPDataLoader implements Iterable<Sample> {
  readonly dataset: BaseDataset;
  readonly sampleRate: number;
  readonly steps: number;
  onEmpty: (() => void) | undefined;
  readonly #words: RandomWords;
  readonly #threshold: number;

  constructor(dataset: BaseDataset, opts: DPDataLoaderOptions) {
    if (!dataset || typeof (dataset as BaseDataset).batch !== 'function') throw new ValueError('DPDataLoader takes a sy.BaseDataset');
    const q = opts.sampleRate;
    if (typeof q !== 'number' || !(q > 0 && q <= 1)) throw new ValueError(`sampleRate must be in (0, 1], got ${String(q)}`);
    const steps = opts.steps ?? Math.round(1 / q);
    if (!Number.isSafeInteger(steps) || steps < 1) throw new ValueError(`steps must be a positive integer, got ${String(steps)}`);
    this.dataset = dataset;
    this.sampleRate = q;
    this.steps = steps;
    this.onEmpty = opts.onEmpty;
    this.#words = new RandomWords(opts.random);
    // u uniform in [0, 2^53) joins when u < q * 2^53: probability q to within 2^-53.
    this.#threshold = q * 2 ** 53;
  }

  /** Steps per epoch. */
  get length(): number {
    return this.steps;
  }

  /** The indices of one Poisson draw. */
  draw(): Int32Array {
    const n = this.dataset.length;
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (this.#words.below(2 ** 53) < this.#threshold) out.push(i);
    return Int32Array.from(out);
  }

  *[Symbol.iterator](): Generator<Sample> {
    for (let s = 0; s < this.steps; s++) {
      const idx = this.draw();
      if (idx.length === 0) {
        this.onEmpty?.();
        continue;
      }
      yield tidy(() => this.dataset.batch(idx));
    }
  }

  toString(): string {
    return `DPDataLoader(${this.dataset}, sampleRate=${this.sampleRate}, steps=${this.steps})`;
  }
}
