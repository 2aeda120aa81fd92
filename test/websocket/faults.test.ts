// Faults: dropped connections (resumed without losing or repeating a message), sessions that end
// (their objects freed), requests that get no answer, and a party killed mid-protocol.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { WebsocketClientWorker, startWorkerProcess, type WorkerProcess } from '../../src/workers/websocket/index.js';
import { randomHex } from '../../src/workers/websocket/auth.js';
import { TestNet, sy, until } from './helpers/net.js';
import { TcpProxy } from './helpers/proxy.js';

const net = new TestNet();
const proxies: TcpProxy[] = [];
const children: WorkerProcess[] = [];
afterEach(async () => {
  await net.close();
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(children.splice(0).map((c) => c.stop()));
});

async function behindProxy(id: string, serverOpts = {}, clientOpts = {}) {
  const server = await net.server(id, serverOpts);
  const proxy = await new TcpProxy(server.port).start();
  proxies.push(proxy);
  const client = await WebsocketClientWorker.connect(proxy.url, { id, timeoutMs: 10_000, ...clientOpts });
  net.clients.push(client);
  return { server, proxy, client };
}

describe('sessions', () => {
  test("a closed session's objects are freed; other sessions' objects and objects handed back stay", async () => {
    const server = await net.server('bob');
    const a = await net.client(server);
    const b = await WebsocketClientWorker.connect(server.url, { id: 'bob', owner: new sy.VirtualWorker({ id: 'other_owner' }) });
    net.clients.push(b);
    const x = sy.tensor([1, 2]).send(a);
    const y = x.add(1); // a command result: also a's
    const fetched = sy.tensor([5]).send(a);
    const bs = sy.tensor([3]).send(b);
    net.hold(x, y, bs);
    await a.sync();
    await b.sync();
    expect(server.objectCount).toBe(4);
    expect((await fetched.get()).arraySync()).toEqual([5]);
    expect(server.sessionCount).toBe(2);
    await a.close();
    await b.sync();
    expect(server.sessionCount).toBe(1);
    expect(server.objectIds()).toEqual([bs.idAtLocation!]);
    expect(y.isPointer).toBe(true);
    // The closed client refuses to send, with a clear error.
    expect(() => sy.tensor([1]).send(a)).toThrow(/not connected to worker 'bob'.*close\(\)/);
    expect((await bs.get()).arraySync()).toEqual([3]);
  });

  test('objects a session moved to another worker are not freed with it; they belong to the receiving session', async () => {
    const { server: bobServer, client: bob } = await net.pair('bob');
    const { server: aliceServer, client: alice } = await net.pair('alice');
    const p = sy.tensor([4, 2]).send(bob);
    p.move(alice);
    await alice.sync();
    expect(bobServer.objectCount).toBe(0);
    expect(aliceServer.objectCount).toBe(1);
    await bob.close(); // bob's session ends: nothing of bob's is held any more
    await alice.sync();
    expect(aliceServer.objectCount).toBe(1);
    expect((await p.get()).arraySync()).toEqual([4, 2]);
  });

  test('a dropped session is kept for its grace period, then its objects are freed', async () => {
    const { server, proxy, client } = await behindProxy('bob', { sessionGraceMs: 300 }, { reconnectWithinMs: 100 });
    net.hold(sy.tensor([1]).send(client));
    await client.sync();
    const closed = new Promise<Error>((r) => client.on('close', r));
    proxy.mode = 'refuse';
    proxy.cut();
    expect(await closed).toBeInstanceOf(sy.ProtocolError);
    expect(client.state).toBe('closed');
    expect(server.objectCount).toBe(1); // still within the grace period
    await expect(client.ping()).rejects.toThrow(/could not reconnect within 100 ms.*reconnect\(\) to try again/);
    await until(() => server.sessionCount === 0, 3000, 'the session to end');
    await until(() => server.objectCount === 0, 1000, 'the objects to be freed');
    proxy.mode = 'pass';
    expect(await client.reconnect()).toEqual({ resumed: false });
    const q = sy.tensor([2]).send(client);
    expect((await q.get()).arraySync()).toEqual([2]);
  });
});

describe('reconnecting', () => {
  test('a cut connection reconnects by itself and resumes: objects kept, nothing lost or repeated', async () => {
    const { server, proxy, client } = await behindProxy('bob');
    const events: unknown[] = [];
    client.on('disconnect', (e) => events.push(['disconnect', e.code]));
    client.on('reconnect', (e) => events.push(['reconnect', e.resumed]));
    const p = sy.tensor([0, 0]).send(client);
    await client.sync();
    proxy.cut();
    // Posted while the connection is down (or being re-established): delivered once each.
    for (let i = 0; i < 5; i++) p.add_(1);
    expect((await p.copy().get()).arraySync()).toEqual([5, 5]);
    expect(events).toEqual([['disconnect', 1006], ['reconnect', true]]);
    expect(server.sessionCount).toBe(1);
    expect(server.rejected).toBe(0);
  });

  test('frames swallowed by a dead link are resent after the reconnection, exactly once', async () => {
    const { server, proxy, client } = await behindProxy('bob');
    const p = sy.tensor([0]).send(client);
    await client.sync();
    proxy.mode = 'blackhole';
    // These leave the client but never reach the worker; the get's reply cannot come back either.
    for (let i = 0; i < 100; i++) p.add_(1);
    const got = p.copy().get();
    await new Promise((r) => setTimeout(r, 50));
    expect(server.peek(p.idAtLocation!)).toBeDefined();
    proxy.mode = 'pass';
    proxy.cut();
    expect((await got).arraySync()).toEqual([100]);
    expect((await p.get()).arraySync()).toEqual([100]);
  });

  test('replies lost on the way back are resent by the worker', async () => {
    const { proxy, client } = await behindProxy('bob');
    const p = sy.tensor([7]).send(client);
    await client.sync();
    // Let the request through, then swallow the answer.
    const got = p.get();
    await until(() => true);
    proxy.mode = 'blackhole';
    await new Promise((r) => setTimeout(r, 50));
    proxy.mode = 'pass';
    proxy.cut();
    expect((await got).arraySync()).toEqual([7]);
  });

  test('without automatic reconnection, pending requests fail at once and reconnect() resumes', async () => {
    const { server, proxy, client } = await behindProxy('bob', { timeoutMs: 5000 }, { reconnect: false });
    const p = sy.tensor([9]).send(client);
    // A step that waits for a peer value that will not come keeps the worker busy...
    client.post({ kind: 'cmd', op: 'recvFrom', args: ['nobody', randomHex()], ret: [424242] }, sy.local);
    const pending = p.copy().get();
    await new Promise((r) => setTimeout(r, 50));
    proxy.cut();
    // ...and the request waiting behind it fails as soon as the connection drops.
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(sy.ProtocolError);
    expect(String(err)).toMatch(/connection to worker 'bob' .* closed \(code 1006\)/);
    expect(client.state).toBe('closed');
    expect(await client.reconnect()).toEqual({ resumed: true });
    expect(server.sessionCount).toBe(1);
    server.mailbox.abortAll(new sy.ProtocolError('test over'));
    expect((await p.get()).arraySync()).toEqual([9]);
  });
});

describe('a worker that restarts', () => {
  test('its clients and peer links reconnect to a new session; old objects are reported gone', async () => {
    const { client: bob } = await net.pair('bob');
    const { server: alice1, client: alice } = await net.pair('alice');
    const first = sy.tensor([1]).send(bob).move(alice);
    expect((await first.get()).arraySync()).toEqual([1]);
    const lost = sy.tensor([2]).send(alice);
    await alice.sync();
    const events: boolean[] = [];
    alice.on('reconnect', (e) => events.push(e.resumed));

    const port = alice1.port;
    await alice1.close();
    const alice2 = await net.server('alice', { port });
    await until(() => alice.connected && events.length === 1, 5000, 'the client to reconnect');
    expect(events).toEqual([false]);
    // The old object went with the old process: a clear error, not a hang.
    await expect(lost.get()).rejects.toThrow(/holds no object/);
    // bob's link to alice came back by itself; moves work again.
    const second = sy.tensor([3, 4]).send(bob).move(alice);
    expect((await second.get()).arraySync()).toEqual([3, 4]);
    expect(alice2.objectCount).toBe(0);
  });
});

describe('timeouts', () => {
  test('a request that gets no answer rejects with a TimeoutError after timeoutMs', async () => {
    const { client } = await net.pair('bob', { timeoutMs: 10_000 }, { timeoutMs: 300 });
    const p = sy.tensor([1]).send(client);
    // The worker waits (up to 10 s) for a value no one sends; the get queued behind it must not hang.
    client.post({ kind: 'cmd', op: 'recvFrom', args: ['nobody', randomHex()], ret: [777] }, sy.local);
    const t0 = performance.now();
    const err = await p.get().catch((e: unknown) => e);
    const elapsed = performance.now() - t0;
    expect(err).toBeInstanceOf(sy.TimeoutError);
    expect(String(err)).toMatch(/did not answer 'get' within 300 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3000);
    net.servers[0]!.mailbox.abortAll(new sy.ProtocolError('test over'));
  });

  test('connecting to nothing fails clearly', async () => {
    const server = await net.server('bob');
    const url = server.url;
    await server.close();
    await expect(WebsocketClientWorker.connect(url)).rejects.toThrow(/no worker listens at ws:\/\/127\.0\.0\.1:\d+: start one with/);
    await expect(WebsocketClientWorker.connect('http://127.0.0.1:1')).rejects.toThrow(sy.ValueError);
  });
});

describe('a party killed mid-protocol', () => {
  test('the step waiting for its value fails within the timeout, and get() says why', async () => {
    const dir = mkdtempSync('/tmp/syft-ws-');
    writeFileSync(`${dir}/token`, 'token-for-the-fault-test\n');
    const bobProc = await startWorkerProcess({ id: 'bob', tokenFile: `${dir}/token` });
    children.push(bobProc);
    const alice = await net.server('alice', { token: 'token-for-the-fault-test', timeoutMs: 600 });
    const bob = await WebsocketClientWorker.connect(bobProc.url, { id: 'bob', token: 'token-for-the-fault-test', reconnectWithinMs: 500 });
    net.clients.push(bob);
    const aliceClient = await net.client(alice, { token: 'token-for-the-fault-test' });

    // A first move works: the peer link bob -> alice is up.
    const first = sy.tensor([1, 2]).send(bob).move(aliceClient);
    expect((await first.get()).arraySync()).toEqual([1, 2]);
    const p = sy.tensor([3, 4]).send(bob);
    const onBob = sy.tensor([5]).send(bob);
    await bob.sync();

    bobProc.child.kill('SIGKILL');
    expect(await bobProc.exited).toBe(null);
    const pendingOnBob = onBob.get().catch((e: unknown) => e);
    const t0 = performance.now();
    p.move(aliceClient); // alice waits for bob's value; bob is dead
    const err = await p.get().catch((e: unknown) => e);
    const elapsed = performance.now() - t0;
    expect(err).toBeInstanceOf(sy.RemoteError);
    expect((err as sy.RemoteError).op).toBe('recvFrom');
    expect(String(err)).toMatch(/no 'move' from 'bob' within 600 ms: is that worker still running and connected\?/);
    expect(elapsed).toBeLessThan(600 + 2000);
    // The request that was waiting on bob fails too, once reconnecting gives up.
    const lost = await pendingOnBob;
    expect(lost).toBeInstanceOf(sy.ProtocolError);
    expect(String(lost)).toMatch(/lost the connection to worker 'bob' .* could not reconnect within 500 ms/);
    expect(alice.objectCount).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
});
