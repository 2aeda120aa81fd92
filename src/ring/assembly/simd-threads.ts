// Entry point of the shared-memory SIMD build (asc --enable simd,threads --importMemory
// --sharedMemory): the SIMD build's exports plus the block-claiming matmul of the thread pool.
export * from './simd';
export { matmulClaim } from './matmul-shared';
