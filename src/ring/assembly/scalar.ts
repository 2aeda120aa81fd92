// Entry point of the scalar build (no SIMD). Exports the same names as simd.ts.
export { scratchBase } from './scratch';
export { add, sub, mul } from './elementwise';
export { shiftRight, shiftRightLogical, shiftLeft } from './shift';
export { divFloor } from './divide';
export { sum } from './reduce';
export { bitPlanes } from './bits';
export { matmul, matmulScratchBytes } from './matmul-scalar';
