/**
 * Which peers a worker may be told to connect to (`connectPeer`). A client that can introduce
 * peers could otherwise aim the worker at any host and port it can reach — other services on its
 * machine or network — and read the answers from the errors. The worker's owner lists the peers
 * allowed (`--allow-peer host:port`, repeatable; `host` alone for any port; `*` for any); a worker
 * listening on loopback with no list may reach loopback peers only, one listening beyond it none.
 */
import { PermissionError } from '../../errors.js';
import { isLoopback } from './tls.js';

const hostOf = (h: string) => h.replace(/^\[|\]$/g, '').toLowerCase();

export class PeerPolicy {
  readonly #any: boolean;
  readonly #entries: ReadonlySet<string> | undefined;

  /** `allow`: the owner's list (undefined: the default for `listenHost`). */
  constructor(
    allow: readonly string[] | undefined,
    private readonly listenHost: string,
  ) {
    this.#any = allow?.includes('*') ?? false;
    this.#entries = allow === undefined ? undefined : new Set(allow.map((a) => a.toLowerCase().replace(/^\[([^\]]+)\]/, '$1')));
  }

  /** Throws a PermissionError unless the worker may connect to the peer at `url` (what is not a URL is left to connectPeer's own checks). */
  check(url: unknown): void {
    if (this.#any || typeof url !== 'string' || !URL.canParse(url)) return;
    const u = new URL(url);
    const host = hostOf(u.hostname);
    const port = u.port || (u.protocol === 'wss:' ? '443' : '80');
    if (this.#entries === undefined) {
      if (isLoopback(this.listenHost) && isLoopback(host)) return;
      throw new PermissionError(
        `this worker may not connect to the peer at ${u.host}: its owner allows ${isLoopback(this.listenHost) ? 'loopback peers only' : 'no peers'} ` +
          `(start it with --allow-peer ${u.host}, option allowPeers)`,
      );
    }
    if (this.#entries.has(`${host}:${port}`) || this.#entries.has(host)) return;
    throw new PermissionError(`this worker may not connect to the peer at ${u.host}: it is not in the owner's --allow-peer list (option allowPeers)`);
  }
}
