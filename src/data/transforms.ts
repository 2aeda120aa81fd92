/**
 * Transforms of dataset items, as torchvision's: a transform maps one item (an image
 * `[C, H, W]`, a label) to its transformed value, and a dataset applies it when the item is read.
 *
 * The transforms here also carry `batch`, the same map applied to a batch of items stacked along
 * a new first dimension in one go. Loaders use it to transform a whole batch with one op (on a
 * worker, one command) instead of item by item; a plain function without it still works on local
 * data, item by item.
 *
 * @example
 * ```ts
 * const t = sy.transforms.compose([sy.transforms.normalize(0.1307, 0.3081), sy.transforms.flatten()]);
 * const dataset = new sy.BaseDataset(images, labels, { transform: t });
 * ```
 */
import { ValueError } from '../errors.js';
import { tensor } from '../factory.js';
import { Tensor } from '../tensor.js';

/** A map of one item; `batch`, when present, is the same map of a stack of items. */
export interface Transform {
  (item: Tensor): Tensor;
  /** The same transform applied to items stacked along a new first dimension, in one go. */
  readonly batch?: (items: Tensor) => Tensor;
}

function make(item: (x: Tensor) => Tensor, batch: (x: Tensor) => Tensor): Transform {
  return Object.assign((x: Tensor) => item(expectTensor(x)), { batch: (x: Tensor) => batch(expectTensor(x)) });
}

function expectTensor(x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`a transform takes a Tensor, got ${typeof x}`);
  return x;
}

function channels(v: number | readonly number[], what: string): number[] {
  const list = typeof v === 'number' ? [v] : Array.isArray(v) ? [...v] : [];
  if (list.length === 0 || !list.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new ValueError(`normalize: ${what} must be a finite number or a non-empty list of them, one per channel`);
  }
  return list;
}

/**
 * torchvision's `Normalize(mean, std)`: `(x - mean[c]) / std[c]` for each channel `c` of an item
 * `[C, ...]` (a batch: `[N, C, ...]`). One number, or a list of one, serves every channel and any
 * item shape, flattened or not. On a pointer the work happens on the worker.
 *
 * @example
 * ```ts
 * const t = sy.transforms.normalize([0.1307], [0.3081]);   // PySyft's MNIST figures
 * t(sy.tensor([[[0.1307, 1]]])).arraySync();                // [[[0, 2.8215...]]]
 * ```
 */
export function normalize(mean: number | readonly number[], std: number | readonly number[]): Transform {
  const m = channels(mean, 'mean');
  const s = channels(std, 'std');
  if (m.length !== s.length && m.length !== 1 && s.length !== 1) {
    throw new ValueError(`normalize: ${m.length} means and ${s.length} standard deviations; give one of each per channel`);
  }
  if (s.some((x) => x === 0)) throw new ValueError('normalize: a standard deviation of 0 would divide by zero');
  const c = Math.max(m.length, s.length);
  if (c === 1) return make((x) => x.sub(m[0]!).div(s[0]!), (x) => x.sub(m[0]!).div(s[0]!));
  // Per channel: constants of shape [C, 1, ..., 1] broadcast against an item [C, ...] and, from
  // the right, against a batch [N, C, ...] alike.
  const per = (x: Tensor, channelDim: number): Tensor => {
    if (x.shape[channelDim] !== c) {
      throw new ValueError(`normalize: ${c} channels given, but the ${channelDim === 0 ? 'item' : 'batch'} has shape [${x.shape.join(', ')}]`);
    }
    const shape = [c, ...x.shape.slice(channelDim + 1).map(() => 1)];
    const at = (t: Tensor) => (x.location ? t.send(x.location) : t);
    const mean = at(tensor(Array.from({ length: c }, (_, i) => m[m.length === 1 ? 0 : i]!), { shape }));
    const std = at(tensor(Array.from({ length: c }, (_, i) => s[s.length === 1 ? 0 : i]!), { shape }));
    return x.sub(mean).div(std);
  };
  return make((x) => per(x, 0), (x) => per(x, 1));
}

/**
 * Flattens an item to one dimension (`x.view(-1)`, as PySyft's tutorials do for MLPs): an image
 * `[1, 28, 28]` becomes `[784]`, a batch `[N, 1, 28, 28]` becomes `[N, 784]`.
 *
 * @example
 * ```ts
 * sy.transforms.flatten()(sy.zeros([1, 28, 28])).shape;   // [784]
 * ```
 */
export function flatten(): Transform {
  return make((x) => x.reshape([-1]), (x) => x.reshape([x.shape[0]!, -1]));
}

/**
 * Transforms applied one after the other (torchvision's `Compose`). The composition has `batch`
 * when every part has it.
 *
 * @example
 * ```ts
 * const t = sy.transforms.compose([sy.transforms.normalize(0.1307, 0.3081), sy.transforms.flatten()]);
 * ```
 */
export function compose(transforms: readonly Transform[]): Transform {
  if (!Array.isArray(transforms) || !transforms.every((t) => typeof t === 'function')) {
    throw new ValueError('compose takes an array of transforms (functions of a Tensor)');
  }
  const list = [...transforms];
  const item = (x: Tensor) => list.reduce((v, t) => t(v), x);
  if (!list.every((t) => typeof t.batch === 'function')) return item;
  return Object.assign(item, { batch: (x: Tensor) => list.reduce((v, t) => t.batch!(v), x) });
}
