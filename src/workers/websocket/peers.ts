/**
 * How workers in different processes come to talk to each other: both halves of `connectPeer`.
 *
 * Parties of a protocol exchange values directly, never through the orchestrator. The
 * orchestrator introduces them: `bobClient.introduce(aliceClient)` (which `move()` and the SMPC
 * layers call) sends bob a `connectPeer` request carrying alice's id, her URL and a ticket for
 * bob derived from alice's token ({@link introduction}). Bob opens his own connection to alice
 * with it — the "peer link" ({@link PeerLinks}) — and sends protocol values over it; alice
 * attributes them to the peer id the ticket authenticated, never to anything a message says. A
 * link carries protocol values one way (bob to alice); alice reaches bob over her own link once
 * she is introduced to him.
 *
 * `connectPeer` is a request, so it runs in order with bob's other messages (a `sendTo` posted
 * after it finds the link ready) and its failure comes back to the orchestrator as a rejection.
 */
import { ProtocolError, WireFormatError } from '../../errors.js';
import { fromHex } from '../../util/hex.js';
import { Caller } from '../caller.js';
import type { Message, RequestMessage, WireValue } from '../messages.js';
import type { RemoteWorker, Sender } from '../worker.js';
import { mintTicket, mintTicketSync } from './handshake.js';
import { HEX32_RE, HEX64_RE, ID_RE, isRelayUrl } from './protocol.js';
import { DialledConnection } from './reconnect.js';
import type { Dial, DialOptions } from './socket.js';
import { type Traffic, addTraffic, noTraffic } from './traffic.js';

// ---- the orchestrator's half ------------------------------------------------------------------

/**
 * The arguments of the `connectPeer` request that lets worker `selfId` send values to `peerId`
 * (whose token is `peerToken`): at once where node:crypto is at hand, else (pages) a promise.
 */
export function introduction(selfId: string, peerId: string, peerUrl: string, peerToken: string | undefined): WireValue[] | Promise<WireValue[]> {
  const now = mintTicketSync(peerToken, peerId, selfId);
  if (now) return [peerId, peerUrl, now.nonce, now.keyHex];
  return mintTicket(peerToken, peerId, selfId).then(({ nonce, keyHex }) => [peerId, peerUrl, nonce, keyHex]);
}

// ---- the worker's half --------------------------------------------------------------------------

export interface PeerIntroduction {
  id: string;
  url: string;
  nonce: string;
  key: Uint8Array;
}

function bad(why: string): never {
  throw new WireFormatError(`connectPeer: ${why}`);
}

/** Checks every argument of a `connectPeer` request: `[id, url, ticketNonce, ticketKeyHex]`. */
export function parseConnectPeer(args: readonly WireValue[], selfId: string): PeerIntroduction {
  if (args.length !== 4) bad('expects [peer id, url, ticket nonce, ticket key]');
  const [id, url, nonce, key] = args;
  if (typeof id !== 'string' || !ID_RE.test(id)) bad('the peer id must be 1-64 letters, digits or _.:- characters');
  if (id === selfId) bad(`a worker does not connect to itself ('${selfId}')`);
  if (typeof url !== 'string' || url.length > 2048) bad('the url must be a string of at most 2048 characters');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    bad(`'${url.slice(0, 100)}' is not a URL`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') bad('the url must be ws:// or wss://');
  if (u.username !== '' || u.password !== '') bad('the url must not carry credentials');
  if (typeof nonce !== 'string' || !HEX32_RE.test(nonce)) bad('the ticket nonce must be 32 hex characters');
  if (typeof key !== 'string' || !HEX64_RE.test(key)) bad('the ticket key must be 64 hex characters');
  return { id, url, nonce, key: fromHex(key) };
}

/** A worker's own connection to a peer, authenticated by a ticket: the peer accepts protocol values only. */
class PeerLink implements RemoteWorker {
  readonly connection: DialledConnection;
  readonly #caller: Caller;

  constructor(
    readonly id: string,
    readonly url: string,
    private readonly owner: Sender,
    opts: {
      ticket: PeerIntroduction;
      timeoutMs: number;
      maxMessageBytes: number;
      ca: DialOptions['ca'];
      dial: Dial;
      log: (line: string) => void;
      closed: (e: Error) => void;
    },
  ) {
    this.#caller = new Caller({
      peer: () => id,
      owner,
      timeoutMs: opts.timeoutMs,
      transmit: (msg) => this.connection.send(msg),
      onRejection: (e) => opts.log(`peer '${id}' refused a value: ${e.name}: ${e.message}`),
    });
    const fail = (e: Error) => this.#caller.fail(e);
    this.connection = new DialledConnection(
      {
        url,
        role: 'peer',
        selfId: owner.id,
        expectId: id,
        token: undefined,
        ticket: opts.ticket,
        connectTimeoutMs: 10_000,
        reconnect: true,
        reconnectWithinMs: 10_000,
        maxIncoming: opts.maxMessageBytes,
        ca: opts.ca,
        dial: opts.dial,
        // A link through a coordinator's relay carries values the relay must not read.
        requireSeal: isRelayUrl(url),
      },
      {
        message: (m) => {
          if (m.kind === 'reply') this.#caller.settle(m);
          else this.#caller.noteRejection({ name: 'ProtocolError', message: `worker '${id}' sent a '${m.kind}' message over a peer link`, op: m.kind });
        },
        problem: (e) => this.#caller.noteRejection(e),
        lost: fail,
        disconnect: () => {},
        reconnect: () => {},
        close: opts.closed,
      },
    );
  }

  // What is not a protocol value goes over too, and the peer refuses it (its refusal is logged).
  post(msg: Message, from: Sender): void {
    if (msg.kind === 'peer' && from !== this.owner) {
      throw new ProtocolError(`the link from '${this.owner.id}' to '${this.id}' carries this worker's protocol values only, not '${from.id}''s`);
    }
    this.#caller.post(msg, from);
  }

  request(msg: RequestMessage, from: Sender): Promise<WireValue> {
    return this.#caller.request(msg, from);
  }

  introduce(): void {
    throw new ProtocolError(`the link from '${this.owner.id}' to '${this.id}' carries protocol values only`);
  }
}

/** What the worker that keeps the links lends them. */
export interface PeerLinksHost {
  /** The worker whose values the links carry; `timeoutMs` bounds a request over a link. */
  readonly owner: Sender & { readonly timeoutMs: number };
  readonly maxMessageBytes: number;
  readonly ca: DialOptions['ca'];
  readonly dial: Dial;
  /** Throws unless the worker may connect to the peer at `url` (its owner's allow-list, peer-policy.ts). */
  readonly allowed?: ((url: string) => void) | undefined;
  log(line: string): void;
  /** The worker may now send protocol values to `link.id` over `link`. */
  add(link: RemoteWorker): void;
  /** The link to `id` is gone. */
  remove(id: string): void;
}

/** The links a worker opened to its peers, one per peer id. */
export class PeerLinks {
  readonly #links = new Map<string, PeerLink>();
  // Traffic of links that closed, so the totals never go down.
  readonly #retired = noTraffic();

  constructor(private readonly host: PeerLinksHost) {}

  /** Ids of the peers linked to. */
  get ids(): string[] {
    return [...this.#links.keys()];
  }

  /** What every link carried, closed ones included. */
  traffic(): Traffic {
    const t = { ...this.#retired };
    for (const l of this.#links.values()) addTraffic(t, l.connection.channel.traffic);
    return t;
  }

  /** Answers a `connectPeer` request: links to the peer (again, when the link died or the URL changed). */
  async connect(args: readonly WireValue[]): Promise<WireValue> {
    const h = this.host;
    const p = parseConnectPeer(args, h.owner.id);
    h.allowed?.(p.url);
    const existing = this.#links.get(p.id);
    if (existing && existing.connection.state !== 'closed' && existing.url === p.url) return null;
    if (existing) {
      this.retire(existing);
      await existing.connection.close().catch(() => {});
    }
    const link: PeerLink = new PeerLink(p.id, p.url, h.owner, {
      ticket: p,
      timeoutMs: h.owner.timeoutMs,
      maxMessageBytes: h.maxMessageBytes,
      ca: h.ca,
      dial: h.dial,
      log: (line) => h.log(line),
      closed: (e) => {
        // Gone for good (reconnecting failed): the next introduction makes a new link.
        if (this.#links.get(p.id) !== link) return;
        this.retire(link);
        h.remove(p.id);
        h.log(`lost the link to peer '${p.id}': ${e.message}`);
      },
    });
    await link.connection.open(false);
    this.#links.set(p.id, link);
    h.add(link);
    h.log(`linked to peer '${p.id}' at ${p.url}`);
    return null;
  }

  private retire(link: PeerLink): void {
    if (this.#links.get(link.id) !== link) return;
    this.#links.delete(link.id);
    addTraffic(this.#retired, link.connection.channel.traffic);
  }

  /** Closes every link. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#links.values()].map((l) => l.connection.close().catch(() => {})));
    this.#links.clear();
  }
}
