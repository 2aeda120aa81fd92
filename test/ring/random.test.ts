// Statistical checks of the CSPRNG path and the seeded ChaCha20 PRG, and the PRG's exact keystream on every backend.
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Prg, RingTensor, RingValueError, randomRing } from '../../src/ring/index.js';

// Chi-square bounds for 255 degrees of freedom at p = 1e-6 in each tail (Wilson-Hilferty):
// a healthy generator fails one of these about once in a million runs. The lower bound catches
// output that is too even to be random (a counter, a repeated block).
const Z = 4.753;
const DF = 255;
const wh = (z: number): number => DF * (1 - 2 / (9 * DF) + z * Math.sqrt(2 / (9 * DF))) ** 3;
const CHI_LOW = wh(-Z);
const CHI_HIGH = wh(Z);

function chiSquare(counts: number[], total: number): number {
  const expected = total / counts.length;
  return counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
}

function byteHistogram(bytes: Uint8Array): number[] {
  const counts = new Array<number>(256).fill(0);
  for (const b of bytes) counts[b]++;
  return counts;
}

/** Histogram of the top 8 bits of each 64-bit element. */
function topByteHistogram(t: RingTensor): number[] {
  const counts = new Array<number>(256).fill(0);
  for (const v of t.data) counts[Number(BigInt.asUintN(64, v) >> 56n)]++;
  return counts;
}

function expectUniform(t: RingTensor, what: string): void {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const chiBytes = chiSquare(byteHistogram(bytes), bytes.length);
  expect(chiBytes, `${what}: chi-square of bytes`).toBeGreaterThan(CHI_LOW);
  expect(chiBytes, `${what}: chi-square of bytes`).toBeLessThan(CHI_HIGH);
  const chiTop = chiSquare(topByteHistogram(t), t.size);
  expect(chiTop, `${what}: chi-square of the top 8 bits`).toBeGreaterThan(CHI_LOW);
  expect(chiTop, `${what}: chi-square of the top 8 bits`).toBeLessThan(CHI_HIGH);
  // The sign bit: negatives are a binomial(n, 1/2) count; allow 6 standard deviations.
  const negatives = t.data.reduce((acc, v) => acc + (v < 0n ? 1 : 0), 0);
  expect(Math.abs(negatives - t.size / 2)).toBeLessThan(6 * Math.sqrt(t.size / 4));
}

// An independent reference: node:crypto's 'chacha20' cipher under key = seed ‖ seed from block 0.
function nodeChaChaKeystream(seed: Uint8Array, n: number): Uint8Array {
  const key = Buffer.concat([seed, seed]);
  return createCipheriv('chacha20', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('randomRing', () => {
  it('is uniform over bytes, top bits and sign', () => {
    const t = randomRing([256, 512]);
    expect(t.shape).toEqual([256, 512]);
    expectUniform(t, 'randomRing');
  });

  it('is uniform when built from many small calls too', () => {
    const parts = Array.from({ length: 2048 }, () => randomRing([64]));
    expectUniform(RingTensor.concat(parts), 'randomRing small calls');
  });

  it('never repeats and handles empty and scalar shapes', () => {
    expect(randomRing([4]).equals(randomRing([4]))).toBe(false);
    expect(randomRing([0, 3]).size).toBe(0);
    expect(randomRing([]).shape).toEqual([]);
  });
});

describe('Prg', () => {
  const seed = Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff);
  const backends = ['node', 'wasm', 'js'] as const;

  it('produces the ChaCha20 keystream (RFC 8439 A.1 vectors 1 and 2: zero key, blocks 0 and 1)', () => {
    const want =
      '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586' +
      '9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f';
    for (const backend of backends) expect(hex(new Prg(new Uint8Array(16), { backend }).bytesSync(128)), backend).toBe(want);
  });

  it('equals node:crypto chacha20 under key seed ‖ seed, on every backend, sync and async', async () => {
    const n = 300_001;
    const want = hex(nodeChaChaKeystream(seed, n));
    for (const backend of backends) {
      expect(hex(new Prg(seed, { backend }).bytesSync(n)), backend).toBe(want);
      expect(hex(await new Prg(seed, { backend }).bytes(n)), backend).toBe(want);
    }
    const ring = new Prg(seed).ringSync([n >> 3]);
    expect(hex(new Uint8Array(ring.data.buffer, ring.data.byteOffset, ring.data.byteLength))).toBe(want.slice(0, (n >> 3) * 16));
  });

  it('defaults to node:crypto in Node and to wasm without it', () => {
    expect(new Prg(seed).backend).toBe('node');
    expect(new Prg(seed, { backend: 'wasm' }).backend).toBe('wasm');
  });

  it('reads ring elements as little-endian words of the stream', async () => {
    const bytes = new Prg(seed).bytesSync(16);
    const ring = await new Prg(seed).ring([2]);
    const word = (o: number): bigint => BigInt.asIntN(64, bytes.slice(o, o + 8).reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n));
    expect(Array.from(ring.data)).toEqual([word(0), word(8)]);
  });

  it('is deterministic per seed and differs across seeds', async () => {
    expect(new Prg(seed).ringSync([100]).equals(new Prg(seed).ringSync([100]))).toBe(true);
    expect((await new Prg(seed, { backend: 'wasm' }).ring([100])).equals(new Prg(seed).ringSync([100]))).toBe(true);
    const other = seed.slice();
    other[15] ^= 1;
    expect(new Prg(other).ringSync([100]).equals(new Prg(seed).ringSync([100]))).toBe(false);
    const a = Prg.randomSeed();
    const b = Prg.randomSeed();
    expect(a.length).toBe(16);
    expect(hex(a)).not.toBe(hex(b));
  });

  it('continues the stream across calls of any length, on every backend', () => {
    const want = new Prg(seed).bytesSync(1000);
    for (const backend of backends) {
      const p = new Prg(seed, { backend });
      const got = new Uint8Array(1000);
      let off = 0;
      for (const len of [3, 13, 64, 1, 0, 61, 200, 5, 128, 7]) {
        got.set(p.bytesSync(len), off);
        off += len;
      }
      got.set(p.bytesSync(1000 - off), off);
      expect(p.offset).toBe(1000);
      expect(hex(got), backend).toBe(hex(want));
    }
  });

  it('gives concurrent async calls consecutive ranges in call order', async () => {
    const want = new Prg(seed).bytesSync(48);
    for (const backend of backends) {
      const p = new Prg(seed, { backend });
      const [x, y, z] = await Promise.all([p.bytes(16), p.bytes(16), p.bytes(16)]);
      expect(hex(x) + hex(y) + hex(z), backend).toBe(hex(want));
    }
  });

  it('is uniform', () => {
    expectUniform(new Prg(Prg.randomSeed()).ringSync([256, 512]), 'Prg');
    expectUniform(new Prg(Prg.randomSeed(), { backend: 'wasm' }).ringSync([256, 512]), 'Prg wasm');
  });

  it('copies its seed and validates it', () => {
    const s = seed.slice();
    const p = new Prg(s);
    s.fill(0);
    expect(hex(p.bytesSync(32))).toBe(hex(new Prg(seed).bytesSync(32)));
    expect(() => new Prg(new Uint8Array(15))).toThrow(RingValueError);
    expect(() => new Prg(new Uint8Array(15))).toThrow(/16 bytes/);
    expect(() => new Prg(seed).bytesSync(-1)).toThrow(/non-negative integer/);
    expect(() => new Prg(seed, { backend: 'webcrypto' as never })).toThrow(/unknown backend 'webcrypto'; use 'node', 'wasm' or 'js'/);
  });
});
