// The plan checker reads an op's arguments as the worker's allow-list does (one decoder for both),
// so ops with optional tensors (conv2d's bias) and index lists (indexSelect) can be checked in a
// plan before it runs, and a bias or index that does not fit is refused there.
import { describe, expect, test } from 'vitest';
import { resultShapes } from '../../src/plans/plan-ops.js';
import type { WireValue } from '../../src/workers/messages.js';

// Tensors in a plan are referred to by name here; the checker only needs their shapes.
const shapes: Record<string, number[]> = { kernel: [20, 1, 5, 5], bias: [20], badBias: [7] };
const shapeOf = (v: WireValue | undefined) => (typeof v === 'string' ? shapes[v] : undefined);

describe('resultShapes for op-table commands', () => {
  test('conv2d with and without a bias', () => {
    expect(resultShapes('conv2d', [64, 1, 28, 28], ['kernel', 'bias', [1, 1], [0, 0]], shapeOf).results).toEqual([[64, 20, 24, 24]]);
    expect(resultShapes('conv2d', [64, 1, 28, 28], ['kernel', null, [1, 1], [0, 0]], shapeOf).results).toEqual([[64, 20, 24, 24]]);
    expect(() => resultShapes('conv2d', [64, 1, 28, 28], ['kernel', 'badBias', [1, 1], [0, 0]], shapeOf)).toThrow(/bias/);
  });

  test('indexSelect takes an Int32Array of indices and checks their range', () => {
    expect(resultShapes('indexSelect', [10, 4], [0, Int32Array.from([0, 9, 3])], shapeOf).results).toEqual([[3, 4]]);
    expect(() => resultShapes('indexSelect', [10, 4], [0, Int32Array.from([10])], shapeOf)).toThrow(/out of range/);
    expect(() => resultShapes('indexSelect', [10, 4], [0, [1, 2]], shapeOf)).toThrow(/Int32Array/);
  });
});
