/**
 * RingTensors travel as their shape and raw 64-bit words (a binary blob on the wire). The ring
 * engine stays free of worker code; its codec lives here, with the other layers'.
 */
import { RingTensor } from '../ring/index.js';
import { expectFields, expectShape, expectTyped, registerCodec } from '../workers/codec.js';
import { sizeOf } from '../shapes.js';

registerCodec<RingTensor>({
  type: 'ring',
  cls: RingTensor,
  encode: (t) => ({ type: 'ring', shape: [...t.shape], data: t.data }),
  decode(node) {
    expectFields(node, ['shape', 'data']);
    const shape = expectShape('ring', node.shape);
    return new RingTensor(shape, expectTyped('ring', node.data, BigInt64Array, sizeOf(shape)));
  },
});
