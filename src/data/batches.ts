/**
 * Rows of flat arrays cut into local batches: what the encrypted-training tutorials feed their
 * models. Datasets with transforms and remote batches are BaseDataset and the loaders.
 */
import { ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { FloatTensor } from '../tensors/float.js';

export interface Batch {
  /** Inputs, `[size, features]`. */
  data: Tensor;
  /** Targets, `[size, ...]`. */
  target: Tensor;
  /** Index of the batch. */
  index: number;
}

/**
 * Splits rows of `data` (`rows x features`) and `target` (`rows x targetWidth`) into batches of
 * `batchSize` rows (the last one may be smaller unless `dropLast`).
 */
export function batches(
  data: Float32Array,
  features: number,
  target: Float32Array,
  targetWidth: number,
  batchSize: number,
  opts: { dropLast?: boolean } = {},
): Batch[] {
  const rows = data.length / features;
  if (!Number.isInteger(rows) || target.length !== rows * targetWidth) throw new ValueError('data and target do not have the same number of rows');
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`batchSize must be a positive integer, got ${batchSize}`);
  const out: Batch[] = [];
  for (let start = 0, index = 0; start < rows; start += batchSize, index++) {
    const n = Math.min(batchSize, rows - start);
    if (n < batchSize && opts.dropLast) break;
    out.push({
      data: new Tensor(new FloatTensor([n, features], data.slice(start * features, (start + n) * features))),
      target: new Tensor(new FloatTensor([n, targetWidth], target.slice(start * targetWidth, (start + n) * targetWidth))),
      index,
    });
  }
  return out;
}
