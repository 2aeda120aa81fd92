// Tags and search over WebSocket workers: the same AND search as virtual and thread workers
// (src/workers/tags.ts), over a worker's published data and a client's own tagged tensors, never
// another client's; the published-data policy holds (a searcher computes on published data by
// pointer, and cannot fetch, move, re-tag or change it); pointer chains through a network worker
// are refused with what to do instead.
import { afterEach, describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { TestNet } from './helpers/net.js';

const flat = (t: sy.Tensor) => (t.arraySync() as number[]).flat(3);

describe('tags and search over WebSocket workers', () => {
  const net = new TestNet();
  afterEach(() => net.close());

  test("a client's search is an AND of tags over the owner's published data and its own tensors", async () => {
    const server = await net.server('tags-hospital');
    const a = await net.client(server);
    // Another identity (objects belong to the identity that made them, not to a connection).
    const b = await net.client(server, { owner: new sy.VirtualWorker({ id: 'tags-other-client' }) });
    const pub = server.publish('#records', sy.tensor([[1, 2], [3, 4]]).tag('#2020').describe('admissions'));
    const mine = net.hold(sy.tensor([5, 6]).tag('#mine', '#train').describe('my rows').send(a))[0];
    sy.tensor([7]).tag('#mine').send(a);
    const theirs = net.hold(sy.tensor([8]).tag('#mine', '#train').send(b))[0];

    const [found, ...none] = await a.search(['#mine', '#train']);
    expect(none).toEqual([]);
    expect(found!.idAtLocation).toBe(mine.idAtLocation); // not b's, though it carries the same tags
    expect(found!.location).toBe(a);
    expect(found!.tags).toEqual(['#mine', '#train']);
    expect(found!.description).toBe('my rows');
    expect(await a.search('#mine')).toHaveLength(2);
    expect((await b.search(['#mine', '#train'])).map((t) => t.idAtLocation)).toEqual([theirs.idAtLocation]);

    // Published data: its tag, and the tags it already carried, for every client.
    for (const c of [a, b]) {
      const [records] = await c.search(['#records', '#2020']);
      expect(records!.idAtLocation).toBe(pub);
      expect(records!.description).toBe('admissions');
      expect(flat(await records!.sum(1).get())).toEqual([3, 7]);
    }
    expect(await a.search(['#records', '#mine'])).toEqual([]);
    // Every tagged tensor the client may see: its two, and the published one.
    expect(await a.search([])).toHaveLength(3);
    expect(server.published('#records')).toEqual([{ id: pub, shape: [2, 2] }]);
  });

  test('found pointers are borrowed; the published data cannot be fetched, re-tagged or changed', async () => {
    const server = await net.server('tags-owner');
    const client = await net.client(server);
    const id = server.publish('#data', sy.tensor([1, 2, 3]));
    const [p] = await client.search('#data');
    p!.dispose();
    await client.sync();
    expect(server.objectIds()).toEqual([id]);
    const [q] = await client.search('#data');
    const before = server.rejected;
    q!.tag('#taken');
    q!.add_(1);
    await client.sync();
    expect(server.rejected - before).toBe(2);
    expect(String(client.lastRejection?.message)).toMatch(/published .*cannot be changed in place \('assign_'\)/);
    expect(await client.search('#taken')).toEqual([]);
    await expect(q!.get()).rejects.toThrow(/PermissionError: object \d+ is data that worker 'tags-owner' published/);
    const [r] = await client.search('#data');
    expect(flat(await r!.copy().get())).toEqual([1, 2, 3]);
    // A client tags its own tensors on the worker freely.
    const own = net.hold(sy.tensor([4]).send(client))[0];
    own.tag('#late');
    const [late] = await client.search('#late');
    expect(late!.idAtLocation).toBe(own.idAtLocation);
  });

  test('pointer chains through a WebSocket worker are refused with what to do', async () => {
    const { client: a } = await net.pair('tags-chain-a');
    const { client: b } = await net.pair('tags-chain-b');
    const bob = new sy.VirtualWorker({ id: 'tags-chain-bob' });
    const x = net.hold(sy.tensor([1]).send(a))[0];
    expect(() => x.send(b)).toThrow(/'tags-chain-b' is a network worker.*move\(\) the data there instead/);
    expect(() => sy.tensor([1]).send(bob).send(a)).toThrow(/network worker/);
    expect(() => x.send(bob)).toThrow(sy.ValueError);
    expect(flat(await x.get())).toEqual([1]); // still usable: nothing was sent
  });

  test("a pointer a client stores on a WebSocket worker frees nothing when dropped: what it names may be another session's", async () => {
    const server = await net.server('tags-stored-pointer');
    const victim = await net.client(server);
    const other = await net.client(server);
    const theirs = net.hold(sy.tensor([1, 2]).send(victim))[0];
    await victim.sync();
    const node = { type: 'pointer', location: server.id, id: theirs.idAtLocation!, shape: [2] };
    other.post({ kind: 'store', id: 77, obj: node }, sy.local);
    other.post({ kind: 'store', id: 78, obj: node }, sy.local);
    other.post({ kind: 'del', ids: [77] }, sy.local);
    await other.close(); // the end of its session frees 78
    await victim.sync();
    expect(server.objectIds()).toEqual([theirs.idAtLocation]);
    expect(flat(await theirs.get())).toEqual([1, 2]);
  });
});
