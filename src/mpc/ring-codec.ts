/**
 * RingTensors — the protocols' currency, every share a worker holds — travel as their shape and
 * raw 64-bit words (a binary blob on the wire). The ring engine stays free of worker code, so
 * its codec lives here, with the protocols.
 */
import { RingTensor } from '../ring/index.js';
import { type Codec, expectFields, expectShape, expectTyped } from '../workers/codec.js';
import { sizeOf } from '../shapes.js';

export const ringCodec: Codec<RingTensor> = {
  type: 'ring',
  cls: RingTensor,
  encode: (t) => ({ type: 'ring', shape: [...t.shape], data: t.data }),
  decode(node) {
    expectFields(node, ['shape', 'data']);
    const shape = expectShape('ring', node.shape);
    return new RingTensor(shape, expectTyped('ring', node.data, BigInt64Array, sizeOf(shape)));
  },
};
