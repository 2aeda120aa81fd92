// Entry point of the SIMD build (asc --enable simd). Exports the same names as scalar.ts.
export { scratchBase } from './scratch';
export { add, sub, mul } from './elementwise';
export { shiftRight, shiftRightLogical, shiftLeft } from './shift';
export { divFloor } from './divide';
export { sum } from './reduce';
export { bitPlanes } from './bits';
export { matmul, matmulBlock, matmulScratchBytes } from './matmul-simd';
