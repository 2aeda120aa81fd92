// The federated loader over real sockets: a dataset federated to two WebSocket workers yields,
// for one seed, the same batches as over virtual workers (indices cross the wire as an Int32Array
// and the gathers run on the servers).
import { afterEach, describe, expect, test } from 'vitest';
import { TestNet, sy } from '../websocket/helpers/net.js';

function dataset(): sy.BaseDataset {
  const n = 23;
  const data = sy.tensor(Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i)), { shape: [n, 1, 2, 2] });
  return new sy.BaseDataset(data, sy.tensor(Array.from({ length: n }, (_, i) => i % 10), { dtype: 'int64' }), {
    transform: sy.transforms.normalize(0.1, 0.3),
  });
}

async function epoch(loader: sy.FederatedDataLoader): Promise<[string, unknown, unknown][]> {
  const out: [string, unknown, unknown][] = [];
  for (const [x, y] of loader) out.push([x.location!.id, (await x.get()).arraySync(), (await y.get()).arraySync()]);
  return out;
}

describe('FederatedDataLoader over websockets', () => {
  const net = new TestNet();
  afterEach(() => net.close());

  test('the same batches as over virtual workers, for the same seed', async () => {
    const { server: bobServer, client: bob } = await net.pair('bob');
    const { server: aliceServer, client: alice } = await net.pair('alice');
    const remote = dataset().federate([bob, alice]);
    const virtual = dataset().federate([new sy.VirtualWorker({ id: 'bob' }), new sy.VirtualWorker({ id: 'alice' })]);
    const opts = { batchSize: 5, shuffle: true, seed: 11 };
    const a = new sy.FederatedDataLoader(remote, opts);
    const b = new sy.FederatedDataLoader(virtual, opts);
    for (let e = 0; e < 2; e++) {
      const [overSockets, inProcess] = [await epoch(a), await epoch(b)];
      expect(overSockets.map(([w]) => w)).toEqual(['bob', 'bob', 'bob', 'alice', 'alice', 'alice']);
      expect(overSockets).toEqual(inProcess);
    }
    await Promise.all([bob.sync(), alice.sync()]);
    expect([bobServer.objectCount, aliceServer.objectCount]).toEqual([2, 2]);
  });
});
