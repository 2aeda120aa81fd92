/**
 * Printing tensors the way PyTorch does — `tensor([0.1000, 0.2000])`, `tensor([1., 2.])`,
 * `tensor(1.4823)` — so that the seed lessons' outputs read the same in syft-ts.
 */
import type { Shape } from '../shapes.js';

const SUMMARY_THRESHOLD = 1000;
const EDGE_ITEMS = 3;

type Formatter = (v: number | bigint) => string;

function floatFormatter(values: ArrayLike<number>): Formatter {
  let allInt = true;
  let maxAbs = 0;
  let minAbs = Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (!Number.isInteger(v)) allInt = false;
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    if (a > 0 && a < minAbs) minAbs = a;
  }
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  if (allInt && maxAbs < 1e8) {
    return (v) => (Number.isFinite(v as number) ? `${(v as number).toFixed(0)}.` : special(v as number));
  }
  if (maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity) || (maxAbs / minAbs > 1e3 && minAbs < 1e-2)) {
    return (v) => {
      const n = v as number;
      if (!Number.isFinite(n)) return special(n);
      const [m, e] = n.toExponential(4).split('e') as [string, string];
      const exp = Number(e);
      return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    };
  }
  return (v) => (Number.isFinite(v as number) ? (v as number).toFixed(4) : special(v as number));
}

function render(shape: Shape, get: (i: number) => number | bigint, fmt: Formatter, size: number): string {
  const summarize = size > SUMMARY_THRESHOLD;
  // Format every printed element first so that columns line up as PyTorch aligns them.
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const pick = (n: number): number[] =>
    summarize && n > 2 * EDGE_ITEMS
      ? [...Array.from({ length: EDGE_ITEMS }, (_, i) => i), -1, ...Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i)]
      : Array.from({ length: n }, (_, i) => i);
  const cells: string[] = [];
  const walk = (d: number, offset: number): void => {
    if (d === shape.length) {
      cells.push(fmt(get(offset)));
      return;
    }
    for (const i of pick(shape[d]!)) if (i >= 0) walk(d + 1, offset + i * strides[d]!);
  };
  walk(0, 0);
  const width = cells.reduce((w, c) => Math.max(w, c.length), 0);
  let k = 0;
  const build = (d: number, indent: number): string => {
    if (d === shape.length) return cells[k++]!.padStart(width);
    const parts: string[] = [];
    for (const i of pick(shape[d]!)) parts.push(i < 0 ? '...' : build(d + 1, indent + 1));
    const sep = d === shape.length - 1 ? ', ' : ',' + '\n'.repeat(shape.length - d - 1) + ' '.repeat(indent + 1);
    return `[${parts.join(sep)}]`;
  };
  return build(0, 'tensor('.length);
}

/** PyTorch-style text for a float tensor. */
export function formatFloat(shape: Shape, values: ArrayLike<number>): string {
  if (shape.length === 0) return `tensor(${floatFormatter(values)(values[0]!)})`;
  if (values.length === 0) return `tensor([], size=(${shape.join(', ')}))`;
  return `tensor(${render(shape, (i) => values[i]!, floatFormatter(values), values.length)})`;
}

/** PyTorch-style text for an integer tensor. */
export function formatInt(shape: Shape, values: ArrayLike<bigint>): string {
  const fmt: Formatter = (v) => String(v);
  if (shape.length === 0) return `tensor(${String(values[0])})`;
  if (values.length === 0) return `tensor([], size=(${shape.join(', ')}), dtype=int64)`;
  return `tensor(${render(shape, (i) => values[i]!, fmt, values.length)})`;
}
