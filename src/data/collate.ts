/**
 * Stacking local items into a batch (PyTorch's `default_collate` for tensors): what a loader does
 * when a dataset's transform works item by item. Items must be local float or int64 tensors of one
 * shape; remote data is batched where it lives instead (see BaseDataset.batch).
 */
import { ValueError } from '../errors.js';
import { RingTensor } from '../ring/index.js';
import { sameShape, sizeOf } from '../shapes.js';
import { Tensor } from '../tensor.js';
import { AutogradTensor } from '../tensors/autograd.js';
import { FloatTensor } from '../tensors/float.js';

function leafOf(t: unknown, i: number): FloatTensor | RingTensor {
  if (!(t instanceof Tensor)) throw new ValueError(`item ${i} of the batch is not a Tensor (a transform must return a Tensor)`);
  const c = t.child instanceof AutogradTensor ? t.child.child : t.child;
  if (c instanceof FloatTensor || c instanceof RingTensor) return c;
  throw new ValueError(`item ${i} of the batch is a ${c.layerName}; only local float or int64 items can be stacked`);
}

/** Items of one shape stacked along a new first dimension: `n` items `[...s]` give `[n, ...s]`. */
export function stack(items: readonly Tensor[]): Tensor {
  if (items.length === 0) throw new ValueError('stack needs at least one item');
  const leaves = items.map(leafOf);
  const first = leaves[0]!;
  const size = sizeOf(first.shape);
  leaves.forEach((l, i) => {
    if (l.constructor !== first.constructor || !sameShape(l.shape, first.shape)) {
      throw new ValueError(`item ${i} is a ${l.layerName} [${l.shape.join(', ')}], item 0 a ${first.layerName} [${first.shape.join(', ')}]; a batch needs items of one kind and shape`);
    }
  });
  const shape = [items.length, ...first.shape];
  if (first instanceof FloatTensor) {
    const out = new Float32Array(items.length * size);
    leaves.forEach((l, i) => out.set((l as FloatTensor).values, i * size));
    return new Tensor(new FloatTensor(shape, out));
  }
  const out = new BigInt64Array(items.length * size);
  leaves.forEach((l, i) => out.set((l as RingTensor).data, i * size));
  return new Tensor(new RingTensor(shape, out));
}
