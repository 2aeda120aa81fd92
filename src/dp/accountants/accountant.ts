// What every privacy accountant shares, after Opacus's IAccountant: a history of
// (noiseMultiplier, sampleRate, steps) entries filled by step(), epsilon for a delta, and a state
// dict for checkpoints.
import { ValueError } from '../../errors.js';

/** One optimisation step (or federated round) as the accountant sees it. */
export interface PrivacyStep {
  /** Noise standard deviation divided by the clipping norm. */
  noiseMultiplier: number;
  /** Probability that an example (or client) took part in the step. */
  sampleRate: number;
}

/** Consecutive identical steps, merged. */
export interface HistoryEntry extends PrivacyStep {
  /** How many times the step was taken. */
  steps: number;
}

/** The accounting methods this package implements. */
export type AccountantMechanism = 'rdp' | 'gdp';

/** A checkpoint of an accountant (Opacus's `state_dict`). */
export interface AccountantState {
  mechanism: AccountantMechanism;
  history: HistoryEntry[];
}

/** The common interface of {@link RDPAccountant} and {@link GaussianAccountant}. */
export interface PrivacyAccountant {
  /** The accounting method: 'rdp' or 'gdp'. */
  readonly mechanism: AccountantMechanism;
  /** The steps so far, consecutive identical steps merged. */
  history: HistoryEntry[];
  /** Records one step. */
  step(step: PrivacyStep): void;
  /** The epsilon spent so far at `delta`. */
  getEpsilon(delta: number): number;
  /** Total number of steps recorded. */
  readonly steps: number;
  /** A copy of the state, for checkpoints. */
  stateDict(): AccountantState;
  /** Restores a state from {@link stateDict}. */
  loadStateDict(state: AccountantState): void;
}

/** Validates one step's parameters. */
export function checkStep({ noiseMultiplier, sampleRate }: PrivacyStep): void {
  if (typeof noiseMultiplier !== 'number' || !(noiseMultiplier >= 0) || noiseMultiplier === Infinity) {
    throw new ValueError(`noiseMultiplier must be a finite number >= 0 (noise std / clipping norm), got ${noiseMultiplier}`);
  }
  if (typeof sampleRate !== 'number' || !(sampleRate >= 0 && sampleRate <= 1)) {
    throw new ValueError(`sampleRate must be in [0, 1] (batch size / dataset size under Poisson sampling), got ${sampleRate}`);
  }
}

/** Validates and copies a state dict's history for `mechanism`. */
export function readState(state: AccountantState | undefined, mechanism: AccountantMechanism): HistoryEntry[] {
  if (state === undefined || state === null || typeof state !== 'object') {
    throw new ValueError('loadStateDict needs the object stateDict() returned; got nothing');
  }
  if (!Array.isArray(state.history)) throw new ValueError('the state has no history array; pass what stateDict() returned');
  if (state.mechanism !== mechanism) {
    throw new ValueError(`a state of mechanism '${String(state.mechanism)}' cannot be loaded into a '${mechanism}' accountant`);
  }
  return state.history.map((e) => {
    checkStep(e);
    if (!Number.isSafeInteger(e.steps) || e.steps < 1) throw new ValueError(`history entry steps must be a positive integer, got ${e.steps}`);
    return { noiseMultiplier: e.noiseMultiplier, sampleRate: e.sampleRate, steps: e.steps };
  });
}
