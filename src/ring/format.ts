// PyTorch-style printing: tensor([[ 1, -2],
//                                 [30,  4]])
import { stridesOf } from '../shapes.js';

// As torch.set_printoptions defaults: summarize above 1000 elements, 3 items at each edge.
const THRESHOLD = 1000;
const EDGE = 3;

export function formatTensor(shape: readonly number[], data: BigInt64Array): string {
  if (shape.length === 0) return `tensor(${data[0]})`;
  if (data.length === 0) return shape.length === 1 ? 'tensor([])' : `tensor([], size=(${shape.join(', ')}))`;
  const summarize = data.length > THRESHOLD;
  const strides = stridesOf(shape);
  const shown = (size: number): number[] =>
    summarize && size > 2 * EDGE
      ? [...Array.from({ length: EDGE }, (_, i) => i), -1, ...Array.from({ length: EDGE }, (_, i) => size - EDGE + i)]
      : Array.from({ length: size }, (_, i) => i);

  // First pass: the widest printed number, so columns line up as in PyTorch.
  let width = 0;
  const measure = (dim: number, offset: number): void => {
    for (const i of shown(shape[dim])) {
      if (i < 0) continue;
      if (dim === shape.length - 1) width = Math.max(width, String(data[offset + i]).length);
      else measure(dim + 1, offset + i * strides[dim]);
    }
  };
  measure(0, 0);

  const indent = 'tensor('.length;
  const render = (dim: number, offset: number): string => {
    const items = shown(shape[dim]);
    if (dim === shape.length - 1) {
      return `[${items.map((i) => (i < 0 ? '...' : String(data[offset + i]).padStart(width))).join(', ')}]`;
    }
    const sep = `,${'\n'.repeat(shape.length - 1 - dim)}${' '.repeat(indent + dim + 1)}`;
    return `[${items.map((i) => (i < 0 ? '...' : render(dim + 1, offset + i * strides[dim]))).join(sep)}]`;
  };
  return `tensor(${render(0, 0)})`;
}
