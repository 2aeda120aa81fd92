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
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertReady } from '../backend.js';
import { UnsupportedOperationError } from '../errors.js';

type DType = 'float32' | 'int32' | 'bool';
type Backend = tf.KernelBackend & {
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: DType): tf.DataId;
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  numDataIds(): number;
};

/** An input: numbers with a shape (float32 unless said), or a number (a float32 scalar). */
export interface KernelInput {
  values: Float32Array | Int32Array | Uint8Array;
  shape: readonly number[];
  dtype?: DType;
}

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
  return Float32Array.from(values as ArrayLike<number>);
}

/**
 * Runs the tfjs kernel `name` (a kernel name, e.g. 'Add', 'BatchMatMul') on `inputs` with
 * `attrs`, returning every output. Nothing stays in tfjs afterwards.
 */
export function runKernels(name: string, inputs: Readonly<Record<string, KernelInput | number>>, attrs: object = {}): KernelOutput[] {
  assertReady();
  const engine = tf.engine();
  const backend = engine.backend as Backend;
  const config = kernelConfig(name, engine.backendName);
  const written: tf.DataId[] = [];
  const infos: Record<string, tf.TensorInfo> = {};
  let outs: tf.TensorInfo[] = [];
  try {
    for (const [k, v] of Object.entries(inputs)) {
      const input = typeof v === 'number' ? { values: Float32Array.of(v), shape: [] as number[], dtype: 'float32' as const } : v;
      const dtype = input.dtype ?? 'float32';
      const shape = [...input.shape];
      const dataId = backend.write(input.values, shape, dtype);
      written.push(dataId);
      infos[k] = { dataId, shape, dtype };
    }
    const r = config.kernelFunc({ inputs: infos, backend, attrs: attrs as tf.NamedAttrMap });
    outs = Array.isArray(r) ? r : [r];
    return outs.map((o) => ({ values: toFloat32(backend.readSync(o.dataId)), shape: [...o.shape] }));
  } finally {
    for (const id of written) backend.disposeData(id);
    for (const o of outs) backend.disposeData(o.dataId);
  }
}

/** {@link runKernels} for a kernel with one output. */
export function runKernel(name: string, inputs: Readonly<Record<string, KernelInput | number>>, attrs: object = {}): KernelOutput {
  return runKernels(name, inputs, attrs)[0]!;
}

/** How many data buffers the active backend holds (flat across ops: nothing leaks). */
export function liveKernelData(): number {
  return (tf.engine().backend as Backend).numDataIds();
}
