// Tokens per client: each token is bound to a name, the name is the client's identity on the
// worker (owner of what it makes), a token cannot act under another name nor as the worker
// itself, tickets minted with a client's token still link peers, and weak tokens are refused.
import { afterEach, describe, expect, test } from 'vitest';
import { ClientIdentities, checkTokenStrength, newToken, tokenBits } from '../../src/workers/websocket/identities.js';
import { WebsocketClientWorker, WebsocketServerWorker } from '../../src/workers/websocket/index.js';
import { TestNet, sy } from './helpers/net.js';
import { rawConnect } from './helpers/raw.js';

const CAROL = newToken();
const DAVE = newToken();
const clients = () => ClientIdentities.parse(`# bob's clients\ncarol:${CAROL}\n\ndave:${DAVE}\n`);
const net = new TestNet();
afterEach(() => net.close());

describe('token strength', () => {
  test('short, repeated or low-alphabet tokens are refused with a way to make one', () => {
    for (const weak of ['a', 'secret', 'a'.repeat(64), '0123456789abcdef', 'ab'.repeat(40)]) {
      expect(() => checkTokenStrength(weak)).toThrow(/too weak.*--new-token/);
    }
    expect(tokenBits(newToken())).toBe(256);
    expect(tokenBits('0123456789abcdef0123456789abcdef')).toBe(128);
    expect(() => checkTokenStrength(newToken())).not.toThrow();
    expect(newToken()).not.toBe(newToken());
    expect(() => new WebsocketServerWorker({ id: 'bob', token: 'hunter2' })).toThrow(sy.ValueError);
  });

  test('a tokens file: lines or JSON, every name and token checked', () => {
    expect(clients().names).toEqual(['carol', 'dave']);
    expect(ClientIdentities.parse(JSON.stringify({ carol: CAROL })).tokenOf('carol')).toBe(CAROL);
    expect(() => ClientIdentities.parse(`carol:${CAROL}\ncarol:${DAVE}`)).toThrow(/line 2: 'carol' is listed twice/);
    expect(() => ClientIdentities.parse(`carol:${CAROL}\ndave:${CAROL}`)).toThrow(/same token as another client/);
    expect(() => ClientIdentities.parse(`carol ${CAROL}`)).toThrow(/line 1: expected 'name:token'/);
    expect(() => ClientIdentities.parse('carol:short')).toThrow(/token of 'carol' is too weak/);
    expect(() => ClientIdentities.parse('# nobody\n')).toThrow(/lists no client/);
    expect(() => new WebsocketServerWorker({ id: 'carol', clients: clients() })).toThrow(/no client may be named 'carol'/);
  });
});

describe('a token per client', () => {
  test('each client logs in under its own name only; its token cannot act as another client', async () => {
    const server = await net.server('bob', { clients: clients() });
    const carol = await net.client(server, { name: 'carol', token: CAROL });
    expect(server.sessions()).toEqual([{ role: 'client', from: 'carol', connected: true, objects: 0 }]);
    // carol's token under dave's name, a made-up name, no name at all (the owner's id): refused.
    await expect(WebsocketClientWorker.connect(server.url, { name: 'dave', token: CAROL })).rejects.toThrow(/wrong or missing token/);
    await expect(WebsocketClientWorker.connect(server.url, { name: 'mallory', token: CAROL })).rejects.toThrow(/wrong or missing token/);
    await expect(WebsocketClientWorker.connect(server.url, { token: CAROL })).rejects.toThrow(/wrong or missing token/);
    // Nor as the worker itself, whose identity may do anything.
    const raw = await rawConnect(server.url, { id: 'bob', key: CAROL });
    expect(raw.refused).toMatch(/cannot use this worker's own id/);
    expect(server.authFailures).toBe(4);

    const x = sy.tensor([1, 2, 3]).send(carol);
    await carol.sync();
    const dave = await net.client(server, { name: 'dave', token: DAVE });
    // dave sees none of carol's objects and cannot read them by id.
    expect(await dave.request({ kind: 'req', req: 0, op: 'ids', args: [] }, sy.local)).toEqual([]);
    await expect(dave.request({ kind: 'req', req: 0, op: 'get', args: [server.objectIds()[0]!, true] }, sy.local)).rejects.toThrow(/holds no object/);
    expect((await x.get()).arraySync()).toEqual([1, 2, 3]);
  });

  test("a shared token: a client may not take the worker's own id", async () => {
    const token = newToken();
    const server = await net.server('bob', { token });
    const raw = await rawConnect(server.url, { id: 'bob', key: token });
    expect(raw.refused).toMatch(/cannot use this worker's own id/);
    expect(server.sessionCount).toBe(0);
  });

  test('tickets minted with a client’s own token link its workers; the session names who introduced the peer', async () => {
    const bobServer = await net.server('bob', { clients: ClientIdentities.from({ orch: CAROL }) });
    const aliceServer = await net.server('alice', { clients: ClientIdentities.from({ orch: DAVE }) });
    const bob = await net.client(bobServer, { name: 'orch', token: CAROL });
    const alice = await net.client(aliceServer, { name: 'orch', token: DAVE });
    const p = sy.tensor([4, 2]).send(bob).move(alice);
    expect((await p.get()).arraySync()).toEqual([4, 2]);
    expect(aliceServer.sessions().map((s) => `${s.role}:${s.from}`).sort()).toEqual(['client:orch', 'peer:bob']);
    // A ticket key made from a token alice does not list is refused.
    const forged = await rawConnect(aliceServer.url, { role: 'peer', id: 'carol', ticket: '0'.repeat(32), key: new Uint8Array(32) });
    expect(forged.refused).toBe('invalid peer ticket');
  });
});
