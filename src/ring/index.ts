/**
 * The ring engine: tensors over Z_2^64 (where secret shares live), their kernels (WebAssembly
 * SIMD, scalar wasm, or plain BigInt JavaScript), fixed-point encoding and randomness.
 *
 * @example
 * ```ts
 * import { initRing, RingTensor, randomRing, encodeFixed, decodeFixed } from './ring/index.js';
 * await initRing();
 * const x = encodeFixed([0.5, -1.25], [2], { base: 10, precisionFractional: 3 });
 * const r = randomRing([2]);
 * const shares = [r, x.sub(r)];                       // additive shares of x
 * decodeFixed(shares[0].add(shares[1]), { base: 10, precisionFractional: 3 }); // [0.5, -1.25]
 * ```
 */
export { RingTensor, type RingOperand, type Im2colOptions } from './ring-tensor.js';
export { randomRing } from './random.js';
export { Prg, warmPrg, type PrgBackend } from './prg.js';
export { encodeFixed, decodeFixed, type FixedPointOptions } from './fixed-point.js';
export { initRing, ringEngine, type RingEngineInfo, type RingEngineName } from './engine.js';
export type { RingInitOptions } from './engine.js';
export { bitPlanes, planeWords } from './bit-planes.js';
export { RingShapeError, RingValueError, FixedPointOverflowError, RingEngineError } from './errors.js';
