// Plain-loop reference implementations in float64 of the layers, written from their definitions
// (PyTorch's documentation), and a central finite-difference gradient over them. The layer tests
// compare syft-ts's forward passes and gradients with these.
import * as sy from '../../src/index.js';
import { SeededRandom } from '../../src/util/seeded.js';

export type Arr = Float64Array;

export interface Case {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

export function rng(seed: number): SeededRandom {
  return new SeededRandom(seed);
}

export function randArr(r: SeededRandom, n: number, lo = -1, hi = 1): Arr {
  return Float64Array.from({ length: n }, () => r.uniform(lo, hi));
}

export function tensorOf(a: Arr, shape: number[], opts: { requiresGrad?: boolean } = {}): sy.Tensor {
  return sy.tensor(Float32Array.from(a), { shape, ...opts });
}

export function values(t: sy.Tensor): Float64Array {
  return Float64Array.from([t.arraySync()].flat(Infinity as 1) as number[]);
}

/** out[n, o, i, j] = b[o] + sum_{c, ki, kj} w[o, c, ki, kj] x[n, c, i*sh - ph + ki, j*sw - pw + kj] (zeros outside). */
export function conv2dRef(x: Arr, w: Arr, b: Arr | undefined, k: Case): { out: Arr; oh: number; ow: number } {
  const oh = Math.floor((k.h + 2 * k.ph - k.kh) / k.sh) + 1;
  const ow = Math.floor((k.w + 2 * k.pw - k.kw) / k.sw) + 1;
  const out = new Float64Array(k.n * k.o * oh * ow);
  for (let n = 0; n < k.n; n++)
    for (let o = 0; o < k.o; o++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let s = b ? b[o]! : 0;
          for (let c = 0; c < k.c; c++)
            for (let a = 0; a < k.kh; a++)
              for (let d = 0; d < k.kw; d++) {
                const y = i * k.sh - k.ph + a;
                const z = j * k.sw - k.pw + d;
                if (y < 0 || y >= k.h || z < 0 || z >= k.w) continue;
                s += w[((o * k.c + c) * k.kh + a) * k.kw + d]! * x[((n * k.c + c) * k.h + y) * k.w + z]!;
              }
          out[((n * k.o + o) * oh + i) * ow + j] = s;
        }
  return { out, oh, ow };
}

/** Max (padding is -inf) or mean (padding zeros count) over each kh x kw window of each channel. */
export function pool2dRef(x: Arr, k: Case, mode: 'max' | 'avg'): { out: Arr; oh: number; ow: number } {
  const oh = Math.floor((k.h + 2 * k.ph - k.kh) / k.sh) + 1;
  const ow = Math.floor((k.w + 2 * k.pw - k.kw) / k.sw) + 1;
  const out = new Float64Array(k.n * k.c * oh * ow);
  for (let p = 0; p < k.n * k.c; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let m = -Infinity;
        let s = 0;
        for (let a = 0; a < k.kh; a++)
          for (let d = 0; d < k.kw; d++) {
            const y = i * k.sh - k.ph + a;
            const z = j * k.sw - k.pw + d;
            if (y < 0 || y >= k.h || z < 0 || z >= k.w) continue;
            const v = x[(p * k.h + y) * k.w + z]!;
            m = Math.max(m, v);
            s += v;
          }
        out[(p * oh + i) * ow + j] = mode === 'max' ? m : s / (k.kh * k.kw);
      }
  return { out, oh, ow };
}

/** Columns [N, C*kh*kw, L] of F.unfold. */
export function im2colRef(x: Arr, k: Case): Arr {
  const oh = Math.floor((k.h + 2 * k.ph - k.kh) / k.sh) + 1;
  const ow = Math.floor((k.w + 2 * k.pw - k.kw) / k.sw) + 1;
  const kk = k.c * k.kh * k.kw;
  const out = new Float64Array(k.n * kk * oh * ow);
  for (let n = 0; n < k.n; n++)
    for (let c = 0; c < k.c; c++)
      for (let a = 0; a < k.kh; a++)
        for (let d = 0; d < k.kw; d++)
          for (let i = 0; i < oh; i++)
            for (let j = 0; j < ow; j++) {
              const y = i * k.sh - k.ph + a;
              const z = j * k.sw - k.pw + d;
              const row = (c * k.kh + a) * k.kw + d;
              out[(n * kk + row) * oh * ow + i * ow + j] = y < 0 || y >= k.h || z < 0 || z >= k.w ? 0 : x[((n * k.c + c) * k.h + y) * k.w + z]!;
            }
  return out;
}

/** log-softmax (or softmax) of each row of [rows, cols]. */
export function softmaxRef(x: Arr, rows: number, cols: number, log: boolean): Arr {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c]! - m);
    for (let c = 0; c < cols; c++) out[r * cols + c] = log ? x[r * cols + c]! - m - Math.log(s) : Math.exp(x[r * cols + c]! - m) / s;
  }
  return out;
}

/**
 * d/d(inputs[i]) of sum(f(inputs) * weights) by central differences in float64, for every
 * element of every input.
 */
export function finiteDiff(f: (inputs: Arr[]) => Arr, inputs: Arr[], weights: Arr, h = 1e-5): Arr[] {
  const loss = (ins: Arr[]) => f(ins).reduce((s, v, i) => s + v * weights[i]!, 0);
  return inputs.map((x) => {
    const g = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const keep = x[i]!;
      x[i] = keep + h;
      const up = loss(inputs);
      x[i] = keep - h;
      const down = loss(inputs);
      x[i] = keep;
      g[i] = (up - down) / (2 * h);
    }
    return g;
  });
}

/** Largest |a - b| relative to max(1, |b|). */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < b.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return a.length === b.length ? e : Infinity;
}

/** A random convolution case: small shapes, strides 1-3, paddings up to half the kernel. */
export function randomCase(r: SeededRandom): Case {
  const int = (lo: number, hi: number) => lo + Math.floor(r.next() * (hi - lo + 1));
  const kh = int(1, 4);
  const kw = int(1, 4);
  const ph = int(0, Math.floor(kh / 2));
  const pw = int(0, Math.floor(kw / 2));
  return { n: int(1, 3), c: int(1, 3), o: int(1, 4), kh, kw, sh: int(1, 3), sw: int(1, 3), ph, pw, h: int(kh, kh + 6), w: int(kw, kw + 6) };
}
