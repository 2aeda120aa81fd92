// The pieces of the transport that pages run, checked in Node: WebCrypto's HMAC gives the bytes
// node:crypto gives (so a page and a Node process authenticate each other), hex without Buffer,
// and the outbox that keeps an introduction waiting for a WebCrypto turn in its place in line.
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { fromHex, toHex } from '../../src/util/hex.js';
import { hmac, useWebCryptoForHmac } from '../../src/workers/websocket/hmac.js';
import { Outbox } from '../../src/workers/websocket/outbox.js';
import { WebsocketClientWorker } from '../../src/workers/websocket/index.js';
import { TestNet, sy } from './helpers/net.js';

afterEach(() => useWebCryptoForHmac(false));

describe('HMAC in pages and in Node', () => {
  test('WebCrypto and node:crypto give the same bytes, for empty, short, block-sized and long keys', async () => {
    const keys: (string | Uint8Array)[] = ['', 'k', 'correct-horse-battery-staple', 'x'.repeat(64), 'y'.repeat(200), crypto.getRandomValues(new Uint8Array(32))];
    for (const key of keys) {
      for (const msg of ['', 'syft-ts/1 hello\nalice\nbob', 'é'.repeat(100)]) {
        useWebCryptoForHmac(true);
        const web = await hmac(key, msg);
        useWebCryptoForHmac(false);
        const node = new Uint8Array(createHmac('sha256', key).update(msg).digest());
        expect(toHex(web)).toBe(toHex(node));
        expect(toHex(await hmac(key, msg))).toBe(toHex(node));
      }
    }
  });

  test('a client proving its token with WebCrypto is welcomed by a Node worker, and a wrong token is still refused', async () => {
    const net = new TestNet({ name: 'token', tls: false, token: 'webcrypto-proof-token-9a1c' });
    try {
      const server = await net.server('bob');
      useWebCryptoForHmac(true);
      const bob = await WebsocketClientWorker.connect(server.url, { id: 'bob', token: 'webcrypto-proof-token-9a1c' });
      expect((await sy.tensor([5, 6]).send(bob).get()).arraySync()).toEqual([5, 6]);
      await bob.close();
      await expect(WebsocketClientWorker.connect(server.url, { id: 'bob', token: 'not-the-token-1234', reconnect: false })).rejects.toThrow(sy.AuthenticationError);
    } finally {
      useWebCryptoForHmac(false);
      await net.close();
    }
  });
});

describe('hex', () => {
  test('round trips bytes, and refuses what is not hex of whole bytes', () => {
    const b = crypto.getRandomValues(new Uint8Array(33));
    expect(fromHex(toHex(b))).toEqual(b);
    expect(toHex(new Uint8Array([0, 1, 255]))).toBe('0001ff');
    expect(() => fromHex('abc')).toThrow(sy.ValueError);
    expect(() => fromHex('zz')).toThrow(/not a hex string/);
  });
});

describe('the outbox', () => {
  test('what is posted after a message that waits goes out after it, in order; a failure frees its place', async () => {
    const out: string[] = [];
    const failures: unknown[] = [];
    const box = new Outbox((e) => failures.push(e));
    box.send(() => out.push('a'));
    let ready!: (f: () => void) => void;
    box.later(new Promise((r) => (ready = r)));
    box.send(() => out.push('c'));
    box.later(Promise.reject(new Error('no ticket')));
    box.send(() => out.push('d'));
    expect(out).toEqual(['a']);
    ready(() => out.push('b'));
    await new Promise((r) => setTimeout(r, 0));
    expect(out).toEqual(['a', 'b', 'c', 'd']);
    expect(failures).toHaveLength(1);
    box.send(() => out.push('e'));
    expect(out.at(-1)).toBe('e');
  });
});
