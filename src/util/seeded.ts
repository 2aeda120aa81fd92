/**
 * A small seeded generator (xoshiro128**) for reproducible, non-secret randomness: weight
 * initialisation and data shuffling, as `torch.manual_seed` controls. Shares, masks, keys and ids
 * never come from here; they use the CSPRNG or the ChaCha20 PRG of the ring engine.
 */
import { ValueError } from '../errors.js';

/**
 * A seeded generator of uniform and normal numbers, for data and initial weights that must come
 * out the same on every run. Not for secrets: those use the CSPRNG.
 *
 * @example
 * ```ts
 * const rng = new sy.utils.SeededRandom(1);
 * const noise = Array.from({ length: 4 }, () => rng.normal()); // the same four numbers every run
 * ```
 */
export class SeededRandom {
  private s = new Uint32Array(4);

  /** A generator seeded with `seed`, or from the CSPRNG when no seed is given. */
  constructor(seed?: number) {
    if (seed === undefined) {
      crypto.getRandomValues(this.s);
      if (this.s.every((x) => x === 0)) this.s[0] = 1;
    } else {
      if (!Number.isSafeInteger(seed)) throw new ValueError(`a seed must be a safe integer, got ${seed}`);
      // splitmix32 spreads the seed over the whole state.
      let x = seed >>> 0 ^ Math.floor(seed / 2 ** 32);
      for (let i = 0; i < 4; i++) {
        x = (x + 0x9e3779b9) | 0;
        let z = x;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
        this.s[i] = (z ^ (z >>> 16)) >>> 0;
      }
    }
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return (this.nextUint32() * 2 ** 21 + (this.nextUint32() >>> 11)) / 2 ** 53;
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

let global = new SeededRandom();

/** Seeds the generator behind weight initialisation and `sy.randn`/`sy.rand` (PyTorch's `manual_seed`). */
export function manualSeed(seed: number): void {
  global = new SeededRandom(seed);
}

export function globalRandom(): SeededRandom {
  return global;
}
