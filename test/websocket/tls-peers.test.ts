// TLS is required beyond loopback unless the owner opts out, and `connectPeer` reaches only the
// peers the owner allows (loopback peers by default on a loopback worker, none beyond it).
import { afterEach, describe, expect, test } from 'vitest';
import { WebsocketServerWorker } from '../../src/workers/websocket/index.js';
import { PeerPolicy } from '../../src/workers/websocket/peer-policy.js';
import { introduction } from '../../src/workers/websocket/peers.js';
import { isLoopback } from '../../src/workers/websocket/tls.js';
import { TestNet, sy } from './helpers/net.js';

const net = new TestNet();
afterEach(() => net.close());

describe('TLS beyond loopback', () => {
  test('a worker on a non-loopback address without TLS is refused unless insecure', () => {
    expect(() => new WebsocketServerWorker({ id: 'bob', host: '0.0.0.0' })).toThrow(/without TLS.*insecure: true/);
    expect(() => new WebsocketServerWorker({ id: 'bob', host: '192.168.1.7' })).toThrow(sy.ValueError);
    expect(() => new WebsocketServerWorker({ id: 'bob', host: '0.0.0.0', insecure: true })).not.toThrow();
    expect(() => new WebsocketServerWorker({ id: 'bob', host: '127.0.0.1' })).not.toThrow();
    expect(['127.0.0.1', '127.3.2.1', '::1', '[::1]', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.org', '128.0.0.1'].some(isLoopback)).toBe(false);
  });
});

describe('which peers a worker may reach', () => {
  test('the default: loopback peers for a loopback worker, none beyond it; a list allows exactly what it names', () => {
    const local = new PeerPolicy(undefined, '127.0.0.1');
    expect(() => local.check('ws://127.0.0.1:9999')).not.toThrow();
    expect(() => local.check('ws://10.0.0.5:8778')).toThrow(/loopback peers only.*--allow-peer 10.0.0.5:8778/);
    const wide = new PeerPolicy(undefined, '0.0.0.0');
    expect(() => wide.check('wss://10.0.0.5:8778')).toThrow(/allows no peers/);
    const listed = new PeerPolicy(['10.0.0.5:8778', 'alice.example', '[::1]:9000'], '0.0.0.0');
    expect(() => listed.check('wss://10.0.0.5:8778')).not.toThrow();
    expect(() => listed.check('wss://10.0.0.5:8779')).toThrow(sy.PermissionError);
    expect(() => listed.check('wss://alice.example:1234')).not.toThrow();
    expect(() => listed.check('ws://[::1]:9000')).not.toThrow();
    expect(() => listed.check('ws://127.0.0.1:22')).toThrow(/not in the owner's --allow-peer list/);
    expect(() => new PeerPolicy(['*'], '0.0.0.0').check('ws://anything:1')).not.toThrow();
  });

  test('a connectPeer outside the list is refused with the reason; the worker links to none', async () => {
    const alice = await net.server('alice');
    const { server, client } = await net.pair('bob', { allowPeers: ['127.0.0.1:1'] });
    const intro = await introduction('bob', 'alice', alice.url, undefined);
    await expect(client.request({ kind: 'req', req: 0, op: 'connectPeer', args: intro }, sy.local)).rejects.toThrow(/not in the owner's --allow-peer list/);
    expect(server.linkedPeers).toEqual([]);
    // The same worker with alice allowed links.
    const { server: open, client: c2 } = await net.pair('carol', { allowPeers: [new URL(alice.url).host] });
    await c2.request({ kind: 'req', req: 0, op: 'connectPeer', args: await introduction('carol', 'alice', alice.url, undefined) }, sy.local);
    expect(open.linkedPeers).toEqual(['alice']);
  });
});
