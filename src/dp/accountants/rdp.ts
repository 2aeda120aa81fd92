// The Rényi DP accountant, after Opacus's RDPAccountant: records the steps of DP-SGD (or rounds of
// DP-FedAvg), merges consecutive identical steps, and converts the composed RDP to (epsilon,
// delta) over Opacus's default orders. The per-step RDP of each (noiseMultiplier, sampleRate) is
// kept, so asking for epsilon every epoch costs only the conversion.
import { ValueError } from '../../errors.js';
import { checkStep, readState, type AccountantState, type HistoryEntry, type PrivacyAccountant, type PrivacyStep } from './accountant.js';
import { DEFAULT_ALPHAS, checkDelta, checkOrders, getPrivacySpent, rdpOfStep, type PrivacySpent } from './rdp-analysis.js';

/** Options of {@link RDPAccountant.getEpsilon} and {@link RDPAccountant.getPrivacySpent}. */
export interface RdpEpsilonOptions {
  /** RDP orders to search (Opacus calls them alphas); default {@link RDPAccountant.DEFAULT_ALPHAS}. */
  orders?: readonly number[];
  /** Opacus's name for `orders`. */
  alphas?: readonly number[];
}

const CACHE_LIMIT = 256;

/**
 * Rényi differential privacy accountant for the Poisson-subsampled Gaussian mechanism (DP-SGD).
 *
 * @example
 * ```ts
 * const accountant = new sy.dp.RDPAccountant();
 * for (let i = 0; i < 2250; i++) accountant.step({ noiseMultiplier: 1.5, sampleRate: 0.04 });
 * accountant.getEpsilon(1e-5);                 // 7.3291...
 * accountant.getPrivacySpent(1e-5).bestAlpha;  // the order that gave it
 * ```
 */
export class RDPAccountant implements PrivacyAccountant {
  /** Opacus's default orders: 1.1, 1.2, ..., 10.9, 12, 13, ..., 63. */
  static readonly DEFAULT_ALPHAS: readonly number[] = DEFAULT_ALPHAS;

  readonly mechanism = 'rdp' as const;
  history: HistoryEntry[] = [];
  // Per-step RDP at the default orders, per (noiseMultiplier, sampleRate).
  private readonly cache = new Map<string, Float64Array>();

  /** Records one step; a step equal to the previous one extends its entry. */
  step(step: PrivacyStep): void {
    checkStep(step);
    const { noiseMultiplier, sampleRate } = step;
    const last = this.history[this.history.length - 1];
    if (last !== undefined && last.noiseMultiplier === noiseMultiplier && last.sampleRate === sampleRate) {
      last.steps += 1;
    } else {
      this.history.push({ noiseMultiplier, sampleRate, steps: 1 });
    }
  }

  /** Total steps recorded. */
  get steps(): number {
    return this.history.reduce((n, e) => n + e.steps, 0);
  }

  /**
   * The (epsilon, delta) guarantee so far and the order that gave it; `{ epsilon: 0, bestAlpha: 0 }`
   * before any step, as in Opacus.
   */
  getPrivacySpent(delta: number, options: RdpEpsilonOptions = {}): PrivacySpent {
    checkDelta(delta);
    if (options.orders !== undefined && options.alphas !== undefined) {
      throw new ValueError('pass orders or alphas (the same thing), not both');
    }
    const orders = options.orders ?? options.alphas ?? DEFAULT_ALPHAS;
    if (orders !== DEFAULT_ALPHAS) checkOrders(orders);
    if (this.history.length === 0) return { epsilon: 0, bestAlpha: 0 };
    const rdp = new Float64Array(orders.length);
    for (const e of this.history) {
      const perStep = this.rdpPerStep(e.sampleRate, e.noiseMultiplier, orders);
      for (let i = 0; i < rdp.length; i++) rdp[i]! += perStep[i]! * e.steps;
    }
    return getPrivacySpent({ rdp, orders, delta });
  }

  /** The epsilon spent so far at `delta`. */
  getEpsilon(delta: number, options: RdpEpsilonOptions = {}): number {
    return this.getPrivacySpent(delta, options).epsilon;
  }

  /** A copy of the history, for checkpoints. */
  stateDict(): AccountantState {
    return { mechanism: this.mechanism, history: this.history.map((e) => ({ ...e })) };
  }

  /** Restores a history saved with {@link stateDict}. */
  loadStateDict(state: AccountantState): void {
    this.history = readState(state, this.mechanism);
  }

  private rdpPerStep(q: number, sigma: number, orders: readonly number[]): Float64Array {
    const cacheable = orders === DEFAULT_ALPHAS;
    const key = `${sigma}:${q}`;
    if (cacheable) {
      const hit = this.cache.get(key);
      if (hit !== undefined) return hit;
    }
    const out = new Float64Array(orders.length);
    for (let i = 0; i < orders.length; i++) out[i] = rdpOfStep(q, sigma, orders[i]!);
    if (cacheable) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, out);
    }
    return out;
  }
}
