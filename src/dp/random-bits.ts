// Uniform 32-bit words for the noise samplers, read from a 64 KiB buffer that is refilled from
// the project's CSPRNG (ring/random.ts: node:crypto randomFillSync in Node, getRandomValues in
// browsers). Every word is used at most once; used words stay in the buffer until the next refill
// overwrites them (zeroing each one cost a fifth of the sampler's time). A test or a
// reproducibility check can pass its own fill function; the samplers are then a deterministic
// function of the bytes it supplies.
import { fillRandom } from '../ring/random.js';

/** Fills a byte array with random bytes (the CSPRNG by default). */
export type RandomFill = (bytes: Uint8Array) => void;

const POOL_WORDS = 16384;

/** A stream of uniform 32-bit words from a {@link RandomFill}. */
export class RandomWords {
  private readonly pool = new Uint32Array(POOL_WORDS);
  private readonly bytes = new Uint8Array(this.pool.buffer);
  private next = POOL_WORDS;

  constructor(private readonly fill: RandomFill = fillRandom) {}

  /** The next uniform word in [0, 2^32). */
  word(): number {
    if (this.next === POOL_WORDS) {
      this.fill(this.bytes);
      this.next = 0;
    }
    return this.pool[this.next++]!;
  }

  /** A uniform integer in [0, n) for an integer 1 <= n <= 2^53, by rejection (exact). */
  below(n: number): number {
    if (n <= 1) return 0;
    if (n <= 0x100000000) {
      const limit = 0x100000000 - (0x100000000 % n);
      for (;;) {
        const w = this.word();
        if (w < limit) return w % n;
      }
    }
    const limit = 2 ** 53 - (2 ** 53 % n);
    for (;;) {
      const r = (this.word() & 0x1fffff) * 0x100000000 + this.word();
      if (r < limit) return r % n;
    }
  }
}
