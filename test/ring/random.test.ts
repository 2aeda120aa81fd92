// Statistical checks of the CSPRNG path and the AES-CTR PRG, and the PRG's exact keystream.
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

async function webCryptoKeystream(seed: Uint8Array, n: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', seed as Uint8Array<ArrayBuffer>, 'AES-CTR', false, ['encrypt']);
  const out = await crypto.subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 128 }, key, new Uint8Array(n));
  return new Uint8Array(out);
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

  it('produces the AES-128-CTR keystream (known answer: AES_0(0) = 66e94bd4...)', async () => {
    const zeroKey = new Prg(new Uint8Array(16));
    expect(hex(zeroKey.bytesSync(16))).toBe('66e94bd4ef8a2c3b884cfa59ca342b2e');
  });

  it('equals an independent WebCrypto AES-CTR computation, on both backends, sync and async', async () => {
    const n = 300_001;
    const want = hex(await webCryptoKeystream(seed, n));
    expect(hex(new Prg(seed).bytesSync(n))).toBe(want);
    expect(hex(await new Prg(seed).bytes(n))).toBe(want);
    expect(hex(await new Prg(seed, { backend: 'webcrypto' }).bytes(n))).toBe(want);
    const ring = new Prg(seed).ringSync([n >> 3]);
    expect(hex(new Uint8Array(ring.data.buffer, ring.data.byteOffset, ring.data.byteLength))).toBe(want.slice(0, (n >> 3) * 16));
  });

  it('reads ring elements as little-endian 8-byte words', async () => {
    const bytes = new Prg(seed).bytesSync(16);
    const ring = await new Prg(seed).ring([2]);
    const word = (o: number): bigint => BigInt.asIntN(64, bytes.slice(o, o + 8).reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n));
    expect(Array.from(ring.data)).toEqual([word(0), word(8)]);
  });

  it('is deterministic per seed and differs across seeds', async () => {
    expect(new Prg(seed).ringSync([100]).equals(new Prg(seed).ringSync([100]))).toBe(true);
    expect((await new Prg(seed, { backend: 'webcrypto' }).ring([100])).equals(new Prg(seed).ringSync([100]))).toBe(true);
    const other = seed.slice();
    other[15] ^= 1;
    expect(new Prg(other).ringSync([100]).equals(new Prg(seed).ringSync([100]))).toBe(false);
    const a = Prg.randomSeed();
    const b = Prg.randomSeed();
    expect(a.length).toBe(16);
    expect(hex(a)).not.toBe(hex(b));
  });

  it('continues the stream across calls, at any alignment, mixing sync and async', async () => {
    const want = new Prg(seed).bytesSync(1000);
    for (const backend of ['node', 'webcrypto'] as const) {
      const p = new Prg(seed, { backend });
      const got = new Uint8Array(1000);
      let off = 0;
      for (const len of [3, 13, 16, 1, 0, 31, 200, 5]) {
        const chunk = backend === 'node' && len % 2 === 0 ? p.bytesSync(len) : await p.bytes(len);
        got.set(chunk, off);
        off += len;
      }
      expect(p.offset).toBe(off);
      const ring = backend === 'node' ? p.ringSync([10]) : await p.ring([10]);
      got.set(new Uint8Array(ring.data.buffer, ring.data.byteOffset, 80), off);
      off += 80;
      expect(hex(got.subarray(0, off)), backend).toBe(hex(want.subarray(0, off)));
    }
  });

  it('keeps concurrent async calls in call order', async () => {
    const want = new Prg(seed).bytesSync(48);
    for (const backend of ['node', 'webcrypto'] as const) {
      const p = new Prg(seed, { backend });
      const [x, y, z] = await Promise.all([p.bytes(16), p.bytes(16), p.bytes(16)]);
      expect(hex(x) + hex(y) + hex(z), backend).toBe(hex(want));
    }
  });

  it('is uniform over bytes, top bits and sign', () => {
    expectUniform(new Prg(Prg.randomSeed()).ringSync([256, 512]), 'Prg');
  });

  it('copies its seed and validates it', () => {
    const s = seed.slice();
    const p = new Prg(s);
    s.fill(0);
    expect(hex(p.bytesSync(32))).toBe(hex(new Prg(seed).bytesSync(32)));
    expect(() => new Prg(new Uint8Array(15))).toThrow(RingValueError);
    expect(() => new Prg(new Uint8Array(15))).toThrow(/16 bytes/);
    expect(() => new Prg(seed).bytesSync(-1)).toThrow(/non-negative integer/);
    expect(() => new Prg(seed, { backend: 'webcrypto' }).ringSync([1])).toThrow(/in browsers use await prg.ring/);
  });
});
