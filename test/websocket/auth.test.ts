// Who may talk to a worker: tokens (proved, never sent; compared in constant time), the worker
// proving itself to the client, TLS, browser origins, and peer tickets that authenticate a
// party's id.
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { WebSocketServer } from 'ws';
import { afterEach, describe, expect, onTestFinished, test, vi } from 'vitest';
import { ticketKey, proofsMatch, randomHex } from '../../src/workers/websocket/auth.js';
import { readTokenFile } from '../../src/workers/websocket/token-file.js';
import { PROTOCOL_VERSION } from '../../src/workers/websocket/protocol.js';
import { WebsocketClientWorker } from '../../src/workers/websocket/index.js';
import { encodeMessage } from '../../src/workers/serde.js';
import { TestNet, sy, testCert, until } from './helpers/net.js';
import { rawConnect } from './helpers/raw.js';


const TOKEN = 'a-long-random-secret-0c4f1e9b';
const net = new TestNet({ name: 'token', tls: false, token: TOKEN });
afterEach(() => net.close());

describe('tokens', () => {
  test('the right token connects; a wrong or missing one is refused and the worker is unchanged', async () => {
    const server = await net.server('bob');
    const bob = await net.client(server);
    const p = sy.tensor([1, 2]).send(bob);
    await bob.sync();
    const before = server.objectIds();

    await expect(WebsocketClientWorker.connect(server.url, { token: 'wrong' })).rejects.toThrow(sy.AuthenticationError);
    await expect(WebsocketClientWorker.connect(server.url, { token: `${TOKEN}x` })).rejects.toThrow(/refused the connection: wrong or missing token/);
    await expect(WebsocketClientWorker.connect(server.url, {})).rejects.toThrow(/requires a token/);
    // A client that ignores the challenge's `auth` flag and proves the empty key is refused too.
    const raw = await rawConnect(server.url, { key: '' });
    expect(raw.refused).toBe('wrong or missing token');
    await raw.until(() => raw.closed !== undefined);
    expect(raw.closed!.code).toBe(4401);
    expect(server.authFailures).toBe(3);
    expect(server.objectIds()).toEqual(before);
    expect(server.sessionCount).toBe(1);
    expect((await p.get()).arraySync()).toEqual([1, 2]);
  });

  test('the token never crosses the wire, and a recorded hello cannot be replayed', async () => {
    const server = await net.server('bob');
    let recorded: Record<string, unknown> | undefined;
    const first = await rawConnect(server.url, {
      key: TOKEN,
      tamper: (h) => {
        recorded = { ...h };
        return h;
      },
    });
    expect(first.welcome).toBeDefined();
    expect(JSON.stringify(recorded)).not.toContain(TOKEN);
    // Same hello on a new connection: the worker's nonce changed, so the proof no longer holds.
    const replay = await rawConnect(server.url, { tamper: () => recorded! });
    expect(replay.refused).toBe('wrong or missing token');
    first.close();
  });

  test('proofs are compared with timingSafeEqual on equal-length digests', async () => {
    // Spied on the builtin itself (the library is loaded before this file, so a module mock would
    // come too late); syncBuiltinESMExports makes `import { timingSafeEqual }` see the spy.
    const spy = vi.spyOn(crypto, 'timingSafeEqual');
    syncBuiltinESMExports();
    onTestFinished(() => {
      spy.mockRestore();
      syncBuiltinESMExports();
    });
    expect(await proofsMatch('ab', 'ab')).toBe(true);
    expect(await proofsMatch('a', 'a much longer string')).toBe(false); // lengths differ: no throw, no early exit
    expect(await proofsMatch('0'.repeat(64), `${'0'.repeat(63)}1`)).toBe(false);
    expect(spy).toHaveBeenCalledTimes(3);
    for (const [a, b] of spy.mock.calls) expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);

    spy.mockClear();
    const server = await net.server('bob');
    await expect(WebsocketClientWorker.connect(server.url, { token: 'wrong' })).rejects.toThrow(sy.AuthenticationError);
    await net.client(server);
    // One comparison for each hello the worker checked, and one for the welcome the client checked.
    expect(spy).toHaveBeenCalledTimes(3);
  });

  test('a token file is read without surrounding whitespace; bad files get clear errors', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/syft-token-');
    writeFileSync(`${dir}/ok`, `  ${TOKEN}\n`);
    writeFileSync(`${dir}/empty`, '\n');
    writeFileSync(`${dir}/spaces`, 'two words');
    expect(readTokenFile(`${dir}/ok`)).toBe(TOKEN);
    expect(() => readTokenFile(`${dir}/empty`)).toThrow(/is empty/);
    expect(() => readTokenFile(`${dir}/spaces`)).toThrow(/printable ASCII characters without spaces/);
    expect(() => readTokenFile(`${dir}/missing`)).toThrow(/cannot read the token file/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('the worker proves who it is', () => {
  test('the wrong worker id at a URL is refused', async () => {
    const server = await net.server('bob');
    await expect(WebsocketClientWorker.connect(server.url, { id: 'alice', token: TOKEN })).rejects.toThrow(
      /expected worker 'alice' at .*, but the worker there is 'bob'/,
    );
  });

  test('a client gives no data to an impostor that cannot prove the token', async () => {
    // A fake worker: sends a plausible challenge, accepts any hello, and cannot make the proof.
    const fake = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => fake.once('listening', r));
    let helloSeen = false;
    fake.on('connection', (ws) => {
      ws.send(JSON.stringify({ t: 'challenge', v: PROTOCOL_VERSION, id: 'bob', nonce: randomHex(), auth: true, maxMessageBytes: 1 << 20 }));
      ws.on('message', () => {
        helloSeen = true;
        ws.send(JSON.stringify({ t: 'welcome', session: randomHex(), resumed: false, received: 0, proof: randomHex(32) }));
      });
    });
    const port = (fake.address() as { port: number }).port;
    await expect(WebsocketClientWorker.connect(`ws://127.0.0.1:${port}`, { id: 'bob', token: TOKEN })).rejects.toThrow(
      /could not prove that it knows the token/,
    );
    expect(helloSeen).toBe(true);
    await new Promise((r) => fake.close(r));
  });

  test('a client with a token refuses an open worker (likely not the one meant)', async () => {
    const open = new TestNet();
    try {
      const server = await open.server('bob');
      await expect(WebsocketClientWorker.connect(server.url, { token: TOKEN })).rejects.toThrow(/uses no token, but one was given/);
    } finally {
      await open.close();
    }
  });
});

describe('TLS', () => {
  test('wss works with the self-signed certificate trusted, and fails clearly without', async () => {
    const tls = new TestNet({ name: 'tls', tls: true, token: TOKEN });
    try {
      const server = await tls.server('bob');
      expect(server.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
      await expect(WebsocketClientWorker.connect(server.url, { token: TOKEN })).rejects.toThrow(/certificate .* is not trusted.*\{ ca \}/);
      const bob = await WebsocketClientWorker.connect(server.url, { token: TOKEN, ca: testCert().cert });
      expect((await sy.tensor([3, 4]).send(bob).get()).arraySync()).toEqual([3, 4]);
      await bob.close();
      // A plain ws client cannot talk to a wss worker.
      await expect(WebsocketClientWorker.connect(server.url.replace('wss:', 'ws:'), { token: TOKEN })).rejects.toThrow(sy.ProtocolError);
    } finally {
      await tls.close();
    }
  });
});

describe('browsers', () => {
  test('connections from web pages are refused unless their origin is allowed', async () => {
    const server = await net.server('bob');
    await expect(rawConnect(server.url, { headers: { Origin: 'https://evil.example' } })).rejects.toThrow(/HTTP 403/);
    const allowed = await net.server('carol', { allowOrigins: ['https://notebook.example'] });
    const raw = await rawConnect(allowed.url, { key: TOKEN, headers: { Origin: 'https://notebook.example' } });
    expect(raw.welcome).toBeDefined();
    raw.close();
  });
});

describe('peer tickets', () => {
  const ticket = async (workerId: string, peerId: string) => {
    const nonce = randomHex();
    return { nonce, key: await ticketKey(TOKEN, workerId, peerId, nonce) };
  };

  test("a ticket authenticates one peer id: values are attributed to it, and it cannot claim another's", async () => {
    const alice = await net.server('alice');
    const t = await ticket('alice', 'bob');
    // Claiming another id with bob's ticket fails.
    const carol = await rawConnect(alice.url, { role: 'peer', id: 'carol', ticket: t.nonce, key: t.key });
    expect(carol.refused).toBe('invalid peer ticket');
    // A ticket made without alice's token fails.
    const forgedKey = await ticketKey('guess', 'alice', 'bob', t.nonce);
    const forged = await rawConnect(alice.url, { role: 'peer', id: 'bob', ticket: t.nonce, key: forgedKey });
    expect(forged.refused).toBe('invalid peer ticket');
    // The real one works, and what bob sends is bob's, whatever it says.
    const bob = await rawConnect(alice.url, { role: 'peer', id: 'bob', ticket: t.nonce, key: t.key });
    expect(bob.welcome).toBeDefined();
    const session = randomHex();
    const waiting = alice.mailbox.wait('bob', session, 'share', 5000);
    bob.send(encodeMessage({ kind: 'peer', session, tag: 'share', payload: new Float64Array([1, 2]) }));
    expect(await waiting).toEqual(new Float64Array([1, 2]));
    expect(alice.authFailures).toBe(2);
    bob.close();
  });

  test('a peer connection carries protocol values only: commands and requests are refused', async () => {
    const alice = await net.server('alice');
    const owner = await net.client(alice);
    sy.tensor([1]).send(owner);
    await owner.sync();
    const ids = alice.objectIds();
    const t = await ticket('alice', 'bob');
    const bob = await rawConnect(alice.url, { role: 'peer', id: 'bob', ticket: t.nonce, key: t.key });
    bob.send(encodeMessage({ kind: 'req', req: 7, op: 'ids', args: [] }));
    bob.send(encodeMessage({ kind: 'req', req: 8, op: 'get', args: [ids[0]!, false] }));
    bob.send(encodeMessage({ kind: 'clear' }));
    await bob.until(() => bob.replies.length === 3);
    expect(bob.replies.map((r) => [r.req, r.ok])).toEqual([[7, false], [8, false], [0, false]]);
    expect(bob.replies.every((r) => !r.ok && /carries protocol values only/.test(r.error.message))).toBe(true);
    expect(alice.objectIds()).toEqual(ids);
    bob.close();
  });

  test('introductions go through the orchestrator, and bad connectPeer arguments are refused', async () => {
    const { server: bobServer, client: bob } = await net.pair('bob');
    const { client: alice } = await net.pair('alice');
    bob.introduce(alice, sy.local);
    await bob.sync();
    expect(bobServer.linkedPeers).toEqual(['alice']);
    const bad: unknown[][] = [
      [],
      ['bob', alice.url, randomHex(), randomHex(32)], // itself
      ['alice', 'http://127.0.0.1:1', randomHex(), randomHex(32)],
      ['alice', 'ws://user:pw@127.0.0.1:1', randomHex(), randomHex(32)],
      ['alice', alice.url, 'short', randomHex(32)],
      ['al ice', alice.url, randomHex(), randomHex(32)],
    ];
    for (const args of bad) {
      await expect(bob.request({ kind: 'req', req: 0, op: 'connectPeer', args: args as never }, sy.local)).rejects.toThrow(
        /connectPeer: /,
      );
    }
    // Well-formed but with a ticket alice will not accept: the error names the refusal.
    await expect(
      bob.request({ kind: 'req', req: 0, op: 'connectPeer', args: ['carol', alice.url, randomHex(), randomHex(32)] }, sy.local),
    ).rejects.toThrow(/expected worker 'carol'/);
    expect(bobServer.linkedPeers).toEqual(['alice']);
  });

  test('a failed introduction is reported to the orchestrator, and the waiting step times out clearly', async () => {
    const { client: bob } = await net.pair('bob');
    const { server: aliceServer, client: alice } = await net.pair('alice', { timeoutMs: 300 });
    await aliceServer.close(); // alice is gone before bob is told to reach her
    await until(() => alice.state === 'reconnecting' || alice.state === 'closed');
    const p = sy.tensor([1]).send(bob);
    bob.introduce(alice, sy.local);
    await bob.sync();
    await until(() => bob.rejected === 1, 5000, 'the rejection');
    expect(bob.lastRejection).toMatchObject({ op: 'connectPeer', name: 'ProtocolError' });
    expect(bob.lastRejection!.message).toMatch(/no worker listens at/);
    expect((await p.get()).arraySync()).toEqual([1]);
  });
});
