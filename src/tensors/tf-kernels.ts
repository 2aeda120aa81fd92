/**
 * tfjs kernels called directly on the active backend, past tfjs's engine.
 *
 * Float tensors keep their numbers in ordinary typed arrays (see src/tensors/float.ts for why),
 * so every kernel call writes its inputs into the backend, runs, reads the result back and frees
 * everything it wrote. Through tfjs's public ops that round trip also pays for the engine: a tidy
 * scope, a tracked tf.Tensor per input and output, the kernel registry lookup, profiling and
 * gradient-tape checks — about half the cost of a small op (2.5 us against 5 us for an add of
 * 640 floats on wasm). Here a call is: write inputs, run the kernel function, read the output,
 * dispose, in a try/finally, so nothing outlives the call whether the kernel succeeds or throws
 * (`liveKernelData()` lets tests check it).
 *
 * Layout changes around a kernel (NCHW to NHWC, im2col columns, transposes) can be written
 * straight into the backend's memory (`fill`) and its result read in place (`consume`): on the
 * wasm backend that saves a temporary array and a copy each way, and fresh multi-megabyte arrays
 * are not free here — first touches of new pages measured 0.2-1.5 ms per 3 MB.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertReady } from '../backend.js';
import { UnsupportedOperationError } from '../errors.js';
import { sizeOf } from '../shapes.js';

type DType = 'float32' | 'int32' | 'bool';
type Backend = tf.KernelBackend & {
  write(values: tf.backend_util.BackendValues | null, shape: number[], dtype: DType): tf.DataId;
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  numDataIds(): number;
  /** wasm only: a view of a tensor's numbers in the module's memory. */
  typedArrayFromHeap?(info: tf.TensorInfo): Float32Array;
};

/**
 * An input: numbers with a shape (float32 unless said), a float32 input written in place by
 * `fill` (which gets an array of the shape's size, not zeroed, and must write every element,
 * synchronously), or a number (a float32 scalar).
 */
export type KernelInput =
  | { values: Float32Array | Int32Array | Uint8Array; shape: readonly number[]; dtype?: DType }
  | { fill: (view: Float32Array) => void; shape: readonly number[] };

/** A kernel's result as float32 (integer and boolean results are converted). */
export interface KernelOutput {
  values: Float32Array;
  shape: number[];
}

const configs = new Map<string, tf.KernelConfig>();

function kernelConfig(name: string, backendName: string): tf.KernelConfig {
  const key = `${backendName}/${name}`;
  let c = configs.get(key);
  if (!c) {
    c = tf.getKernel(name, backendName);
    if (!c) throw new UnsupportedOperationError(`the tfjs '${backendName}' backend has no '${name}' kernel`);
    configs.set(key, c);
  }
  return c;
}

function toFloat32(values: tf.backend_util.BackendValues): Float32Array {
  if (values instanceof Float32Array) return values;
  return new Float32Array(values as Int32Array | Uint8Array);
}

/**
 * Runs the tfjs kernel `name` (a kernel name, e.g. 'Add', 'BatchMatMul') on `inputs` with
 * `attrs`. `consume` reads the first output and its result is returned; when `borrowed`, the
 * array is the backend's memory, valid during the call only. Nothing stays in tfjs.
 */
export function withKernel<T>(
  name: string,
  inputs: Readonly<Record<string, KernelInput | number>>,
  attrs: object,
  consume: (out: Float32Array, shape: number[], borrowed: boolean) => T,
): T {
  assertReady();
  const engine = tf.engine();
  const backend = engine.backend as Backend;
  const config = kernelConfig(name, engine.backendName);
  const heap = typeof backend.typedArrayFromHeap === 'function';
  const written: tf.DataId[] = [];
  const infos: Record<string, tf.TensorInfo> = {};
  let outs: tf.TensorInfo[] = [];
  try {
    for (const [k, v] of Object.entries(inputs)) {
      const shape = typeof v === 'number' ? [] : [...v.shape];
      let dataId: tf.DataId;
      let dtype: DType = 'float32';
      if (typeof v === 'number') {
        dataId = backend.write(Float32Array.of(v), shape, 'float32');
      } else if ('fill' in v) {
        if (heap) {
          dataId = backend.write(null, shape, 'float32');
          written.push(dataId);
          v.fill(backend.typedArrayFromHeap!({ dataId, shape, dtype: 'float32' }));
          infos[k] = { dataId, shape, dtype };
          continue;
        }
        const values = new Float32Array(sizeOf(shape));
        v.fill(values);
        dataId = backend.write(values, shape, 'float32');
      } else {
        dtype = v.dtype ?? 'float32';
        dataId = backend.write(v.values, shape, dtype);
      }
      written.push(dataId);
      infos[k] = { dataId, shape, dtype };
    }
    const r = config.kernelFunc({ inputs: infos, backend, attrs: attrs as tf.NamedAttrMap });
    outs = Array.isArray(r) ? r : [r];
    const o = outs[0]!;
    // On wasm the result is read where it lies (borrowed: copy what must outlive the call); other
    // backends hand over their own array, which nothing uses once it is disposed.
    const borrowed = heap && o.dtype === 'float32';
    const values = borrowed ? backend.typedArrayFromHeap!(o) : toFloat32(backend.readSync(o.dataId));
    return consume(values, [...o.shape], borrowed);
  } finally {
    for (const id of written) backend.disposeData(id);
    for (const o of outs) backend.disposeData(o.dataId);
  }
}

/** Runs the tfjs kernel `name` and returns its first output as a new array. */
export function runKernel(name: string, inputs: Readonly<Record<string, KernelInput | number>>, attrs: object = {}): KernelOutput {
  return withKernel(name, inputs, attrs, (v, shape, borrowed) => ({ values: borrowed ? v.slice() : v, shape }));
}

/** How many data buffers the active backend holds (flat across ops: nothing leaks). */
export function liveKernelData(): number {
  return (tf.engine().backend as Backend).numDataIds();
}
