/**
 * Who may connect to a listening worker, and as whom: a token per client, each bound to a name.
 *
 * A worker's owner issues every client its own token (`syft-ts worker --new-token carol` prints
 * one) and lists them in a tokens file, one `name:token` a line (or a JSON object of name to
 * token). A client proves its token in the handshake under the name it was issued for
 * (`connect(url, { name: 'carol', token })`), and that name is its identity on the worker: the
 * store's owner of what it makes, the sender its grants name. Holding carol's token therefore
 * makes you carol and nobody else — never another client, and never the worker itself.
 *
 * Peer tickets are keyed by the issuing client's token (HMAC(token, worker | peer | nonce)), so
 * the worker finds which client introduced a peer by trying each identity's key: the ticket is
 * bound to the peer id it names and to the client who minted it, and a revoked token revokes
 * the tickets it minted.
 *
 * Tokens must carry at least 128 bits by a simple, documented estimate (length times log2 of the
 * alphabet its characters come from, and not a short repetition): 32 hex characters or 22 of
 * base64 are enough; "secret" or one character is refused with an error that says how to make one.
 */
import { ValueError } from '../../errors.js';
import { toHex } from '../../util/hex.js';
import { randomBytes } from '../../util/random.js';
import { checkToken, ticketKey } from './auth.js';
import type { HmacKey } from './hmac.js';
import { type Hello, ID_RE } from './protocol.js';

/** Least estimated strength of a worker's token, in bits. */
export const MIN_TOKEN_BITS = 128;
/** Most identities one worker lists (peer tickets are checked against each). */
export const MAX_IDENTITIES = 1024;

/**
 * The strength of `token` in bits, estimated as length × log2(size of the alphabet its character
 * classes span: hex 16, lower/upper letters 26 each, digits 10, other printable 32). A token of
 * fewer than 8 distinct characters counts 0 (a repetition like "aaaa…" is not random).
 */
export function tokenBits(token: string): number {
  if (new Set(token).size < 8) return 0;
  let pool: number;
  if (/^[0-9a-f]+$/.test(token) || /^[0-9A-F]+$/.test(token)) pool = 16;
  else {
    pool = 0;
    if (/[a-z]/.test(token)) pool += 26;
    if (/[A-Z]/.test(token)) pool += 26;
    if (/[0-9]/.test(token)) pool += 10;
    if (/[^A-Za-z0-9]/.test(token)) pool += 32;
  }
  return Math.floor(token.length * Math.log2(pool));
}

/** Refuses a token a worker would accept logins with unless it is strong enough. */
export function checkTokenStrength(token: unknown, where = 'the token'): asserts token is string {
  checkToken(token, where);
  const bits = tokenBits(token);
  if (bits < MIN_TOKEN_BITS) {
    throw new ValueError(
      `${where} is too weak (about ${bits} bits; a worker needs at least ${MIN_TOKEN_BITS}): ` +
        'make one with `syft-ts worker --new-token NAME` (or `openssl rand -hex 32`)',
    );
  }
}

/**
 * A fresh token: 32 bytes from the CSPRNG as 64 hex characters (256 bits).
 *
 * @example
 * ```ts
 * const token = newToken();   // give it to one client, list it as `carol:<token>`
 * ```
 */
export function newToken(): string {
  return toHex(randomBytes(32));
}

/**
 * The clients a worker accepts: a token per name. Build it with {@link ClientIdentities.parse}
 * (a tokens file's text) or {@link ClientIdentities.from} (a record of name to token).
 *
 * @example
 * ```ts
 * const clients = ClientIdentities.parse(`carol:${newToken()}\ndave:${newToken()}`);
 * const bob = await sy.WebsocketServerWorker.start({ id: 'bob', clients });
 * ```
 */
export class ClientIdentities {
  readonly #tokens: ReadonlyMap<string, string>;

  private constructor(tokens: Map<string, string>) {
    this.#tokens = tokens;
  }

  /** From a record `{ name: token }`; every name and token checked. */
  static from(record: Readonly<Record<string, string>>, where = 'the client tokens'): ClientIdentities {
    const map = new Map<string, string>();
    const seen = new Set<string>();
    for (const [name, token] of Object.entries(record)) {
      if (!ID_RE.test(name)) throw new ValueError(`${where}: the name ${JSON.stringify(name).slice(0, 70)} is not 1-64 letters, digits or _.:- characters`);
      checkTokenStrength(token, `${where}: the token of '${name}'`);
      if (seen.has(token)) throw new ValueError(`${where}: '${name}' has the same token as another client: give each client its own`);
      seen.add(token);
      map.set(name, token);
    }
    if (map.size === 0) throw new ValueError(`${where} lists no client: add a line 'name:token' (make a token with \`syft-ts worker --new-token NAME\`)`);
    if (map.size > MAX_IDENTITIES) throw new ValueError(`${where} lists ${map.size} clients; at most ${MAX_IDENTITIES}`);
    return new ClientIdentities(map);
  }

  /**
   * From a tokens file's text: a JSON object of name to token, or lines `name:token` (blank
   * lines and lines starting with `#` are skipped). A name given twice is an error.
   */
  static parse(text: string, where = 'the tokens file'): ClientIdentities {
    const trimmed = text.trim();
    if (trimmed.startsWith('{')) {
      let o: unknown;
      try {
        o = JSON.parse(trimmed);
      } catch (e) {
        throw new ValueError(`${where} looks like JSON but is not: ${(e as Error).message}`);
      }
      if (o === null || typeof o !== 'object' || Array.isArray(o) || Object.values(o).some((v) => typeof v !== 'string')) {
        throw new ValueError(`${where} must be a JSON object of client name to token, like {"carol": "<token>"}`);
      }
      return ClientIdentities.from(o as Record<string, string>, where);
    }
    const record: Record<string, string> = Object.create(null);
    trimmed.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new ValueError(`${where}, line ${i + 1}: expected 'name:token'`);
      const name = line.slice(0, colon);
      if (name in record) throw new ValueError(`${where}, line ${i + 1}: '${name}' is listed twice`);
      record[name] = line.slice(colon + 1);
    });
    return ClientIdentities.from(record, where);
  }

  /** The names issued a token. */
  get names(): string[] {
    return [...this.#tokens.keys()];
  }

  /** The token issued to `name`, if any. */
  tokenOf(name: string): string | undefined {
    return this.#tokens.get(name);
  }

  /** [name, token] pairs. */
  entries(): IterableIterator<[string, string]> {
    return this.#tokens.entries();
  }
}

/** What a worker checks a hello against: one shared token (the old way), tokens per client, or nothing. */
export interface Credentials {
  readonly token: string | undefined;
  readonly clients?: ClientIdentities | undefined;
}

/** The key a hello proved, and for a peer the client whose ticket it showed. */
export interface Proven {
  key: HmacKey;
  /** The client that minted the peer's ticket (per-client tokens only). */
  issuer?: string;
}

// Proved against when a hello names nobody, so a wrong name costs what a wrong token does.
const NOBODY = newToken();

/**
 * Finds the key `hello` proves (`proves` checks one candidate), or undefined when it proves none.
 * With per-client tokens a client must prove the token issued to the name it gives, and a peer a
 * ticket one of the clients minted; otherwise the shared token (or none) is the key.
 */
export async function provenKey(c: Credentials, workerId: string, hello: Hello, proves: (key: HmacKey) => Promise<boolean>): Promise<Proven | undefined> {
  const clients = c.clients;
  if (clients === undefined) {
    const key = hello.role === 'peer' ? await ticketKey(c.token, workerId, hello.id, hello.ticket!) : (c.token ?? '');
    return (await proves(key)) ? { key } : undefined;
  }
  if (hello.role === 'client') {
    const token = clients.tokenOf(hello.id);
    const ok = await proves(token ?? NOBODY);
    return ok && token !== undefined ? { key: token } : undefined;
  }
  for (const [issuer, token] of clients.entries()) {
    const key = await ticketKey(token, workerId, hello.id, hello.ticket!);
    if (await proves(key)) return { key, issuer };
  }
  return undefined;
}
