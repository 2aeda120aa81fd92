// How the workers hand out tensors without importing the tensor layer (src/workers/handles.ts):
// the registry the tensor layer fills, its clear error when it was never filled, and publish()
// taking a Tensor by its shape (not its class) and still refusing pointers.
import { describe, expect, test, vi } from 'vitest';
import * as sy from '../../src/index.js';

describe('handles', () => {
  test('without the tensor layer, asking for handles says what to import', async () => {
    vi.resetModules();
    const fresh = await import('../../src/workers/handles.js');
    const errors = await import('../../src/errors.js');
    expect(() => fresh.handles()).toThrow(errors.StateError);
    expect(() => fresh.handles()).toThrow(/import 'syft-ts'/);
    vi.resetModules();
  });

  test("a worker's objects view wraps tensor layers as Tensors and leaves other objects as they are", async () => {
    const bob = new sy.VirtualWorker({ id: 'handles-bob' });
    expect(bob.objects.size).toBe(0);
    const p = sy.tensor([1, 2]).send(bob);
    const [view] = [...bob.objects.values()];
    expect(view).toBeInstanceOf(sy.Tensor);
    expect((view as sy.Tensor).arraySync()).toEqual([1, 2]);
    p.dispose();
    await bob.sync();
  });

  test('publish() takes a local Tensor, and refuses pointers, bare layers and other values', async () => {
    const server = new sy.WebsocketServerWorker({ id: 'handles-owner' });
    const bob = new sy.VirtualWorker({ id: 'handles-bob2' });
    const id = server.publish('#rows', sy.tensor([[1, 2]]));
    expect(server.published('#rows')).toEqual([{ id, shape: [1, 2] }]);
    const pointer = sy.tensor([3]).send(bob);
    for (const bad of [pointer, sy.tensor([1]).child, 7, null, { child: {}, shape: [1] }]) {
      expect(() => server.publish('#rows', bad as sy.Tensor)).toThrow(/publish\(\) takes a tensor held in this process/);
    }
    expect(server.published('#rows')).toHaveLength(1);
    await server.close();
  });
});
